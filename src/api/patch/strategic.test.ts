// Table tests of strategic merge patch: the documented behaviour of Kubernetes (kubernetes.io "Update
// API Objects in Place Using kubectl patch", and the behaviour upstream's strategicpatch tests pin
// down), written as our own cases on our own schemas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { isKumoError } from '../../lib/errors.js';
import { serviceAccount } from '../builtin/core.js';
import { listMap, mergeList } from '../meta.js';
import { any, arr, int, intOrString, map, obj, str } from '../schema/dsl.js';
import type { JSONSchemaProps } from '../types.js';
import { applyStrategicPatch, goString, MAX_PATCH_DEPTH } from './strategic.js';

// A made-up kind whose fields cover every patch strategy.
const part = (depth: number): JSONSchemaProps =>
  obj({
    name: str(),
    size: int(),
    note: str(),
    ...(depth > 0 ? { parts: mergeList(part(depth - 1), 'name'), flags: arr(str(), { patchStrategy: 'merge' }), plain: arr(part(depth - 1)) } : {}),
  });
const gadget: JSONSchemaProps = obj({
  name: str(),
  size: int(),
  note: str(),
  labels: map(str()),
  parts: mergeList(part(2), 'name'),
  flags: arr(str(), { patchStrategy: 'merge' }),
  ports: arr(int(), { set: true, patchStrategy: 'merge' }),
  plain: arr(part(1)),
  numbers: arr(int()),
  settings: obj({ a: str(), b: str(), inner: map(str()) }, { 'x-kubernetes-patch-strategy': 'replace' }),
  rollout: obj({ type: str(), rolling: obj({ surge: intOrString(), unavailable: intOrString() }), paused: str() }, { 'x-kubernetes-patch-strategy': 'retainKeys' }),
  volumes: arr(obj({ name: str(), disk: obj({ path: str() }), memory: obj({ medium: str() }) }), {
    'x-kubernetes-patch-strategy': 'merge,retainKeys',
    'x-kubernetes-patch-merge-key': 'name',
  }),
  keyed: arr(obj({ id: str(), v: str() }), { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], 'x-kubernetes-patch-strategy': 'merge' }),
  keyedAtomic: listMap(obj({ id: str(), v: str() }), ['id']),
  free: any(),
});

interface Case {
  name: string;
  original: string;
  patch: string;
  want?: string;
  /** Expected error: [code, message pattern]. */
  error?: [string, RegExp];
}

function run(c: Case, schema: JSONSchemaProps = gadget): void {
  const original = (YAML.parse(c.original) ?? {}) as Record<string, unknown>;
  const patch = YAML.parse(c.patch) as unknown;
  const before = structuredClone(original);
  if (c.error) {
    const [code, re] = c.error;
    assert.throws(
      () => applyStrategicPatch(original, patch, schema),
      (err: unknown) => isKumoError(err) && err.code === code && re.test(err.message),
    );
    return;
  }
  const got = applyStrategicPatch(original, patch, schema);
  assert.deepEqual(got, YAML.parse(c.want ?? '{}') ?? {});
  assert.deepEqual(original, before, 'the original is left as it was');
}

function table(title: string, cases: Case[], schema?: JSONSchemaProps): void {
  describe(title, () => {
    for (const c of cases) it(c.name, () => run(c, schema));
  });
}

