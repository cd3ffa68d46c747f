// How deep a request body may nest. kube-apiserver's JSON decoder stops at 10,000 levels; Node's
// recursion cannot follow that far (structuredClone, which copies every object a write touches, runs
// out of stack near 1,900 levels; JSON.stringify near 4,100), so a deeper body turned into a 500 deep
// inside a write. Kumo refuses anything deeper than 1,000 levels at the edge, as it decodes the body
// (the same bound as a strategic merge patch's, api/patch/strategic.ts); no Kubernetes object comes
// near it. Found by the API fuzz test (src/apiserver/fuzz.e2e.test.ts).
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
