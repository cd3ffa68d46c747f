// core/v1 ResourceQuota and LimitRange (namespaced), schemas as k8s.io/api core/v1, with the checks
// of pkg/apis/core/validation (ValidateResourceQuota, ValidateLimitRange) that a schema cannot say:
// quota resource names (a standard name, or a qualified one such as `count/clusters.kumo.dev`),
// non-negative and whole values, scopes; LimitRange types and min ≤ defaultRequest ≤ default ≤ max.
//
// Kumo serves no Pods, Services or PersistentVolumeClaims: a quota's object counts apply to every
// served namespaced kind (`count/<resource>.<group>`, and kube's short names `configmaps`,
// `secrets`, `resourcequotas`); its compute names (`requests.cpu` …) and scopes are accepted and
// stored as kube does but nothing served consumes them. LimitRange types Container, Pod and
// PersistentVolumeClaim are stored and validated; Kumo adds the qualified type `kumo.dev/NodePool`
// (per-node min/max of a NodePool's flavor), enforced by apiserver/quota.
import type { ErrorCause } from '../../lib/errors.js';
import { CORE_V1, named, objectMeta } from '../meta.js';
import { arr, defineKind, map, obj, quantity, str } from '../schema/dsl.js';
import type { KObject, ResourceType } from '../types.js';
import { since } from './print.js';
import { compareQuantities, formatQuantity, isWholeQuantity, parseQuantity, quantityMilliValue, quantityOf, type Quantity } from './quantity.js';
import { duplicate } from '../schema/field.js';
import { forbidden, invalid, isRecord, keyPath, recordAt, required } from './validation.js';

/** The LimitRange type Kumo adds: min/max per node of a NodePool (its flavor's capacity). */
export const LIMIT_TYPE_NODEPOOL = 'kumo.dev/NodePool';
export const STANDARD_LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'] as const;

/** Names a ResourceQuota may limit without a `/` (kube's standardQuotaResources). */
export const STANDARD_QUOTA_RESOURCES: ReadonlySet<string> = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);

/** Names measured in whole numbers (kube's integerResources; `count/…` are too). */
const INTEGER_QUOTA_RESOURCES: ReadonlySet<string> = new Set([
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
]);

/** Resource names kube knows without a prefix (kube's standardResources). */
const STANDARD_RESOURCES: ReadonlySet<string> = new Set([...STANDARD_QUOTA_RESOURCES, 'storage']);

export const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'] as const;
const POD_COMPUTE = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);

function isHugePages(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
}

/** Whether `scope` may be applied to quota resource `name` (kube's IsResourceQuotaScopeValidForResource). */
function scopeValidFor(scope: string, name: string): boolean {
  switch (scope) {
    case 'Terminating':
    case 'NotTerminating':
    case 'NotBestEffort':
    case 'PriorityClass':
      return name === 'pods' || POD_COMPUTE.has(name);
    case 'BestEffort':
      return name === 'pods';
    case 'CrossNamespacePodAffinity':
      return name === 'pods';
    default:
      return true;
  }
}

const QUALIFIED_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validation.IsQualifiedName, reduced to one message (the name part's or the prefix's). */
function qualifiedNameErrors(value: string): string[] {
  const parts = value.split('/');
  if (parts.length > 2) return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  const errs: string[] = [];
  const name = parts.length === 2 ? (parts[1] ?? '') : (parts[0] ?? '');
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') errs.push('prefix part must be non-empty');
    else if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) errs.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  }
  if (name === '') errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_PART.test(name)) errs.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  return errs;
}

/** validateResourceName: a standard resource or a fully qualified one. */
function resourceNameErrors(value: string, field: string): ErrorCause[] {
  const errs = qualifiedNameErrors(value).map((m) => invalid(field, value, m));
  if (errs.length > 0) return errs;
  if (!value.includes('/') && !STANDARD_RESOURCES.has(value) && !isHugePages(value)) return [invalid(field, value, 'must be a standard resource type or fully qualified')];
  return [];
}