table('maps', [
  { name: 'adds a field', original: 'name: a', patch: 'size: 2', want: 'name: a\nsize: 2' },
  { name: 'changes a field', original: 'name: a\nsize: 1', patch: 'size: 3', want: 'name: a\nsize: 3' },
  { name: 'null deletes a field', original: 'name: a\nsize: 1', patch: 'size: null', want: 'name: a' },
  { name: 'null of an absent field changes nothing', original: 'name: a', patch: 'note: null', want: 'name: a' },
  { name: 'an empty patch changes nothing', original: 'name: a\nlabels: {x: "1"}', patch: '{}', want: 'name: a\nlabels: {x: "1"}' },
  { name: 'a null patch changes nothing', original: 'name: a', patch: 'null', want: 'name: a' },
  { name: 'nested maps merge key by key', original: 'labels: {a: "1", b: "2"}', patch: 'labels: {b: "3", c: "4"}', want: 'labels: {a: "1", b: "3", c: "4"}' },
  { name: 'null deletes a nested key', original: 'labels: {a: "1", b: "2"}', patch: 'labels: {a: null}', want: 'labels: {b: "2"}' },
  { name: 'an empty nested map changes nothing', original: 'labels: {a: "1"}', patch: 'labels: {}', want: 'labels: {a: "1"}' },
  { name: 'a new nested map is taken without its nulls', original: 'name: a', patch: 'labels: {a: "1", b: null}', want: 'name: a\nlabels: {a: "1"}' },
  { name: 'a value of another type replaces', original: 'labels: {a: "1"}', patch: 'labels: [x]', want: 'labels: [x]' },
  { name: '$patch: replace replaces a nested map', original: 'labels: {a: "1", b: "2"}', patch: 'labels: {$patch: replace, c: "3"}', want: 'labels: {c: "3"}' },
  { name: '$patch: replace on the whole object', original: 'name: a\nsize: 1', patch: '$patch: replace\nnote: n', want: 'note: n' },
  { name: '$patch: delete empties a nested map', original: 'labels: {a: "1"}\nname: a', patch: 'labels: {$patch: delete}', want: 'labels: {}\nname: a' },
  { name: 'a new map carrying $patch is not added', original: 'name: a', patch: 'labels: {$patch: delete}', want: 'name: a' },
  { name: 'strategy replace replaces the map whole', original: 'settings: {a: x, b: y}', patch: 'settings: {a: z}', want: 'settings: {a: z}' },
  { name: 'preserve-unknown-fields maps merge', original: 'free: {a: 1, b: {c: 2}}', patch: 'free: {b: {d: 3}}', want: 'free: {a: 1, b: {c: 2, d: 3}}' },
  { name: 'preserve-unknown-fields lists replace', original: 'free: {l: [1, 2]}', patch: 'free: {l: [3]}', want: 'free: {l: [3]}' },
  { name: 'unknown fields merge maps and replace lists', original: 'extra: {a: 1, l: [{name: x}]}', patch: 'extra: {b: 2, l: [{name: y}]}', want: 'extra: {a: 1, b: 2, l: [{name: y}]}' },
]);

