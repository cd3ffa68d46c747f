import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../lib/errors.js';
import {
  ROOT_CLUSTER,
  parseLogicalCluster,
  parseStorageKey,
  resourceKeys,
  resourcePrefix,
  storageKey,
  storagePrefix,
  type LogicalCluster,
} from './keys.js';

const configmaps = { group: '', plural: 'configmaps', namespaced: true };
const namespaces = { group: '', plural: 'namespaces', namespaced: false };
const clusters = { group: 'kumo.dev', plural: 'clusters', namespaced: true };
const tenants = { group: 'kumo.dev', plural: 'tenants', namespaced: false };

function throwsCode(fn: () => unknown, code: string, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isKumoError(e), `not a KumoError: ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

describe('parseLogicalCluster', () => {
  const valid = ['root', 'a', 'team-a', 'x1', '0', 'a'.repeat(63)];
  for (const s of valid) it(`accepts ${JSON.stringify(s.slice(0, 20))}`, () => assert.equal(parseLogicalCluster(s), s));
  const invalid = ['', 'Root', '-a', 'a-', 'a.b', 'a:b', 'a/b', 'a_b', ' a', 'a'.repeat(64), 'é'];
  for (const s of invalid) {
    it(`rejects ${JSON.stringify(s.slice(0, 20))} with BadRequest`, () =>
      throwsCode(() => parseLogicalCluster(s), 'BadRequest', `invalid cluster: ${JSON.stringify(s)} does not match the regex '[a-z0-9]([-a-z0-9]*[a-z0-9])?' (at most 63 characters)`));
  }
  it('ROOT_CLUSTER is root', () => assert.equal(ROOT_CLUSTER, 'root'));
});

describe('storageKey', () => {
  const lc = parseLogicalCluster('team-a');
  const cases: [string, Parameters<typeof storageKey>, string][] = [
    ['core namespaced', [configmaps, ROOT_CLUSTER, 'default', 'cm1'], '/registry/core/configmaps/root/default/cm1'],
    ['core cluster-scoped', [namespaces, ROOT_CLUSTER, undefined, 'default'], '/registry/core/namespaces/root/default'],
    ['group namespaced', [clusters, lc, 'tenant-a', 'prod'], '/registry/kumo.dev/clusters/team-a/tenant-a/prod'],
    ['group cluster-scoped', [tenants, lc, undefined, 'acme'], '/registry/kumo.dev/tenants/team-a/acme'],
    ['RBAC-style name', [{ group: 'rbac.authorization.k8s.io', plural: 'clusterroles', namespaced: false }, ROOT_CLUSTER, undefined, 'system:controller:x'], '/registry/rbac.authorization.k8s.io/clusterroles/root/system:controller:x'],
  ];
  for (const [what, args, want] of cases) it(what, () => assert.equal(storageKey(...args), want));

  const bad: [string, Parameters<typeof storageKey>, string, string][] = [
    ['empty name', [configmaps, ROOT_CLUSTER, 'default', ''], 'BadRequest', 'Name parameter required.'],
    ['slash in name', [configmaps, ROOT_CLUSTER, 'default', 'a/b'], 'BadRequest', `Name parameter invalid: "a/b": may not contain '/'`],
    ['percent in name', [configmaps, ROOT_CLUSTER, 'default', 'a%2F'], 'BadRequest', `Name parameter invalid: "a%2F": may not contain '%'`],
    ['dot-dot name', [configmaps, ROOT_CLUSTER, 'default', '..'], 'BadRequest', `Name parameter invalid: "..": may not be '..'`],
    ['missing namespace', [configmaps, ROOT_CLUSTER, undefined, 'x'], 'BadRequest', 'Namespace parameter required.'],
    ['empty namespace', [configmaps, ROOT_CLUSTER, '', 'x'], 'BadRequest', 'Namespace parameter required.'],
    ['slash in namespace', [configmaps, ROOT_CLUSTER, 'a/b', 'x'], 'BadRequest', `Namespace parameter invalid: "a/b": may not contain '/'`],
    ['namespace on cluster-scoped', [namespaces, ROOT_CLUSTER, 'default', 'x'], 'Internal', 'namespaces is cluster-scoped: no namespace in its keys'],
    ['forged cluster', [configmaps, 'a/b' as LogicalCluster, 'default', 'x'], 'Internal', 'malformed logical cluster "a/b" reached the storage layer'],
  ];
  for (const [what, args, code, msg] of bad) it(`refuses ${what}`, () => throwsCode(() => storageKey(...args), code, msg));
});

describe('storagePrefix / resourcePrefix', () => {
  it('resource prefix spans logical clusters', () => {
    assert.equal(resourcePrefix(configmaps), '/registry/core/configmaps/');
    assert.equal(storagePrefix(configmaps), '/registry/core/configmaps/');
    assert.equal(resourcePrefix(clusters), '/registry/kumo.dev/clusters/');
  });
  it('cluster and namespace prefixes end with /', () => {
    assert.equal(storagePrefix(configmaps, ROOT_CLUSTER), '/registry/core/configmaps/root/');
    assert.equal(storagePrefix(configmaps, ROOT_CLUSTER, 'default'), '/registry/core/configmaps/root/default/');
    assert.equal(storagePrefix(namespaces, ROOT_CLUSTER), '/registry/core/namespaces/root/');
  });
  it('a prefix never covers a sibling with a longer name', () => {
    const p = storagePrefix(configmaps, parseLogicalCluster('a'), 'ns');
    assert.ok(storageKey(configmaps, parseLogicalCluster('a'), 'ns', 'x').startsWith(p));
    assert.ok(!storageKey(configmaps, parseLogicalCluster('a'), 'ns2', 'x').startsWith(p));
    assert.ok(!storageKey(configmaps, parseLogicalCluster('ab'), 'ns', 'x').startsWith(storagePrefix(configmaps, parseLogicalCluster('a'))));
  });
  it('refuses a namespace without a cluster, or on a cluster-scoped type', () => {
    throwsCode(() => storagePrefix(configmaps, undefined, 'default'), 'Internal');
    throwsCode(() => storagePrefix(namespaces, ROOT_CLUSTER, 'default'), 'Internal');
    throwsCode(() => storagePrefix(configmaps, ROOT_CLUSTER, 'a/b'), 'BadRequest');
  });
});

describe('parseStorageKey', () => {
  it('round-trips every shape', () => {
    const lc = parseLogicalCluster('team-a');
    for (const [rt, ns, name] of [
      [configmaps, 'default', 'cm1'],
      [namespaces, undefined, 'kube-system'],
      [clusters, 'tenant-a', 'prod.v2'],
      [tenants, undefined, 'acme'],
    ] as const) {
      const key = storageKey(rt, lc, ns, name);
      const parts = parseStorageKey(key);
      const want: Record<string, unknown> = { group: rt.group, plural: rt.plural, cluster: 'team-a', name };
      if (ns !== undefined) want['namespace'] = ns;
      assert.deepEqual(parts, want, key);
    }
  });
  const bad = [
    '',
    '/registry/core/configmaps/root',
    '/registry/core/configmaps/root/',
    '/registry/core/configmaps/root//x',
    '/registry/core/configmaps/Root/default/x',
    '/registry/core/configmaps/root/default/x/extra',
    '/other/core/configmaps/root/default/x',
    '/registry/core/configmaps/root/default/..',
  ];
  for (const key of bad) it(`rejects ${JSON.stringify(key)}`, () => assert.equal(parseStorageKey(key), undefined));
});

describe('resourceKeys', () => {
  it('is the KeyScheme the REST engine takes', () => {
    const keys = resourceKeys(configmaps);
    assert.equal(keys.key(ROOT_CLUSTER, 'default', 'a'), '/registry/core/configmaps/root/default/a');
    assert.equal(keys.prefix(ROOT_CLUSTER, undefined), '/registry/core/configmaps/root/');
    assert.equal(keys.prefix(ROOT_CLUSTER, 'default'), '/registry/core/configmaps/root/default/');
    assert.equal(keys.resourcePrefix, '/registry/core/configmaps/');
  });
});