/** ValidateResourceQuotaResourceName. */
export function quotaResourceNameErrors(value: string, field: string): ErrorCause[] {
  const errs = resourceNameErrors(value, field);
  if (!value.includes('/') && !STANDARD_QUOTA_RESOURCES.has(value) && !isHugePages(value)) errs.push(invalid(field, value, 'must be a standard resource for quota'));
  return errs;
}

/** Whether quota resource `name` counts in whole numbers (object counts and extended resources). */
export function isIntegerQuotaResource(name: string): boolean {
  if (INTEGER_QUOTA_RESOURCES.has(name) || name.startsWith('count/')) return true;
  // Extended resources (`example.com/gpu`, `requests.example.com/gpu`) are whole too.
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

function validateHard(hard: unknown, field: string): ErrorCause[] {
  if (!isRecord(hard)) return [];
  const errs: ErrorCause[] = [];
  for (const [k, raw] of Object.entries(hard)) {
    const path = keyPath(field, k);
    errs.push(...quotaResourceNameErrors(k, path));
    const q = parseQuantity(raw);
    if (!q) continue; // the schema's pattern reports it
    if (q.nano < 0n) errs.push(invalid(path, formatQuantity(q), 'must be greater than or equal to 0'));
    if (isIntegerQuotaResource(k) && !isWholeQuantity(q)) errs.push(invalid(path, formatQuantity(q), 'must be an integer'));
  }
  return errs;
}

function validateResourceQuota(o: KObject): ErrorCause[] {
  const spec = recordAt(o, 'spec') ?? {};
  const errs = validateHard(spec['hard'], 'spec.hard');
  const hardNames = isRecord(spec['hard']) ? Object.keys(spec['hard']).sort() : [];
  const scopes = Array.isArray(spec['scopes']) ? spec['scopes'].filter((s): s is string => typeof s === 'string') : [];
  const seen = new Set<string>();
  for (const scope of scopes) {
    if (!(QUOTA_SCOPES as readonly string[]).includes(scope)) errs.push(invalid('spec.scopes', scopes, 'unsupported scope'));
    for (const k of hardNames) {
      if ((STANDARD_QUOTA_RESOURCES.has(k) || isHugePages(k)) && !scopeValidFor(scope, k)) errs.push(invalid('spec.scopes', scopes, 'unsupported scope applied to resource'));
    }
    seen.add(scope);
  }
  const selector = recordAt(spec, 'scopeSelector');
  const exprs = Array.isArray(selector?.['matchExpressions']) ? (selector['matchExpressions'] as unknown[]) : [];
  const selected = new Set<string>();
  exprs.forEach((e, i) => {
    if (!isRecord(e)) return;
    const path = `spec.scopeSelector.matchExpressions[${i}]`;
    const scope = typeof e['scopeName'] === 'string' ? e['scopeName'] : '';
    const op = typeof e['operator'] === 'string' ? e['operator'] : '';
    const values = Array.isArray(e['values']) ? e['values'] : [];
    if (!(QUOTA_SCOPES as readonly string[]).includes(scope)) errs.push(invalid(`${path}.scopeName`, scope, 'unsupported scope'));
    for (const k of hardNames) {
      if ((STANDARD_QUOTA_RESOURCES.has(k) || isHugePages(k)) && !scopeValidFor(scope, k)) errs.push(invalid('spec.scopeSelector.matchExpressions', selector, 'unsupported scope applied to resource'));
    }
    if (['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating'].includes(scope) && op !== 'Exists') {
      errs.push(
        invalid(`${path}.operator`, op, "must be 'Exist' only operator when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort and ResourceQuotaScopeNotBestEffort"),
      );
    }
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(required(`${path}.values`, "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length !== 0) errs.push(invalid(`${path}.values`, values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else {
      errs.push(invalid(`${path}.operator`, op, 'not a valid selector operator'));
    }
    selected.add(scope);
  });
  for (const [a, b] of [
    ['BestEffort', 'NotBestEffort'],
    ['Terminating', 'NotTerminating'],
  ] as const) {
    if (seen.has(a) && seen.has(b)) errs.push(invalid('spec.scopes', scopes, 'conflicting scopes'));
    if (selected.has(a) && selected.has(b)) errs.push(invalid('spec.scopeSelector.matchExpressions', scopes, 'conflicting scopes'));
  }
  const status = recordAt(o, 'status') ?? {};
  errs.push(...validateHard(status['hard'], 'status.hard'), ...validateHard(status['used'], 'status.used'));
  return errs;
}

/** kubectl's REQUEST and LIMIT cells: `count/configmaps: 1/2, secrets: 0/5` from status. */
export function quotaCells(o: KObject): { request: string; limit: string } {
  const status = recordAt(o, 'status') ?? {};
  const hard = recordAt(status, 'hard') ?? {};
  const used = recordAt(status, 'used') ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const k of Object.keys(hard).sort()) {
    const show = (v: unknown): string => {
      const q = parseQuantity(v);
      return q ? formatQuantity(q) : '0';
    };
    const cell = `${k}: ${show(used[k])}/${show(hard[k])}`;
    (k.startsWith('limits') ? limit : request).push(cell);
  }
  return { request: request.join(', '), limit: limit.join(', ') };
}

export function resourceQuota(): ResourceType {
  const resourceList = (description: string) => map(quantity(), { description });
  return defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'ResourceQuota',
      plural: 'resourcequotas',
      namespaced: true,
      shortNames: ['quota'],
      status: true,
      description: 'ResourceQuota sets aggregate quota restrictions enforced per namespace.',
      fields: {
        spec: named(`${CORE_V1}.ResourceQuotaSpec`, obj(
          {
            hard: resourceList('The set of desired hard limits for each named resource, e.g. count/configmaps, secrets, count/clusters.kumo.dev.'),
            scopes: arr(str(), { atomic: true, description: 'A collection of filters that must match each object tracked by a quota (pod scopes; Kumo serves no pods).' }),
            scopeSelector: named(`${CORE_V1}.ScopeSelector`, obj(
              {
                matchExpressions: arr(
                  named(`${CORE_V1}.ScopedResourceSelectorRequirement`, obj(
                    {
                      scopeName: str({ description: 'The name of the scope that the selector applies to.' }),
                      operator: str({ description: "Represents a scope's relationship to a set of values: In, NotIn, Exists, DoesNotExist." }),
                      values: arr(str(), { atomic: true, description: 'An array of string values.' }),
                    },
                    { description: 'A selector requirement: a scope name, an operator and values.', required: ['scopeName', 'operator'] },
                  )),
                  { atomic: true, description: 'A list of scope selector requirements by scope of the resources.' },
                ),
              },
              { description: 'A collection of filters like scopes that must match each object tracked by a quota.', 'x-kubernetes-map-type': 'atomic' },
            )),
          },
          { description: 'Spec defines the desired quota.' },
        )),
        status: named(`${CORE_V1}.ResourceQuotaStatus`, obj(
          {
            hard: resourceList('The set of enforced hard limits for each named resource.'),
            used: resourceList('The current observed total usage of the resource in the namespace.'),
          },
          { description: 'Status defines the actual enforced quota and its current usage.' },
        )),
      },
      printerColumns: [
        { name: 'Age', type: 'string', jsonPath: '.metadata.creationTimestamp', description: 'Time since the quota was created.' },
        { name: 'Request', type: 'string', jsonPath: '.status.used', description: 'Usage and limit of each resource that is not a limits.* one.' },
        { name: 'Limit', type: 'string', jsonPath: '.status.hard', description: 'Usage and limit of each limits.* resource.' },
      ],
      printRow: (o) => {
        const { request, limit } = quotaCells(o);
        return [since(recordAt(o, 'metadata')?.['creationTimestamp']), request, limit];
      },
      strategy: { validate: validateResourceQuota },
    },
    objectMeta(),
  );
}

