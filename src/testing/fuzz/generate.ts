// The API fuzzer's request generator: request N of a run is a pure function of (seed, N, the served
// kinds), so any request replays on its own. Requests are valid ones of every kind and verb, mutated:
// bodies (wrong types, missing and unknown fields, huge and deep values, near and past the 3 MiB
// limit, YAML and protobuf, garbage bytes), patch documents of all four types, paths, query strings,
// headers and methods.
//
// Names: every name a request may create carries its token `fz-<N>-` (in the name, the namespace or
// the logical cluster), so after the run an object can be traced to the one request that could have
// made it. Requests that change existing objects target the fixtures made before the run (`base-*`,
// `del-*`). Destructive requests are fenced (see `guard`): collections are deleted only in namespace
// `fuzz-dc` or logical cluster `fuzz-x`, and the namespaces and the CRD the run relies on are never
// changed, so what the run checks afterwards is not undone by the run itself.
import YAML from 'yaml';
import type { JSONSchemaProps } from '../../api/types.js';
import { PROTOBUF_MAGIC, protobufRoot } from '../../apiserver/protobuf.js';
import { KIND_MESSAGES } from '../../apiserver/protobuf/definitions.js';
import { parseRequestInfo } from '../../apiserver/requestinfo.js';
import { FUZZ_GROUP, WIDGETS_CRD, fixture, schemaPaths, statusFor, type KindRef } from './fixtures.js';
import { rngFor, type Rng } from './rng.js';
import { DEPTHS, Raw, deepValue, getAt, hasRaw, mutate, mutatedName, nastyNumber, nastyString, nastyValue, pathsOf, plausibleValue, setAt, toJsonText, token, type Json } from './values.js';

/** A kind as served (from discovery) with what the generator needs of it. */
export interface FuzzKind extends KindRef {
  namespaced: boolean;
  verbs: string[];
  /** Subresource names served (`status`, `scale`, `token`). */
  subresources: string[];
  /** Schema paths the fixture does not have, for mutations that add known fields. */
  extraPaths: (string | number)[][];
}

export function fuzzKind(k: Omit<FuzzKind, 'extraPaths'> & { schema?: JSONSchemaProps }): FuzzKind {
  return { ...k, extraPaths: schemaPaths(k.schema) };
}

/** Namespaces and logical clusters the run sets up. */
export const NS_A = 'fuzz-a';
export const NS_B = 'fuzz-b';
/** The only namespace whose collections are deleted. */
export const NS_DC = 'fuzz-dc';
export const LC = 'fuzz-lc';
/** The logical cluster where anything goes (cluster-scoped collections are deleted only here). */
export const LC_X = 'fuzz-x';
export const BASE_NAMES = ['base-0', 'base-1'];
export const DEL_NAMES = Array.from({ length: 8 }, (_, i) => `del-${i}`);
export const DC_NAMES = ['dc-0', 'dc-1', 'dc-2'];
const PROTECTED_NAMESPACES = new Set([NS_A, NS_B, NS_DC, 'default', 'kube-system', 'kube-public', 'kube-node-lease']);

/** 3 MiB, the server's request body limit. */
export const BODY_LIMIT = 3 * 1024 * 1024;

export interface FuzzRequest {
  index: number;
  method: string;
  /** The request target: path and query, as sent. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Sent without Content-Length (chunked). */
  chunked: boolean;
  /** The kind aimed at (`configmaps`, `events.events.k8s.io`), or `(path)` / `(non-resource)`. */
  kind: string;
  /** What the generator meant: create, update, patch:json, list, watch, path … */
  op: string;
  /** `dryRun=All` was asked for: a success must store nothing. */
  dryRun: boolean;
  /** The server resolves it to a watch (it then ends by its timeoutSeconds). */
  watch: boolean;
  /** The body is over the limit on purpose. */
  oversized: boolean;
}

export interface GenerateOptions {
  seed: number;
  kinds: readonly FuzzKind[];
}

type Op = 'create' | 'update' | 'patch' | 'get' | 'list' | 'watch' | 'delete' | 'deletecollection' | 'status' | 'scale' | 'token' | 'finalize' | 'path' | 'nonresource';

const OPS: readonly (readonly [number, Op])[] = [
  [24, 'create'],
  [9, 'update'],
  [20, 'patch'],
  [6, 'get'],
  [9, 'list'],
  [0.7, 'watch'],
  [3, 'delete'],
  [1, 'deletecollection'],
  [4, 'status'],
  [1.2, 'scale'],
  [0.8, 'token'],
  [0.3, 'finalize'],
  [10, 'path'],
  [4, 'nonresource'],
];

export function kindLabel(k: Pick<KindRef, 'group' | 'plural'>): string {
  return k.group === '' ? k.plural : `${k.plural}.${k.group}`;
}

