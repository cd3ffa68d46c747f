// Limits on decoding request bodies, so that no body a client can send within the 3 MiB limit turns
// into a 500 or stalls the server. Found by the API fuzz test (src/apiserver/fuzz.e2e.test.ts).
//
// Depth: kube-apiserver's JSON decoder stops at 10,000 levels; Node's recursion cannot follow that
// far (structuredClone, which copies every object a write touches, runs out of stack near 1,900
// levels; JSON.stringify near 4,100), so a deeper body turned into a 500 deep inside a write. Kumo
// refuses anything deeper than 1,000 levels at the edge, as it decodes the body (the same bound as a
// strategic merge patch's, api/patch/strategic.ts); no Kubernetes object comes near it.
//
// YAML keys: the yaml package checks each mapping's keys for duplicates pair by pair, so a 1 MiB
// mapping of 100,000 keys held the event loop for minutes (every other request hung behind it).
// Bodies are parsed without that check, and duplicates are then found with one set per mapping; a
// body that is JSON (what client-go sends) is read by JSON.parse.
import YAML from 'yaml';
import { KumoError } from '../lib/errors.js';

export const MAX_BODY_DEPTH = 1000;

/** The nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1), counted without recursion; stops past `limit`. */
export function nestingDepth(value: unknown, limit = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) {
      max = depth;
      if (max > limit) return max;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth]);
    }
  }
  return max;
}

/** Throws BadRequest (`<prefix>: exceeded max depth …`) when a decoded body nests deeper than MAX_BODY_DEPTH. */
export function checkBodyDepth(value: unknown, prefix = 'the body of the request could not be decoded'): void {
  if (nestingDepth(value, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
    throw new KumoError('BadRequest', `${prefix}: exceeded max depth of ${MAX_BODY_DEPTH} nested objects and lists`);
  }
}

/** JSON.parse of a request body (V8's parser does not recurse), then the depth check; BadRequest `<prefix>: <why>` for either. */
export function parseJsonBody(body: Buffer, prefix: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new KumoError('BadRequest', `${prefix}: ${err instanceof Error ? err.message : String(err)}`);
  }
  checkBodyDepth(v, prefix);
  return v;
}

/**
 * YAML.parse of a request body, with duplicate keys refused as the yaml package refuses them but
 * found in one pass over each mapping (its own check compares every pair of keys). Throws the yaml
 * package's errors (parse errors, excessive aliases) and `Map keys must be unique: "<key>"`.
 */
export function parseYamlBody(body: Buffer): unknown {
  const text = body.toString('utf8');
  // JSON is YAML, and what client-go sends: read it as JSON (some 50 times faster than the yaml
  // package, which keeps the event loop for ~18 µs a key) unless it is not JSON after all.
  if (/^\s*[{[]/.test(text)) {
    let v: unknown;
    try {
      v = JSON.parse(text) as unknown;
    } catch {
      // YAML's flow style, or broken: the YAML parser decides.
    }
    if (v !== undefined) {
      // (The yaml package stops near 800 levels by itself.)
      if (nestingDepth(v, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) throw new Error(`exceeded max depth of ${MAX_BODY_DEPTH} nested objects and lists`);
      return v;
    }
  }
  const doc = YAML.parseDocument(text, { uniqueKeys: false });
  const first = doc.errors[0];
  if (first) throw first;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (YAML.isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key: unknown = pair.key;
        if (YAML.isScalar(key)) {
          const id = `${typeof key.value}:${String(key.value)}`;
          if (seen.has(id)) throw new Error(`Map keys must be unique: ${JSON.stringify(String(key.value)).slice(0, 100)}`);
          seen.add(id);
        }
        stack.push(pair.value);
      }
    } else if (YAML.isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return doc.toJS() as unknown;
}