// ---- LimitRange --------------------------------------------------------------------------------

const CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

function limitResourceNameErrors(type: string, value: string, field: string): ErrorCause[] {
  if (type === 'Pod' || type === 'Container') {
    // validateContainerResourceName: cpu, memory, ephemeral-storage, hugepages-*, or an extended one.
    const errs = resourceNameErrors(value, field);
    if (errs.length > 0) return errs;
    if (!value.includes('/') && !CONTAINER_RESOURCES.has(value) && !value.startsWith('hugepages-')) return [invalid(field, value, 'must be a standard resource for containers')];
    return [];
  }
  return resourceNameErrors(value, field);
}

function quantities(v: unknown): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  if (!isRecord(v)) return out;
  for (const [k, raw] of Object.entries(v)) {
    const q = parseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}

/** %f of Go: six decimals. */
function goFixed(n: number): string {
  return Number.isFinite(n) ? n.toFixed(6) : n > 0 ? '+Inf' : 'NaN';
}

/** Resources kube does not let a request and limit differ on (not overcommitable). */
function overcommitAllowed(name: string): boolean {
  return name.startsWith('kubernetes.io/') || (!name.includes('/') && !name.startsWith('hugepages-'));
}

function validateLimitRange(o: KObject): ErrorCause[] {
  const errs: ErrorCause[] = [];
  const spec = recordAt(o, 'spec') ?? {};
  const limits = Array.isArray(spec['limits']) ? (spec['limits'] as unknown[]) : [];
  const types = new Set<string>();
  limits.forEach((item, i) => {
    if (!isRecord(item)) return;
    const at = `spec.limits[${i}]`;
    const type = typeof item['type'] === 'string' ? item['type'] : '';
    const typeErrs = qualifiedNameErrors(type).map((m) => invalid(`${at}.type`, type, m));
    if (typeErrs.length === 0 && !type.includes('/') && !(STANDARD_LIMIT_TYPES as readonly string[]).includes(type)) typeErrs.push(invalid(`${at}.type`, type, 'must be a standard limit type or fully qualified'));
    errs.push(...typeErrs);
    if (types.has(type)) errs.push(duplicate(`${at}.type`, type));
    types.add(type);
    const max = quantities(item['max']);
    const min = quantities(item['min']);
    const defaults = quantities(item['default']);
    const defaultRequests = quantities(item['defaultRequest']);
    const ratios = quantities(item['maxLimitRequestRatio']);
    const keys = new Set<string>();
    for (const [field, list] of [
      ['max', max],
      ['min', min],
    ] as const) {
      for (const k of list.keys()) {
        errs.push(...limitResourceNameErrors(type, k, keyPath(`${at}.${field}`, k)));
        keys.add(k);
      }
    }
    if (type === 'Pod' || type === LIMIT_TYPE_NODEPOOL) {
      const what = type === 'Pod' ? "'Pod'" : `'${LIMIT_TYPE_NODEPOOL}'`;
      if (defaults.size > 0) errs.push(forbidden(`${at}.default`, `may not be specified when \`type\` is ${what}`));
      if (defaultRequests.size > 0) errs.push(forbidden(`${at}.defaultRequest`, `may not be specified when \`type\` is ${what}`));
    } else {
      for (const [field, list] of [
        ['default', defaults],
        ['defaultRequest', defaultRequests],
      ] as const) {
        for (const k of list.keys()) {
          errs.push(...limitResourceNameErrors(type, k, keyPath(`${at}.${field}`, k)));
          keys.add(k);
        }
      }
    }
    if (type === 'PersistentVolumeClaim' && !min.has('storage') && !max.has('storage')) {
      errs.push(required(`${at}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    for (const k of ratios.keys()) {
      errs.push(...limitResourceNameErrors(type, k, keyPath(`${at}.maxLimitRequestRatio`, k)));
      keys.add(k);
    }
    const s = formatQuantity;
    for (const k of [...keys].sort()) {
      const mn = min.get(k);
      const mx = max.get(k);
      const df = defaults.get(k);
      const dr = defaultRequests.get(k);
      const ratio = ratios.get(k);
      if (mn && mx && compareQuantities(mn, mx) > 0) errs.push(invalid(keyPath(`${at}.min`, k), s(mn), `min value ${s(mn)} is greater than max value ${s(mx)}`));
      if (dr && mn && compareQuantities(mn, dr) > 0) errs.push(invalid(keyPath(`${at}.defaultRequest`, k), s(dr), `min value ${s(mn)} is greater than default request value ${s(dr)}`));
      if (dr && mx && compareQuantities(dr, mx) > 0) errs.push(invalid(keyPath(`${at}.defaultRequest`, k), s(dr), `default request value ${s(dr)} is greater than max value ${s(mx)}`));
      if (dr && df && compareQuantities(dr, df) > 0) errs.push(invalid(keyPath(`${at}.defaultRequest`, k), s(dr), `default request value ${s(dr)} is greater than default limit value ${s(df)}`));
      if (df && mn && compareQuantities(mn, df) > 0) errs.push(invalid(keyPath(`${at}.default`, k), s(mn), `min value ${s(mn)} is greater than default value ${s(df)}`));
      if (df && mx && compareQuantities(df, mx) > 0) errs.push(invalid(keyPath(`${at}.default`, k), s(mx), `default value ${s(df)} is greater than max value ${s(mx)}`));
      if (ratio && compareQuantities(ratio, quantityOf(1)) < 0) errs.push(invalid(keyPath(`${at}.maxLimitRequestRatio`, k), s(ratio), `ratio ${s(ratio)} is less than 1`));
      if (ratio && mn && mx) {
        const limitRatio = quantityMilliValue(mx) / quantityMilliValue(mn);
        if (quantityMilliValue(ratio) / 1000 > limitRatio) errs.push(invalid(keyPath(`${at}.maxLimitRequestRatio`, k), s(ratio), `ratio ${s(ratio)} is greater than max/min = ${goFixed(limitRatio)}`));
      }
      if (!overcommitAllowed(k) && df && dr && compareQuantities(df, dr) !== 0) {
        errs.push(invalid(keyPath(`${at}.defaultRequest`, k), s(dr), `default value ${s(df)} must equal to defaultRequest value ${s(dr)} in ${k}`));
      }
    }
  });
  return errs;
}

export function limitRange(): ResourceType {
  const resourceList = (description: string) => map(quantity(), { description });
  return defineKind(
    {
      group: '',
      version: 'v1',
      kind: 'LimitRange',
      plural: 'limitranges',
      namespaced: true,
      shortNames: ['limits'],
      description: 'LimitRange sets resource usage limits for each kind of resource in a namespace.',
      fields: {
        spec: named(`${CORE_V1}.LimitRangeSpec`, obj(
          {
            limits: arr(
              named(`${CORE_V1}.LimitRangeItem`, obj(
                {
                  type: str({ description: `Type of resource that this limit applies to: Container, Pod, PersistentVolumeClaim, or ${LIMIT_TYPE_NODEPOOL} (per node of a NodePool).` }),
                  max: resourceList('Max usage constraints on this kind by resource name.'),
                  min: resourceList('Min usage constraints on this kind by resource name.'),
                  default: resourceList('Default resource requirement limit value by resource name if resource limit is omitted.'),
                  defaultRequest: resourceList('DefaultRequest is the default resource requirement request value by resource name if resource request is omitted.'),
                  maxLimitRequestRatio: resourceList('If specified, the max ratio of limit over request for the named resource.'),
                },
                { description: 'LimitRangeItem defines a min/max usage limit for any resource that matches on kind.', required: ['type'] },
              )),
              { atomic: true, description: 'Limits is the list of LimitRangeItem objects that are enforced.' },
            ),
          },
          { description: 'Spec defines the limits enforced.', required: ['limits'] },
        )),
      },
      printerColumns: [{ name: 'Created At', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'When the limit range was created.' }],
      printRow: (o) => [recordAt(o, 'metadata')?.['creationTimestamp'] ?? null],
      strategy: { validate: validateLimitRange },
    },
    objectMeta(),
  );
}
