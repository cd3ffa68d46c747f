// OpenAPI v3 as kube-apiserver serves it: a root discovery document at /openapi/v3 listing one
// document per group-version (`{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}}}`)
// and, per group-version, an OpenAPI 3.0 document with its paths and the component schemas they
// reach. The hash is the document's ETag: kubectl caches a URL with a hash forever, so the server
// answers a matching hash with `Cache-Control: public, immutable` and redirects a stale one.
import type { ResourceType } from '../types.js';
import { refsIn, refTo, type Json } from './convert.js';
import { buildModel, type ApiModel, type Body, type OpenAPIOptions, type Operation, type Param, type PathSpec } from './model.js';
import { BEARER_TOKEN, patchTypes, renderDefinitions, served, type ServedDocument } from './v2.js';

export interface OpenAPIV3Documents {
  /** `api/v1`, `apis/<group>/<version>` → that group-version's document. */
  groupVersions: Map<string, ServedDocument>;
  /**
   * The root discovery document. `prefix` is prepended to every serverRelativeURL: client-go fetches
   * them as absolute paths, so a logical cluster's root must carry its `/clusters/<name>` prefix.
   */
  root(prefix?: string): ServedDocument;
}

const JSON_TYPES = ['application/json', 'application/yaml'];
const STREAM_TYPES = ['application/json', 'application/yaml', 'application/json;stream=watch'];

function param(p: Param): Json {
  const schema: Json = { type: p.type };
  if (p.uniqueItems) schema.uniqueItems = true;
  const o: Json = { name: p.name, in: p.in, description: p.description };
  if (p.required) o.required = true;
  o.schema = schema;
  return o;
}

function requestBody(b: Body): Json {
  switch (b.kind) {
    case 'object':
      return { content: { '*/*': { schema: { $ref: refTo(b.ref, 'v3') } } }, required: true };
    case 'patch': {
      const content: Json = {};
      for (const t of patchTypes(b.strategicMerge)) content[t] = { schema: { $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.Patch', 'v3') } };
      return { content, required: true };
    }
    case 'delete':
      return { content: { '*/*': { schema: { $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'v3') } } } };
  }
}

function operation(o: Operation): Json {
  const out: Json = { tags: [o.tag], description: o.description, operationId: o.operationId };
  if (o.params.length > 0) out.parameters = o.params.map(param);
  if (o.body) out.requestBody = requestBody(o.body);
  const responses: Json = {};
  for (const r of o.responses) {
    if (!r.ref) {
      responses[r.code] = { description: r.description };
      continue;
    }
    const content: Json = {};
    for (const t of o.stream ? STREAM_TYPES : JSON_TYPES) content[t] = { schema: { $ref: refTo(r.ref, 'v3') } };
    responses[r.code] = { description: r.description, content };
  }
  out.responses = responses;
  if (o.action) out['x-kubernetes-action'] = o.action;
  if (o.gvk) out['x-kubernetes-group-version-kind'] = { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version };
  return out;
}

function renderPaths(specs: readonly PathSpec[]): Json {
  const paths: Json = {};
  for (const spec of specs) {
    const item: Json = {};
    for (const o of spec.operations) item[o.method] = operation(o);
    if (spec.params.length > 0) item.parameters = spec.params.map(param);
    paths[spec.path] = item;
  }
  return paths;
}

/** One group-version's OpenAPI 3.0 document: its paths and the schemas they reach. */
export function renderV3GroupVersion(model: ApiModel, specs: readonly PathSpec[]): Json {
  const paths = renderPaths(specs);
  const schemas = renderDefinitions(model, 'v3', refsIn(paths, 'v3', new Set()));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: model.version },
    paths,
    components: { schemas, securitySchemes: { BearerToken: BEARER_TOKEN } },
    security: [{ BearerToken: [] }],
  };
}

/** The v3 documents of every served group-version and the root that lists them. */
export function buildOpenAPIV3(rts: readonly ResourceType[], opts: OpenAPIOptions = {}): OpenAPIV3Documents {
  const model = buildModel(rts, opts);
  const groupVersions = new Map<string, ServedDocument>();
  for (const gv of [...model.groupVersions.keys()].sort()) {
    groupVersions.set(gv, served(renderV3GroupVersion(model, model.groupVersions.get(gv) ?? [])));
  }
  const roots = new Map<string, ServedDocument>();
  return {
    groupVersions,
    root(prefix = '') {
      let r = roots.get(prefix);
      if (!r) {
        const paths: Json = {};
        for (const [gv, d] of groupVersions) paths[gv] = { serverRelativeURL: `${prefix}/openapi/v3/${gv}?hash=${d.etag}` };
        r = served({ paths });
        roots.set(prefix, r);
      }
      return r;
    },
  };
}
