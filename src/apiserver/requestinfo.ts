// What a request is about, from its method and URL alone — k8s.io/apiserver's RequestInfoFactory
// (endpoints/request/requestinfo.go) plus kcp's `/clusters/<name>` prefix, parsed once at the edge:
//
//   /clusters/<lc>/api/v1/namespaces/default/configmaps/x   → cluster lc, get configmaps "x" in default
//   /apis/kumo.dev/v1alpha1/namespaces/t/clusters/c/proxy/… → subresource proxy of clusters "c"
//   /api/v1/watch/namespaces/default/configmaps              → watch (legacy path)
//   /api/v1/configmaps?watch=1                               → watch
//
// Discovery (`/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`) and everything else outside
// the resource tree (`/version`, `/healthz`, `/openapi/v2` …) are non-resource requests.
import { KumoError } from '../lib/errors.js';
import { ROOT_CLUSTER, parseLogicalCluster, type LogicalCluster } from './keys.js';
import { exactNameFromFieldSelector } from './selectors.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'proxy' | '';

export interface RequestInfo {
  /** The `/clusters/<name>` prefix's cluster, or `root` without one. */
  logicalCluster: LogicalCluster;
  /** True when the path carried a `/clusters/<name>` prefix. */
  clusterInPath: boolean;
  isResourceRequest: boolean;
  /** The percent-decoded path without the cluster prefix (always starts with `/`). */
  path: string;
  /**
   * Kube's verb for resource requests (`''` for methods that have none, e.g. OPTIONS); for
   * non-resource requests the lowercase HTTP method.
   */
  verb: string;
  /** `api` or `apis` for resource requests, '' otherwise. */
  apiPrefix: '' | 'api' | 'apis';
  /** '' for the core group. */
  apiGroup: string;
  apiVersion: string;
  /** '' when the request names no namespace. Also set for namespace objects (`/namespaces/foo`). */
  namespace: string;
  resource: string;
  subresource: string;
  /** From the path, or for list/watch from `fieldSelector=metadata.name=X` (as kube does, for authorization). */
  name: string;
  /** Path parts from the resource on: resource/name/subresource/… (a proxy's remainder included). */
  parts: string[];
  /** True when `name` came from the path (false when narrowed by a field selector). */
  nameInPath: boolean;
  /** Set for discovery documents: which one. */
  discovery?: DiscoveryPath;
  /** The query string, parsed. */
  query: URLSearchParams;
}

export type DiscoveryPath =
  | { kind: 'api' }
  | { kind: 'apiVersion'; version: string }
  | { kind: 'apis' }
  | { kind: 'group'; group: string }
  | { kind: 'groupVersion'; group: string; version: string };

/** Verbs that name an action in the path (`/api/v1/watch/…`, `/api/v1/proxy/…`). */
const SPECIAL_VERBS = new Set(['proxy', 'watch']);
/** Special verbs that take no subresource (everything after the name is the proxied path). */
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
/** Subresources of a namespace (`/api/v1/namespaces/foo/status`) rather than resources in it. */
export const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

const NOT_FOUND_MESSAGE = 'the server could not find the requested resource';

function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new KumoError('BadRequest', `invalid URL escape in path ${JSON.stringify(raw)}`);
  }
}

/** strings.Split(strings.Trim(path, "/"), "/"), with an empty path giving no parts. */
function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/**
 * Strips `/clusters/<name>` (kcp's WithClusterScope). `/clusters/<name>` alone means that cluster's
 * `/`. A malformed name is a BadRequest.
 */
export function splitClusterPath(path: string): { cluster: LogicalCluster; clusterInPath: boolean; path: string } {
  if (!path.startsWith('/clusters/')) return { cluster: ROOT_CLUSTER, clusterInPath: false, path };
  const rest = path.slice('/clusters/'.length);
  const i = rest.indexOf('/');
  const name = i === -1 ? rest : rest.slice(0, i);
  const remainder = i === -1 ? '/' : rest.slice(i);
  return { cluster: parseLogicalCluster(name), clusterInPath: true, path: remainder };
}

