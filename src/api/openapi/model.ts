// The API as OpenAPI sees it, independent of the document version: the definitions (kinds, their
// lists, shared meta/v1 types) and, per group-version, the REST paths kube-apiserver publishes for
// each resource with their operations, parameters and x-kubernetes-* extensions. v2.ts and v3.ts
// render this model.
import type { JSONSchemaProps, ResourceType } from '../types.js';
import { commonDefinitions, SCALE } from './common.js';
import { DefinitionRegistry } from './convert.js';
import { definitionName, groupVersionPath, META_V1, operationGroupVersion, operationTag, type GVK } from './names.js';

export interface OpenAPIOptions {
  /** info.version of the documents (kube-apiserver puts its own version there). Default `v1.33.0`. */
  version?: string;
  /**
   * The canonical shared definitions by name (ObjectMeta, ListMeta …), taking precedence over marked
   * schemas found in ResourceTypes. Without them a definition is its first marked use site (builtin
   * kinds first), description included — pass them so a use site's description ("Standard object
   * metadata") does not become the type's.
   */
  definitions?: Record<string, JSONSchemaProps>;
  /** Subresources that have a kind of their own (ServiceAccount `token` → authentication.k8s.io/v1 TokenRequest). */
  subresources?: SubresourceKind[];
}

export interface SubresourceKind {
  /** The resource the subresource belongs to. */
  parent: ResourceType;
  /** Path segment after the object's name: `token`. */
  name: string;
  gvk: GVK;
  /** Schema of the subresource's kind (request and response body). */
  schema: JSONSchemaProps;
  verbs: ('create' | 'get' | 'update')[];
}

export type ParamType = 'string' | 'integer' | 'boolean';

export interface Param {
  name: string;
  in: 'query' | 'path';
  type: ParamType;
  description: string;
  required?: boolean;
  uniqueItems?: boolean;
}

export type Body = { kind: 'object'; ref: string } | { kind: 'patch'; strategicMerge: boolean } | { kind: 'delete' };

export interface Response {
  code: '200' | '201' | '202' | '401';
  description: string;
  ref?: string;
}

export interface Operation {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  operationId: string;
  description: string;
  tag: string;
  /** x-kubernetes-action: get, list, watch, watchlist, put, post, patch, delete, deletecollection. */
  action?: string;
  gvk?: GVK;
  params: Param[];
  body?: Body;
  responses: Response[];
  /** List and watch operations also produce watch streams. */
  stream?: boolean;
}

export interface PathSpec {
  path: string;
  params: Param[];
  operations: Operation[];
}

export interface ApiModel {
  version: string;
  /** Definition name → schema (marked nested nodes become $refs when rendered) and its GVKs. */
  definitions: Map<string, { schema: JSONSchemaProps; gvks: GVK[] }>;
  /** `api/v1`, `apis/<group>/<version>` → its paths. */
  groupVersions: Map<string, PathSpec[]>;
}

export const OBJECT_META = `${META_V1}.ObjectMeta`;
const LIST_META = `${META_V1}.ListMeta`;
const STATUS = `${META_V1}.Status`;
const WATCH_EVENT = `${META_V1}.WatchEvent`;
const API_RESOURCE_LIST = `${META_V1}.APIResourceList`;

const q = (name: string, type: ParamType, description: string, extra: Partial<Param> = {}): Param => ({ name, in: 'query', type, description, uniqueItems: true, ...extra });

// Query parameters of kube-apiserver's operations (descriptions are short and Kumo's own).
const P = {
  allowWatchBookmarks: q('allowWatchBookmarks', 'boolean', 'Requests watch events of type BOOKMARK; servers may send them at their discretion. Ignored unless watching.'),
  continue: q('continue', 'string', 'The continue token of a previous paginated list call, to fetch the next page of the same snapshot.'),
  fieldSelector: q('fieldSelector', 'string', 'Restricts the list of returned objects by their fields (e.g. metadata.name=x). Defaults to everything.'),
  labelSelector: q('labelSelector', 'string', 'Restricts the list of returned objects by their labels. Defaults to everything.'),
  limit: q('limit', 'integer', 'The maximum number of items to return; a continue token is returned when there are more.'),
  pretty: q('pretty', 'string', "If 'true', the output is pretty printed."),
  resourceVersion: q('resourceVersion', 'string', 'Which version of the resource to serve: unset (most recent), "0" (any) or an exact version, depending on resourceVersionMatch.'),
  resourceVersionMatch: q('resourceVersionMatch', 'string', 'How resourceVersion applies to list calls: "NotOlderThan" or "Exact".'),
  sendInitialEvents: q('sendInitialEvents', 'boolean', 'With watch=true, starts the watch stream with synthetic events for the current state.'),
  timeoutSeconds: q('timeoutSeconds', 'integer', 'Timeout for the list/watch call, regardless of activity.'),
  watch: q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update and remove notifications.'),
  dryRun: q('dryRun', 'string', 'When present, modifications are not persisted: "All" processes all dry run stages.'),
  fieldManager: q('fieldManager', 'string', 'A name associated with the actor or entity making these changes.'),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'How to handle fields the schema does not know or duplicate fields: "Ignore" drops them, "Warn" drops them with a warning, "Strict" fails the request.',
  ),
  force: q('force', 'boolean', 'Force "Apply" requests: re-acquire fields owned by other managers. Must be unset for other patches.'),
  gracePeriodSeconds: q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted; zero means delete immediately.'),
  orphanDependents: q('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy. Whether the dependent objects are orphaned.'),
  propagationPolicy: q('propagationPolicy', 'string', 'Whether and how garbage collection is performed: "Orphan", "Background" or "Foreground".'),
};

