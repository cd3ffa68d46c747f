// Discovery documents, built from the served ResourceTypes: the legacy ones (/api, /api/v1, /apis,
// /apis/<g>, /apis/<g>/<v>) and aggregated discovery (apidiscovery.k8s.io v2 and v2beta1, which
// kubectl 1.27–1.29 ask for) in one pass, so both always agree.
import crypto from 'node:crypto';
import { groupVersion, type ResourceType } from '../api/types.js';

export interface SubresourceInfo {
  /** `status`, `scale`, `token` … */
  name: string;
  verbs: string[];
  /** The kind the subresource answers with when it differs from its parent (Scale, TokenRequest). */
  kind?: { group: string; version: string; kind: string };
}

/** Subresources a resource serves, from its schema flags plus extra ones the server adds (token). */
export function subresourcesOf(rt: ResourceType, extra: SubresourceInfo[] = []): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  if (rt.subresources.status) out.push({ name: 'status', verbs: ['get', 'patch', 'update'] });
  if (rt.subresources.scale) out.push({ name: 'scale', verbs: ['get', 'patch', 'update'], kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } });
  return [...out, ...extra];
}

export interface ServedResource {
  rt: ResourceType;
  subresources: SubresourceInfo[];
}

/** kube's storageVersionHash: 8 bytes of sha256 over group/version/kind, base64. */
function storageVersionHash(rt: ResourceType): string {
  return crypto.createHash('sha256').update(`${rt.group}/${rt.version}/${rt.kind}`).digest().subarray(0, 8).toString('base64');
}

interface GroupVersions {
  group: string;
  versions: Map<string, ServedResource[]>;
}

function byGroup(resources: ServedResource[]): GroupVersions[] {
  const groups = new Map<string, GroupVersions>();
  for (const r of resources) {
    let g = groups.get(r.rt.group);
    if (!g) groups.set(r.rt.group, (g = { group: r.rt.group, versions: new Map() }));
    const list = g.versions.get(r.rt.version) ?? [];
    list.push(r);
    g.versions.set(r.rt.version, list);
  }
  return [...groups.values()];
}

/** Kubernetes' version priority: GA > beta > alpha, then by number (v2 > v1, v1beta2 > v1beta1). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | null => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return null;
    const stage = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && pb) return pb[0] - pa[0] || pb[1] - pa[1] || pb[2] - pa[2];
  if (pa) return -1;
  if (pb) return 1;
  return a.localeCompare(b);
}

function sortedVersions(g: GroupVersions): string[] {
  return [...g.versions.keys()].sort(compareVersions);
}

// ---- legacy discovery -------------------------------------------------------------------------------

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(resources: ServedResource[]): Record<string, unknown> {
  const groups = byGroup(resources)
    .filter((g) => g.group !== '')
    .map((g) => apiGroupOf(g));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

function apiGroupOf(g: GroupVersions): Record<string, unknown> {
  const versions = sortedVersions(g).map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

export function apiGroup(resources: ServedResource[], group: string): Record<string, unknown> | null {
  const g = byGroup(resources).find((x) => x.group === group && group !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroupOf(g) } : null;
}

export function apiResourceList(resources: ServedResource[], group: string, version: string): Record<string, unknown> | null {
  const served = resources.filter((r) => r.rt.group === group && r.rt.version === version);
  if (served.length === 0) return null;
  const list: Record<string, unknown>[] = [];
  for (const { rt, subresources } of served.sort((a, b) => a.rt.plural.localeCompare(b.rt.plural))) {
    const entry: Record<string, unknown> = { name: rt.plural, singularName: rt.singular, namespaced: rt.namespaced, kind: rt.kind, verbs: rt.verbs };
    if (rt.shortNames.length > 0) entry.shortNames = rt.shortNames;
    if (rt.categories.length > 0) entry.categories = rt.categories;
    entry.storageVersionHash = storageVersionHash(rt);
    list.push(entry);
    for (const s of subresources) {
      const sub: Record<string, unknown> = { name: `${rt.plural}/${s.name}`, singularName: '', namespaced: rt.namespaced, kind: s.kind?.kind ?? rt.kind, verbs: s.verbs };
      if (s.kind) {
        sub.group = s.kind.group;
        sub.version = s.kind.version;
      }
      list.push(sub);
    }
  }
  const doc: Record<string, unknown> = { kind: 'APIResourceList', groupVersion: group === '' ? version : `${group}/${version}`, resources: list };
  if (group !== '') doc.apiVersion = 'v1';
  return doc;
}

// ---- aggregated discovery ---------------------------------------------------------------------------

export type AggregatedVersion = 'v2' | 'v2beta1';

/** The APIGroupDiscoveryList for `/api` (core only) or `/apis` (every named group). */
export function aggregatedDiscovery(resources: ServedResource[], which: 'api' | 'apis', version: AggregatedVersion): Record<string, unknown> {
  const groups = byGroup(resources).filter((g) => (which === 'api' ? g.group === '' : g.group !== ''));
  const items = groups.map((g) => {
    const md: Record<string, unknown> = which === 'api' ? { creationTimestamp: null } : { name: g.group, creationTimestamp: null };
    return {
      metadata: md,
      versions: sortedVersions(g).map((v) => ({
        version: v,
        resources: (g.versions.get(v) ?? [])
          .slice()
          .sort((a, b) => a.rt.plural.localeCompare(b.rt.plural))
          .map(({ rt, subresources }) => {
            const r: Record<string, unknown> = {
              resource: rt.plural,
              responseKind: { group: rt.group, version: rt.version, kind: rt.kind },
              scope: rt.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: rt.singular,
              verbs: rt.verbs,
            };
            if (rt.shortNames.length > 0) r.shortNames = rt.shortNames;
            if (rt.categories.length > 0) r.categories = rt.categories;
            if (subresources.length > 0) {
              r.subresources = subresources.map((s) => ({
                subresource: s.name,
                responseKind: s.kind ?? { group: rt.group, version: rt.version, kind: rt.kind },
                verbs: s.verbs,
              }));
            }
            return r;
          }),
        freshness: 'Current',
      })),
    };
  });
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

/** Content-Type of an aggregated discovery response. */
export function aggregatedContentType(version: AggregatedVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

/**
 * Which aggregated discovery version an Accept header asks for, in the client's order of preference,
 * or null for the legacy documents.
 */
export function wantsAggregated(accept: string | undefined): AggregatedVersion | null {
  if (!accept) return null;
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string | undefined])
        .map(([k, v]) => [k.trim(), (v ?? '').trim()]),
    );
    const media = part.split(';')[0]?.trim();
    if (media !== 'application/json' && media !== '*/*') continue;
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return v;
      continue;
    }
    if (params.size === 0) return null; // plain JSON preferred before any aggregated form
  }
  return null;
}

export { groupVersion };