table('lists of primitives', [
  { name: 'without a strategy the list is replaced', original: 'numbers: [1, 2]', patch: 'numbers: [2, 3]', want: 'numbers: [2, 3]' },
  { name: 'strategy merge makes the union', original: 'flags: [a, b]', patch: 'flags: [b, c]', want: 'flags: [a, b, c]' },
  { name: 'the union keeps no duplicates', original: 'ports: [80, 443]', patch: 'ports: [443, 443, 8080]', want: 'ports: [80, 443, 8080]' },
  { name: 'the patch order wins over the server order', original: 'flags: [a, b, c]', patch: 'flags: [c, a, b]', want: 'flags: [c, a, b]' },
  { name: 'server-only items keep their place before later patch items', original: 'flags: [a, b, c]', patch: 'flags: [c, a]', want: 'flags: [b, c, a]' },
  { name: 'a new item goes first', original: 'flags: [a, b]', patch: 'flags: [z]', want: 'flags: [z, a, b]' },
  { name: '$deleteFromPrimitiveList removes items', original: 'flags: [a, b, c]', patch: '$deleteFromPrimitiveList/flags: [b]', want: 'flags: [a, c]' },
  { name: '$deleteFromPrimitiveList removes every copy', original: 'flags: [a, b, b, c]', patch: '$deleteFromPrimitiveList/flags: [b]', want: 'flags: [a, c]' },
  { name: '$deleteFromPrimitiveList of a missing item adds nothing', original: 'flags: [a]', patch: '$deleteFromPrimitiveList/flags: [q]', want: 'flags: [a]' },
  { name: '$deleteFromPrimitiveList of a missing list adds no list', original: 'name: a', patch: '$deleteFromPrimitiveList/flags: [q]', want: 'name: a' },
  { name: '$deleteFromPrimitiveList also works on a list without strategy', original: 'numbers: [1, 2, 3]', patch: '$deleteFromPrimitiveList/numbers: [2]', want: 'numbers: [1, 3]' },
  {
    name: 'add, delete and order in one patch (as kubectl apply sends)',
    original: 'flags: [a, b, c, x]',
    patch: '$setElementOrder/flags: [a, b, d]\n$deleteFromPrimitiveList/flags: [c]\nflags: [d]',
    // d is new to the server: it is placed before the server-only x.
    want: 'flags: [a, b, d, x]',
  },
  { name: '$setElementOrder alone reorders', original: 'flags: [a, b, c]', patch: '$setElementOrder/flags: [c, b, a]', want: 'flags: [c, b, a]' },
  { name: '$setElementOrder may name items the list lacks', original: 'ports: [1, 3]', patch: '$setElementOrder/ports: [3, 2, 1]', want: 'ports: [3, 1]' },
  { name: '$setElementOrder of a new list', original: 'name: a', patch: '$setElementOrder/flags: [b, a]\nflags: [b, a]', want: 'name: a\nflags: [b, a]' },
  {
    name: '$setElementOrder must agree with the patch list',
    original: 'flags: [a, c, b]',
    patch: '$setElementOrder/flags: [a, b, c]\nflags: [c, a]',
    error: ['BadRequest', /doesn't match \$setElementOrder list/],
  },
]);

table('lists of objects with a merge key', [
  { name: 'items merge by key', original: 'parts: [{name: a, size: 1}, {name: b}]', patch: 'parts: [{name: a, note: n}]', want: 'parts: [{name: a, size: 1, note: n}, {name: b}]' },
  { name: 'a new item goes first', original: 'parts: [{name: a}]', patch: 'parts: [{name: b, size: 2}]', want: 'parts: [{name: b, size: 2}, {name: a}]' },
  { name: 'null deletes a field of an item', original: 'parts: [{name: a, size: 1, note: n}]', patch: 'parts: [{name: a, size: null}]', want: 'parts: [{name: a, note: n}]' },
  { name: 'a new item is taken without its nulls', original: 'parts: [{name: a}]', patch: 'parts: [{name: b, note: null}]', want: 'parts: [{name: b}, {name: a}]' },
  { name: '$patch: delete removes the item', original: 'parts: [{name: a}, {name: b}, {name: c}]', patch: 'parts: [{name: b, $patch: delete}]', want: 'parts: [{name: a}, {name: c}]' },
  { name: '$patch: delete removes duplicates too', original: 'parts: [{name: a}, {name: a}, {name: b, size: 1}]', patch: 'parts: [{name: a, $patch: delete}]', want: 'parts: [{name: b, size: 1}]' },
  { name: '$patch: delete of a missing item changes nothing', original: 'parts: [{name: a}]', patch: 'parts: [{name: q, $patch: delete}]', want: 'parts: [{name: a}]' },
  { name: '$patch: delete in a new list adds no item', original: 'name: x', patch: 'parts: [{name: q, $patch: delete}, {name: r}]', want: 'name: x\nparts: [{name: r}]' },
  { name: '$patch: replace makes the patch the list', original: 'parts: [{name: a, size: 1}, {name: b}]', patch: 'parts: [{name: c}, {$patch: replace}]', want: 'parts: [{name: c}]' },
  { name: '$patch: replace alone empties the list', original: 'parts: [{name: a}, {name: b}]', patch: 'parts: [{$patch: replace}]', want: 'parts: []' },
  { name: 'an empty list changes nothing', original: 'parts: [{name: a}]', patch: 'parts: []', want: 'parts: [{name: a}]' },
  { name: 'null deletes the whole list', original: 'parts: [{name: a}]\nname: x', patch: 'parts: null', want: 'name: x' },
  {
    name: 'the patch order wins, server-only items keep their place',
    original: 'parts: [{name: a}, {name: b, size: 2}, {name: c}]',
    patch: 'parts: [{name: c, note: z}, {name: a, note: y}]',
    want: 'parts: [{name: b, size: 2}, {name: c, note: z}, {name: a, note: y}]',
  },
  {
    name: 'lists inside items merge by their own strategy',
    original: 'parts: [{name: a, parts: [{name: x, size: 1}], flags: [p], plain: [{name: k}]}]',
    patch: 'parts: [{name: a, parts: [{name: x, note: n}, {name: y}], flags: [q], plain: [{name: m}]}]',
    want: 'parts: [{name: a, parts: [{name: x, size: 1, note: n}, {name: y}], flags: [q, p], plain: [{name: m}]}]',
  },
  {
    name: 'a replaced list keeps nested merge lists as given',
    original: 'plain: [{name: a, parts: [{name: x}, {name: y}]}]',
    patch: 'plain: [{name: a, parts: [{name: y}]}]',
    want: 'plain: [{name: a, parts: [{name: y}]}]',
  },
  {
    name: '$setElementOrder orders merged items (kubectl apply adding an item)',
    original: 'parts: [{name: a, size: 1}, {name: b}]',
    patch: '$setElementOrder/parts: [{name: d}, {name: a}, {name: b}, {name: c}]\nparts: [{name: d, size: 4}, {name: c, size: 3}]',
    want: 'parts: [{name: d, size: 4}, {name: a, size: 1}, {name: b}, {name: c, size: 3}]',
  },
  {
    name: '$setElementOrder with a deleted item and a server-only item',
    original: 'parts: [{name: a}, {name: b, note: x}, {name: d, note: y}]',
    patch: '$setElementOrder/parts: [{name: b}, {name: c}]\nparts: [{name: c}, {name: a, $patch: delete}]',
    want: 'parts: [{name: b, note: x}, {name: d, note: y}, {name: c}]',
  },
  {
    name: '$setElementOrder when the deleted item was already gone',
    original: 'parts: [{name: a, note: x}, {name: d, note: y}]',
    patch: '$setElementOrder/parts: [{name: b}, {name: c}]\nparts: [{name: b}, {name: c}, {name: a, $patch: delete}]',
    want: 'parts: [{name: d, note: y}, {name: b}, {name: c}]',
  },
  {
    name: '$setElementOrder alone reorders items',
    original: 'parts: [{name: a}, {name: b}, {name: c}]',
    patch: '$setElementOrder/parts: [{name: c}, {name: a}, {name: b}]',
    want: 'parts: [{name: c}, {name: a}, {name: b}]',
  },
  {
    name: 'without a merge key in the schema the list replaces',
    original: 'plain: [{name: a, size: 1}]',
    patch: 'plain: [{name: a, note: n}]',
    want: 'plain: [{name: a, note: n}]',
  },
  {
    name: 'list-map keys stand in for a missing merge key under strategy merge',
    original: 'keyed: [{id: "1", v: a}, {id: "2", v: b}]',
    patch: 'keyed: [{id: "2", v: c}, {id: "1", $patch: delete}]',
    want: 'keyed: [{id: "2", v: c}]',
  },
  {
    name: 'a list-map without a patch strategy replaces (kube merges only tagged lists)',
    original: 'keyedAtomic: [{id: "1", v: a}, {id: "2", v: b}]',
    patch: 'keyedAtomic: [{id: "2", v: c}]',
    want: 'keyedAtomic: [{id: "2", v: c}]',
  },
]);

table('$retainKeys', [
  {
    name: 'clears the keys it does not list (a Deployment strategy switched to Recreate)',
    original: 'rollout: {type: Rolling, rolling: {surge: 1, unavailable: "25%"}}',
    patch: 'rollout: {$retainKeys: [type], type: Replace}',
    want: 'rollout: {type: Replace}',
  },
  { name: 'keeps listed keys the patch does not touch', original: 'rollout: {type: A, paused: "yes", rolling: {surge: 1}}', patch: 'rollout: {$retainKeys: [type, paused], type: B}', want: 'rollout: {type: B, paused: "yes"}' },
  { name: 'without the directive the map merges', original: 'rollout: {type: A, paused: "yes"}', patch: 'rollout: {type: B}', want: 'rollout: {type: B, paused: "yes"}' },
  { name: 'a null of an unlisted key is allowed', original: 'rollout: {type: A, paused: "yes"}', patch: 'rollout: {$retainKeys: [type], paused: null}', want: 'rollout: {type: A}' },
  {
    name: 'items of a merge,retainKeys list (a volume switched from disk to memory)',
    original: 'volumes: [{name: v, disk: {path: /d}}, {name: w, disk: {path: /e}}]',
    patch: 'volumes: [{name: v, $retainKeys: [name, memory], memory: {medium: RAM}}]',
    want: 'volumes: [{name: v, memory: {medium: RAM}}, {name: w, disk: {path: /e}}]',
  },
  { name: 'a key set but not listed is refused', original: 'rollout: {type: A}', patch: 'rollout: {$retainKeys: [type], paused: "x"}', error: ['BadRequest', /^invalid patch format of retainKeys$/] },
  { name: 'the directive must be a list', original: 'rollout: {type: A}', patch: 'rollout: {$retainKeys: type}', error: ['BadRequest', /^invalid patch format of retainKeys$/] },
]);

table('bad patches answer as kube-apiserver words them', [
  { name: 'an item without its merge key', original: 'parts: [{name: a}]', patch: 'parts: [{size: 2}]', error: ['BadRequest', /^map: map\[size:2\] does not contain declared merge key: name$/] },
  { name: 'a delete item without its merge key', original: 'parts: [{name: a}]', patch: 'parts: [{$patch: delete}]', error: ['BadRequest', /^map: map\[\$patch:delete\] does not contain declared merge key: name$/] },
  { name: 'an unknown $patch on a map', original: 'labels: {a: "1"}', patch: 'labels: {$patch: squash}', error: ['BadRequest', /^unknown patch type: squash in map: map\[\$patch:squash\]$/] },
  { name: '$patch: merge on a map is unknown too', original: 'labels: {a: "1"}', patch: 'labels: {$patch: merge}', error: ['BadRequest', /^unknown patch type: merge in map/] },
  { name: 'an unknown $patch in a list', original: 'parts: [{name: a}]', patch: 'parts: [{name: a, $patch: squash}]', error: ['BadRequest', /^unknown patch type: squash in map: map\[\$patch:squash name:a\]$/] },
  { name: '$patch: merge in a list', original: 'parts: [{name: a}]', patch: 'parts: [{$patch: merge}]', error: ['BadRequest', /^merging lists cannot yet be specified in the patch$/] },
  { name: 'items of another type than the list holds', original: 'parts: [{name: a}]', patch: 'parts: [x]', error: ['BadRequest', /^list element types are not identical: \[\[map\[name:a\]\] \[x\]\]$/] },
  { name: 'mixed primitives in a union', original: 'flags: [a]', patch: 'flags: [1]', error: ['BadRequest', /^list element types are not identical/] },
  { name: 'a list of lists', original: 'flags: [a]', patch: 'flags: [[a]]', error: ['Invalid', /^lists of lists are not supported$/] },
  { name: '$setElementOrder that is not a list', original: 'flags: [a]', patch: '$setElementOrder/flags: a', error: ['BadRequest', /^expected a \[\]interface \{\}, but received a string$/] },
  { name: '$setElementOrder without a field', original: 'flags: [a]', patch: '$setElementOrder: [a]', error: ['BadRequest', /^invalid patch format of setElementOrder list$/] },
  { name: '$deleteFromPrimitiveList without a field', original: 'flags: [a]', patch: '$deleteFromPrimitiveList: [a]', error: ['BadRequest', /^invalid patch format of primitive list$/] },
  { name: '$setElementOrder items without the merge key', original: 'parts: [{name: a}]', patch: '$setElementOrder/parts: [{size: 1}]\nparts: [{name: a}]', error: ['BadRequest', /does not contain declared merge key: name/] },
  { name: 'a patch that is not an object', original: 'name: a', patch: '[1]', error: ['BadRequest', /^json: cannot unmarshal array into Go value of type map\[string\]interface \{\}$/] },
]);

describe('built-in schemas', () => {
  const sa = serviceAccount().schema;
  it('ServiceAccount secrets merge by name; imagePullSecrets replace', () => {
    run(
      {
        name: 'sa',
        original: 'metadata: {name: s, finalizers: [a]}\nsecrets: [{name: one}, {name: two}]\nimagePullSecrets: [{name: r1}]',
        patch: 'metadata: {finalizers: [b]}\nsecrets: [{name: three}, {name: one, $patch: delete}]\nimagePullSecrets: [{name: r2}]',
        want: 'metadata: {name: s, finalizers: [b, a]}\nsecrets: [{name: three}, {name: two}]\nimagePullSecrets: [{name: r2}]',
      },
      sa,
    );
  });
  it('ownerReferences merge by uid', () => {
    run(
      {
        name: 'owners',
        original: 'metadata: {name: s, ownerReferences: [{uid: u1, name: a, kind: K, apiVersion: v1}]}',
        patch: 'metadata: {ownerReferences: [{uid: u2, name: b, kind: K, apiVersion: v1}]}',
        want: 'metadata: {name: s, ownerReferences: [{uid: u2, name: b, kind: K, apiVersion: v1}, {uid: u1, name: a, kind: K, apiVersion: v1}]}',
      },
      sa,
    );
  });
});

describe('the kubectl patch walkthrough (kubernetes.io), on a look-alike schema', () => {
  const container = obj({ name: str(), image: str() });
  const workload = obj({
    spec: obj({
      containers: mergeList(container, 'name'),
      tolerations: arr(obj({ effect: str(), key: str(), operator: str() })),
      strategy: obj({ type: str(), rollingUpdate: obj({ maxSurge: intOrString() }) }, { 'x-kubernetes-patch-strategy': 'retainKeys' }),
    }),
  });
  it('a strategic patch adds a container and keeps the other; a new one goes first', () => {
    run(
      { name: 'containers', original: 'spec: {containers: [{name: web, image: nginx}]}', patch: 'spec: {containers: [{name: cache, image: redis}]}', want: 'spec: {containers: [{name: cache, image: redis}, {name: web, image: nginx}]}' },
      workload,
    );
  });
  it('a list without a patch strategy (tolerations) is replaced', () => {
    run(
      { name: 'tolerations', original: 'spec: {tolerations: [{effect: NoSchedule, key: dedicated}]}', patch: 'spec: {tolerations: [{effect: NoSchedule, key: disktype}]}', want: 'spec: {tolerations: [{effect: NoSchedule, key: disktype}]}' },
      workload,
    );
  });
  it('$retainKeys switches the strategy to Recreate and drops rollingUpdate', () => {
    run(
      { name: 'retain', original: 'spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: "25%"}}}', patch: 'spec: {strategy: {$retainKeys: [type], type: Recreate}}', want: 'spec: {strategy: {type: Recreate}}' },
      workload,
    );
  });
  it('without $retainKeys the same change keeps rollingUpdate (what the walkthrough shows fails validation)', () => {
    run(
      { name: 'no-retain', original: 'spec: {strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: "25%"}}}', patch: 'spec: {strategy: {type: Recreate}}', want: 'spec: {strategy: {type: Recreate, rollingUpdate: {maxSurge: "25%"}}}' },
      workload,
    );
  });
});

describe('limits and formatting', () => {
  it('refuses a patch nested deeper than the limit, and merges one just within it', () => {
    const nest = (depth: number): Record<string, unknown> => {
      let v: Record<string, unknown> = {};
      for (let i = 1; i < depth; i++) v = { free: v };
      return v;
    };
    assert.throws(() => applyStrategicPatch({}, nest(MAX_PATCH_DEPTH + 1), gadget), (e: unknown) => isKumoError(e, 'BadRequest') && /nested too deeply/.test(e.message));
    // Both sides deep: every level recurses.
    const deep = nest(MAX_PATCH_DEPTH);
    assert.deepEqual(applyStrategicPatch(deep, nest(MAX_PATCH_DEPTH), gadget), deep);
  });
  it('prints values as Go does', () => {
    assert.equal(goString({ b: [1, 'x', null], a: { c: true } }), 'map[a:map[c:true] b:[1 x <nil>]]');
  });
  it('merges and deletes in long lists without quadratic work', () => {
    const n = 20_000;
    const original = { parts: Array.from({ length: n }, (_, i) => ({ name: `p${i}` })) };
    const t0 = Date.now();
    const reversed = applyStrategicPatch(original, { parts: Array.from({ length: n }, (_, i) => ({ name: `p${n - 1 - i}`, size: i })) }, gadget) as { parts: { name: string }[] };
    assert.equal(reversed.parts.length, n);
    assert.deepEqual(reversed.parts[0], { name: `p${n - 1}`, size: 0 });
    const emptied = applyStrategicPatch(original, { parts: Array.from({ length: n }, (_, i) => ({ name: `p${i}`, $patch: 'delete' })) }, gadget) as { parts: unknown[] };
    assert.deepEqual(emptied.parts, []);
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
  });
});

describe('random patches (seeded)', () => {
  // A small deterministic PRNG (mulberry32), so a failure can be replayed from its seed.
  const prng = (seed: number): (() => number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const KEYS = ['name', 'size', 'note', 'labels', 'parts', 'flags', 'ports', 'plain', 'numbers', 'settings', 'rollout', 'volumes', 'keyed', 'free', 'type', 'x', '__proto__', '$patch', '$retainKeys', '$setElementOrder/parts', '$setElementOrder/flags', '$deleteFromPrimitiveList/flags', '$deleteFromPrimitiveList/parts', '$setElementOrder', '$bogus'];
  const SCALARS: unknown[] = [null, true, false, 0, 1, 2.5, -7, '', 'a', 'b', 'delete', 'replace', 'merge', 'squash'];
  const gen = (rnd: () => number, depth: number): unknown => {
    const r = rnd();
    if (depth <= 0 || r < 0.4) return SCALARS[Math.floor(rnd() * SCALARS.length)];
    if (r < 0.7) {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--) {
        const k = KEYS[Math.floor(rnd() * KEYS.length)] ?? 'x';
        Object.defineProperty(o, k, { value: gen(rnd, depth - 1), enumerable: true, writable: true, configurable: true });
      }
      return o;
    }
    return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(rnd, depth - 1));
  };
  const sa = serviceAccount().schema;
  it('only ever answers a JSON object or a BadRequest/Invalid, and leaves the original alone', () => {
    const seed = 20260513;
    const rnd = prng(seed);
    let merged = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const original = gen(rnd, 4);
      const patch = gen(rnd, 4);
      const base = original !== null && typeof original === 'object' && !Array.isArray(original) ? (original as Record<string, unknown>) : { name: original };
      const before = JSON.stringify(base);
      try {
        const out = applyStrategicPatch(base, patch, i % 2 === 0 ? gadget : sa);
        assert.deepEqual(JSON.parse(JSON.stringify(out)), out, `case ${i} of seed ${seed}: the result is plain JSON`);
        merged++;
      } catch (err) {
        assert.ok(isKumoError(err) && (err.code === 'BadRequest' || err.code === 'Invalid'), `case ${i} of seed ${seed}: ${String(err)}\n${JSON.stringify(base)}\n${JSON.stringify(patch)}`);
        refused++;
      }
      assert.equal(JSON.stringify(base), before, `case ${i} of seed ${seed}: the original was changed`);
    }
    assert.ok(merged > 1000 && refused > 100, `merged ${merged}, refused ${refused}`);
  });
});
