import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError } from '../lib/errors.js';
import {
  APPLY_PATCH,
  JSON_PATCH,
  MERGE_PATCH,
  NO_CONVERSIONS,
  STRATEGIC_MERGE_PATCH,
  isPrettyPrint,
  negotiateInput,
  negotiateOutput,
  negotiatePatch,
  parseAccept,
  parseMediaType,
  patchTypesFor,
  type ConversionRule,
} from './negotiate.js';

const KUBECTL_GET = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const NOT_ACCEPTABLE = 'only the following media types are accepted: application/json, application/yaml';
const NOT_ACCEPTABLE_STREAM = 'only the following media types are accepted: application/json;stream=watch';

function fails(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isKumoError(e), String(e));
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

describe('parseAccept (goautoneg)', () => {
  it('orders by q, then specific before wildcard', () => {
    const c = parseAccept('*/*;q=0.8, text/*, application/yaml;q=0.9, application/json');
    assert.deepEqual(
      c.map((x) => `${x.type}/${x.subType};q=${x.q}`),
      ['application/json;q=1', 'text/*;q=1', 'application/yaml;q=0.9', '*/*;q=0.8'],
    );
  });
  it('keeps parameters (trimmed) and drops malformed clauses', () => {
    assert.deepEqual(parseAccept('application/json; as=Table ;v=v1;g=meta.k8s.io'), [
      { type: 'application', subType: 'json', q: 1, params: { as: 'Table', v: 'v1', g: 'meta.k8s.io' } },
    ]);
    assert.deepEqual(parseAccept('application, a/b/c, */*'), [{ type: '*', subType: '*', q: 1, params: {} }]);
    assert.deepEqual(parseAccept('*'), [{ type: '*', subType: '*', q: 1, params: {} }]);
    assert.deepEqual(parseAccept('a/b;q=x')[0]?.q, 0);
    assert.deepEqual(parseAccept('a/b;x;y=1=2;z=3')[0]?.params, { z: '3' });
  });
});

describe('negotiateOutput', () => {
  // [accept, mediaType, as, version]
  const cases: [string | undefined, string, string | undefined, string | undefined][] = [
    [undefined, 'application/json', undefined, undefined],
    ['', 'application/json', undefined, undefined],
    ['application/json', 'application/json', undefined, undefined],
    ['application/yaml', 'application/yaml', undefined, undefined],
    ['*/*', 'application/json', undefined, undefined],
    ['application/*', 'application/json', undefined, undefined],
    ['application/json, */*', 'application/json', undefined, undefined],
    ['application/yaml;q=0.5, application/json', 'application/json', undefined, undefined],
    ['application/json;charset=utf-8', 'application/json', undefined, undefined],
    // kubectl get
    [KUBECTL_GET, 'application/json', 'Table', 'v1'],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'application/json', 'Table', 'v1beta1'],
    ['application/yaml;as=Table;v=v1;g=meta.k8s.io', 'application/yaml', 'Table', 'v1'],
    // protobuf falls back to JSON when JSON is acceptable too
    ['application/vnd.kubernetes.protobuf,application/json', 'application/json', undefined, undefined],
    ['application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json', 'Table', 'v1'],
    ['application/json;q=0.9,application/cbor;q=1', 'application/json', undefined, undefined],
    // metadata-only informers
    [
      'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
      'application/json',
      'PartialObjectMetadataList',
      'v1',
    ],
    ['application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1', 'application/json', 'PartialObjectMetadata', 'v1beta1'],
    // conversions the endpoint cannot do skip to the next clause
    ['application/json;as=Table,application/json', 'application/json', undefined, undefined],
    ['application/json;as=Table;g=meta.k8s.io;v=v2,application/yaml', 'application/yaml', undefined, undefined],
    ['application/json;as=Foo;g=meta.k8s.io;v=v1,application/json', 'application/json', undefined, undefined],
    ['application/json;g=meta.k8s.io;v=v1,application/json', 'application/json', undefined, undefined],
    ['application/json;stream=watch', 'application/json', undefined, undefined],
    ['application/yaml;stream=watch,application/json', 'application/json', undefined, undefined],
    ['application/json;sv=v2,application/yaml', 'application/yaml', undefined, undefined],
  ];
  for (const [accept, mediaType, as, version] of cases) {
    it(String(accept), () => {
      const n = negotiateOutput(accept);
      assert.deepEqual([n.mediaType, n.as, n.version], [mediaType, as, version]);
    });
  }
  const refused = ['application/vnd.kubernetes.protobuf', 'text/html', 'application/json;as=Table', 'application/yaml;stream=watch', 'Application/JSON', '   ', 'application/json;as=Table;v=v1;g=meta.k8s.io;stream=foo'];
  for (const accept of refused) it(`406 for ${JSON.stringify(accept)}`, () => fails(() => negotiateOutput(accept), 'NotAcceptable', NOT_ACCEPTABLE));

  it('keeps the raw target and the stream parameter', () => {
    const n = negotiateOutput('application/json;as=Table;v=v1;g=meta.k8s.io;stream=watch');
    assert.deepEqual(n.target, { group: 'meta.k8s.io', version: 'v1', kind: 'Table' });
    assert.equal(n.stream, 'watch');
  });
  it('a watch must be framed as JSON', () => {
    assert.equal(negotiateOutput(KUBECTL_GET, { watch: true }).as, 'Table');
    assert.equal(negotiateOutput('application/json', { watch: true }).mediaType, 'application/json');
    fails(() => negotiateOutput('application/yaml', { watch: true }), 'NotAcceptable', NOT_ACCEPTABLE_STREAM);
    fails(() => negotiateOutput('application/yaml, application/json', { watch: true }), 'NotAcceptable', NOT_ACCEPTABLE_STREAM);
    fails(() => negotiateOutput('text/plain', { watch: true }), 'NotAcceptable', NOT_ACCEPTABLE);
  });
  it('endpoint rules decide which conversions exist', () => {
    fails(() => negotiateOutput('application/json;as=Table;v=v1;g=meta.k8s.io', { conversions: NO_CONVERSIONS }), 'NotAcceptable', NOT_ACCEPTABLE);
    const discovery: ConversionRule = (t) => t === undefined || (t.group === 'apidiscovery.k8s.io' && t.kind === 'APIGroupDiscoveryList' && (t.version === 'v2' || t.version === 'v2beta1'));
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const n = negotiateOutput(accept, { conversions: discovery });
    assert.deepEqual(n.target, { group: 'apidiscovery.k8s.io', version: 'v2', kind: 'APIGroupDiscoveryList' });
    assert.equal(n.as, undefined);
    assert.equal(negotiateOutput(accept).target, undefined, 'a resource endpoint ignores discovery conversions');
  });
  it('pretty from the clause, the query or the user agent', () => {
    assert.equal(negotiateOutput('application/json').pretty, false);
    assert.equal(negotiateOutput('application/json;pretty=1').pretty, true);
    assert.equal(negotiateOutput('application/json', { query: new URLSearchParams('pretty=true') }).pretty, true);
    assert.equal(negotiateOutput(undefined, { userAgent: 'curl/8.5.0' }).pretty, true);
    assert.equal(negotiateOutput(undefined, { userAgent: 'curl/8.5.0', query: new URLSearchParams('pretty=0') }).pretty, false);
    assert.equal(negotiateOutput(undefined, { userAgent: 'kubectl/v1.33.0 (linux/amd64) kubernetes/abc' }).pretty, false);
  });
});

