// OpenAPI v2 (swagger 2.0) as kube-apiserver serves it at /openapi/v2: one document with every path
// and definition. (client-go asks for it as gnostic protobuf; see v2proto.ts.)
import crypto from 'node:crypto';
import type { ResourceType } from '../types.js';
import { convertSchema, refsIn, refTo, type Json } from './convert.js';
import { buildModel, type ApiModel, type Body, type OpenAPIOptions, type Operation, type Param } from './model.js';

/** A document ready to serve: its JSON text and the ETag/hash kube-apiserver would give it. */
export interface ServedDocument {
  doc: Json;
  json: string;
  /** Uppercase hex SHA-512 of `json` (kube-openapi's ETag, sent quoted, and the v3 `hash` parameter). */
  etag: string;
}

export function served(doc: Json): ServedDocument {
  const json = JSON.stringify(doc);
  return { doc, json, etag: etagOf(json) };
}

export function etagOf(body: string | Uint8Array): string {
  return crypto.createHash('sha512').update(body).digest('hex').toUpperCase();
}

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
/** The patch content types of an operation (strategic merge patch only for built-in kinds). */
export function patchTypes(strategicMerge: boolean): string[] {
  return strategicMerge ? PATCH_TYPES : PATCH_TYPES.filter((t) => !t.includes('strategic'));
}
const PRODUCES = ['application/json', 'application/yaml'];
const PRODUCES_STREAM = ['application/json', 'application/yaml', 'application/json;stream=watch'];

export const BEARER_TOKEN = { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' };

/** Definitions rendered in a flavor, with GVK extensions; refs to unknown names get an open object. */
export function renderDefinitions(model: ApiModel, flavor: 'v2' | 'v3', names?: Iterable<string>): Json {
  const lookup = (n: string) => model.definitions.get(n)?.schema;
  const out: Record<string, Json> = {};
  const want = names ? [...names] : [...model.definitions.keys()];
  const queue = [...want];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const d = model.definitions.get(name);
    const schema: Json = d ? convertSchema(d.schema, flavor, true, lookup) : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    if (d && d.gvks.length > 0) schema['x-kubernetes-group-version-kind'] = d.gvks.map((g) => ({ group: g.group, kind: g.kind, version: g.version }));
    out[name] = schema;
    for (const r of refsIn(schema, flavor, new Set())) if (!seen.has(r)) queue.push(r);
  }
  const sorted: Json = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return sorted;
}

function param(p: Param): Json {
  const o: Json = { name: p.name, in: p.in, description: p.description, type: p.type };
  if (p.uniqueItems) o.uniqueItems = true;
  if (p.required) o.required = true;
  return o;
}

function bodyParam(b: Body): Json {
  switch (b.kind) {
    case 'object':
      return { name: 'body', in: 'body', required: true, schema: { $ref: refTo(b.ref, 'v2') } };
    case 'patch':
      return { name: 'body', in: 'body', required: true, schema: { $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.Patch', 'v2') } };
    case 'delete':
      return { name: 'body', in: 'body', schema: { $ref: refTo('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', 'v2') } };
  }
}

function operation(o: Operation): Json {
  const out: Json = {
    description: o.description,
    consumes: o.body?.kind === 'patch' ? patchTypes(o.body.strategicMerge) : ['*/*'],
    produces: o.stream ? PRODUCES_STREAM : PRODUCES,
    schemes: ['https'],
    tags: [o.tag],
    operationId: o.operationId,
  };
  const params = [...(o.body ? [bodyParam(o.body)] : []), ...o.params.map(param)];
  if (params.length > 0) out.parameters = params;
  const responses: Json = {};
  for (const r of o.responses) responses[r.code] = r.ref ? { description: r.description, schema: { $ref: refTo(r.ref, 'v2') } } : { description: r.description };
  out.responses = responses;
  if (o.action) out['x-kubernetes-action'] = o.action;
  if (o.gvk) out['x-kubernetes-group-version-kind'] = { group: o.gvk.group, kind: o.gvk.kind, version: o.gvk.version };
  return out;
}

/** The swagger 2.0 document of every served resource. */
export function buildOpenAPIV2(rts: readonly ResourceType[], opts: OpenAPIOptions = {}): ServedDocument {
  return served(renderV2(buildModel(rts, opts)));
}

export function renderV2(model: ApiModel): Json {
  const paths: Record<string, Json> = {};
  for (const specs of model.groupVersions.values()) {
    for (const spec of specs) {
      const item: Json = {};
      for (const o of spec.operations) item[o.method] = operation(o);
      if (spec.params.length > 0) item.parameters = spec.params.map(param);
      paths[spec.path] = item;
    }
  }
  const sortedPaths: Json = {};
  for (const k of Object.keys(paths).sort()) sortedPaths[k] = paths[k];
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: model.version },
    paths: sortedPaths,
    definitions: renderDefinitions(model, 'v2'),
    securityDefinitions: { BearerToken: BEARER_TOKEN },
    security: [{ BearerToken: [] }],
  };
}
