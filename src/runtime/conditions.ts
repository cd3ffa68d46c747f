// Conditions with cluster-api's rules (util/conditions; STYLE.md practice 8):
// - setting a condition stamps `observedGeneration` with the object's metadata.generation;
// - `lastTransitionTime` moves only when the status changes (a new reason or message does not move it);
// - a missing condition reads as Unknown;
// - every condition has a reason (CamelCase), and every False one a message a person can act on —
//   a False without either is a bug in the controller, refused here rather than stored.
// Conditions live in `status.conditions` (metav1.Condition). Functions take the time they stamp, so
// decisions stay pure and tests need no clock.
import type { KObject } from '../api/types.js';

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339, second precision. */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** What a controller sets; the library adds observedGeneration and lastTransitionTime. */
export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const TYPE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isCondition(v: unknown): v is Condition {
  return isRecord(v) && typeof v.type === 'string' && (v.status === 'True' || v.status === 'False' || v.status === 'Unknown');
}

/** The conditions of `obj` (a copy of the list; the entries are the object's). */
export function getConditions(obj: KObject): Condition[] {
  const status = obj.status;
  if (!isRecord(status) || !Array.isArray(status.conditions)) return [];
  return (status.conditions as unknown[]).filter(isCondition);
}

export function getCondition(obj: KObject, type: string): Condition | undefined {
  return getConditions(obj).find((c) => c.type === type);
}

/** The status of a condition; a missing one is Unknown. */
export function conditionStatus(obj: KObject, type: string): ConditionStatus {
  return getCondition(obj, type)?.status ?? 'Unknown';
}

export function isTrue(obj: KObject, type: string): boolean {
  return conditionStatus(obj, type) === 'True';
}

export function isFalse(obj: KObject, type: string): boolean {
  return conditionStatus(obj, type) === 'False';
}

/** Whether the condition was set for the object's current generation. */
export function isUpToDate(obj: KObject, type: string): boolean {
  const c = getCondition(obj, type);
  const gen = obj.metadata?.generation;
  return c !== undefined && (typeof gen !== 'number' || c.observedGeneration === gen);
}

/**
 * Sets a condition on `obj` (in place). Returns whether anything changed. Throws a TypeError for a
 * condition that breaks the rules (bad type or reason, a False without a message).
 */
export function setCondition(obj: KObject, input: ConditionInput, now: Date): boolean {
  checkInput(input);
  const status = isRecord(obj.status) ? obj.status : (obj.status = {});
  const list = Array.isArray(status.conditions) ? (status.conditions as unknown[]) : (status.conditions = []);
  const gen = obj.metadata?.generation;
  const next: Condition = {
    type: input.type,
    status: input.status,
    lastTransitionTime: rfc3339(now),
    reason: input.reason,
    message: input.message ?? '',
  };
  if (typeof gen === 'number') next.observedGeneration = gen;
  const i = list.findIndex((c) => isRecord(c) && c.type === input.type);
  const old = i >= 0 ? list[i] : undefined;
  if (isCondition(old)) {
    if (old.status === next.status && typeof old.lastTransitionTime === 'string' && old.lastTransitionTime !== '') next.lastTransitionTime = old.lastTransitionTime;
    if (old.status === next.status && old.reason === next.reason && old.message === next.message && old.observedGeneration === next.observedGeneration && old.lastTransitionTime === next.lastTransitionTime) return false;
  }
  const ordered = orderFields(next);
  if (i >= 0) list[i] = ordered;
  else list.push(ordered);
  return true;
}

export function markTrue(obj: KObject, type: string, reason: string, message: string, now: Date): boolean {
  return setCondition(obj, { type, status: 'True', reason, message }, now);
}

/** False needs a reason and a message a person can act on ("3 of 5 machines unreachable: m-1, m-2, m-4"). */
export function markFalse(obj: KObject, type: string, reason: string, message: string, now: Date): boolean {
  return setCondition(obj, { type, status: 'False', reason, message }, now);
}

export function markUnknown(obj: KObject, type: string, reason: string, message: string, now: Date): boolean {
  return setCondition(obj, { type, status: 'Unknown', reason, message }, now);
}

/** Removes a condition; returns whether it was there. */
export function deleteCondition(obj: KObject, type: string): boolean {
  const status = obj.status;
  if (!isRecord(status) || !Array.isArray(status.conditions)) return false;
  const list = status.conditions as unknown[];
  const i = list.findIndex((c) => isRecord(c) && c.type === type);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

/**
 * A summary condition (cluster-api's SetSummary, e.g. Ready): False if any of `types` is False (with
 * that condition's reason and the messages of every False one), else Unknown if any is Unknown or
 * missing, else True. Returns whether anything changed.
 */
export function setSummary(obj: KObject, summary: string, types: string[], now: Date): boolean {
  const parts = types.map((t) => ({ type: t, c: getCondition(obj, t) }));
  const falses = parts.filter((p) => p.c?.status === 'False');
  if (falses.length > 0) {
    const first = falses[0]?.c as Condition;
    const message = falses.map((p) => `${p.type}: ${p.c?.message ?? ''}`).join('; ');
    return setCondition(obj, { type: summary, status: 'False', reason: first.reason, message }, now);
  }
  const unknown = parts.filter((p) => p.c === undefined || p.c.status === 'Unknown');
  if (unknown.length > 0) {
    const first = unknown[0];
    const reason = first?.c?.reason ?? 'NotYetReported';
    const message = unknown.map((p) => `${p.type}: ${p.c ? p.c.message || 'unknown' : 'not yet reported'}`).join('; ');
    return setCondition(obj, { type: summary, status: 'Unknown', reason, message }, now);
  }
  return setCondition(obj, { type: summary, status: 'True', reason: 'AsExpected', message: '' }, now);
}

function checkInput(c: ConditionInput): void {
  if (!TYPE.test(c.type) || c.type.length > 316) throw new TypeError(`condition type ${JSON.stringify(c.type)} is not a valid condition type`);
  if (c.status !== 'True' && c.status !== 'False' && c.status !== 'Unknown') throw new TypeError(`condition ${c.type}: status must be True, False or Unknown`);
  if (!REASON.test(c.reason) || c.reason.length > 1024) throw new TypeError(`condition ${c.type}: reason ${JSON.stringify(c.reason)} must be CamelCase (${REASON.source})`);
  if (c.status === 'False' && (c.message === undefined || c.message.trim() === '')) throw new TypeError(`condition ${c.type} is False: it needs a message saying what is wrong`);
}

/** metav1.Condition's field order, so stored conditions read the same as kube's. */
function orderFields(c: Condition): Condition {
  const out: Condition = { type: c.type, status: c.status, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
  if (c.observedGeneration !== undefined) return { type: c.type, status: c.status, observedGeneration: c.observedGeneration, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
  return out;
}
