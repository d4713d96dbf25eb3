/**
 * The micro-benchmark extension point. A section is a named group of measurements;
 * run.ts runs every section of `sections` (sections.ts) plus those exported by the
 * optional modules in OPTIONAL_SECTION_MODULES (for example `putitem.ts`, which exports
 * `sections: BenchSection[]`), and prints one table.
 */

export interface BenchRow {
  /** What was measured, e.g. 'ring 1 KB one-way'. */
  metric: string;
  value: number;
  /** Unit of value, e.g. 'rec/s', 'µs', 'ops/s'. */
  unit: string;
  /** The target or reference, as text (e.g. '≥ 5× postMessage', 'ref ~2.7 µs'). */
  target?: string;
  /** Verdict against a hard target; undefined for reference-only rows. */
  pass?: boolean;
  /** Anything a reader needs to interpret the row (mechanism, sample count). */
  note?: string;
}

export interface BenchSection {
  /** Short name, also the CLI filter: `node dist/bench/micro/run.js ring codec`. */
  name: string;
  /** Rough wall time, for planning the ~2 minute budget. */
  budgetSeconds: number;
  run(): Promise<BenchRow[]>;
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** The 10-field, 900-byte DynamoDB-shaped item YCSB writes (fieldcount=10, fieldlength=90). */
export function ycsbItem(seed = 1): Record<string, { S: string }> {
  let x = seed >>> 0 || 1;
  const item: Record<string, { S: string }> = {};
  for (let f = 0; f < 10; f++) {
    let s = '';
    for (let k = 0; k < 90; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      s += String.fromCharCode(33 + ((x >>> 0) % 94));
    }
    item[`field${f}`] = { S: s };
  }
  return item;
}
