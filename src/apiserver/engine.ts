// The Kubernetes API engine: resolves a request (requestinfo) to a served resource and verb, and runs
// it on that resource's ResourceStorage. Schemas in, API out: no route is written per kind.
import type http from 'node:http';
import jsonpatch from 'fast-json-patch';
import { KumoError, isKumoError, type ErrorCause } from '../lib/errors.js';
import { tokenRequestSchema } from '../api/index.js';
import { buildOpenAPIV2, buildOpenAPIV3, encodeOpenAPIV2Proto, OPENAPI_V2_PROTOBUF, type OpenAPIOptions, type OpenAPIV3Documents, type ServedDocument } from '../api/openapi/index.js';
import { applyStrategicPatch } from '../api/patch/strategic.js';
import type { KObject, ResourceType, ScaleSubresource } from '../api/types.js';
import { fromScale, toScale } from './scale.js';
import { FanoutStore } from '../store/fanout.js';
import { ObjectCache } from './watchcache.js';
import type { CreateOnlyResource } from './createonly.js';
import type { Store } from '../store/types.js';
import { aggregatedContentType, aggregatedDiscovery, apiGroup, apiGroupList, apiResourceList, apiVersions, subresourcesOf, wantsAggregated, type ServedResource, type SubresourceInfo } from './discovery.js';
import { BINDABLE_KINDS, issueServiceAccountToken, type TokenSigner } from './satoken.js';
import { crdResourceTypes, crdSchemaCauses } from './crds.js';
import { ROOT_CLUSTER, resourceKeys, type LogicalCluster } from './keys.js';
import { validateObjectMetaNames } from './names.js';
import { groupResource, isObject, meta, rfc3339 } from './object.js';
import { requestUser } from './auth/types.js';
import { parseRequestInfo, queryBool, type RequestInfo } from './requestinfo.js';
import { decodeProtobufObject, isProtobuf } from './protobuf.js';
import { checkDecodedBody, parseJsonBody, parseYamlBody } from './bodylimits.js';
import { APPLY_PATCH, negotiateInput, negotiateOutput, negotiatePatch, patchTypesFor, type OutputNegotiation, type PatchType } from './negotiate.js';
import { decodeApplyPatch, writeFieldManager, type OptionsKind } from './apply.js';
import { streamWatch, watchLine, writeError, writeObject, type ResponseFormat } from './respond.js';
import { ResourceStorage, parseResourceVersion, type AdmitUndo, type ApiWatchEvent, type DeleteOptions, type SchemaOps, type Scope, type WriteContext } from './rest.js';
import { convertResult, parseIncludeObject, partialObjectMetadata, watchTableEncoder, type HandlerResult, type TableOptions } from './table.js';
import { fieldMatcher, labelMatcher } from './selectors.js';

export interface EngineOptions {
  store: Store;
  resourceTypes: ResourceType[];
  schema: SchemaOps;
  /** host:port clients reach the server at (for /api's serverAddressByClientCIDRs). */
  serverAddress: () => string;
  /** Watch timeout bounds (kube: --min-request-timeout 1800 s, randomized up to 2×). */
  minWatchTimeoutSeconds?: number;
  now?: () => Date;
  /** Errors of background work (namespace cleanup), for the log. */
  onBackgroundError?: (err: unknown) => void;
  /** How long Events live after their last write (kube-apiserver's --event-ttl, default 1 h). */
  eventTtlSeconds?: number;
  /** Signs ServiceAccount tokens (the `serviceaccounts/<name>/token` subresource); absent: not served. */
  tokenSigner?: TokenSigner;
  /** Create-only kinds that are never stored (TokenReview, SelfSubjectReview, the access reviews). */
  createOnly?: CreateOnlyResource[];
  /**
   * Admission of every write of `rt` after validation, before it is stored (`old` on update); throws to
   * refuse it. RBAC's escalation prevention for the RBAC kinds, tenancy, quota (server.ts composes
   * them in order with apiserver/admission.ts). What it returns is called when the write is then not
   * stored (a quota charge given back).
   */
  admit?: (rt: ResourceType, ctx: WriteContext, obj: KObject, old: KObject | undefined) => Promise<AdmitUndo | void>;
  /** A client's write of `rt` was stored at `revision`; the answer waits for it (RBAC: the authorizer has seen it). */
  written?: (rt: ResourceType, revision: number) => Promise<void>;
  /**
   * Narrows a client's list or watch of `rt` to what the caller may see: a predicate every item and
   * watch event must also pass, or undefined for none (tenancy: a caller's own Tenants and Namespaces).
   */
  narrow?: (rt: ResourceType, req: http.IncomingMessage) => Promise<((obj: KObject) => boolean) | undefined>;
}

