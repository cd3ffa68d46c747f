// The output of every benchmark command: one line per figure, with the baseline measured in the same
// run, the ratio, and the target's PASS/FAIL; then one closing line naming any missed target.

export interface Row {
  figure: string;
  value: number;
  unit: string;
  baseline?: number;
  target?: string;
  pass?: boolean;
  note?: string;
}

export function fmt(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toString() : n.toFixed(2);
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export class Report {
  private readonly rows: Row[] = [];

  constructor(private readonly figureWidth: number) {}

  /** Prints one figure under a label (the backend: `sqlite`, `etcd`). */
  add(label: string, r: Row): void {
    this.rows.push({ ...r, figure: `${label} ${r.figure}` });
    const ratio = r.baseline ? ` | baseline ${fmt(r.baseline)} ${r.unit} | ratio ${(r.value / r.baseline).toFixed(2)}` : '';
    const target = r.target ? ` | target ${r.target}: ${r.pass ? 'PASS' : 'FAIL'}` : '';
    const note = r.note ? ` | ${r.note}` : '';
    console.log(`${label.padEnd(7)} ${r.figure.padEnd(this.figureWidth)} ${fmt(r.value).padStart(10)} ${r.unit}${ratio}${target}${note}`);
  }

  /** `all targets met`, or the targets missed. */
  summary(): string {
    const failed = this.rows.filter((r) => r.pass === false);
    return failed.length === 0 ? 'all targets met' : `targets missed: ${failed.map((r) => r.figure).join('; ')}`;
  }
}
