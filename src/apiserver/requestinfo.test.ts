import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../lib/errors.js';
import { parseRequestInfo, queryBool, splitClusterPath } from './requestinfo.js';

// Mirrors k8s.io/apiserver's TestGetAPIRequestInfo table, plus Kumo's /clusters/<lc> prefix.
// [method, url, verb, apiPrefix, group, version, namespace, resource, subresource, name, parts]
type Row = [string, string, string, string, string, string, string, string, string, string, string[]];
const rows: Row[] = [
  // resource paths
  ['GET', '/api/v1/namespaces', 'list', 'api', '', 'v1', '', 'namespaces', '', '', ['namespaces']],
  ['GET', '/api/v1/namespaces/other', 'get', 'api', '', 'v1', 'other', 'namespaces', '', 'other', ['namespaces', 'other']],
  ['GET', '/api/v1/namespaces/other/pods', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/namespaces/other/pods/foo', 'get', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  ['HEAD', '/api/v1/namespaces/other/pods/foo', 'get', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  ['GET', '/api/v1/pods', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['HEAD', '/api/v1/pods', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/namespaces/other/pods/', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  // special verbs
  ['GET', '/api/v1/proxy/namespaces/other/pods/foo', 'proxy', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  ['GET', '/api/v1/proxy/namespaces/other/pods/foo/subpath/not/a/subresource', 'proxy', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo', 'subpath', 'not', 'a', 'subresource']],
  ['GET', '/api/v1/watch/pods', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=true', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=false', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=FALSE', 'list', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/pods?watch=yes&watch=0', 'watch', 'api', '', 'v1', '', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/watch/namespaces/other/pods', 'watch', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/watch/namespaces/other/pods/foo', 'watch', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  ['GET', '/api/v1/namespaces/other/pods?watch=1', 'watch', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/namespaces/other/pods?watch=0', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  // a GET on a named object ignores ?watch
  ['GET', '/api/v1/namespaces/other/pods/foo?watch=1', 'get', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  // subresources
  ['GET', '/api/v1/namespaces/other/pods/foo/status', 'get', 'api', '', 'v1', 'other', 'pods', 'status', 'foo', ['pods', 'foo', 'status']],
  ['GET', '/api/v1/namespaces/other/pods/foo/proxy/subpath', 'get', 'api', '', 'v1', 'other', 'pods', 'proxy', 'foo', ['pods', 'foo', 'proxy', 'subpath']],
  ['PUT', '/api/v1/namespaces/other/finalize', 'update', 'api', '', 'v1', 'other', 'namespaces', 'finalize', 'other', ['namespaces', 'other', 'finalize']],
  ['PUT', '/api/v1/namespaces/other/status', 'update', 'api', '', 'v1', 'other', 'namespaces', 'status', 'other', ['namespaces', 'other', 'status']],
  ['GET', '/api/v1/namespaces/other/configmaps', 'list', 'api', '', 'v1', 'other', 'configmaps', '', '', ['configmaps']],
  ['POST', '/api/v1/namespaces/other/serviceaccounts/default/token', 'create', 'api', '', 'v1', 'other', 'serviceaccounts', 'token', 'default', ['serviceaccounts', 'default', 'token']],
  ['GET', '/apis/kumo.dev/v1alpha1/namespaces/t/clusters/c/proxy/api/v1/pods', 'get', 'apis', 'kumo.dev', 'v1alpha1', 't', 'clusters', 'proxy', 'c', ['clusters', 'c', 'proxy', 'api', 'v1', 'pods']],
  // verbs
  ['PATCH', '/api/v1/namespaces/other/pods/foo', 'patch', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  ['DELETE', '/api/v1/namespaces/other/pods/foo', 'delete', 'api', '', 'v1', 'other', 'pods', '', 'foo', ['pods', 'foo']],
  ['POST', '/api/v1/namespaces/other/pods', 'create', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['OPTIONS', '/api/v1/namespaces/other/pods', '', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['DELETE', '/api/v1/nodes', 'deletecollection', 'api', '', 'v1', '', 'nodes', '', '', ['nodes']],
  ['DELETE', '/api/v1/namespaces', 'deletecollection', 'api', '', 'v1', '', 'namespaces', '', '', ['namespaces']],
  ['DELETE', '/api/v1/namespaces/other/pods', 'deletecollection', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['DELETE', '/apis/extensions/v1/namespaces/other/pods', 'deletecollection', 'apis', 'extensions', 'v1', 'other', 'pods', '', '', ['pods']],
  // groups and versions
  ['POST', '/apis/extensions/v1/namespaces/other/pods', 'create', 'apis', 'extensions', 'v1', 'other', 'pods', '', '', ['pods']],
  ['POST', '/apis/extensions/v1beta3/namespaces/other/pods', 'create', 'apis', 'extensions', 'v1beta3', 'other', 'pods', '', '', ['pods']],
  ['GET', '/apis/kumo.dev/v1alpha1/tenants/acme', 'get', 'apis', 'kumo.dev', 'v1alpha1', '', 'tenants', '', 'acme', ['tenants', 'acme']],
  // a metadata.name field selector names the object of a list/watch (for authorization)
  ['GET', '/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dbaz', 'list', 'api', '', 'v1', 'other', 'pods', '', 'baz', ['pods']],
  ['GET', '/api/v1/namespaces/other/pods?watch=1&fieldSelector=metadata.name%3Dbaz', 'watch', 'api', '', 'v1', 'other', 'pods', '', 'baz', ['pods']],
  ['GET', '/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Da%2Fb', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/namespaces/other/pods?fieldSelector=metadata.name!%3Dbaz', 'list', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['GET', '/api/v1/watch/namespaces/other/pods?fieldSelector=metadata.name%3Dbaz', 'watch', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  ['DELETE', '/api/v1/namespaces/other/pods?fieldSelector=metadata.name%3Dbaz', 'deletecollection', 'api', '', 'v1', 'other', 'pods', '', '', ['pods']],
  // percent-encoding is decoded before splitting, as Go's URL.Path is
  ['GET', '/api/v1/namespaces/other/configmaps/a%3Ab', 'get', 'api', '', 'v1', 'other', 'configmaps', '', 'a:b', ['configmaps', 'a:b']],
  ['GET', '/api/v1/namespaces/other/configmaps/a%2Fb', 'get', 'api', '', 'v1', 'other', 'configmaps', 'b', 'a', ['configmaps', 'a', 'b']],
];

describe('parseRequestInfo: resource requests', () => {
  for (const [method, url, verb, apiPrefix, apiGroup, apiVersion, namespace, resource, subresource, name, parts] of rows) {
    it(`${method} ${url}`, () => {
      const info = parseRequestInfo(method, url);
      assert.equal(info.isResourceRequest, true);
      assert.deepEqual(
        { verb: info.verb, apiPrefix: info.apiPrefix, apiGroup: info.apiGroup, apiVersion: info.apiVersion, namespace: info.namespace, resource: info.resource, subresource: info.subresource, name: info.name, parts: info.parts },
        { verb, apiPrefix, apiGroup, apiVersion, namespace, resource, subresource, name, parts },
      );
      assert.equal(info.logicalCluster, 'root');
      assert.equal(info.clusterInPath, false);
    });
  }
  it('nameInPath tells a path name from a field-selector one', () => {
    assert.equal(parseRequestInfo('GET', '/api/v1/namespaces/a/pods/x').nameInPath, true);
    assert.equal(parseRequestInfo('GET', '/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dx').nameInPath, false);
  });
  it('keeps the parsed query', () => {
    const info = parseRequestInfo('GET', '/api/v1/pods?labelSelector=app%3Dweb&limit=5');
    assert.equal(info.query.get('labelSelector'), 'app=web');
    assert.equal(info.query.get('limit'), '5');
  });
});

describe('parseRequestInfo: non-resource requests', () => {
  // [url, discovery]
  const cases: [string, unknown][] = [
    ['/', undefined],
    ['/version', undefined],
    ['/healthz', undefined],
    ['/readyz/ping', undefined],
    ['/openapi/v2', undefined],
    ['/openapi/v3/apis/kumo.dev/v1alpha1', undefined],
    ['/badprefix/version/resource', undefined],
    ['/api', { kind: 'api' }],
    ['/api/', { kind: 'api' }],
    ['/api/v1', { kind: 'apiVersion', version: 'v1' }],
    ['/api/v1/', { kind: 'apiVersion', version: 'v1' }],
    ['/apis', { kind: 'apis' }],
    ['/apis/kumo.dev', { kind: 'group', group: 'kumo.dev' }],
    ['/apis/kumo.dev/v1alpha1', { kind: 'groupVersion', group: 'kumo.dev', version: 'v1alpha1' }],
    ['/apis/group/version/', { kind: 'groupVersion', group: 'group', version: 'version' }],
  ];
  for (const [url, discovery] of cases) {
    it(url, () => {
      const info = parseRequestInfo('GET', url);
      assert.equal(info.isResourceRequest, false);
      assert.equal(info.verb, 'get');
      assert.deepEqual(info.discovery, discovery);
      assert.equal(info.path, url);
    });
  }
  it('the verb of a non-resource request is the lowercase method', () => {
    assert.equal(parseRequestInfo('POST', '/version').verb, 'post');
    assert.equal(parseRequestInfo('HEAD', '/healthz').verb, 'head');
  });
});

describe('parseRequestInfo: logical clusters', () => {
  it('strips /clusters/<lc> and keeps the rest', () => {
    const info = parseRequestInfo('GET', '/clusters/team-a/api/v1/namespaces/default/configmaps/x?resourceVersion=0');
    assert.equal(info.logicalCluster, 'team-a');
    assert.equal(info.clusterInPath, true);
    assert.equal(info.path, '/api/v1/namespaces/default/configmaps/x');
    assert.deepEqual([info.verb, info.namespace, info.resource, info.name], ['get', 'default', 'configmaps', 'x']);
  });
  it('/clusters/<lc> alone is that cluster\'s root', () => {
    const info = parseRequestInfo('GET', '/clusters/team-a');
    assert.equal(info.path, '/');
    assert.equal(info.isResourceRequest, false);
    assert.equal(parseRequestInfo('GET', '/clusters/team-a/').path, '/');
  });
  it('discovery and non-resource paths inside a cluster', () => {
    assert.deepEqual(parseRequestInfo('GET', '/clusters/c1/apis').discovery, { kind: 'apis' });
    assert.equal(parseRequestInfo('GET', '/clusters/c1/version').path, '/version');
  });
  it('a path that merely starts with "clusters" is not a cluster prefix', () => {
    const info = parseRequestInfo('GET', '/clustersx/a');
    assert.equal(info.logicalCluster, 'root');
    assert.equal(info.path, '/clustersx/a');
  });
  for (const url of ['/clusters/', '/clusters//api', '/clusters/Bad/api/v1/pods', '/clusters/a.b/api', '/clusters/a_b', `/clusters/${'a'.repeat(64)}/api`]) {
    it(`rejects ${url}`, () =>
      assert.throws(() => parseRequestInfo('GET', url), (e: unknown) => isKumoError(e, 'BadRequest') && e.message.startsWith('invalid cluster: ')));
  }
  it('splitClusterPath', () => {
    assert.deepEqual(splitClusterPath('/api'), { cluster: 'root', clusterInPath: false, path: '/api' });
    assert.deepEqual(splitClusterPath('/clusters/x/api'), { cluster: 'x', clusterInPath: true, path: '/api' });
  });
});

describe('parseRequestInfo: malformed', () => {
  it('a legacy special verb without a resource is a BadRequest', () => {
    assert.throws(
      () => parseRequestInfo('GET', '/api/v1/watch'),
      (e: unknown) => isKumoError(e, 'BadRequest') && e.message === 'unable to determine kind and namespace from url, /api/v1/watch',
    );
    assert.throws(() => parseRequestInfo('GET', '/apis/g/v1/proxy'), (e: unknown) => isKumoError(e, 'BadRequest'));
  });
  for (const url of ['/api/v1/namespaces//pods', '/api//namespaces', '/apis//v1/x', '/apis/g//x', '/api/v1/pods//status']) {
    it(`empty segments are NotFound: ${url}`, () =>
      assert.throws(() => parseRequestInfo('GET', url), (e: unknown) => isKumoError(e, 'NotFound') && e.message === 'the server could not find the requested resource'));
  }
  it('a broken percent-escape is a BadRequest', () => {
    assert.throws(() => parseRequestInfo('GET', '/api/v1/namespaces/%zz/pods'), (e: unknown) => isKumoError(e, 'BadRequest'));
  });
});

describe('queryBool', () => {
  const cases: [string[], boolean][] = [
    [[], false],
    [['0'], false],
    [['false'], false],
    [['False'], false],
    [['1'], true],
    [['true'], true],
    [[''], true],
    [['anything'], true],
    [['0', '1'], false],
  ];
  for (const [values, want] of cases) it(JSON.stringify(values), () => assert.equal(queryBool(values), want));
});
