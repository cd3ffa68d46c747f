// The request side of managedFields: who the field manager is and kube's checks of the options.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isKumoError, statusFor } from '../lib/errors.js';
import { decodeApplyPatch, managerFromUserAgent, writeFieldManager } from './apply.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('field manager of a write', () => {
  const cases: { name: string; query: string; ua: string; kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'; apply?: boolean; want?: string; error?: string }[] = [
    { name: 'the fieldManager parameter wins', query: 'fieldManager=ctl', ua: 'kubectl/v1.33.0 (linux/amd64)', kind: 'CreateOptions', want: 'ctl' },
    { name: 'else the User-Agent up to its first /', query: '', ua: 'kubectl/v1.33.0 (linux/amd64) kubernetes/abc', kind: 'UpdateOptions', want: 'kubectl' },
    { name: 'a User-Agent without a slash is taken whole', query: '', ua: 'my-controller', kind: 'PatchOptions', want: 'my-controller' },
    { name: 'no User-Agent: the empty manager', query: '', ua: '', kind: 'CreateOptions', want: '' },
    {
      name: 'apply requires a fieldManager',
      query: '',
      ua: 'kubectl/v1.33.0',
      kind: 'PatchOptions',
      apply: true,
      error: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    },
    { name: 'force only for apply', query: 'force=true&fieldManager=x', ua: '', kind: 'PatchOptions', error: 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch' },
    { name: 'force with apply is fine', query: 'force=true&fieldManager=x', ua: '', kind: 'PatchOptions', apply: true, want: 'x' },
    { name: 'at most 128 bytes', query: `fieldManager=${'é'.repeat(65)}`, ua: '', kind: 'UpdateOptions', error: 'UpdateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes' },
    { name: 'printable characters only (byte offset)', query: 'fieldManager=ab%07', ua: '', kind: 'CreateOptions', error: 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "ab\\u0007": invalid characters at offset 2' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.error === undefined) {
        assert.equal(writeFieldManager(q(c.query), c.ua, c.kind, c.apply), c.want);
        return;
      }
      assert.throws(
        () => writeFieldManager(q(c.query), c.ua, c.kind, c.apply),
        (e: unknown) => {
          assert.ok(isKumoError(e, 'Invalid'));
          const st = statusFor(e);
          assert.equal(st.code, 422);
          assert.equal(st.message, c.error);
          assert.equal(st.details?.group, 'meta.k8s.io');
          assert.equal(st.details?.kind, c.kind);
          return true;
        },
      );
    });
  }

  it('the User-Agent prefix drops unprintable characters and stops at 128 bytes', () => {
    assert.equal(managerFromUserAgent('a\u0000b/c'), 'ab');
    assert.equal(managerFromUserAgent('x'.repeat(200)), 'x'.repeat(128));
  });
});

describe('apply configuration body', () => {
  it('YAML or JSON objects', () => {
    assert.deepEqual(decodeApplyPatch(Buffer.from('apiVersion: v1\nkind: ConfigMap\ndata: {a: "1"}\n')), { apiVersion: 'v1', kind: 'ConfigMap', data: { a: '1' } });
    assert.deepEqual(decodeApplyPatch(Buffer.from('{"apiVersion":"v1"}')), { apiVersion: 'v1' });
  });
  for (const [name, body] of [
    ['a list', '- a\n- b\n'],
    ['a scalar', '42'],
    ['null', ''],
    ['bad YAML', 'a: [1, 2'],
    ['duplicate keys', 'a: 1\na: 2\n'],
  ] as const) {
    it(`refuses ${name} (400)`, () => assert.throws(() => decodeApplyPatch(Buffer.from(body)), (e: unknown) => isKumoError(e, 'BadRequest') && /^error decoding YAML: /.test(e.message)));
  }
});
