import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../types.js';
import { cidrsOverlap, cluster, DEFAULT_VERSION, parseCIDR, SUPPORTED_VERSIONS, VERSION_PATTERN } from './cluster.js';

const rt = cluster();
const spec = rt.schema.properties?.['spec'];
const fields = (o: KObject, old?: KObject): (string | undefined)[] => (rt.strategy?.validate?.(o, old) ?? []).map((c) => c.field);

describe('Cluster', () => {
  it('defaults to the newest supported version, local provider, one sqlite control plane and kube\'s CIDRs', () => {
    assert.deepEqual(SUPPORTED_VERSIONS, ['v1.31', 'v1.32', 'v1.33']);
    assert.equal(DEFAULT_VERSION, 'v1.33');
    assert.equal(spec?.default !== undefined, true, 'spec defaults to {} so nested defaults apply');
    assert.equal(spec?.properties?.['version']?.default, 'v1.33');
    assert.equal(spec?.properties?.['provider']?.default, 'local');
    assert.equal(spec?.properties?.['controlPlane']?.properties?.['replicas']?.default, 1);
    assert.equal(spec?.properties?.['datastore']?.properties?.['type']?.default, 'sqlite');
    assert.deepEqual(spec?.properties?.['datastore']?.properties?.['replicas']?.enum, [1, 3, 5]);
    assert.equal(spec?.properties?.['network']?.properties?.['podCIDR']?.default, '10.244.0.0/16');
    assert.equal(spec?.properties?.['network']?.properties?.['serviceCIDR']?.default, '10.96.0.0/12');
    for (const k of ['controlPlane', 'datastore', 'network']) assert.deepEqual(spec?.properties?.[k]?.default, {}, k);
  });

  it('accepts supported versions only', () => {
    const re = new RegExp(VERSION_PATTERN);
    for (const v of ['v1.31', 'v1.32', 'v1.33', 'v1.33.0', 'v1.32.14']) assert.ok(re.test(v), v);
    for (const v of ['v1.30', 'v1.34', '1.33', 'v1.33.01', 'v1.3', 'v2.0', 'latest']) assert.ok(!re.test(v), v);
  });

  it('prints VERSION, PHASE, ENDPOINT (AGE is added by the Table) with kc as short name', () => {
    assert.deepEqual(rt.printerColumns.filter((c) => !c.priority).map((c) => c.name), ['Version', 'Phase', 'Endpoint']);
    assert.deepEqual(rt.shortNames, ['kc']);
    assert.ok(rt.subresources.status);
    assert.deepEqual(rt.categories, ['kumo']);
  });

  it('upgrades one minor version at a time from what runs, never down', () => {
    const at = (version: string, running?: string): KObject => ({ spec: { version }, ...(running ? { status: { version: running } } : {}) });
    assert.deepEqual(fields(at('v1.32'), at('v1.31')), []);
    assert.deepEqual(fields(at('v1.31.5'), at('v1.31.2')), [], 'patch changes are free');
    assert.deepEqual(fields(at('v1.33'), at('v1.31')), ['spec.version']);
    assert.deepEqual(fields(at('v1.31'), at('v1.32')), ['spec.version']);
    // Mid-upgrade (spec v1.32, still running v1.31): v1.33 is two minors ahead of what runs.
    assert.deepEqual(fields(at('v1.33'), at('v1.32', 'v1.31.4')), ['spec.version']);
    const msg = rt.strategy?.validate?.(at('v1.33'), at('v1.31'))[0]?.message;
    assert.equal(msg, 'Invalid value: "v1.33": upgrade one minor version at a time: from v1.31 the next is v1.32');
    assert.deepEqual(fields(at('v1.33')), [], 'any supported version on create');
  });

  it('keeps provider, datastore type and CIDRs; sqlite means one replica', () => {
    const base: KObject = { spec: { provider: 'local', datastore: { type: 'sqlite', replicas: 1 }, network: { podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' } } };
    assert.deepEqual(fields(base, base), []);
    const changed: KObject = { spec: { provider: 'openstack', datastore: { type: 'etcd', replicas: 3 }, network: { podCIDR: '10.200.0.0/16', serviceCIDR: '10.96.0.0/12' } } };
    assert.deepEqual(fields(changed, base), ['spec.provider', 'spec.datastore.type', 'spec.network.podCIDR']);
    assert.deepEqual(fields({ spec: { datastore: { type: 'sqlite', replicas: 3 }, controlPlane: { replicas: 3 } } }), ['spec.datastore.replicas', 'spec.controlPlane.replicas']);
    assert.deepEqual(fields({ spec: { datastore: { type: 'etcd', replicas: 5 }, controlPlane: { replicas: 3 } } }), []);
  });

  it('needs valid, non-overlapping CIDRs', () => {
    assert.deepEqual(fields({ spec: { network: { podCIDR: '10.0.0.0/8', serviceCIDR: '10.96.0.0/12' } } }), ['spec.network.serviceCIDR']);
    assert.deepEqual(fields({ spec: { network: { podCIDR: '10.0.0.300/8', serviceCIDR: 'fd00::/108' } } }), ['spec.network.podCIDR']);
    assert.deepEqual(fields({ spec: { network: { podCIDR: 'fd00:10:244::/56', serviceCIDR: 'fd00:10:96::/112' } } }), []);
  });
});

describe('CIDR helpers', () => {
  it('parses IPv4 and IPv6 CIDRs and masks host bits', () => {
    assert.deepEqual(parseCIDR('10.244.1.7/16'), { base: 0x0af40000n, prefix: 16, bits: 32 });
    assert.equal(parseCIDR('::ffff:10.0.0.1/128')?.base, 0xffff0a000001n);
    assert.equal(parseCIDR('fd00::1/64')?.base, 0xfd00n << 112n);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'x/8', '10.0.0.0/-1', 5]) assert.equal(parseCIDR(bad), null, String(bad));
  });

  it('detects overlap only within one family', () => {
    assert.ok(cidrsOverlap('10.244.0.0/16', '10.0.0.0/8'));
    assert.ok(!cidrsOverlap('10.244.0.0/16', '10.96.0.0/12'));
    assert.ok(!cidrsOverlap('10.0.0.0/8', 'fd00::/8'));
  });
});