describe('isPrettyPrint', () => {
  const cases: [string, string | undefined, boolean][] = [
    ['', undefined, false],
    ['pretty=true', undefined, true],
    ['pretty=1', undefined, true],
    ['pretty=T', undefined, true],
    ['pretty=yes', undefined, false],
    ['pretty=false', 'curl/8', false],
    ['pretty', 'curl/8', true],
    ['pretty=', 'Wget/1.21', true],
    ['', 'Mozilla/5.0 (X11)', true],
    ['', 'Go-http-client/1.1', false],
  ];
  for (const [q, ua, want] of cases) it(`${q} ${String(ua)}`, () => assert.equal(isPrettyPrint(new URLSearchParams(q), ua), want));
});

describe('negotiateInput', () => {
  const ok: [string | undefined, string][] = [
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['application/json', 'application/json'],
    ['application/json; charset=utf-8', 'application/json'],
    ['Application/JSON', 'application/json'],
    ['application/yaml', 'application/yaml'],
    ['application/yaml;', 'application/yaml'],
  ];
  for (const [ct, want] of ok) it(String(ct), () => assert.equal(negotiateInput(ct), want));
  const UNSUPPORTED = 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml';
  for (const ct of ['application/vnd.kubernetes.protobuf', 'text/plain', 'application/x-yaml', 'application/json; charset', 'json', 'application/merge-patch+json']) {
    it(`415 for ${ct}`, () => fails(() => negotiateInput(ct), 'UnsupportedMediaType', UNSUPPORTED));
  }
  it('parseMediaType', () => {
    assert.equal(parseMediaType('text/HTML ; q="a;b"'), undefined); // the quoted ';' splits naively: stricter than Go, never looser
    assert.equal(parseMediaType('text/HTML ; charset="utf-8"'), 'text/html');
    assert.equal(parseMediaType('text'), undefined);
  });
});

describe('negotiatePatch', () => {
  const builtin = patchTypesFor({ source: 'builtin' });
  const crd = patchTypesFor({ source: 'crd' });
  it('kube\'s patch types per kind of resource', () => {
    assert.deepEqual(builtin, [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH]);
    assert.deepEqual(crd, [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]);
  });
  const ok: [string, string][] = [
    ['application/json-patch+json', JSON_PATCH],
    ['application/merge-patch+json', MERGE_PATCH],
    ['application/merge-patch+json; charset=utf-8', MERGE_PATCH],
    ['application/strategic-merge-patch+json', STRATEGIC_MERGE_PATCH],
    ['application/apply-patch+yaml', APPLY_PATCH],
  ];
  for (const [ct, want] of ok) it(ct, () => assert.equal(negotiatePatch(ct, builtin), want));
  it('415 lists what the resource accepts', () => {
    fails(
      () => negotiatePatch('application/strategic-merge-patch+json', crd),
      'UnsupportedMediaType',
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
    for (const ct of [undefined, '', 'application/json', 'Application/merge-patch+json', ' application/merge-patch+json', 'application/vnd.kubernetes.protobuf']) {
      assert.throws(() => negotiatePatch(ct, builtin), (e: unknown) => isKumoError(e, 'UnsupportedMediaType'));
    }
  });
});