/** Any query value other than `0`/`false` (any case) turns a boolean on, even an empty one. */
export function queryBool(values: string[]): boolean {
  if (values.length === 0) return false;
  const v = (values[0] ?? '').toLowerCase();
  return !(v === '0' || v === 'false');
}

/**
 * Parses a request. `url` is the request target as Node gives it (`/path?query`, not decoded). The
 * path is percent-decoded before it is split, as Go's URL.Path is, so `%2F` separates segments.
 */
export function parseRequestInfo(method: string, url: string): RequestInfo {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const decoded = decodePath(rawPath.startsWith('/') ? rawPath : `/${rawPath}`);
  const { cluster, clusterInPath, path } = splitClusterPath(decoded);

  const info: RequestInfo = {
    logicalCluster: cluster,
    clusterInPath,
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
    nameInPath: false,
    query,
  };

  let parts = splitPath(path);
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return info;
  if (prefix === 'api') {
    if (parts.length === 1) info.discovery = { kind: 'api' };
    else if (parts.length === 2) info.discovery = { kind: 'apiVersion', version: parts[1] ?? '' };
    if (parts.length < 3) return info;
  } else {
    if (parts.length === 1) info.discovery = { kind: 'apis' };
    else if (parts.length === 2) info.discovery = { kind: 'group', group: parts[1] ?? '' };
    else if (parts.length === 3) info.discovery = { kind: 'groupVersion', group: parts[1] ?? '', version: parts[2] ?? '' };
    if (parts.length < 4) return info;
  }

  info.apiPrefix = prefix;
  parts = parts.slice(1);
  if (prefix === 'apis') {
    info.apiGroup = parts[0] ?? '';
    parts = parts.slice(1);
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0] ?? '';
  parts = parts.slice(1);

  // Empty segments (`//`) would shift everything after them; no route serves such a path.
  if (parts.some((p) => p === '') || (prefix === 'apis' && info.apiGroup === '') || info.apiVersion === '') {
    throw new KumoError('NotFound', NOT_FOUND_MESSAGE);
  }

  if (SPECIAL_VERBS.has(parts[0] ?? '')) {
    if (parts.length < 2) throw new KumoError('BadRequest', `unable to determine kind and namespace from url, ${url}`);
    info.verb = parts[0] ?? '';
    parts = parts.slice(1);
  } else {
    switch (method.toUpperCase()) {
      case 'POST':
        info.verb = 'create';
        break;
      case 'GET':
      case 'HEAD':
        info.verb = 'get';
        break;
      case 'PUT':
        info.verb = 'update';
        break;
      case 'PATCH':
        info.verb = 'patch';
        break;
      case 'DELETE':
        info.verb = 'delete';
        break;
      default:
        info.verb = '';
    }
  }

  // /namespaces/{namespace}/{resource}/… — parts become relative to the resource, unless what follows
  // the namespace is one of its own subresources.
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1] ?? '';
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2] ?? '')) parts = parts.slice(2);
    }
  }
  info.parts = parts;

  // resource/name/subresource/anything/else
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2] ?? '';
  if (parts.length >= 2) {
    info.name = parts[1] ?? '';
    info.nameInPath = true;
  }
  if (parts.length >= 1) info.resource = parts[0] ?? '';

  // No name and a GET: a list, or a watch when ?watch is set to anything but 0/false.
  if (info.name === '' && info.verb === 'get') {
    info.verb = queryBool(query.getAll('watch')) ? 'watch' : 'list';
    const narrowed = exactNameFromFieldSelector(query.get('fieldSelector'));
    if (narrowed !== undefined) info.name = narrowed;
  }
  // No name and a DELETE: the collection.
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';

  return info;
}
