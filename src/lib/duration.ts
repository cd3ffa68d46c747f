// Durations as kube-apiserver's flags take them (Go's time.ParseDuration): `300ms`, `10s`, `5m`,
// `1h30m`, `1.5h`; a bare `0` is zero. No sign, no bare numbers other than 0.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds (possibly fractional) in a Go-style duration, or null when `s` is not one. */
export function parseDuration(s: string): number | null {
  if (s === '0') return 0;
  if (s === '') return null;
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (m === null) return null;
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
  }
  return Number.isFinite(ms) ? ms : null;
}
