// Helpers for the computed Table cells of built-in kinds (`printRow`), matching what kube-apiserver's
// printers put in each cell, so `kubectl get` reads the same against Kumo.
import { valueAt } from './validation.js';

/** k8s.io/apimachinery's duration.HumanDuration: `45s`, `3m20s`, `5h`, `3d4h`, `2y`. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    const y = Math.trunc(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Time since an RFC 3339 timestamp as kubectl shows it; `<unknown>` when absent or unparseable. */
export function since(timestamp: unknown, now: number = Date.now()): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

/** The value at a dotted path, or undefined. */
export const at = valueAt;

export function strAt(obj: unknown, path: string): string {
  const v = at(obj, path);
  return typeof v === 'string' ? v : '';
}

/** Number of keys of the map at `path` (0 when absent). */
export function keyCount(obj: unknown, path: string): number {
  const v = at(obj, path);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).length : 0;
}

export function listAt(obj: unknown, path: string): unknown[] {
  const v = at(obj, path);
  return Array.isArray(v) ? (v as unknown[]) : [];
}

/** Status of the condition of `type` in `.status.conditions` ('' when absent). */
export function conditionStatus(obj: unknown, type: string): string {
  for (const c of listAt(obj, 'status.conditions')) {
    if (c !== null && typeof c === 'object' && (c as Record<string, unknown>)['type'] === type) {
      const s = (c as Record<string, unknown>)['status'];
      return typeof s === 'string' ? s : '';
    }
  }
  return '';
}
