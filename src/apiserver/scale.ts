// The scale subresource of custom resources (apiextensions-apiserver's scale): an autoscaling/v1
// Scale read from and written to the paths the CRD names — spec.replicas at specReplicasPath,
// status.replicas at statusReplicasPath, the selector at labelSelectorPath — so `kubectl scale` and
// autoscalers work on any kind that declares it.
import { KumoError } from '../lib/errors.js';
import type { KObject, ScaleSubresource } from '../api/types.js';
import { isObject, meta } from './object.js';

/** `.spec.replicas` → ['spec', 'replicas'] (the simple paths a CRD's scale subresource allows). */
function segments(path: string): string[] {
  return path.replace(/^\./, '').split('.').filter((s) => s !== '');
}

function read(obj: KObject, path: string): unknown {
  let cur: unknown = obj;
  for (const s of segments(path)) {
    if (!isObject(cur)) return undefined;
    cur = cur[s];
  }
  return cur;
}

function write(obj: KObject, path: string, value: unknown): void {
  const parts = segments(path);
  let cur: Record<string, unknown> = obj;
  for (const s of parts.slice(0, -1)) {
    const next = cur[s];
    if (!isObject(next)) cur[s] = {};
    cur = cur[s] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1];
  if (last !== undefined) cur[last] = value;
}

/** The Scale of `obj`. */
export function toScale(sc: ScaleSubresource, obj: KObject): KObject {
  const m = meta(obj);
  const md: Record<string, unknown> = { name: m.name, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp };
  if (m.namespace !== undefined) md.namespace = m.namespace;
  const spec = read(obj, sc.specReplicasPath);
  const status = read(obj, sc.statusReplicasPath);
  const out: KObject = {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: md,
    spec: { replicas: typeof spec === 'number' ? spec : 0 },
    status: { replicas: typeof status === 'number' ? status : 0 },
  };
  if (sc.labelSelectorPath) {
    const sel = read(obj, sc.labelSelectorPath);
    if (typeof sel === 'string' && sel !== '') (out.status as Record<string, unknown>).selector = sel;
  }
  return out;
}

/**
 * `obj` with the replicas of `scale` written to specReplicasPath. Invalid (422 naming the field) when
 * spec.replicas is not a non-negative integer; Conflict when the Scale names an older resourceVersion.
 */
export function fromScale(sc: ScaleSubresource, obj: KObject, scale: KObject, name: string): KObject {
  if (scale.kind !== undefined && scale.kind !== 'Scale') throw new KumoError('BadRequest', `expected a Scale, got ${String(scale.kind)}`);
  const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new KumoError('Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0`, {
      name,
      group: 'autoscaling',
      kind: 'Scale',
      causes: [{ field: 'spec.replicas', reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }],
    });
  }
  const rv = isObject(scale.metadata) ? scale.metadata.resourceVersion : undefined;
  if (typeof rv === 'string' && rv !== '' && rv !== meta(obj).resourceVersion) {
    throw new KumoError('Conflict', `Operation cannot be fulfilled on scale "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, kind: 'scale' });
  }
  write(obj, sc.specReplicasPath, replicas);
  return obj;
}
