// resource.Quantity (k8s.io/apimachinery/pkg/api/resource) as quota and limit arithmetic needs it:
// parse `2`, `500m`, `4Gi`, `1e3`; add, subtract, compare exactly; print in kube's canonical form.
// Values are kept exactly as a count of nano-units (bigint): every decimal suffix down to `n` and
// every binary suffix is exact; finer fractions round up to the next nano-unit, as kube rounds up.
// The format (how a value prints) follows the suffix it was written with, and a sum keeps the format
// of its left side unless that side is zero (kube's Quantity.Add).

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value in units of 10^-9. */
  readonly nano: bigint;
  readonly format: QuantityFormat;
}

const NANO = 1_000_000_000n;
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const DECIMAL_EXPONENTS: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX_OF: Readonly<Record<number, string>> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const QUANTITY_RE = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;
/** Beyond this exponent a value is not a quantity kube could hold either. */
const MAX_EXPONENT = 30;

export const ZERO: Quantity = Object.freeze({ nano: 0n, format: 'DecimalSI' });

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n === b > 0n ? q + 1n : q;
}

/** Parses a quantity (a string, or a JSON number); null when it is not one. */
export function parseQuantity(v: unknown): Quantity | null {
  let text: string;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    text = Number.isInteger(v) ? BigInt(v).toString() : String(v);
  } else if (typeof v === 'string') {
    text = v.trim();
  } else {
    return null;
  }
  const m = QUANTITY_RE.exec(text);
  if (!m) return null;
  const sign = m[1] === '-' ? -1n : 1n;
  const num = m[2] ?? '0';
  const suffix = m[3] ?? '';
  const dot = num.indexOf('.');
  const intPart = dot < 0 ? num : num.slice(0, dot);
  const fracPart = dot < 0 ? '' : num.slice(dot + 1);
  const mantissa = BigInt(`${intPart === '' ? '0' : intPart}${fracPart}`);
  const scale = 10n ** BigInt(fracPart.length);
  let nano: bigint;
  let format: QuantityFormat;
  const binary = BINARY_SUFFIXES.indexOf(suffix as (typeof BINARY_SUFFIXES)[number]);
  if (suffix !== '' && binary > 0) {
    format = 'BinarySI';
    nano = ceilDiv(mantissa * 1024n ** BigInt(binary) * NANO, scale);
  } else {
    let exp: number;
    if (suffix.startsWith('e') || suffix.startsWith('E')) {
      format = 'DecimalExponent';
      exp = Number(suffix.slice(1));
    } else {
      format = 'DecimalSI';
      exp = DECIMAL_EXPONENTS[suffix] ?? 0;
    }
    if (Math.abs(exp) > MAX_EXPONENT) return null;
    const shift = exp + 9;
    nano = shift >= 0 ? ceilDiv(mantissa * 10n ** BigInt(shift), scale) : ceilDiv(mantissa, scale * 10n ** BigInt(-shift));
  }
  return { nano: sign * nano, format };
}

/** A whole number as a DecimalSI quantity. */
export function quantityOf(n: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nano: BigInt(n) * NANO, format };
}

/** kube's canonical text of a quantity: `0`, `500m`, `2`, `1k`, `4Gi`, `1536Mi`, `1e3`. */
export function formatQuantity(q: Quantity): string {
  if (q.nano === 0n) return '0';
  const neg = q.nano < 0n;
  const abs = neg ? -q.nano : q.nano;
  const sign = neg ? '-' : '';
  let format = q.format;
  // Binary suffixes only for whole numbers of at least 1Ki (kube's CanonicalizeBytes).
  if (format === 'BinarySI' && (abs < 1024n * NANO || abs % NANO !== 0n)) format = 'DecimalSI';
  if (format === 'BinarySI') {
    let n = abs / NANO;
    let k = 0;
    while (k < BINARY_SUFFIXES.length - 1 && n % 1024n === 0n) {
      n /= 1024n;
      k++;
    }
    return `${sign}${n}${BINARY_SUFFIXES[k] ?? ''}`;
  }
  let mantissa = abs;
  let exp = -9;
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${sign}${mantissa}` : `${sign}${mantissa}e${exp}`;
  return `${sign}${mantissa}${DECIMAL_SUFFIX_OF[exp] ?? ''}`;
}

export function addQuantities(a: Quantity, b: Quantity): Quantity {
  return { nano: a.nano + b.nano, format: a.nano === 0n ? b.format : a.format };
}

export function subtractQuantities(a: Quantity, b: Quantity): Quantity {
  return { nano: a.nano - b.nano, format: a.nano === 0n ? b.format : a.format };
}

export function scaleQuantity(q: Quantity, n: number | bigint): Quantity {
  return { nano: q.nano * BigInt(n), format: q.format };
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nano < b.nano ? -1 : a.nano > b.nano ? 1 : 0;
}

export function isWholeQuantity(q: Quantity): boolean {
  return q.nano % NANO === 0n;
}

/** The value rounded up to a whole number (kube's Quantity.Value). */
export function quantityValue(q: Quantity): number {
  return Number(ceilDiv(q.nano, NANO));
}

/** The value in thousandths, rounded up (kube's Quantity.MilliValue). */
export function quantityMilliValue(q: Quantity): number {
  return Number(ceilDiv(q.nano, 1_000_000n));
}

/** A name → quantity list (core/v1 ResourceList), in the order written. */
export type ResourceList = Map<string, Quantity>;

/** Parses a ResourceList from a JSON map; entries that are not quantities are left out. */
export function parseResourceList(v: unknown): ResourceList {
  const out: ResourceList = new Map();
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const q = parseQuantity(raw);
    if (q) out.set(k, q);
  }
  return out;
}

/** A ResourceList as JSON (canonical strings, keys sorted as kube's maps serialize). */
export function resourceListJSON(list: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...list.keys()].sort()) out[k] = formatQuantity(list.get(k) ?? ZERO);
  return out;
}

/** `a=1,b=2Gi`, names sorted (kube's quota prettyPrint). */
export function prettyResourceList(list: ResourceList): string {
  return [...list.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(list.get(k) ?? ZERO)}`)
    .join(',');
}