/** The namespaces every logical cluster starts with. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const NOT_FOUND = 'the server could not find the requested resource';

export class ApiEngine {
  /** Built-in kinds, served in every logical cluster. */
  private readonly served: ServedResource[];
  /** Kinds of established CRDs, per logical cluster, per CRD name. */
  private readonly crdServed = new Map<LogicalCluster, Map<string, ServedResource[]>>();
  private readonly storages = new Map<ResourceType, ResourceStorage>();
  private readonly namespaceRt: ResourceType;
  private readonly crdRt: ResourceType;
  private readonly withMeta: SchemaOps;
  /** Every client watch of a resource (any namespace, any logical cluster) shares one store watch. */
  private readonly watchStore: FanoutStore;
  private readonly createOnly: Map<ResourceType, CreateOnlyResource>;

  constructor(private readonly opts: EngineOptions) {
    const token: SubresourceInfo = { name: 'token', verbs: ['create'], kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } };
    this.createOnly = new Map((opts.createOnly ?? []).map((c) => [c.rt, c]));
    this.served = [...opts.resourceTypes, ...this.createOnly.keys()].map((rt) => ({ rt, subresources: subresourcesOf(rt, isServiceAccount(rt) && opts.tokenSigner ? [token] : []) }));
    const ns = opts.resourceTypes.find((rt) => rt.group === '' && rt.plural === 'namespaces');
    if (!ns) throw new Error('the Namespace kind must be served');
    this.namespaceRt = ns;
    // A short ring: a watcher resuming further back gets a store watch of its own (replayed from the
    // store's history), so the ring only saves work for watchers a little behind.
    this.watchStore = new FanoutStore(opts.store, { feedPrefix: resourceOfKeyPrefix, ringSize: 1000 });
    const crd = opts.resourceTypes.find((rt) => rt.group === 'apiextensions.k8s.io' && rt.plural === 'customresourcedefinitions');
    if (!crd) throw new Error('the CustomResourceDefinition kind must be served');
    this.crdRt = crd;
    const schema = opts.schema;
    this.withMeta = {
      normalize: (rt, obj) => schema.normalize(rt, obj),
      validate: (rt, obj, old) => {
        const m = meta(obj);
        const causes: ErrorCause[] = validateObjectMetaNames(old ? { ...m, generateName: undefined } : m, rt);
        if (rt === this.crdRt) causes.push(...crdSchemaCauses(obj));
        return [...causes, ...immutableMetaCauses(obj, old), ...schema.validate(rt, obj, old)];
      },
    };
    for (const { rt } of this.served) if (!this.createOnly.has(rt)) this.addStorage(rt);
  }

  private addStorage(rt: ResourceType): ResourceStorage {
    const hooks: ConstructorParameters<typeof ResourceStorage>[4] = { checkNamespace: (scope, verb) => this.checkNamespace(rt, scope, verb) };
    if (this.opts.now) hooks.now = this.opts.now;
    if (rt.kind === 'Event' && (rt.group === '' || rt.group === 'events.k8s.io')) hooks.ttlSeconds = this.opts.eventTtlSeconds ?? 3600;
    hooks.watchStore = this.watchStore;
    hooks.objectCache = () => this.objectCache(resourceKeys(rt).resourcePrefix);
    const { admit, written } = this.opts;
    if (admit) hooks.admit = (ctx, obj, old) => admit(rt, ctx, obj, old);
    if (written) hooks.written = (revision) => written(rt, revision);
    if (rt === this.namespaceRt) hooks.kindFinalizers = (o) => (isObject(o.spec) && Array.isArray(o.spec.finalizers) ? o.spec.finalizers : []);
    const s = new ResourceStorage(rt, this.opts.store, resourceKeys(rt), this.withMeta, hooks);
    this.storages.set(rt, s);
    return s;
  }

  /** Everything served in a logical cluster: built-in kinds and its established CRDs' kinds. */
  servedIn(cluster: LogicalCluster): ServedResource[] {
    const crds = this.crdServed.get(cluster);
    if (!crds || crds.size === 0) return this.served;
    return [...this.served, ...[...crds.values()].flat()];
  }

  // ---- CustomResourceDefinitions -------------------------------------------------------------------
  // What the engine serves of a CRD; the CRD controller (controllers/crd) decides when, from its informer.

  /**
   * Serves the kinds of `crd` in `cluster` (or updates what is served). Returns why its names cannot
   * be accepted (a plural already served by a built-in kind or another CRD), or null when served.
   */
  registerCrd(cluster: LogicalCluster, crd: KObject): string | null {
    const name = String(meta(crd).name);
    const rts = crdResourceTypes(crd);
    const spec = isObject(crd.spec) ? crd.spec : {};
    const group = typeof spec.group === 'string' ? spec.group : '';
    const plural = isObject(spec.names) && typeof spec.names.plural === 'string' ? spec.names.plural : '';
    if (this.served.some((s) => s.rt.group === group && s.rt.plural === plural)) return `"${plural}" is already in use by a built-in resource`;
    for (const [other, served] of this.crdServed.get(cluster) ?? []) {
      if (other !== name && served.some((s) => s.rt.group === group && s.rt.plural === plural)) return `"${plural}" is already in use`;
    }
    if (rts.length === 0) return null;
    let byName = this.crdServed.get(cluster);
    if (!byName) this.crdServed.set(cluster, (byName = new Map<string, ServedResource[]>()));
    const prev = byName.get(name);
    const same = prev && prev.length === rts.length && prev.every((p, i) => JSON.stringify(p.rt) === JSON.stringify(rts[i]));
    if (!same) {
      for (const p of prev ?? []) this.storages.delete(p.rt);
      byName.set(
        name,
        rts.map((rt) => ({ rt, subresources: subresourcesOf(rt) })),
      );
      for (const rt of rts) this.addStorage(rt);
      this.openapiCache.delete(cluster);
    }
    return null;
  }

  /** Stops serving the kinds of CRD `name` in `cluster`. */
  unregisterCrd(cluster: LogicalCluster, name: string): void {
    const byName = this.crdServed.get(cluster);
    const old = byName?.get(name);
    if (!byName || !old) return;
    byName.delete(name);
    for (const { rt } of old) this.storages.delete(rt);
    this.openapiCache.delete(cluster);
  }

  /** The served kinds of CRD `name` in `cluster` (one per served version; empty when not served). */
  crdKinds(cluster: LogicalCluster, name: string): ResourceType[] {
    return (this.crdServed.get(cluster)?.get(name) ?? []).map((s) => s.rt);
  }

  /** The logical clusters and names of every CRD served now. */
  servedCrds(): { cluster: LogicalCluster; name: string }[] {
    return [...this.crdServed].flatMap(([cluster, byName]) => [...byName.keys()].map((name) => ({ cluster, name })));
  }

  /** The CustomResourceDefinition kind (for the CRD controller's informer). */
  get crdResourceType(): ResourceType {
    return this.crdRt;
  }

  /** The Namespace kind (for the namespace controller's informer). */
  get namespaceResourceType(): ResourceType {
    return this.namespaceRt;
  }

  /** Creates the system namespaces of a logical cluster if missing. */
  async ensureSystemNamespaces(cluster: LogicalCluster = ROOT_CLUSTER): Promise<void> {
    const storage = this.storage(this.namespaceRt);
    for (const name of SYSTEM_NAMESPACES) {
      try {
        await storage.create({ cluster }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      } catch (err) {
        if (!isKumoError(err, 'AlreadyExists')) throw err;
      }
      await this.ensureDefaultServiceAccount(cluster, name);
    }
  }

  /** Every namespace has a `default` ServiceAccount (kube's serviceaccount controller). */
  private async ensureDefaultServiceAccount(cluster: LogicalCluster, namespace: string): Promise<void> {
    const sa = this.served.find((s) => isServiceAccount(s.rt));
    if (!sa) return;
    try {
      await this.storage(sa.rt).create({ cluster, namespace }, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
    } catch (err) {
      if (!isKumoError(err, 'AlreadyExists')) throw err;
    }
  }

  /** The storage of `rt` while it is served (a deleted CRD's type has none). */
  storageOf(rt: ResourceType): ResourceStorage | undefined {
    return this.storages.get(rt);
  }

  storage(rt: ResourceType): ResourceStorage {
    const s = this.storages.get(rt);
    if (!s) throw new KumoError('Internal', `no storage for ${rt.plural}`);
    return s;
  }

  resourceTypes(cluster: LogicalCluster = ROOT_CLUSTER): ResourceType[] {
    return this.servedIn(cluster).map((s) => s.rt);
  }

  /** Handles discovery and resource requests; false when the path is neither (the caller answers). */
  async handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<boolean> {
    let info: RequestInfo;
    try {
      info = parseRequestInfo(req.method ?? 'GET', req.url ?? '/');
    } catch (err) {
      writeError(res, err);
      return true;
    }
    let fmt: ResponseFormat = { mediaType: 'application/json' };
    try {
      if (info.discovery) {
        if (req.method !== 'GET' && req.method !== 'HEAD') throw new KumoError('MethodNotAllowed', `the server does not allow this method on the requested resource`);
        this.serveDiscovery(req, res, info);
        return true;
      }
      if (!info.isResourceRequest) {
        if (info.path === '/openapi/v2' || info.path === '/openapi/v3' || info.path.startsWith('/openapi/v3/')) {
          this.serveOpenAPI(req, res, info);
          return true;
        }
        return false;
      }
      const neg = negotiateOutput(req.headers.accept, { query: info.query, userAgent: req.headers['user-agent'] ?? '', watch: info.verb === 'watch' });
      fmt = { mediaType: neg.mediaType, pretty: neg.pretty };
      await this.serveResource(req, res, info, body, fmt, neg);
    } catch (err) {
      writeError(res, err, fmt);
    }
    return true;
  }

  private serveDiscovery(req: http.IncomingMessage, res: http.ServerResponse, info: RequestInfo): void {
    const d = info.discovery;
    if (!d) return;
    const fmt = responseFormat(req, info);
    if (d.kind === 'api' || d.kind === 'apis') {
      const agg = wantsAggregated(req.headers.accept);
      if (agg) {
        const doc = aggregatedDiscovery(this.servedIn(info.logicalCluster), d.kind, agg);
        const text = JSON.stringify(doc);
        res.writeHead(200, { 'Content-Type': aggregatedContentType(agg), 'Content-Length': Buffer.byteLength(text), Vary: 'Accept' });
        res.end(text);
        return;
      }
      writeObject(res, 200, d.kind === 'api' ? apiVersions(this.opts.serverAddress()) : apiGroupList(this.servedIn(info.logicalCluster)), fmt);
      return;
    }
    const served = this.servedIn(info.logicalCluster);
    const doc = d.kind === 'group' ? apiGroup(served, d.group) : d.kind === 'apiVersion' ? apiResourceList(served, '', d.version) : apiResourceList(served, d.group, d.version);
    if (!doc) throw new KumoError('NotFound', NOT_FOUND);
    writeObject(res, 200, doc, fmt);
  }

  private readonly openapiCache = new Map<LogicalCluster, { v2: ServedDocument; v2proto?: Buffer; v3: OpenAPIV3Documents }>();

  private openapi(cluster: LogicalCluster): { v2: ServedDocument; v2proto?: Buffer; v3: OpenAPIV3Documents } {
    let cached = this.openapiCache.get(cluster);
    if (!cached) {
      const rts = this.resourceTypes(cluster);
      const sa = rts.find(isServiceAccount);
      const opts: OpenAPIOptions = { version: 'v1.33.0' };
      if (sa && this.opts.tokenSigner) {
        opts.subresources = [{ parent: sa, name: 'token', gvk: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, schema: tokenRequestSchema(), verbs: ['create'] }];
      }
      cached = { v2: buildOpenAPIV2(rts, opts), v3: buildOpenAPIV3(rts, opts) };
      this.openapiCache.set(cluster, cached);
    }
    return cached;
  }

  /** `/openapi/v2` (protobuf for client-go, JSON otherwise) and `/openapi/v3[/<group-version>]`. */
  private serveOpenAPI(req: http.IncomingMessage, res: http.ServerResponse, info: RequestInfo): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const docs = this.openapi(info.logicalCluster);
    const send = (doc: ServedDocument, extra: Record<string, string> = {}): void => {
      const etag = `"${doc.etag}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { ETag: etag, ...extra });
        res.end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: etag, 'Content-Length': Buffer.byteLength(doc.json), Vary: 'Accept', ...extra });
      res.end(doc.json);
    };
    if (info.path === '/openapi/v2') {
      const accept = req.headers.accept ?? '';
      if (accept.includes('protobuf')) {
        const body = (docs.v2proto ??= Buffer.from(encodeOpenAPIV2Proto(docs.v2.doc)));
        const etag = `"${docs.v2.etag}"`;
        if (req.headers['if-none-match'] === etag) {
          res.writeHead(304, { ETag: etag });
          res.end();
          return;
        }
        res.writeHead(200, { 'Content-Type': OPENAPI_V2_PROTOBUF, ETag: etag, 'Content-Length': body.length, Vary: 'Accept' });
        res.end(body);
        return;
      }
      send(docs.v2);
      return;
    }
    if (info.path === '/openapi/v3' || info.path === '/openapi/v3/') {
      send(docs.v3.root(info.clusterInPath ? `/clusters/${info.logicalCluster}` : ''));
      return;
    }
    const gvPath = info.path.slice('/openapi/v3/'.length);
    const doc = docs.v3.groupVersions.get(gvPath);
    if (!doc) throw new KumoError('NotFound', NOT_FOUND);
    const hash = info.query.get('hash');
    if (hash !== null && hash !== '' && hash !== doc.etag) {
      const prefix = info.clusterInPath ? `/clusters/${info.logicalCluster}` : '';
      res.writeHead(301, { Location: `${prefix}/openapi/v3/${gvPath}?hash=${doc.etag}`, 'Cache-Control': 'no-cache' });
      res.end();
      return;
    }
    send(doc, hash === doc.etag ? { 'Cache-Control': 'public, immutable' } : { 'Cache-Control': 'no-cache, private' });
  }

  private findResource(info: RequestInfo): ResourceType {
    const found = this.servedIn(info.logicalCluster).find((s) => s.rt.group === info.apiGroup && s.rt.version === info.apiVersion && s.rt.plural === info.resource);
    if (!found) throw new KumoError('NotFound', NOT_FOUND);
    return found.rt;
  }

  private async serveResource(req: http.IncomingMessage, res: http.ServerResponse, info: RequestInfo, body: Buffer, fmt: ResponseFormat, neg: OutputNegotiation): Promise<void> {
    const rt = this.findResource(info);
    const createOnly = this.createOnly.get(rt);
    if (createOnly) {
      if (info.verb !== 'create' || info.name !== '' || info.subresource !== '') throw new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const input = decodeBody(req, body, { apiVersion: gv(rt), kind: rt.kind });
      if (input.kind !== undefined && input.kind !== rt.kind) throw new KumoError('BadRequest', `expected a ${rt.kind}, got ${String(input.kind)}`);
      const out = await createOnly.create(req, input, { cluster: info.logicalCluster, namespace: info.namespace, dryRun: dryRun(info.query) });
      writeObject(res, 201, out, fmt);
      return;
    }
    const storage = this.storage(rt);
    const q = info.query;
    const isNamespaceObject = rt === this.namespaceRt;
    const name = isNamespaceObject ? info.namespace || info.name : info.name;
    const scope: Scope = { cluster: info.logicalCluster };
    if (rt.namespaced && info.namespace !== '') scope.namespace = info.namespace;
    const sub = info.subresource;
    if (sub === 'token' && isServiceAccount(rt) && this.opts.tokenSigner && info.verb === 'create') {
      const sa = await storage.get(scope, name);
      const request = decodeBody(req, body, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' });
      if (request.kind !== undefined && request.kind !== 'TokenRequest') throw new KumoError('BadRequest', `expected a TokenRequest, got ${String(request.kind)}`);
      const out = await issueServiceAccountToken(this.opts.tokenSigner, sa, request, this.opts.now ? this.opts.now() : new Date(), {
        cluster: info.logicalCluster,
        lookupBound: (kind, boundName) => this.boundObject(info.logicalCluster, info.namespace, kind, boundName),
      });
      writeObject(res, 201, out, fmt);
      return;
    }
    if (sub !== '' && !(sub === 'status' && rt.subresources.status) && !(sub === 'scale' && rt.subresources.scale)) throw new KumoError('NotFound', NOT_FOUND);
    const warnings: string[] = [];
    const tableOpts = (): TableOptions => {
      const o: TableOptions = { includeObject: parseIncludeObject(q) };
      if (neg.version) o.version = neg.version;
      return o;
    };
    /** The object as asked for: itself, a Table, or PartialObjectMetadata. */
    const shape = (result: HandlerResult): unknown => {
      if (!neg.as) return result.type === 'object' ? result.object : undefined;
      return convertResult(rt, result, neg.as, tableOpts());
    };
    /** The write's context; creates, updates and patches also name their field manager. */
    const wctx = (options?: OptionsKind, isApply = false): WriteContext => {
      const c: WriteContext = { ...scope, warnings, fieldValidation: fieldValidation(q) };
      const user = requestUser(req);
      if (user) c.user = user;
      if (dryRun(q)) c.dryRun = true;
      if (options) c.fieldManager = writeFieldManager(q, req.headers['user-agent'] ?? '', options, isApply);
      return c;
    };
    if (sub === 'scale' && rt.subresources.scale) {
      writeObject(res, 200, await this.scale(req, storage, rt.subresources.scale, info.verb, wctx(), name, body), fmt, warnings);
      return;
    }
    switch (info.verb) {
      case 'get': {
        const obj = await storage.get(scope, name);
        writeObject(res, 200, shape({ type: 'object', object: obj }), fmt);
        return;
      }
      case 'list': {
        const listOpts = this.listOptions(rt, q);
        await this.narrowTo(rt, req, listOpts);
        const r = await storage.list(scope, listOpts);
        const md: Record<string, unknown> = { resourceVersion: r.resourceVersion };
        if (r.continue) md.continue = r.continue;
        if (r.remainingItemCount !== undefined) md.remainingItemCount = r.remainingItemCount;
        if (neg.as) writeObject(res, 200, shape({ type: 'list', items: r.items, metadata: md }), fmt);
        else writeObject(res, 200, { apiVersion: gv(rt), kind: rt.listKind, metadata: md, items: r.items }, fmt);
        return;
      }
      case 'watch': {
        const abort = new AbortController();
        const timeoutMs = watchTimeoutMs(q.get('timeoutSeconds'), this.opts.minWatchTimeoutSeconds ?? 1800);
        const wopts: Parameters<ResourceStorage['watch']>[0] = { ...scope, signal: abort.signal, allowBookmarks: queryBool(q.getAll('allowWatchBookmarks')) };
        const lm = labelMatcher(q.get('labelSelector'));
        const fm = fieldMatcher(q.get('fieldSelector'), rt);
        if (lm) wopts.labelMatch = lm;
        if (fm) wopts.fieldMatch = fm;
        await this.narrowTo(rt, req, wopts);
        const rv = q.get('resourceVersion');
        // A malformed resourceVersion is a 400 before the stream starts (not a reset mid-stream).
        if (rv !== null && rv !== '' && rv !== '0') parseResourceVersion(rv);
        if (rv !== null) wopts.resourceVersion = rv;
        if (queryBool(q.getAll('sendInitialEvents'))) wopts.sendInitialEvents = true;
        let line = (ev: ApiWatchEvent): Buffer => watchLine(ev);
        if (neg.as === 'Table') {
          // Per watch: the first table carries the column definitions.
          const { now: _now, ...watchTableOpts } = tableOpts();
          const encode = watchTableEncoder(rt, watchTableOpts);
          line = (ev) => (ev.type === 'ERROR' || ev.type === 'BOOKMARK' ? watchLine(ev) : Buffer.from(JSON.stringify({ type: ev.type, object: encode(ev.object) }) + '\n'));
        } else if (neg.as === 'PartialObjectMetadata') {
          const version = neg.version;
          line = (ev) => (ev.type === 'ERROR' ? watchLine(ev) : watchLine(ev, (o) => partialObjectMetadata(o, version), `pom-${version ?? 'v1'}`));
        } else if (neg.as) {
          throw new KumoError('NotAcceptable', `you requested ${neg.as}, but a watch streams single objects`);
        }
        await streamWatch(req, res, storage.watch(wopts), { abort, timeoutMs, line });
        return;
      }
      case 'create': {
        if (name !== '' && !isNamespaceObject) throw new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const input = decodeBody(req, body, { apiVersion: gv(rt), kind: rt.kind });
        const obj = await this.createObject(rt, wctx('CreateOptions'), input);
        writeObject(res, 201, obj, fmt, warnings);
        return;
      }
      case 'update': {
        const input = decodeBody(req, body, { apiVersion: gv(rt), kind: rt.kind });
        const obj = await storage.update(wctx('UpdateOptions'), name, input, sub === 'status' ? { subresource: 'status' } : {});
        writeObject(res, 200, obj, fmt, warnings);
        return;
      }
      case 'patch': {
        const type = negotiatePatch(req.headers['content-type'], patchTypesFor(rt));
        const isApply = type === APPLY_PATCH;
        const c = wctx('PatchOptions', isApply);
        if (isApply) {
          // Server-side apply; creates the object when it is missing (201).
          const r = await storage.apply(c, name, decodeApplyPatch(body), { force: queryBool(q.getAll('force')), ...(sub === 'status' ? { subresource: 'status' as const } : {}) });
          writeObject(res, r.created ? 201 : 200, r.object, fmt, warnings);
          return;
        }
        const obj = await this.patch(type, storage, c, name, body, sub);
        writeObject(res, 200, obj, fmt, warnings);
        return;
      }
      case 'delete': {
        const r = await this.deleteObject(rt, wctx(), name, deleteOptions(q, body));
        writeObject(res, 200, r.deleted && rt.source === 'builtin' ? successStatus(rt, r.object) : r.object, fmt);
        return;
      }
      case 'deletecollection': {
        const listOpts = this.listOptions(rt, q);
        const dopts = deleteOptions(q, body);
        const c = wctx();
        const r = await storage.list(scope, { ...listOpts, limit: 0 });
        for (const obj of r.items) {
          const m = meta(obj);
          try {
            await this.storage(rt).delete({ ...c, ...(m.namespace ? { namespace: m.namespace } : {}) }, String(m.name), dopts);
          } catch (err) {
            if (!isKumoError(err, 'NotFound')) throw err;
          }
        }
        writeObject(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' }, fmt);
        return;
      }
      default:
        throw new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  /** The object a token is bound to (a Secret or Pod in the ServiceAccount's namespace, a Node), or NotFound. */
  private async boundObject(cluster: LogicalCluster, namespace: string, kind: string, name: string): Promise<{ uid: string }> {
    const b = BINDABLE_KINDS[kind];
    const rt = b && this.servedIn(cluster).find((s) => s.rt.group === '' && s.rt.plural === b.plural)?.rt;
    if (!b || !rt) throw new KumoError('NotFound', `${b?.plural ?? kind} "${name}" not found`, { name, kind: b?.plural ?? kind });
    const obj = await this.storage(rt).get(b.namespaced ? { cluster, namespace } : { cluster }, name);
    return { uid: String(meta(obj).uid) };
  }

  /** Adds the `narrow` hook's predicate, if any, to a list's or watch's field match. */
  private async narrowTo(rt: ResourceType, req: http.IncomingMessage, o: { fieldMatch?: (obj: KObject) => boolean }): Promise<void> {
    const p = await this.opts.narrow?.(rt, req);
    if (!p) return;
    const fm = o.fieldMatch;
    o.fieldMatch = fm ? (obj) => fm(obj) && p(obj) : p;
  }

  private listOptions(rt: ResourceType, q: URLSearchParams): Parameters<ResourceStorage['list']>[1] & object {
    const o: Parameters<ResourceStorage['list']>[1] & object = {};
    const lm = labelMatcher(q.get('labelSelector'));
    const fm = fieldMatcher(q.get('fieldSelector'), rt);
    if (lm) o.labelMatch = lm;
    if (fm) o.fieldMatch = fm;
    const limit = q.get('limit');
    if (limit !== null && limit !== '') {
      const n = Number(limit);
      if (!Number.isSafeInteger(n) || n < 0) throw new KumoError('BadRequest', `limit: Invalid value: "${limit}": must be a non-negative integer`);
      o.limit = n;
    }
    const cont = q.get('continue');
    if (cont) o.continue = cont;
    const rv = q.get('resourceVersion');
    if (rv !== null) o.resourceVersion = rv;
    const match = q.get('resourceVersionMatch');
    if (match !== null && match !== '') {
      if (match !== 'Exact' && match !== 'NotOlderThan') throw new KumoError('BadRequest', `resourceVersionMatch: Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"`);
      o.resourceVersionMatch = match;
    }
    return o;
  }

  /**
   * PATCH: JSON patch (RFC 6902), JSON merge patch (RFC 7386), and strategic merge patch by the kind's
   * schema (built-in kinds; a CRD answers 415, as kube-apiserver does). Server-side apply is not
   * served yet (415).
   */
  /** The scale subresource: get, update (PUT a Scale) and patch (JSON, merge or strategic patch of the Scale). */
  private async scale(req: http.IncomingMessage, storage: ResourceStorage, sc: ScaleSubresource, verb: string, ctx: WriteContext, name: string, body: Buffer): Promise<KObject> {
    switch (verb) {
      case 'get':
        return toScale(sc, await storage.get(ctx, name));
      case 'update': {
        const input = decodeBody(req, body, { apiVersion: 'autoscaling/v1', kind: 'Scale' });
        return toScale(sc, await storage.patch(ctx, name, (cur) => fromScale(sc, cur, input, name)));
      }
      case 'patch': {
        const type = negotiatePatch(req.headers['content-type'], ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
        const patch = parseJsonBody(body, 'error decoding patch');
        const change = type === 'application/json-patch+json' ? jsonPatchFn(patch) : (cur: KObject): KObject => mergePatch(cur, patch) as KObject;
        if (type !== 'application/json-patch+json' && !isObject(patch)) throw new KumoError('BadRequest', 'a merge patch must be a JSON object');
        return toScale(sc, await storage.patch(ctx, name, (cur) => fromScale(sc, cur, change(toScale(sc, cur)), name)));
      }
      default:
        throw new KumoError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  /** JSON, merge or strategic patch (`type`, negotiated by the caller); apply is served by the caller. */
  private async patch(type: PatchType, storage: ResourceStorage, ctx: WriteContext, name: string, body: Buffer, sub: string): Promise<KObject> {
    const patch = parseJsonBody(body, 'error decoding patch');
    const apply =
      type === 'application/json-patch+json'
        ? jsonPatchFn(patch)
        : type === 'application/strategic-merge-patch+json'
          ? strategicPatchFn(storage, name, patch)
          : mergePatchFn(storage, name, patch);
    return storage.patch(ctx, name, apply, sub === 'status' ? { subresource: 'status' } : {});
  }

  private async checkNamespace(rt: ResourceType, scope: Scope, verb: 'create' | 'update'): Promise<void> {
    if (!rt.namespaced || verb !== 'create' || scope.namespace === undefined) return;
    let ns: KObject;
    try {
      ns = await this.storage(this.namespaceRt).get({ cluster: scope.cluster }, scope.namespace);
    } catch (err) {
      if (isKumoError(err, 'NotFound')) throw new KumoError('NotFound', `namespaces "${scope.namespace}" not found`, { name: scope.namespace, kind: 'namespaces' });
      throw err;
    }
    if (meta(ns).deletionTimestamp !== undefined) {
      throw new KumoError('Forbidden', `unable to create new content in namespace ${scope.namespace} because it is being terminated`, {
        causes: [{ reason: 'NamespaceTerminating', field: 'metadata.namespace', message: `namespace ${scope.namespace} is being terminated` }],
      });
    }
  }

  /**
   * Namespace deletion: the namespace turns Terminating (no new content may be created in it); the
   * namespace controller (controllers/namespace) empties it and then lets it go.
   */
  private async deleteNamespace(ctx: WriteContext, name: string, opts: DeleteOptions): Promise<{ object: KObject; deleted: boolean }> {
    const storage = this.storage(this.namespaceRt);
    const scope: Scope = { cluster: ctx.cluster };
    const ns = await storage.get(scope, name);
    if (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== meta(ns).uid) {
      throw new KumoError('Conflict', `Operation cannot be fulfilled on namespaces "${name}": Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${String(meta(ns).uid)}`);
    }
    if (ctx.dryRun) return { object: ns, deleted: false };
    const spec = isObject(ns.spec) ? ns.spec : {};
    const specFinalizers = Array.isArray(spec.finalizers) ? spec.finalizers : [];
    if (meta(ns).deletionTimestamp !== undefined && specFinalizers.length === 0) {
      // Emptied and finalized: deleted for good (once its metadata finalizers are gone too).
      return storage.delete(ctx, name, opts);
    }
    const object = await storage.guaranteedUpdate({ cluster: ctx.cluster }, name, (old) => {
      const m = meta(old);
      if (m.deletionTimestamp === undefined) {
        m.deletionTimestamp = rfc3339(this.opts.now ? this.opts.now() : new Date());
        m.deletionGracePeriodSeconds = 0;
      }
      const status = isObject(old.status) ? old.status : {};
      status.phase = 'Terminating';
      old.status = status;
      return old;
    });
    return { object, deleted: false };
  }

  // ---- verbs without HTTP (the in-process client) --------------------------------------------------

  /** Create, as over HTTP: a new Namespace also gets its `default` ServiceAccount. */
  async createObject(rt: ResourceType, ctx: WriteContext, obj: KObject): Promise<KObject> {
    const created = await this.storage(rt).create(ctx, obj);
    if (rt === this.namespaceRt && !ctx.dryRun) await this.ensureDefaultServiceAccount(ctx.cluster, String(meta(created).name));
    return created;
  }

  /** Delete, as over HTTP: a Namespace turns Terminating (its controller empties and removes it). */
  async deleteObject(rt: ResourceType, ctx: WriteContext, name: string, opts: DeleteOptions): Promise<{ object: KObject; deleted: boolean }> {
    if (rt === this.namespaceRt) return this.deleteNamespace(ctx, name, opts);
    return this.storage(rt).delete(ctx, name, opts);
  }

  private readonly objectCaches = new Map<string, ObjectCache>();
  private readonly cacheAbort = new AbortController();
  private readonly cacheRuns: Promise<void>[] = [];

  /** The object cache of a resource, started on first use and kept until stop. */
  private objectCache(prefix: string): ObjectCache {
    let c = this.objectCaches.get(prefix);
    if (!c) {
      const cache = new ObjectCache(this.watchStore, prefix, (err) => this.opts.onBackgroundError?.(err));
      this.objectCaches.set(prefix, cache);
      this.cacheRuns.push(cache.run(this.cacheAbort.signal));
      c = cache;
    }
    return c;
  }

  /** Objects held by the object caches (for metrics and benchmarks). */
  cachedObjects(): number {
    let n = 0;
    for (const c of this.objectCaches.values()) n += c.size;
    return n;
  }

  /** Stops the object caches and waits for them; call before closing the store. */
  async stop(): Promise<void> {
    this.cacheAbort.abort();
    await Promise.allSettled(this.cacheRuns);
  }
}

/** `/registry/<group>/<resource>/…` → `/registry/<group>/<resource>/` (the feed of a watch). */
function resourceOfKeyPrefix(prefix: string): string {
  const parts = prefix.split('/');
  return parts.length >= 4 ? `${parts.slice(0, 4).join('/')}/` : prefix;
}

function isServiceAccount(rt: ResourceType): boolean {
  return rt.group === '' && rt.plural === 'serviceaccounts';
}

function gv(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

function successStatus(rt: ResourceType, obj: KObject): Record<string, unknown> {
  const m = meta(obj);
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: m.name, group: rt.group, kind: rt.plural, uid: m.uid } };
}

function responseFormat(req: http.IncomingMessage, info: RequestInfo): ResponseFormat {
  const accept = req.headers.accept ?? '';
  const yaml = /application\/yaml/.test(accept) && !/application\/json/.test(accept);
  const f: ResponseFormat = { mediaType: yaml ? 'application/yaml' : 'application/json' };
  if (queryBool(info.query.getAll('pretty'))) f.pretty = true;
  return f;
}

/**
 * How long a watch runs, from `timeoutSeconds` as kube reads it: absent or 0 → the server's default
 * (minSeconds, randomized up to 2×); a negative value → it ends at once; not an integer → 400 (a
 * garbage value used to mean a 30-60 minute watch). Capped at setTimeout's limit (~24.8 days).
 */
export function watchTimeoutMs(value: string | null, minSeconds: number, random: () => number = Math.random): number {
  if (value === null || value === '') return (minSeconds + random() * minSeconds) * 1000;
  const n = /^[+-]?\d{1,19}$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n) || Math.abs(n) > 9223372036854775807) {
    throw new KumoError('BadRequest', `timeoutSeconds: Invalid value: ${JSON.stringify(value.slice(0, 64))}: must be an integer`);
  }
  if (n === 0) return (minSeconds + random() * minSeconds) * 1000;
  return n < 0 ? 0 : Math.min(n * 1000, 2 ** 31 - 1);
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (v.length === 0) return false;
  for (const x of v) if (x !== 'All') throw new KumoError('BadRequest', `dryRun: Unsupported value: "${x}": supported values: "All"`);
  return true;
}

