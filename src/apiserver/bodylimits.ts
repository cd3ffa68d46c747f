// Limits on decoding request bodies, so that no body a client can send within the 3 MiB limit turns
// into a 500 or stalls the server. Found by the API fuzz test (src/apiserver/fuzz.e2e.test.ts).
//
// Depth: kube-apiserver's JSON decoder stops at 10,000 levels; Node's recursion cannot follow that
// far (structuredClone, which copies every object a write touches, runs out of stack near 1,900
// levels; JSON.stringify near 4,100), so a deeper body turned into a 500 deep inside a write. Kumo
// refuses anything deeper than 1,000 levels at the edge, as it decodes the body (the same bound as a
// strategic merge patch's, api/patch/strategic.ts); no Kubernetes object comes near it.
//
// Numbers: JSON's `1e400` parses to Infinity and YAML has `.inf` and `.nan`; JSON.stringify stores
// them as null, past validation. Such a body is refused (as kube's float64 decoding does).
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
  return walk(value, limit).depth;
}

/** One pass without recursion: the nesting depth (up to just past `limit`) and whether a number is not finite. */
function walk(value: unknown, limit: number): { depth: number; nonFinite: boolean } {
  let max = 0;
  let nonFinite = typeof value === 'number' && !Number.isFinite(value);
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > max) {
      max = depth;
      if (max > limit) return { depth: max, nonFinite };
    }
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth]);
      else if (typeof child === 'number' && !Number.isFinite(child)) nonFinite = true;
    }
  }
  return { depth: max, nonFinite };
}

/**
 * Why a decoded body cannot be taken, or undefined: nested deeper than MAX_BODY_DEPTH, or holding a
 * number no float64 holds (JSON's `1e400` parses to Infinity, YAML has `.inf` and `.nan`; stored,
 * JSON.stringify wrote them as null — found by the API fuzz test, seed 606; kube refuses them too).
 */
export function bodyProblem(value: unknown): string | undefined {
  const { depth, nonFinite } = walk(value, MAX_BODY_DEPTH);
  if (depth > MAX_BODY_DEPTH) return `exceeded max depth of ${MAX_BODY_DEPTH} nested objects and lists`;
  if (nonFinite) return 'a number is out of the range of a float64 (or not a number)';
  return undefined;
}

/** Throws BadRequest (`<prefix>: <why>`) for a decoded body bodyProblem refuses. */
export function checkDecodedBody(value: unknown, prefix = 'the body of the request could not be decoded'): void {
  const why = bodyProblem(value);
  if (why !== undefined) throw new KumoError('BadRequest', `${prefix}: ${why}`);
}

/** JSON.parse of a request body (V8's parser does not recurse), then checkDecodedBody; BadRequest `<prefix>: <why>` for either. */
export function parseJsonBody(body: Buffer, prefix: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new KumoError('BadRequest', `${prefix}: ${err instanceof Error ? err.message : String(err)}`);
  }
  checkDecodedBody(v, prefix);
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
      const why = bodyProblem(v);
      if (why !== undefined) throw new Error(why);
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
  const v = doc.toJS() as unknown;
  // (Its depth the yaml package bounds by itself, near 800 levels.)
  const why = bodyProblem(v);
  if (why !== undefined) throw new Error(why);
  return v;
}
