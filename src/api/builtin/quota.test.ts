// ResourceQuota and LimitRange validation as pkg/apis/core/validation words it, and kubectl's quota cells.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../types.js';
import { limitRange, quotaCells, resourceQuota } from './quota.js';

const rq = resourceQuota();
const lr = limitRange();
const messages = (rt: typeof rq, o: KObject): string[] => (rt.strategy?.validate?.(o, undefined) ?? []).map((c) => `${c.field ?? ''}: ${c.message}`);

describe('ResourceQuota validation', () => {
  it('accepts standard and qualified names', () => {
    const hard = { configmaps: '10', secrets: 5, 'count/configmaps': '3', 'count/clusters.kumo.dev': '2', 'requests.cpu': '500m', 'limits.memory': '2Gi', 'requests.nvidia.com/gpu': '2', 'hugepages-2Mi': '1Gi' };
    assert.deepEqual(messages(rq, { spec: { hard } }), []);
  });

  it('refuses unknown names, negative values and fractions of countable resources', () => {
    assert.deepEqual(messages(rq, { spec: { hard: { clusters: '1', foo: '1', 'count/configmaps': '-1', secrets: '1500m', 'a/b/c': '1' } } }), [
      'spec.hard[clusters]: Invalid value: "clusters": must be a standard resource type or fully qualified',
      'spec.hard[clusters]: Invalid value: "clusters": must be a standard resource for quota',
      'spec.hard[foo]: Invalid value: "foo": must be a standard resource type or fully qualified',
      'spec.hard[foo]: Invalid value: "foo": must be a standard resource for quota',
      'spec.hard[count/configmaps]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.hard[secrets]: Invalid value: "1500m": must be an integer',
      "spec.hard[a/b/c]: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]);
  });

  it('checks scopes as kube does', () => {
    assert.deepEqual(messages(rq, { spec: { hard: { pods: '1' }, scopes: ['BestEffort'] } }), []);
    assert.deepEqual(messages(rq, { spec: { hard: { configmaps: '1', 'requests.cpu': '1' }, scopes: ['BestEffort', 'NotBestEffort', 'Nope'] } }), [
      'spec.scopes: Invalid value: []interface {}{"BestEffort", "NotBestEffort", "Nope"}: unsupported scope applied to resource',
      'spec.scopes: Invalid value: []interface {}{"BestEffort", "NotBestEffort", "Nope"}: unsupported scope applied to resource',
      'spec.scopes: Invalid value: []interface {}{"BestEffort", "NotBestEffort", "Nope"}: unsupported scope applied to resource',
      'spec.scopes: Invalid value: []interface {}{"BestEffort", "NotBestEffort", "Nope"}: unsupported scope',
      'spec.scopes: Invalid value: []interface {}{"BestEffort", "NotBestEffort", "Nope"}: conflicting scopes',
    ]);
    assert.deepEqual(messages(rq, { spec: { hard: { pods: '1' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }, { scopeName: 'Terminating', operator: 'In', values: ['x'] }] } } }), [
      'spec.scopeSelector.matchExpressions[0].values: Required value: must be at least one value when `operator` is \'In\' or \'NotIn\' for scope selector',
      "spec.scopeSelector.matchExpressions[1].operator: Invalid value: \"In\": must be 'Exist' only operator when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort and ResourceQuotaScopeNotBestEffort",
    ]);
  });

  it('prints REQUEST and LIMIT cells as kubectl get quota does', () => {
    const o: KObject = { status: { hard: { 'count/configmaps': '2', 'limits.cpu': '2', secrets: '5' }, used: { 'count/configmaps': '1', 'limits.cpu': '500m' } } };
    assert.deepEqual(quotaCells(o), { request: 'count/configmaps: 1/2, secrets: 0/5', limit: 'limits.cpu: 500m/2' });
    assert.equal(rq.printRow?.(o).length, rq.printerColumns.length);
  });
});

describe('LimitRange validation', () => {
  it('accepts a consistent item of each type', () => {
    const limits = [
      { type: 'Container', min: { cpu: '100m' }, defaultRequest: { cpu: '200m' }, default: { cpu: '500m' }, max: { cpu: '1' }, maxLimitRequestRatio: { cpu: '4' } },
      { type: 'Pod', max: { memory: '1Gi' } },
      { type: 'PersistentVolumeClaim', min: { storage: '1Gi' } },
      { type: 'kumo.dev/NodePool', max: { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': '0' } },
    ];
    assert.deepEqual(messages(lr, { spec: { limits } }), []);
  });

  it('refuses what kube refuses, with its words', () => {
    const limits = [
      { type: 'Container', min: { cpu: '2' }, max: { cpu: '1' }, default: { memory: '1Gi' }, defaultRequest: { memory: '2Gi' } },
      { type: 'Container' },
      { type: 'Pod', default: { cpu: '1' } },
      { type: 'PersistentVolumeClaim', max: { cpu: '1' } },
      { type: 'Widget' },
      { type: 'kumo.dev/NodePool', defaultRequest: { cpu: '1' } },
      { type: 'example.com/thing', min: { cpu: '1' }, max: { cpu: '2' }, maxLimitRequestRatio: { cpu: '3' } },
    ];
    assert.deepEqual(messages(lr, { spec: { limits } }), [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[memory]: Invalid value: "2Gi": default request value 2Gi is greater than default limit value 1Gi',
      'spec.limits[1].type: Duplicate value: "Container"',
      "spec.limits[2].default: Forbidden: may not be specified when `type` is 'Pod'",
      'spec.limits[3].limits: Required value: either minimum or maximum storage value is required, but neither was provided',
      'spec.limits[4].type: Invalid value: "Widget": must be a standard limit type or fully qualified',
      "spec.limits[5].defaultRequest: Forbidden: may not be specified when `type` is 'kumo.dev/NodePool'",
      'spec.limits[6].maxLimitRequestRatio[cpu]: Invalid value: "3": ratio 3 is greater than max/min = 2.000000',
    ]);
  });
});