function fieldValidation(q: URLSearchParams): 'Strict' | 'Warn' | 'Ignore' {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw new KumoError('BadRequest', `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`);
}

function decodeBody(req: http.IncomingMessage, body: Buffer, defaults?: { apiVersion: string; kind: string }): KObject {
  // client-go's typed clients (kubectl 1.33's `create configmap` …) send protobuf; decode it to JSON.
  if (isProtobuf(req.headers['content-type'])) return decodeProtobufObject(body, defaults);
  const type = negotiateInput(req.headers['content-type']);
  let v: unknown;
  try {
    v = type === 'application/yaml' ? parseYamlBody(body) : JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new KumoError('BadRequest', `the body of the request could not be decoded: ${err instanceof Error ? err.message : String(err)}`);
  }
  checkDecodedBody(v);
  if (!isObject(v)) throw new KumoError('BadRequest', 'the body of the request must be a JSON object');
  return v;
}

function deleteOptions(q: URLSearchParams, body: Buffer): DeleteOptions {
  const o: DeleteOptions = {};
  let b: Record<string, unknown> = {};
  if (body.length > 0) {
    const parsed = parseJsonBody(body, 'the DeleteOptions in the request body could not be decoded');
    if (isObject(parsed)) b = parsed;
  }
  const policy = q.get('propagationPolicy') ?? (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined);
  if (policy !== undefined && policy !== null) {
    if (policy !== 'Foreground' && policy !== 'Background' && policy !== 'Orphan') {
      throw new KumoError('Invalid', `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, {
        causes: [{ field: 'propagationPolicy', reason: 'FieldValueNotSupported', message: `Unsupported value: "${policy}"` }],
      });
    }
    o.propagationPolicy = policy;
  } else if (q.get('orphanDependents') === 'true' || b.orphanDependents === true) {
    o.propagationPolicy = 'Orphan';
  }
  if (isObject(b.preconditions)) {
    const p = b.preconditions;
    o.preconditions = {};
    if (typeof p.uid === 'string') o.preconditions.uid = p.uid;
    if (typeof p.resourceVersion === 'string') o.preconditions.resourceVersion = p.resourceVersion;
  }
  if (Array.isArray(b.dryRun) && b.dryRun.includes('All')) o.dryRun = true;
  return o;
}

/** Fields of metadata a client may not change on update. */
function immutableMetaCauses(obj: KObject, old: KObject | undefined): ErrorCause[] {
  if (!old) return [];
  const m = meta(obj);
  const o = meta(old);
  const causes: ErrorCause[] = [];
  if (m.namespace !== o.namespace) causes.push({ field: 'metadata.namespace', reason: 'FieldValueInvalid', message: 'field is immutable' });
  return causes;
}

function mergePatchFn(storage: ResourceStorage, name: string, patch: unknown): (current: KObject) => KObject {
  if (!isObject(patch)) throw new KumoError('BadRequest', 'a merge patch must be a JSON object');
  return (current) => {
    checkPatchResourceVersion(storage, name, current, patch);
    return mergePatch(current, patch) as KObject;
  };
}

/** Strategic merge patch by the kind's schema (`x-kubernetes-patch-strategy` / `-merge-key`). */
function strategicPatchFn(storage: ResourceStorage, name: string, patch: unknown): (current: KObject) => KObject {
  return (current) => {
    checkPatchResourceVersion(storage, name, current, patch);
    return applyStrategicPatch(current, patch, storage.rt.schema);
  };
}

/** A resourceVersion in the patch's metadata is a precondition, as in kube. */
function checkPatchResourceVersion(storage: ResourceStorage, name: string, current: KObject, patch: unknown): void {
  const pm = isObject(patch) && isObject(patch.metadata) ? patch.metadata : {};
  if (typeof pm.resourceVersion === 'string' && pm.resourceVersion !== meta(current).resourceVersion) {
    throw new KumoError('Conflict', `Operation cannot be fulfilled on ${groupResource(storage.rt)} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
  }
}

/** RFC 6902 JSON patch (fast-json-patch); an operation that does not apply is Invalid, as in kube. */
function jsonPatchFn(patch: unknown): (current: KObject) => KObject {
  if (!Array.isArray(patch)) throw new KumoError('BadRequest', 'a JSON patch must be an array of operations');
  const ops = patch as jsonpatch.Operation[];
  return (current) => {
    try {
      const out = jsonpatch.applyPatch(current, ops, true, false).newDocument;
      if (!isObject(out)) throw new KumoError('Invalid', 'the JSON patch must leave an object');
      return out;
    } catch (err) {
      if (isKumoError(err)) throw err;
      const e = err as { name?: string; message?: string; index?: number; operation?: { op?: string; path?: string } };
      const what = e.operation ? `${String(e.operation.op)} operation at ${String(e.operation.path)}` : 'operation';
      const message = `jsonpatch ${what} does not apply: ${(e.message ?? String(err)).split('\n')[0] ?? ''}`;
      throw new KumoError('Invalid', message, { causes: [{ reason: 'FieldValueInvalid', field: e.operation?.path ?? '', message }] });
    }
  };
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