function gvPath(k: KindRef): string {
  return k.group === '' ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`;
}

/** The name objects of `k` get: a CRD's name is `<plural>.<group>`. */
export function objectName(k: Pick<KindRef, 'group' | 'plural'>, name: string): string {
  return k.group === 'apiextensions.k8s.io' && k.plural === 'customresourcedefinitions' ? `${name}.${FUZZ_GROUP}` : name;
}

export function collectionPath(k: FuzzKind, ns: string | undefined): string {
  if (k.namespaced && ns !== undefined) return `${gvPath(k)}/namespaces/${ns}/${k.plural}`;
  return `${gvPath(k)}/${k.plural}`;
}

export function objectPath(k: FuzzKind, ns: string | undefined, name: string): string {
  if (k.group === '' && k.plural === 'namespaces') return `${gvPath(k)}/namespaces/${name}`;
  return `${collectionPath(k, ns)}/${name}`;
}

/** Generates request `index` of the run. */
export function generateRequest(opts: GenerateOptions, index: number): FuzzRequest {
  const rng = rngFor(opts.seed, index);
  const g = new Generator(rng, index, opts.kinds);
  return guard(g.request());
}

class Generator {
  private readonly tok: string;
  private readonly query: [string, string][] = [];
  private readonly headers: Record<string, string> = { 'user-agent': 'kumo-fuzz/1.0', accept: 'application/json' };
  private dryRun = false;
  private oversized = false;
  private chunked = false;

  constructor(
    private readonly rng: Rng,
    private readonly index: number,
    private readonly kinds: readonly FuzzKind[],
  ) {
    this.tok = token(index);
  }

  request(): FuzzRequest {
    const op = this.rng.weighted(OPS);
    const r = this.build(op);
    if (op !== 'path' && op !== 'nonresource' && this.rng.chance(0.25)) this.extraQuery();
    if (this.rng.chance(0.15)) this.fuzzHeaders(r.body !== undefined);
    if (this.rng.chance(0.03)) this.chunked = true;
    // Past the server's 1 MiB of request line and headers (not for HEAD: the refusal is sent before
    // the method is known, with a body a HEAD client does not expect).
    if (r.method !== 'HEAD' && this.rng.chance(0.001)) this.headers['x-kumo-fuzz-big'] = 'x'.repeat(1024 * 1024 + 1);
    const q = this.query.map(([k, v]) => (v === '\u0000novalue' ? pct(k) : `${pct(k)}=${pct(v)}`)).join('&');
    const path = sanitizePath(q === '' ? r.path : `${r.path}${r.path.includes('?') ? '&' : '?'}${q}`);
    const req: FuzzRequest = {
      index: this.index,
      method: r.method,
      path,
      headers: this.headers,
      chunked: this.chunked,
      kind: r.kind,
      op: r.op,
      dryRun: this.dryRun,
      watch: false,
      oversized: this.oversized,
    };
    if (r.body !== undefined) {
      req.body = r.body;
      if (r.body.length > BODY_LIMIT) req.oversized = true;
    }
    return req;
  }

  // ---- scope ----

  private kind(filter: (k: FuzzKind) => boolean = (k) => !isCreateOnly(k)): FuzzKind {
    const ks = this.kinds.filter(filter);
    return this.rng.pick(ks.length > 0 ? ks : this.kinds);
  }

  /** `/clusters/<x>` or nothing. */
  private cluster(): string {
    return this.rng.weighted<string>([
      [72, ''],
      [4, '/clusters/root'],
      [17, `/clusters/${LC}`],
      [3, `/clusters/${this.tok}lc`],
      [4, this.rng.pick(['/clusters/', '/clusters/UPPER', '/clusters/a..b', '/clusters/*', '/clusters/%2e%2e', `/clusters/${'a'.repeat(64)}`, `/clusters/${LC}/clusters/${LC}`, '/clusters/a_b', '/clusters/-x'])],
    ]);
  }

  /** The namespace of a new object (never fuzz-dc: what is created there may be deleted by others). */
  private createNamespace(k: FuzzKind): string | undefined {
    if (!k.namespaced) return undefined;
    return this.rng.weighted<string | undefined>([
      [55, NS_A],
      [25, NS_B],
      [4, 'default'],
      [5, `${this.tok}nons`],
      [5, this.rng.pick(['UPPER', 'a..b', '%2F', 'a_b', 'x'.repeat(64), '-x', '日本'])],
      [6, undefined],
    ]);
  }

  private targetName(k: FuzzKind): string {
    return objectName(
      k,
      this.rng.weighted<string>([
        [75, this.rng.pick(BASE_NAMES)],
        [15, `${this.tok}missing`],
        [10, this.rng.pick([`${this.tok}UPPER`, `${this.tok}..`, `${this.tok}%2Fx`, `${this.tok}${'a'.repeat(300)}`, `${this.tok}%00`, `${this.tok}%E6%97%A5`])],
      ]),
    );
  }

  // ---- requests ----

  private build(op: Op): { method: string; path: string; body?: Buffer; kind: string; op: string } {
    switch (op) {
      case 'create':
        return this.create();
      case 'update':
        return this.update();
      case 'patch':
        return this.patch('');
      case 'get': {
        const k = this.kind();
        const ns = k.namespaced ? this.rng.pick([NS_A, NS_A, NS_B, `${this.tok}nons`]) : undefined;
        const name = this.rng.chance(0.6) ? objectName(k, this.rng.pick([...BASE_NAMES, ...DEL_NAMES])) : this.targetName(k);
        if (this.rng.chance(0.3)) this.readQuery();
        return { method: this.rng.chance(0.1) ? 'HEAD' : 'GET', path: this.cluster() + objectPath(k, ns, name), kind: kindLabel(k), op: 'get' };
      }
      case 'list': {
        const k = this.kind();
        const ns = k.namespaced ? this.rng.pick([NS_A, NS_B, NS_DC, undefined, `${this.tok}nons`]) : undefined;
        this.listQuery();
        return { method: 'GET', path: this.cluster() + collectionPath(k, ns), kind: kindLabel(k), op: 'list' };
      }
      case 'watch': {
        const k = this.kind();
        const ns = k.namespaced ? this.rng.pick([NS_A, NS_B, undefined]) : undefined;
        this.listQuery();
        const legacy = this.rng.chance(0.2);
        if (!legacy) this.query.push(['watch', this.rng.pick(['1', 'true', 'True', ''])]);
        const path = collectionPath(k, ns);
        return { method: 'GET', path: this.cluster() + (legacy ? path.replace(/^(\/api\/v1|\/apis\/[^/]+\/[^/]+)/, '$1/watch') : path), kind: kindLabel(k), op: 'watch' };
      }
      case 'delete': {
        const k = this.kind();
        const ns = k.namespaced ? NS_A : undefined;
        const name = objectName(k, this.rng.weighted<string>([[60, this.rng.pick(DEL_NAMES)], [25, `${this.tok}missing`], [15, this.rng.pick(DC_NAMES)]]));
        const nsFor = DC_NAMES.some((d) => name.startsWith(d)) && k.namespaced ? NS_DC : ns;
        this.deleteQuery();
        const body = this.rng.chance(0.4) ? this.deleteOptionsBody() : undefined;
        const r: { method: string; path: string; body?: Buffer; kind: string; op: string } = { method: 'DELETE', path: this.cluster() + objectPath(k, nsFor, name), kind: kindLabel(k), op: 'delete' };
        if (body) r.body = body;
        return r;
      }
      case 'deletecollection': {
        const k = this.kind();
        const clusterScoped = !k.namespaced || this.rng.chance(0.2);
        const prefix = clusterScoped ? `/clusters/${LC_X}` : this.rng.pick(['', `/clusters/${LC}`]);
        this.listQuery();
        this.deleteQuery();
        const body = this.rng.chance(0.3) ? this.deleteOptionsBody() : undefined;
        const r: { method: string; path: string; body?: Buffer; kind: string; op: string } = {
          method: 'DELETE',
          path: prefix + collectionPath(k, clusterScoped ? (k.namespaced && this.rng.chance(0.5) ? undefined : NS_DC) : NS_DC),
          kind: kindLabel(k),
          op: 'deletecollection',
        };
        if (body) r.body = body;
        return r;
      }
      case 'status':
        return this.status();
      case 'scale':
        return this.scale();
      case 'token':
        return this.tokenRequest();
      case 'finalize': {
        const k = this.kinds.find((x) => x.group === '' && x.plural === 'namespaces') ?? this.kind();
        const name = this.rng.pick([...DEL_NAMES, `${this.tok}missing`]);
        const obj = fixture(k, name, '');
        setAt(obj, ['spec', 'finalizers'], this.rng.pick<Json>([[], ['kubernetes'], ['a/b'], [5], 'x', null]));
        this.maybeMutate(obj, k);
        return { method: this.rng.pick(['PUT', 'PUT', 'GET', 'PATCH']), path: this.cluster() + `/api/v1/namespaces/${name}/finalize`, body: this.jsonBody(obj), kind: 'namespaces', op: 'finalize' };
      }
      case 'path':
        return this.pathFuzz();
      default:
        return this.nonResource();
    }
  }

  private create(): { method: string; path: string; body: Buffer; kind: string; op: string } {
    const k = this.kind(() => true);
    const ns = this.createNamespace(k);
    const fresh = `${this.tok}${this.rng.int(1000)}`;
    const obj = fixture(k, objectName(k, fresh), ns ?? NS_A);
    const md = obj.metadata as Record<string, Json> | undefined;
    const nameMode = this.rng.weighted<string>([
      [62, 'plain'],
      [14, 'generate'],
      [14, 'mutated'],
      [4, 'absent'],
      [3, 'namespace'],
      [3, 'both'],
    ]);
    if (md) {
      if (nameMode === 'generate') {
        delete md.name;
        md.generateName = this.rng.chance(0.8) ? this.tok : mutatedName(this.rng, this.tok);
      } else if (nameMode === 'mutated') md.name = mutatedName(this.rng, objectName(k, fresh));
      else if (nameMode === 'absent') delete md.name;
      else if (nameMode === 'namespace') md.namespace = this.rng.pick<Json>([NS_B, NS_A, 'other', '', 5, null, `${this.tok}ns`]);
      else if (nameMode === 'both') md.generateName = `${this.tok}g`;
    }
    this.maybeMutate(obj, k);
    this.writeQuery();
    return { method: 'POST', path: this.cluster() + collectionPath(k, ns), body: this.objectBody(obj, k), kind: kindLabel(k), op: 'create' };
  }

  private update(): { method: string; path: string; body: Buffer; kind: string; op: string } {
    const k = this.kind();
    const name = this.targetName(k);
    const obj = fixture(k, name, NS_A);
    const md = (obj.metadata ?? {}) as Record<string, Json>;
    obj.metadata = md;
    const bodyName = this.rng.weighted<string>([[80, 'same'], [10, 'other'], [10, 'absent']]);
    if (bodyName === 'other') md.name = objectName(k, `${this.tok}other`);
    else if (bodyName === 'absent') delete md.name;
    const rv = this.rng.weighted<Json | undefined>([[55, undefined], [20, '1'], [5, ''], [20, this.rng.pick<Json>(['abc', '-1', '0', '99999999999999999999', 5, null, '1e3', '01'])]]);
    if (rv !== undefined) md.resourceVersion = rv;
    this.maybeMutate(obj, k);
    this.writeQuery();
    return { method: 'PUT', path: this.cluster() + objectPath(k, k.namespaced ? NS_A : undefined, name), body: this.objectBody(obj, k), kind: kindLabel(k), op: 'update' };
  }

  private patch(sub: '' | 'status' | 'scale', forKind?: FuzzKind): { method: string; path: string; body: Buffer; kind: string; op: string } {
    const k = forKind ?? this.kind();
    const name = this.targetName(k);
    const type = this.rng.weighted<string>([
      [25, 'application/json-patch+json'],
      [25, 'application/merge-patch+json'],
      [30, 'application/strategic-merge-patch+json'],
      [20, 'application/apply-patch+yaml'],
    ]);
    this.headers['content-type'] = type;
    const base = sub === 'scale' ? scaleObject(name) : fixture(k, name, NS_A);
    if (sub === 'status') base.status = statusFor(k);
    let body: Buffer;
    if (type === 'application/json-patch+json') body = Buffer.from(toJsonText(this.jsonPatch(base)));
    else if (type === 'application/apply-patch+yaml') body = this.applyBody(base, k);
    else body = Buffer.from(toJsonText(this.mergePatch(base, type.includes('strategic'))));
    if (this.rng.chance(0.04)) body = this.corrupt(body);
    if (this.rng.chance(0.01)) body = this.bigPatch(type);
    this.writeQuery();
    if (type === 'application/apply-patch+yaml') {
      if (this.rng.chance(0.8)) this.query.push(['fieldManager', this.rng.chance(0.9) ? 'fuzzer' : nastyString(this.rng).slice(0, 300)]);
      if (this.rng.chance(0.2)) this.query.push(['force', this.rng.pick(['true', 'false', 'yes', ''])]);
    }
    const path = objectPath(k, k.namespaced ? NS_A : undefined, name) + (sub ? `/${sub}` : '');
    return { method: 'PATCH', path: this.cluster() + path, body, kind: kindLabel(k), op: `patch${sub ? `/${sub}` : ''}:${type.split('/')[1]?.split('-')[0] ?? type}` };
  }

  private status(): { method: string; path: string; body?: Buffer; kind: string; op: string } {
    const k = this.kind((x) => x.subresources.includes('status'));
    const mode = this.rng.weighted<string>([[25, 'get'], [35, 'put'], [40, 'patch']]);
    if (mode === 'patch') return this.patch('status', k);
    const name = this.targetName(k);
    const path = this.cluster() + objectPath(k, k.namespaced ? NS_A : undefined, name) + '/status';
    if (mode === 'get') return { method: 'GET', path, kind: kindLabel(k), op: 'status:get' };
    const obj = fixture(k, name, NS_A);
    obj.status = statusFor(k);
    this.maybeMutate(obj, k);
    this.writeQuery();
    return { method: 'PUT', path, body: this.objectBody(obj, k), kind: kindLabel(k), op: 'status:put' };
  }

  private scale(): { method: string; path: string; body?: Buffer; kind: string; op: string } {
    const k = this.kind((x) => x.subresources.includes('scale'));
    const mode = this.rng.weighted<string>([[25, 'get'], [35, 'put'], [40, 'patch']]);
    if (mode === 'patch') return this.patch('scale', k);
    const name = this.targetName(k);
    const path = this.cluster() + objectPath(k, k.namespaced ? NS_A : undefined, name) + '/scale';
    if (mode === 'get') return { method: 'GET', path, kind: kindLabel(k), op: 'scale:get' };
    const obj = scaleObject(name);
    this.maybeMutate(obj, undefined);
    this.writeQuery();
    return { method: 'PUT', path, body: this.jsonBody(obj), kind: kindLabel(k), op: 'scale:put' };
  }

  private tokenRequest(): { method: string; path: string; body: Buffer; kind: string; op: string } {
    const k = this.kind((x) => x.subresources.includes('token'));
    const name = this.rng.chance(0.8) ? this.rng.pick(BASE_NAMES) : `${this.tok}missing`;
    const tr: Record<string, Json> = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        audiences: this.rng.pick<Json>([['api'], [], ['a', 'b'], null, 'x', [5]]),
        expirationSeconds: this.rng.chance(0.5) ? 3600 : nastyNumber(this.rng),
        boundObjectRef: this.rng.pick<Json>([null, { kind: 'Secret', apiVersion: 'v1', name: 'base-0' }, { kind: 'Pod', name: 'p' }, { kind: 'Node', name: 'n' }, { kind: 'ConfigMap', name: 'x' }, {}, 'x']),
      },
    };
    this.maybeMutate(tr, undefined);
    this.writeQuery();
    return { method: 'POST', path: this.cluster() + objectPath(k, NS_A, name) + '/token', body: this.jsonBody(tr), kind: kindLabel(k), op: 'token' };
  }

  // ---- bodies ----

  /** 0 mutations a quarter of the time (valid objects must be accepted), else 1-10. */
  private maybeMutate(obj: Record<string, Json>, k: FuzzKind | undefined): void {
    const n = this.rng.weighted<number>([
      [28, 0],
      [40, 1],
      [24, this.rng.range(2, 4)],
      [8, this.rng.range(5, 10)],
    ]);
    mutate(this.rng, obj, n, k?.extraPaths ?? []);
    if (this.rng.chance(0.08)) this.metadataFuzz(obj);
    if (this.rng.chance(0.03)) obj.apiVersion = this.rng.pick<Json>(['v2', 'kumo.dev/v1', 'apps/v1', '', 5, null, 'v1/v1']);
    if (this.rng.chance(0.03)) obj.kind = this.rng.pick<Json>(['Other', '', 5, null, 'configmap', 'Status', 'List']);
  }

  /** Metadata at its edges: labels and annotations (keys, values, total size), finalizers, owners, managedFields, system fields. */
  private metadataFuzz(obj: Record<string, Json>): void {
    const md = (obj.metadata && typeof obj.metadata === 'object' && !Array.isArray(obj.metadata) && !(obj.metadata instanceof Raw) ? obj.metadata : {}) as Record<string, Json>;
    obj.metadata = md;
    const r = this.rng;
    switch (r.int(10)) {
      case 0:
        md.labels = { [r.pick(['a', 'kumo.dev/x', 'UPPER', 'a/b/c', '-x', 'x'.repeat(64), `${'x'.repeat(254)}/a`, '', '日本'])]: r.pick<Json>(['v', '', 'x'.repeat(64), 'a b', '-x', 5, null, true]) };
        break;
      case 1:
        md.annotations = { big: 'x'.repeat(r.pick([1000, 262000, 262145, 300000])) };
        break;
      case 2:
        md.finalizers = r.pick<Json>([['kumo.dev/fuzz'], ['a', 'a'], ['UPPER/x'], ['x'.repeat(400)], [5], 'x', ['foregroundDeletion'], ['orphan']]);
        break;
      case 3:
        md.ownerReferences = r.pick<Json>([
          [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'base-0', uid: '00000000-0000-0000-0000-000000000000' }],
          [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }],
          [{ uid: 'a' }, { uid: 'a' }],
          [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'a', uid: 'u', controller: true }, { apiVersion: 'v1', kind: 'Secret', name: 'b', uid: 'v', controller: true }],
          'x',
          [null],
        ]);
        break;
      case 4:
        md.managedFields = r.pick<Json>([
          [{ manager: 'm', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {} } } }],
          [{ manager: 'm', operation: 'Bogus', fieldsType: 'FieldsV2', fieldsV1: 'x' }],
          [{ fieldsV1: { 'f:': { 'k:{bad': {} } } }],
          [{}],
          'x',
          [5],
        ]);
        break;
      case 5:
        md.uid = r.pick<Json>(['x', '', 5, '00000000-0000-0000-0000-000000000000']);
        md.resourceVersion = r.pick<Json>(['1', 'x', 5]);
        break;
      case 6:
        md.creationTimestamp = r.pick<Json>(['x', 5, '2024-01-01T00:00:00Z', null]);
        md.deletionTimestamp = r.pick<Json>(['2024-01-01T00:00:00Z', 'x', 5]);
        md.deletionGracePeriodSeconds = nastyNumber(r);
        break;
      case 7:
        md.generation = nastyNumber(r);
        md.selfLink = nastyString(r);
        break;
      case 8:
        md.labels = Object.fromEntries(Array.from({ length: r.pick([100, 5000]) }, (_, i) => [`k${i}`, `v${i}`]));
        break;
      default:
        md[`unknown${r.int(5)}`] = nastyValue(r);
    }
  }

  /** A create/update body: JSON mostly, else YAML, protobuf, or garbage; rarely huge. */
  private objectBody(obj: Record<string, Json>, k: FuzzKind): Buffer {
    if (this.rng.chance(0.012)) this.inflate(obj, k);
    const enc = this.rng.weighted<string>([
      [78, 'json'],
      [10, 'yaml'],
      [6, 'protobuf'],
      [6, 'corrupt'],
    ]);
    let body: Buffer;
    if (enc === 'yaml' && !hasRaw(obj)) {
      this.headers['content-type'] = this.rng.pick(['application/yaml', 'application/yaml; charset=utf-8']);
      body = Buffer.from(YAML.stringify(obj));
    } else if (enc === 'protobuf') {
      this.headers['content-type'] = 'application/vnd.kubernetes.protobuf';
      body = this.protobufBody(obj, k);
    } else {
      this.headers['content-type'] = 'application/json';
      body = Buffer.from(toJsonText(obj));
      if (enc === 'corrupt') body = this.corrupt(body);
    }
    if (body.length > BODY_LIMIT) this.oversized = true;
    return body;
  }

  private jsonBody(obj: Json): Buffer {
    this.headers['content-type'] = 'application/json';
    const b = Buffer.from(toJsonText(obj));
    return this.rng.chance(0.04) ? this.corrupt(b) : b;
  }

  /** Makes a body large: a near-limit annotation, data value or free-form field; sometimes past 3 MiB. */
  private inflate(obj: Record<string, Json>, k: FuzzKind): void {
    const size = this.rng.weighted<number>([
      [25, 300 * 1024],
      [20, 1024 * 1024 + 1],
      [20, 1.6 * 1024 * 1024],
      [20, BODY_LIMIT - 4096],
      [10, BODY_LIMIT + 1],
      [5, 5 * 1024 * 1024],
    ]);
    const big = 'x'.repeat(Math.floor(size));
    if (k.plural === 'configmaps' || k.plural === 'secrets') setAt(obj, ['data', 'big'], k.plural === 'secrets' ? Buffer.from(big.slice(0, Math.floor((size * 3) / 4))).toString('base64') : big);
    else if (k.group === FUZZ_GROUP) setAt(obj, ['spec', 'free', 'big'], big);
    else if (this.rng.chance(0.3)) setAt(obj, ['spec', 'deep'], deepValue(this.rng, Math.min(Math.floor(size / 6), 500000)));
    else setAt(obj, ['metadata', 'annotations', 'big'], big);
  }

  /** A kube protobuf envelope of the object (mutated bytes often), or bytes that only look like one. */
  private protobufBody(obj: Record<string, Json>, k: FuzzKind): Buffer {
    const apiVersion = k.group === '' ? k.version : `${k.group}/${k.version}`;
    const message = KIND_MESSAGES[`${apiVersion}/${k.kind}`];
    const r = this.rng;
    let out: Buffer;
    try {
      if (!message || hasRaw(obj)) throw new Error('no protobuf form');
      const root = protobufRoot();
      const type = root.lookupType(message);
      const raw = type.encode(type.fromObject(JSON.parse(JSON.stringify(obj)) as Record<string, unknown>)).finish();
      const unknown = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
      const env = unknown.encode(unknown.fromObject({ typeMeta: { apiVersion: r.chance(0.9) ? apiVersion : 'v9', kind: r.chance(0.9) ? k.kind : 'Other' }, raw })).finish();
      out = Buffer.concat([PROTOBUF_MAGIC, env]);
    } catch {
      out = Buffer.concat([PROTOBUF_MAGIC, Buffer.from(toJsonText(obj)).subarray(0, 2000)]);
    }
    switch (r.int(6)) {
      case 0:
      case 1: {
        // Flip some bytes after the magic.
        const b = Buffer.from(out);
        for (let i = 0; i < r.range(1, 8); i++) {
          const at = PROTOBUF_MAGIC.length + r.int(Math.max(1, b.length - PROTOBUF_MAGIC.length));
          if (at < b.length) b[at] = r.int(256);
        }
        return b;
      }
      case 2:
        return out.subarray(0, r.int(out.length));
      case 3:
        return Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.alloc(r.int(64), 0x41)]);
      case 4:
        return r.chance(0.5) ? Buffer.alloc(0) : Buffer.from(PROTOBUF_MAGIC);
      default:
        return out;
    }
  }

  /** Broken bytes around a body: truncated, garbage, BOM, trailing data, invalid UTF-8, comments. */
  private corrupt(b: Buffer): Buffer {
    const r = this.rng;
    switch (r.int(10)) {
      case 0:
        return b.subarray(0, r.int(b.length));
      case 1:
        return Buffer.alloc(0);
      case 2:
        return Buffer.from(Array.from({ length: r.range(1, 512) }, () => r.int(256)));
      case 3:
        return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]);
      case 4:
        return Buffer.concat([b, Buffer.from(r.pick(['x', '}', ' {"a":1}', '\n\n', '\u0000']))]);
      case 5:
        return Buffer.concat([b.subarray(0, Math.floor(b.length / 2)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), b.subarray(Math.floor(b.length / 2))]);
      case 6:
        return Buffer.from(`// comment\n${b.toString('utf8')}`);
      case 7:
        return Buffer.from(r.pick(['null', '[]', '"x"', '5', 'true', '{}', '[{}]', '{"metadata":null}', '{"apiVersion":null,"kind":null}']));
      case 8:
        return Buffer.from(b.toString('utf8').replace(/"metadata":\{/, '"metadata":{"name":"a","name":'));
      default:
        return Buffer.from(b.toString('utf8').replace(/:/g, (m) => (r.chance(0.05) ? '::' : m)));
    }
  }

  // ---- patches ----

  private pointer(base: Json): string {
    const r = this.rng;
    const paths = pathsOf(base, 200);
    const esc = (s: string | number): string => String(s).replace(/~/g, '~0').replace(/\//g, '~1');
    return r.weighted<string>([
      [45, paths.length > 0 ? '/' + r.pick(paths).map(esc).join('/') : '/metadata'],
      [15, '/metadata/labels/fz'],
      [5, '/metadata/annotations/a~1b'],
      [
        20,
        r.pick([
          '',
          '/',
          '/-',
          'metadata',
          '/metadata/name',
          '/metadata/namespace',
          '/metadata/uid',
          '/metadata/resourceVersion',
          '/apiVersion',
          '/kind',
          '/metadata/finalizers/-',
          '/metadata/finalizers/0',
          '/metadata/ownerReferences/0',
          '/spec/tags/999999',
          '/spec/tags/-1',
          '/spec/tags/01',
          '/spec/tags/-',
          '/data/~2',
          '/data/~',
          '/status',
          '/metadata/labels',
          '/spec/a/b/c/d/e/f',
        ]),
      ],
      [3, '/a'.repeat(r.pick([100, 5000]))],
      [12, '/' + (r.pick(paths.length > 0 ? paths : [['spec']]) ?? ['spec']).map(esc).join('/') + '/' + esc(nastyString(r).slice(0, 50))],
    ]);
  }

  private jsonPatch(base: Record<string, Json>): Json {
    const r = this.rng;
    if (r.chance(0.06)) return r.pick<Json>([{}, 'x', null, 5, { op: 'add', path: '/a', value: 1 }, [null], ['add'], [[]]]);
    const n = r.weighted<number>([
      [45, 1],
      [30, 2],
      [17, 4],
      [6, 12],
      [2, 1000],
    ]);
    const ops: Json[] = [];
    for (let i = 0; i < n; i++) {
      const op = r.weighted<Json>([
        [30, 'add'],
        [15, 'remove'],
        [25, 'replace'],
        [7, 'move'],
        [7, 'copy'],
        [8, 'test'],
        [8, r.pick<Json>(['bogus', '', null, 5, 'ADD', '_get'])],
      ]);
      const o: Record<string, Json> = { op, path: this.pointer(base) };
      if (op === 'add' || op === 'replace' || op === 'test' || r.chance(0.1)) {
        const cur = getAt(base, []);
        o.value = r.weighted<Json>([
          [40, plausibleValue(r)],
          [40, nastyValue(r)],
          [20, cur === undefined ? null : 'fuzzed'],
        ]);
      }
      if (op === 'move' || op === 'copy' || r.chance(0.05)) o.from = this.pointer(base);
      if (r.chance(0.05)) delete o.path;
      if (r.chance(0.03)) o.path = nastyValue(r);
      ops.push(o);
    }
    return ops;
  }

  private mergePatch(base: Record<string, Json>, strategic: boolean): Json {
    const r = this.rng;
    if (r.chance(0.06)) return r.pick<Json>([[], 'x', null, 5, true, [{ a: 1 }], deepValue(r, r.pick(DEPTHS))]);
    const patch: Record<string, Json> = {};
    const paths = pathsOf(base, 200).filter((p) => p.every((s) => typeof s === 'string'));
    const n = r.weighted<number>([
      [50, 1],
      [30, 2],
      [15, 4],
      [5, 10],
    ]);
    for (let i = 0; i < n; i++) {
      const choice = r.int(10);
      if (choice <= 1) setAt(patch, ['metadata', 'labels', r.pick(['fz', 'a', 'kumo.dev/x', 'UPPER', '-bad'])], r.pick<Json>(['v', null, '', 5, 'x'.repeat(64)]));
      else if (choice === 2) setAt(patch, r.pick<(string | number)[]>([['metadata', 'resourceVersion'], ['metadata', 'name'], ['metadata', 'namespace'], ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'uid'], ['status']]), r.pick<Json>([null, 'x', '1', 5, {}, `${this.tok}x`]));
      else if (paths.length > 0) setAt(patch, r.pick(paths), r.weighted<Json>([[30, null], [35, plausibleValue(r)], [35, nastyValue(r)]]));
      else setAt(patch, [`unknown${r.int(5)}`], nastyValue(r));
    }
    if (strategic && r.chance(0.6)) this.directives(patch, base);
    return patch;
  }

  /** Strategic merge patch directives, well- and ill-formed, where they belong and where they do not. */
  private directives(patch: Record<string, Json>, base: Record<string, Json>): void {
    const r = this.rng;
    const listPaths = pathsOf(base, 200).filter((p) => Array.isArray(getAt(base, p)) && p.every((s) => typeof s === 'string')) as string[][];
    const objPaths = [[] as string[], ...(pathsOf(patch, 50).filter((p) => { const v = getAt(patch, p); return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw); }) as string[][])];
    for (let i = 0; i < r.range(1, 3); i++) {
      const at = r.pick(objPaths);
      const list = listPaths.length > 0 ? r.pick(listPaths) : ['metadata', 'finalizers'];
      const field = list[list.length - 1] ?? 'finalizers';
      const parent = list.slice(0, -1);
      switch (r.int(9)) {
        case 0:
          setAt(patch, [...at, '$patch'], r.pick<Json>(['delete', 'replace', 'merge', 'bogus', 5, null]));
          break;
        case 1:
          setAt(patch, [...at, '$retainKeys'], r.pick<Json>([['metadata'], 'x', [1], [], null, ['spec', 'nope']]));
          break;
        case 2:
          setAt(patch, [...parent, `$setElementOrder/${field}`], r.pick<Json>([[{ name: 's1' }, { name: 'zz' }], ['a', 'b'], 'x', [null], [], [{ nokey: 1 }]]));
          break;
        case 3:
          setAt(patch, [...parent, `$deleteFromPrimitiveList/${field}`], r.pick<Json>([['a'], 'x', [{}], [], null]));
          break;
        case 4: {
          const cur = getAt(base, list);
          const item = Array.isArray(cur) && cur.length > 0 ? cur[0] : { name: 's1' };
          const withPatch = item !== null && typeof item === 'object' && !Array.isArray(item) && !(item instanceof Raw) ? { ...item, $patch: r.pick<Json>(['delete', 'replace', 'bogus']) } : { $patch: 'delete' };
          setAt(patch, list, [withPatch, ...(r.chance(0.3) ? [{ $patch: 'replace' }] : [])]);
          break;
        }
        case 5:
          setAt(patch, list, r.pick<Json>([[{ nokey: 1 }], [{ name: 'a' }, { name: 'a' }], [null], 'x', [[1]], [{ $retainKeys: ['x'] }]]));
          break;
        case 6:
          setAt(patch, ['metadata', '$deleteFromPrimitiveList/finalizers'], ['kumo.dev/fuzz']);
          break;
        case 7:
          setAt(patch, ['metadata', 'ownerReferences'], [{ uid: 'x', $patch: 'delete' }]);
          break;
        default:
          setAt(patch, [...at, `$${r.pick(['patch', 'retainKeys', 'setElementOrder/', 'deleteFromPrimitiveList/', 'bogus', 'setElementOrder/-'])}`], nastyValue(r));
      }
    }
  }

  /** Server-side apply: a whole object in YAML (mutated), or YAML that is not one. */
  private applyBody(base: Record<string, Json>, k: FuzzKind): Buffer {
    const r = this.rng;
    this.maybeMutate(base, k);
    switch (r.int(12)) {
      case 0:
        return Buffer.from(r.pick(['', '---', '- a\n- b\n', 'a: [', 'a: b\n  c: d\n', '\t- tab', ': x', 'null', '~', '5', '"x"', '? complex\n: key\n']));
      case 1: {
        // An alias bomb: 9 levels of 9 references.
        let y = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
        for (let i = 1; i < 10; i++) y += `a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(', ')}]\n`;
        return Buffer.from(`apiVersion: ${JSON.stringify(base.apiVersion ?? null)}\nkind: ${JSON.stringify(base.kind ?? null)}\nmetadata: {name: base-0}\n${y}`);
      }
      case 2:
        return Buffer.from(`${YAML.stringify(base)}---\n${YAML.stringify(base)}`);
      case 3:
        return Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base-0\n  name: base-1\ndata: !!binary aGVsbG8=\nx: !!python/object:os.system ls\n`);
      case 4:
        return Buffer.from('['.repeat(r.pick(DEPTHS)) + ']'.repeat(r.pick([0, 1])));
      case 5:
        return Buffer.from(toJsonText(base));
      default:
        return hasRaw(base) ? Buffer.from(toJsonText(base)) : Buffer.from(YAML.stringify(base));
    }
  }

  /** A patch near or past the body limit. */
  private bigPatch(type: string): Buffer {
    const size = this.rng.pick([1024 * 1024, BODY_LIMIT - 1024, BODY_LIMIT + 10]);
    if (size > BODY_LIMIT) this.oversized = true;
    const v = 'x'.repeat(size);
    if (type === 'application/json-patch+json') return Buffer.from(JSON.stringify([{ op: 'add', path: '/metadata/annotations', value: { big: v } }]));
    if (type === 'application/apply-patch+yaml') return Buffer.from(`metadata:\n  annotations:\n    big: ${v}\n`);
    return Buffer.from(JSON.stringify({ metadata: { annotations: { big: v } } }));
  }

  private deleteOptionsBody(): Buffer {
    const r = this.rng;
    const o: Record<string, Json> = r.chance(0.5) ? { apiVersion: 'v1', kind: 'DeleteOptions' } : {};
    switch (r.int(8)) {
      case 0:
        o.propagationPolicy = r.pick<Json>(['Foreground', 'Background', 'Orphan', 'bogus', 5, null]);
        break;
      case 1:
        o.preconditions = r.pick<Json>([{ uid: 'x' }, { resourceVersion: '1' }, { uid: 5 }, 'x', null]);
        break;
      case 2:
        o.gracePeriodSeconds = nastyNumber(r);
        break;
      case 3:
        o.dryRun = r.pick<Json>([['All'], ['bogus'], 'All', []]);
        break;
      case 4:
        o.orphanDependents = r.pick<Json>([true, false, 'x']);
        break;
      case 5:
        o.kind = r.pick<Json>(['Foo', 5, '']);
        break;
      default:
        mutate(r, o, 2);
    }
    this.headers['content-type'] = 'application/json';
    const b = Buffer.from(toJsonText(o));
    return r.chance(0.1) ? this.corrupt(b) : b;
  }

  // ---- query strings ----

  private listQuery(): void {
    const r = this.rng;
    const q = this.query;
    if (r.chance(0.35)) q.push(['limit', r.pick(['1', '2', '10', '500', '0', '-1', 'abc', '1.5', '99999999999999999999', '', '1e3'])]);
    if (r.chance(0.15)) q.push(['continue', this.continueToken()]);
    if (r.chance(0.25)) q.push(['resourceVersion', r.pick(['', '0', '1', '2', '50', '999999999', '99999999999999999999', '-1', 'abc', '01', '1.5'])]);
    if (r.chance(0.1)) q.push(['resourceVersionMatch', r.pick(['Exact', 'NotOlderThan', 'bogus', ''])]);
    if (r.chance(0.25)) q.push(['labelSelector', this.labelSelector()]);
    if (r.chance(0.2)) q.push(['fieldSelector', this.fieldSelector()]);
    if (r.chance(0.05)) q.push(['allowWatchBookmarks', r.pick(['true', 'x'])]);
    if (r.chance(0.05)) q.push(['sendInitialEvents', r.pick(['true', 'false', 'x'])]);
    if (r.chance(0.05)) q.push(['includeObject', r.pick(['None', 'Object', 'Metadata', 'bogus'])]);
    if (r.chance(0.05)) q.push(['watch', r.pick(['0', 'false'])]);
  }

  private readQuery(): void {
    const r = this.rng;
    if (r.chance(0.3)) this.query.push(['resourceVersion', r.pick(['0', '1', 'abc', ''])]);
    if (r.chance(0.2)) this.query.push(['pretty', r.pick(['true', '1', 'x'])]);
    if (r.chance(0.2)) this.query.push(['includeObject', r.pick(['None', 'Object', 'bogus'])]);
  }

  private writeQuery(): void {
    const r = this.rng;
    if (r.chance(0.12)) {
      const v = r.weighted<string>([[85, 'All'], [15, r.pick(['all', 'bogus', '', 'All,All'])]]);
      this.query.push(['dryRun', v]);
      if (v === 'All') this.dryRun = true;
    }
    if (r.chance(0.15)) this.query.push(['fieldValidation', r.pick(['Strict', 'Warn', 'Ignore', 'strict', 'bogus', ''])]);
    if (r.chance(0.05)) this.query.push(['fieldManager', r.pick(['fuzzer', '', 'x'.repeat(129), '日本', 'a\u0000b'])]);
    if (r.chance(0.04)) this.query.push(['pretty', 'true']);
  }

  private deleteQuery(): void {
    const r = this.rng;
    if (r.chance(0.3)) this.query.push(['propagationPolicy', r.pick(['Foreground', 'Background', 'Orphan', 'bogus', ''])]);
    if (r.chance(0.15)) this.query.push(['gracePeriodSeconds', r.pick(['0', '-1', '30', 'abc', '99999999999999999999'])]);
    if (r.chance(0.1)) this.query.push(['orphanDependents', r.pick(['true', 'false', 'x'])]);
    if (r.chance(0.1)) {
      this.query.push(['dryRun', 'All']);
      this.dryRun = true;
    }
  }

  /** Any parameter, sometimes twice, sometimes without a value or with a broken escape. */
  private extraQuery(): void {
    const r = this.rng;
    for (let i = 0; i < r.range(1, 3); i++) {
      const k = r.pick(['limit', 'continue', 'resourceVersion', 'labelSelector', 'fieldSelector', 'dryRun', 'fieldValidation', 'propagationPolicy', 'pretty', 'timeoutSeconds', 'fieldManager', 'force', 'unknownParam', '', '%zz', 'a[b]', 'exclude']);
      const v = r.pick(['', 'x', '1', '-1', '%zz', nastyString(r).slice(0, 200), '\u0000novalue']);
      if (k === 'dryRun' && v !== '\u0000novalue') continue;
      this.query.push([k, v]);
    }
  }

  private labelSelector(): string {
    const r = this.rng;
    return r.pick([
      'app=fuzz',
      'app!=fuzz',
      'app in (fuzz,x)',
      'app notin (x)',
      'app',
      '!app',
      'a=b,c=d',
      'a==b',
      'a in (',
      'a in ()',
      '!!a',
      'a=b,',
      ',',
      '=',
      'a=b=c',
      'UPPER=x',
      'x'.repeat(70) + '=y',
      'a=' + 'y'.repeat(70),
      'a>1',
      'a<1',
      'a gt 1',
      '日本=語',
      'a=b\u0000',
      '(a)',
      'a in (b,c,d,' + 'e,'.repeat(500) + 'f)',
      nastyString(r).slice(0, 300),
    ]);
  }

  private fieldSelector(): string {
    const r = this.rng;
    return r.pick([
      'metadata.name=base-0',
      'metadata.name!=base-0',
      'metadata.namespace=fuzz-a',
      'metadata.name==x',
      'spec.cluster=c1',
      'spec.nope=x',
      'status.phase=Active',
      'type=Opaque',
      'a=b=c',
      'metadata.name',
      '=x',
      'metadata.name=a\\,b',
      'metadata.name=a,metadata.namespace=b',
      'metadata.name in (a)',
      'involvedObject.kind=ConfigMap',
      'x'.repeat(300) + '=y',
      nastyString(r).slice(0, 300),
    ]);
  }

  private continueToken(): string {
    const r = this.rng;
    const kinds = this.kinds.filter((k) => !isCreateOnly(k));
    const k = kinds.length > 0 ? r.pick(kinds) : undefined;
    const prefix = k ? `/registry/${k.group === '' ? 'core' : k.group}/${k.plural}/root/${k.namespaced ? `${NS_A}/` : ''}` : '/registry/';
    const tok = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    return r.pick([
      '',
      'x',
      '%%%',
      'eyJ9',
      tok({}),
      tok(null),
      tok({ k: `${prefix}a`, r: 1, p: prefix }),
      tok({ k: `${prefix}a`, r: 2 ** 53 - 1, p: prefix }),
      tok({ k: `${prefix}a`, r: 99999999, p: prefix }),
      tok({ k: '/registry/core/secrets/root/', r: 1, p: '/registry/core/secrets/root/' }),
      tok({ k: `${prefix}../../`, r: 1, p: prefix }),
      tok({ k: `${prefix}\u0000`, r: 1, p: prefix }),
      tok({ k: 5, r: 'x', p: [] }),
      tok({ v: 'meta.k8s.io/v1', rv: 1, start: 'a' }),
      Buffer.from('not json').toString('base64'),
      'A'.repeat(9000),
    ]);
  }

  // ---- headers ----

  private fuzzHeaders(hasBody: boolean): void {
    const r = this.rng;
    const h = this.headers;
    if (r.chance(0.6)) {
      h.accept = r.pick([
        'application/json',
        'application/yaml',
        'application/vnd.kubernetes.protobuf',
        'application/vnd.kubernetes.protobuf, application/json',
        'application/json;as=Table;v=v1;g=meta.k8s.io',
        'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
        'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io',
        'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io',
        'application/json;as=PartialObjectMetadata;v=v1beta1;g=meta.k8s.io,application/json',
        'application/json;as=Table;v=v9;g=meta.k8s.io',
        'application/json;as=Foo;g=bar',
        'application/yaml;as=Table;v=v1;g=meta.k8s.io',
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
        '*/*',
        'application/*',
        'text/html',
        'text/plain;q=0.5, */*;q=0.1',
        '',
        ';;;',
        'application/json;q=abc',
        'application/json;q=0',
        'application/cbor',
        'application/json;stream=watch',
        'application/json;charset=utf-16',
        'application/json, */*;q=0',
        `application/json;${'a=b;'.repeat(200)}`,
      ]);
    }
    if (hasBody && r.chance(0.4)) {
      h['content-type'] = r.pick([
        'application/json; charset=utf-8',
        'application/json;charset=latin1',
        'application/json; charset=bogus',
        'application/JSON',
        'APPLICATION/YAML',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        '',
        'application/json-patch+json',
        'application/merge-patch+json',
        'application/strategic-merge-patch+json',
        'application/apply-patch+yaml',
        'application/apply-patch+cbor',
        'application/cbor',
        'application/vnd.kubernetes.protobuf',
        'application/vnd.kubernetes.protobuf;stream=watch',
        ';',
        'application/',
        '/json',
        'application/json;;',
        'application/json; charset="utf-8"',
      ]);
    }
    if (r.chance(0.15)) h['accept-encoding'] = r.pick(['gzip', 'deflate, br', 'identity;q=0', '*']);
    if (r.chance(0.1)) h['content-encoding'] = r.pick(['gzip', 'bogus']);
    if (r.chance(0.05)) h['if-none-match'] = r.pick(['"x"', '*']);
    if (r.chance(0.08)) h['user-agent'] = r.pick(['curl/8.0', 'Mozilla/5.0', '', 'kubectl/v1.33.0 (linux/amd64) kubernetes/abc', 'x'.repeat(4000)]);
    if (r.chance(0.06)) h['x-kumo-fuzz'] = nastyString(r).replace(/[^\x20-\x7e]/g, '?').slice(0, 2000);
    if (r.chance(0.04)) h.authorization = r.pick(['Bearer garbage', 'Bearer ', 'Basic YTpi', 'Negotiate x', 'Bearer ' + 'a.b.c']);
    if (r.chance(0.04)) h['impersonate-user'] = r.pick(['alice', 'system:admin', 'system:anonymous', 'system:serviceaccount:fuzz-a:default']);
    if (r.chance(0.02)) h['impersonate-group'] = r.pick(['system:masters', 'g']);
  }

  // ---- paths ----

  private pathFuzz(): { method: string; path: string; body?: Buffer; kind: string; op: string } {
    const r = this.rng;
    const k = this.kind(() => true);
    const ns = k.namespaced ? r.pick([NS_A, NS_B]) : undefined;
    const start = r.pick([collectionPath(k, ns), objectPath(k, ns, objectName(k, r.pick([...BASE_NAMES, `${this.tok}p`]))), objectPath(k, ns, objectName(k, 'base-0')) + '/status']);
    const segs = start.split('/').slice(1);
    for (let i = 0; i < r.range(1, 3); i++) {
      const at = r.int(segs.length + 1);
      const seg = r.pick([
        '..',
        '.',
        '',
        '%2e%2e',
        '%2F',
        '%2f..%2f',
        '%00',
        '%zz',
        '%',
        'a'.repeat(r.pick([300, 5000])),
        '%E6%97%A5',
        '%C3%28',
        '%FF',
        'UPPER',
        `${this.tok}x`,
        'watch',
        'proxy',
        'status',
        'scale',
        'finalize',
        'token',
        'namespaces',
        'v2',
        'v1beta1',
        'apis',
        'api',
        'clusters',
        '*',
        '~',
        ';x',
        ':x',
        'unknown.example.com',
        'kumo.dev',
        'apps',
        '@',
      ]);
      switch (r.int(4)) {
        case 0:
          segs.splice(at, 0, seg);
          break;
        case 1:
          if (segs.length > 1) segs.splice(Math.min(at, segs.length - 1), 1);
          break;
        default:
          segs[Math.min(at, segs.length - 1)] = seg;
      }
    }
    if (r.chance(0.003)) segs.push('x'.repeat(20000));
    let path = this.cluster() + '/' + segs.join('/');
    if (r.chance(0.1)) path += '/';
    if (r.chance(0.05)) path = path.replace('/', '//');
    const method = r.weighted<string>([
      [40, 'GET'],
      [15, 'POST'],
      [10, 'PUT'],
      [10, 'PATCH'],
      [10, 'DELETE'],
      [5, 'HEAD'],
      [4, 'OPTIONS'],
      [1, 'TRACE'],
      [2, r.pick(['FOO', 'PROPFIND', 'PURGE', 'MKCOL', 'LOCK'])],
    ]);
    const out: { method: string; path: string; body?: Buffer; kind: string; op: string } = { method, path, kind: '(path)', op: 'path' };
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const obj = fixture(k, objectName(k, `${this.tok}p`), ns ?? NS_A);
      this.maybeMutate(obj, k);
      out.body = this.jsonBody(obj);
      if (method === 'PATCH') this.headers['content-type'] = r.pick(['application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']);
    }
    if (r.chance(0.2)) this.listQuery();
    return out;
  }

  private nonResource(): { method: string; path: string; kind: string; op: string } {
    const r = this.rng;
    const path = r.pick([
      '/',
      '/api',
      '/api/v1',
      '/api/v2',
      '/apis',
      '/apis/kumo.dev',
      '/apis/kumo.dev/v1alpha1',
      '/apis/nope',
      '/apis/nope/v1',
      `/apis/${FUZZ_GROUP}/v1`,
      '/openapi/v2',
      '/openapi/v3',
      '/openapi/v3/api/v1',
      '/openapi/v3/apis/kumo.dev/v1alpha1',
      '/openapi/v3/apis/nope/v1',
      '/openapi/v3/apis/kumo.dev/v1alpha1?hash=x',
      '/readyz',
      '/readyz?verbose',
      '/readyz/store',
      '/readyz/nope',
      '/livez?exclude=ping',
      '/healthz/ping',
      '/healthz/a/b/c',
      '/version',
      '/version/x',
      '/metrics',
      '/logs',
      '/.well-known/openid-configuration',
      '/openid/v1/jwks',
      '/clusters/fuzz-lc/api',
      '/clusters/fuzz-lc/openapi/v3',
      '/favicon.ico',
      '/%',
      '/%00',
      '/..',
      '/api/../apis',
      '/api/v1/',
      '/apis/',
    ]);
    const method = r.weighted<string>([
      [80, 'GET'],
      [6, 'HEAD'],
      [6, 'POST'],
      [4, 'DELETE'],
      [4, 'PUT'],
    ]);
    if (r.chance(0.4)) {
      this.headers.accept = r.pick([
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json',
        'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
        'application/com.github.proto-openapi.spec.v2@v1.0+protobuf',
        'application/yaml',
        'text/plain',
        'application/json;as=Table;v=v1;g=meta.k8s.io',
      ]);
    }
    return { method, path, kind: '(non-resource)', op: 'nonresource' };
  }
}

function scaleObject(name: string): Record<string, Json> {
  return { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name }, spec: { replicas: 3 } };
}

export function isCreateOnly(k: Pick<FuzzKind, 'verbs'>): boolean {
  return k.verbs.length === 1 && k.verbs[0] === 'create';
}

/**
 * Percent-encodes a query key or value (lone surrogates as U+FFFD, as UTF-8 does), except that a
 * deliberately broken escape (`%zz`, a lone `%`) is sent as it is.
 */
function pct(s: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(s) && s.length < 16) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Node sends only printable ASCII and latin1 in a request target: escape the rest (spaces too). */
function sanitizePath(p: string): string {
  let out = '';
  for (const ch of p) {
    const c = ch.codePointAt(0) ?? 0;
    out += c > 0x20 && c < 0x7f ? ch : Buffer.from(ch, 'utf8').reduce((s, b) => s + '%' + b.toString(16).toUpperCase().padStart(2, '0'), '');
  }
  return out;
}

/**
 * Keeps the run's own ground from moving: collections are deleted only in namespace fuzz-dc or in
 * logical cluster fuzz-x, and the namespaces and the CRD the run relies on are neither deleted nor
 * changed outside fuzz-x. A request that would is turned into a GET of the same path. Watches get a
 * timeout so none runs longer than a second (a value kube would refuse is kept: it must be refused).
 */
export function guard(req: FuzzRequest): FuzzRequest {
  let info: ReturnType<typeof parseRequestInfo>;
  try {
    info = parseRequestInfo(req.method, req.path);
  } catch {
    return req;
  }
  const cluster = String(info.logicalCluster);
  const inX = cluster === LC_X;
  const write = ['update', 'patch', 'delete', 'deletecollection'].includes(info.verb) || (req.method !== 'GET' && req.method !== 'HEAD' && info.verb === '');
  let unsafe = false;
  if (info.verb === 'deletecollection' && !inX && info.namespace !== NS_DC) unsafe = true;
  if (write && info.apiGroup === '' && info.resource === 'namespaces' && PROTECTED_NAMESPACES.has(info.namespace || info.name) && !inX) unsafe = true;
  if (write && info.resource === 'customresourcedefinitions' && info.name === WIDGETS_CRD && !inX) unsafe = true;
  // A DELETE of a protected namespace's contents through a path the parser reads differently.
  if ((info.verb === 'delete' || info.verb === 'deletecollection') && info.resource === '' && !inX) unsafe = true;
  if (unsafe) {
    const { body: _body, ...rest } = req;
    return guard({ ...rest, method: 'GET', op: `${req.op}(guarded)` });
  }
  if (info.verb === 'watch') {
    const q = req.path.indexOf('?');
    const params = new URLSearchParams(q < 0 ? '' : req.path.slice(q + 1));
    params.delete('timeoutSeconds');
    const rng = rngFor(req.index, 7);
    params.append('timeoutSeconds', rng.weighted<string>([[90, '1'], [10, rng.pick(['-1', 'abc', '1.5', '99999999999999999999'])]]));
    return { ...req, path: `${q < 0 ? req.path : req.path.slice(0, q)}?${params.toString()}`, watch: true };
  }
  return req;
}