function pathParam(name: 'name' | 'namespace', kind: string): Param {
  return {
    name,
    in: 'path',
    type: 'string',
    required: true,
    uniqueItems: true,
    description: name === 'name' ? `name of the ${kind}` : 'object name and auth scope, such as for teams and projects',
  };
}

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

const UNAUTHORIZED: Response = { code: '401', description: 'Unauthorized' };
const ok = (ref: string): Response => ({ code: '200', description: 'OK', ref });
const created = (ref: string): Response => ({ code: '201', description: 'Created', ref });
const accepted = (ref: string): Response => ({ code: '202', description: 'Accepted', ref });

function gvkOf(rt: ResourceType): GVK {
  return { group: rt.group, version: rt.version, kind: rt.kind };
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Builds the model: builtin kinds' shared definitions win over CRDs', explicit ones over both. */
export function buildModel(rts: readonly ResourceType[], opts: OpenAPIOptions = {}): ApiModel {
  const registry = new DefinitionRegistry();
  for (const [name, s] of Object.entries(opts.definitions ?? {})) {
    registry.raw.set(name, { ...s, 'x-kumo-ref': name });
    registry.collectInside(s);
  }
  const ordered = [...rts.filter((rt) => rt.source !== 'crd'), ...rts.filter((rt) => rt.source === 'crd')];
  for (const rt of ordered) registry.collect(rt.schema);
  for (const sr of opts.subresources ?? []) registry.collect(sr.schema);
  for (const d of commonDefinitions({ 'x-kumo-ref': OBJECT_META })) registry.collect(d);

  const definitions = new Map<string, { schema: JSONSchemaProps; gvks: GVK[] }>();
  for (const [name, schema] of registry.raw) definitions.set(name, { schema, gvks: [] });

  const servedGVs = new Map<string, GVK>();
  const groupVersions = new Map<string, PathSpec[]>();
  for (const rt of ordered) {
    const gvk = gvkOf(rt);
    const name = definitionName(gvk);
    if (!definitions.has(name)) definitions.set(name, { schema: rt.schema, gvks: [gvk] });
    const listName = definitionName({ ...gvk, kind: rt.listKind });
    if (!definitions.has(listName)) definitions.set(listName, { schema: listSchema(rt, name), gvks: [{ ...gvk, kind: rt.listKind }] });
    const gv = groupVersionPath(rt.group, rt.version);
    servedGVs.set(gv, gvk);
    const specs = groupVersions.get(gv) ?? [resourceListPath(rt)];
    specs.push(...resourcePaths(rt, (opts.subresources ?? []).filter((s) => s.parent === rt)));
    groupVersions.set(gv, specs);
  }
  for (const sr of opts.subresources ?? []) {
    const name = definitionName(sr.gvk);
    if (!definitions.has(name)) definitions.set(name, { schema: sr.schema, gvks: [sr.gvk] });
  }

  // Shared kinds carry the GVKs under which they are served.
  definitions.get(STATUS)?.gvks.push({ group: '', version: 'v1', kind: 'Status' });
  definitions.get(SCALE)?.gvks.push({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
  const gvs = [...servedGVs.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
  for (const kind of ['DeleteOptions', 'WatchEvent']) {
    definitions.get(`${META_V1}.${kind}`)?.gvks.push(...gvs.map((g) => ({ group: g.group, version: g.version, kind })));
  }
  for (const specs of groupVersions.values()) specs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { version: opts.version ?? 'v1.33.0', definitions, groupVersions };
}

function listSchema(rt: ResourceType, itemName: string): JSONSchemaProps {
  return {
    type: 'object',
    description: `${rt.listKind} is a list of ${rt.kind}.`,
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      items: { type: 'array', description: `List of ${rt.plural}.`, items: { 'x-kumo-ref': itemName } },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { 'x-kumo-ref': LIST_META, description: "Standard list metadata." },
    },
  };
}

/** GET /apis/<group>/<version>/ → APIResourceList. */
function resourceListPath(rt: ResourceType): PathSpec {
  const gv = groupVersionPath(rt.group, rt.version);
  return {
    path: `/${gv}/`,
    params: [],
    operations: [
      {
        method: 'get',
        operationId: `get${operationGroupVersion(rt.group, rt.version)}APIResources`,
        description: 'get available resources',
        tag: operationTag(rt.group, rt.version),
        params: [],
        responses: [ok(API_RESOURCE_LIST), UNAUTHORIZED],
      },
    ],
  };
}

/** The paths of one resource, as kube-apiserver's installer lays them out. */
export function resourcePaths(rt: ResourceType, subresources: readonly SubresourceKind[] = []): PathSpec[] {
  const gvk = gvkOf(rt);
  const base = `/${groupVersionPath(rt.group, rt.version)}`;
  const gv = operationGroupVersion(rt.group, rt.version);
  const tag = operationTag(rt.group, rt.version);
  const K = rt.kind;
  const kindRef = definitionName(gvk);
  const listRef = definitionName({ ...gvk, kind: rt.listKind });
  const has = (v: string) => rt.verbs.includes(v);
  const scope = rt.namespaced ? 'Namespaced' : '';
  const nsPrefix = rt.namespaced ? '/namespaces/{namespace}' : '';
  const nsParams = rt.namespaced ? [pathParam('namespace', K)] : [];
  const op = (o: Omit<Operation, 'tag'>): Operation => ({ ...o, tag });
  const paths: PathSpec[] = [];

  const collection: Operation[] = [];
  if (has('list')) {
    collection.push(
      op({ method: 'get', operationId: `list${gv}${scope}${K}`, description: `list or watch objects of kind ${K}`, action: 'list', gvk, params: LIST_PARAMS, responses: [ok(listRef), UNAUTHORIZED], stream: true }),
    );
  }
  if (has('create')) {
    collection.push(
      op({
        method: 'post',
        operationId: `create${gv}${scope}${K}`,
        description: `create ${article(K)} ${K}`,
        action: 'post',
        gvk,
        params: WRITE_PARAMS,
        body: { kind: 'object', ref: kindRef },
        responses: [ok(kindRef), created(kindRef), accepted(kindRef), UNAUTHORIZED],
      }),
    );
  }
  if (has('deletecollection')) {
    collection.push(
      op({
        method: 'delete',
        operationId: `delete${gv}Collection${scope}${K}`,
        description: `delete collection of ${K}`,
        action: 'deletecollection',
        gvk,
        params: DELETE_COLLECTION_PARAMS,
        body: { kind: 'delete' },
        responses: [ok(STATUS), UNAUTHORIZED],
      }),
    );
  }
  if (collection.length > 0) paths.push({ path: `${base}${nsPrefix}/${rt.plural}`, params: [...nsParams, P.pretty], operations: collection });

  if (rt.namespaced && has('list')) {
    paths.push({
      path: `${base}/${rt.plural}`,
      params: [...LIST_PARAMS, P.pretty].sort(byName),
      operations: [op({ method: 'get', operationId: `list${gv}${K}ForAllNamespaces`, description: `list or watch objects of kind ${K}`, action: 'list', gvk, params: [], responses: [ok(listRef), UNAUTHORIZED], stream: true })],
    });
  }

  const itemPath = `${base}${nsPrefix}/${rt.plural}/{name}`;
  const itemParams = [pathParam('name', K), ...nsParams, P.pretty];
  const smp = rt.source !== 'crd';
  const item: Operation[] = [];
  if (has('get')) item.push(op({ method: 'get', operationId: `read${gv}${scope}${K}`, description: `read the specified ${K}`, action: 'get', gvk, params: [], responses: [ok(kindRef), UNAUTHORIZED] }));
  if (has('update')) {
    item.push(
      op({
        method: 'put',
        operationId: `replace${gv}${scope}${K}`,
        description: `replace the specified ${K}`,
        action: 'put',
        gvk,
        params: WRITE_PARAMS,
        body: { kind: 'object', ref: kindRef },
        responses: [ok(kindRef), created(kindRef), UNAUTHORIZED],
      }),
    );
  }
  if (has('delete')) {
    item.push(
      op({
        method: 'delete',
        operationId: `delete${gv}${scope}${K}`,
        description: `delete ${article(K)} ${K}`,
        action: 'delete',
        gvk,
        params: DELETE_PARAMS,
        body: { kind: 'delete' },
        responses: [ok(STATUS), accepted(STATUS), UNAUTHORIZED],
      }),
    );
  }
  if (has('patch')) {
    item.push(
      op({
        method: 'patch',
        operationId: `patch${gv}${scope}${K}`,
        description: `partially update the specified ${K}`,
        action: 'patch',
        gvk,
        params: PATCH_PARAMS,
        body: { kind: 'patch', strategicMerge: smp },
        responses: [ok(kindRef), created(kindRef), UNAUTHORIZED],
      }),
    );
  }
  if (item.length > 0) paths.push({ path: itemPath, params: itemParams, operations: item });

  const sub = (name: string, subGvk: GVK, ref: string, verbs: { get: boolean; update: boolean; patch: boolean; create?: boolean }): void => {
    const S = upperFirst(name);
    const ops: Operation[] = [];
    if (verbs.create) {
      ops.push(
        op({
          method: 'post',
          operationId: `create${gv}${scope}${K}${S}`,
          description: `create ${name} of ${article(K)} ${K}`,
          action: 'post',
          gvk: subGvk,
          params: WRITE_PARAMS,
          body: { kind: 'object', ref },
          responses: [ok(ref), created(ref), accepted(ref), UNAUTHORIZED],
        }),
      );
    }
    if (verbs.get) ops.push(op({ method: 'get', operationId: `read${gv}${scope}${K}${S}`, description: `read ${name} of the specified ${K}`, action: 'get', gvk: subGvk, params: [], responses: [ok(ref), UNAUTHORIZED] }));
    if (verbs.update) {
      ops.push(
        op({
          method: 'put',
          operationId: `replace${gv}${scope}${K}${S}`,
          description: `replace ${name} of the specified ${K}`,
          action: 'put',
          gvk: subGvk,
          params: WRITE_PARAMS,
          body: { kind: 'object', ref },
          responses: [ok(ref), created(ref), UNAUTHORIZED],
        }),
      );
    }
    if (verbs.patch) {
      ops.push(
        op({
          method: 'patch',
          operationId: `patch${gv}${scope}${K}${S}`,
          description: `partially update ${name} of the specified ${K}`,
          action: 'patch',
          gvk: subGvk,
          params: PATCH_PARAMS,
          body: { kind: 'patch', strategicMerge: smp },
          responses: [ok(ref), created(ref), UNAUTHORIZED],
        }),
      );
    }
    if (ops.length > 0) paths.push({ path: `${itemPath}/${name}`, params: itemParams, operations: ops });
  };
  if (rt.subresources.status) sub('status', gvk, kindRef, { get: has('get'), update: has('update'), patch: has('patch') });
  if (rt.subresources.scale) sub('scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }, SCALE, { get: has('get'), update: has('update'), patch: has('patch') });
  for (const sr of subresources) {
    sub(sr.name, sr.gvk, definitionName(sr.gvk), { create: sr.verbs.includes('create'), get: sr.verbs.includes('get'), update: sr.verbs.includes('update'), patch: false });
  }

  if (has('watch')) {
    const watchList = (path: string, operationId: string, params: Param[]): PathSpec => ({
      path,
      params: [...LIST_PARAMS, P.pretty, ...params].sort(byName),
      operations: [
        op({
          method: 'get',
          operationId,
          description: `watch individual changes to a list of ${K}. deprecated: use the 'watch' parameter with a list operation instead.`,
          action: 'watchlist',
          gvk,
          params: [],
          responses: [ok(WATCH_EVENT), UNAUTHORIZED],
          stream: true,
        }),
      ],
    });
    if (rt.namespaced) {
      paths.push(watchList(`${base}/watch/${rt.plural}`, `watch${gv}${K}ListForAllNamespaces`, []));
      paths.push(watchList(`${base}/watch/namespaces/{namespace}/${rt.plural}`, `watch${gv}Namespaced${K}List`, nsParams));
    } else {
      paths.push(watchList(`${base}/watch/${rt.plural}`, `watch${gv}${K}List`, []));
    }
    paths.push({
      path: `${base}/watch${nsPrefix}/${rt.plural}/{name}`,
      params: [...LIST_PARAMS, P.pretty, pathParam('name', K), ...nsParams].sort(byName),
      operations: [
        op({
          method: 'get',
          operationId: `watch${gv}${scope}${K}`,
          description: `watch changes to an object of kind ${K}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
          action: 'watch',
          gvk,
          params: [],
          responses: [ok(WATCH_EVENT), UNAUTHORIZED],
          stream: true,
        }),
      ],
    });
  }
  return paths;
}

function byName(a: Param, b: Param): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a';
}
