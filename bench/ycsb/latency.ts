/**
 * Latency recording: HdrHistograms in microseconds, per operation type, kept three ways
 * (YCSB's `measurement.interval=both` plus failures): from the intended start, from the
 * actual start, and failed operations. Client threads record, then send their histograms
 * to the main thread encoded (HdrHistogram's compressed base64, the .hlog format), where
 * they are added up.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { OperationName, Outcome, Percentiles } from './results.js';

/** One hour in µs: the largest latency a histogram tracks exactly (it resizes beyond). */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

/** Milliseconds (from performance clocks) to whole µs, at least 1 so nothing reads as 0. */
export function toMicros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

export const NO_LATENCIES: Percentiles = { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 };

export function percentilesOf(h: Histogram | undefined): Percentiles {
  if (h === undefined || h.totalCount === 0) return { ...NO_LATENCIES };
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    mean: Math.round(h.mean * 100) / 100,
    p50: h.getValueAtPercentile(50),
    p95: h.getValueAtPercentile(95),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** The three histograms of one operation type. */
export interface OperationHistograms {
  intended: Histogram;
  actual: Histogram;
  failed: Histogram;
}

export type Kind = keyof OperationHistograms;
export const KINDS: readonly Kind[] = ['intended', 'actual', 'failed'];

/** HdrHistogram log tags, as YCSB names the series: READ, Intended-READ, READ-FAILED. */
export function tagOf(op: OperationName, kind: Kind): string {
  return kind === 'intended' ? `Intended-${op}` : kind === 'failed' ? `${op}-FAILED` : op;
}

/** What a client thread records during one measured window. Intervals are whole
 *  seconds from the window's start, by the operation's intended start. */
export class LatencyRecorder {
  readonly totals = new Map<OperationName, OperationHistograms>();
  readonly outcomes = new Map<OperationName, Map<Outcome, number>>();
  /** intervals[second] → per operation → histograms of that second. */
  readonly intervals: Array<Map<OperationName, OperationHistograms>> = [];

  constructor(private readonly windowStartMs: number) {}

  private histograms(map: Map<OperationName, OperationHistograms>, op: OperationName): OperationHistograms {
    let h = map.get(op);
    if (h === undefined) {
      h = { intended: newHistogram(), actual: newHistogram(), failed: newHistogram() };
      map.set(op, h);
    }
    return h;
  }

  /** One finished operation: intended and actual start and its end, in ms on one clock. */
  record(op: OperationName, outcome: Outcome, intendedMs: number, actualMs: number, endMs: number): void {
    const counts = this.outcomes.get(op) ?? new Map<Outcome, number>();
    this.outcomes.set(op, counts);
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    const second = Math.max(0, Math.floor((intendedMs - this.windowStartMs) / 1000));
    while (this.intervals.length <= second) this.intervals.push(new Map());
    const total = this.histograms(this.totals, op);
    const interval = this.histograms(this.intervals[second], op);
    if (outcome === 'OK') {
      const intended = toMicros(endMs - intendedMs);
      const actual = toMicros(endMs - actualMs);
      total.intended.recordValue(intended);
      total.actual.recordValue(actual);
      interval.intended.recordValue(intended);
      interval.actual.recordValue(actual);
    } else {
      const failed = toMicros(endMs - actualMs);
      total.failed.recordValue(failed);
      interval.failed.recordValue(failed);
    }
  }

  /** Counts an operation that was never issued or never answered before the window was
   *  closed: it is an error (TIMEOUT), not dropped, though it has no latency. */
  countUnfinished(op: OperationName, n: number): void {
    if (n <= 0) return;
    const counts = this.outcomes.get(op) ?? new Map<Outcome, number>();
    this.outcomes.set(op, counts);
    counts.set('TIMEOUT', (counts.get('TIMEOUT') ?? 0) + n);
  }

  encode(): EncodedRecording {
    const encodeSet = (h: OperationHistograms): EncodedHistograms => ({
      intended: encodeIntoCompressedBase64(h.intended),
      actual: encodeIntoCompressedBase64(h.actual),
      failed: encodeIntoCompressedBase64(h.failed),
    });
    return {
      totals: [...this.totals].map(([op, h]) => [op, encodeSet(h)]),
      outcomes: [...this.outcomes].map(([op, counts]) => [op, [...counts]]),
      intervals: this.intervals.map((m) => [...m].map(([op, h]) => [op, encodeSet(h)])),
    };
  }
}

export type EncodedHistograms = Record<Kind, string>;

/** A recorder as plain data, to cross threads. */
export interface EncodedRecording {
  totals: Array<[OperationName, EncodedHistograms]>;
  outcomes: Array<[OperationName, Array<[Outcome, number]>]>;
  intervals: Array<Array<[OperationName, EncodedHistograms]>>;
}

/** Recordings of several threads added together. */
export class MergedRecording {
  readonly totals = new Map<OperationName, OperationHistograms>();
  readonly outcomes = new Map<OperationName, Map<Outcome, number>>();
  readonly intervals: Array<Map<OperationName, OperationHistograms>> = [];

  /** Adds a client thread's recording. */
  add(recording: EncodedRecording): void {
    for (const [op, encoded] of recording.totals) this.addTotals(op, decodeSet(encoded));
    for (const [op, counts] of recording.outcomes) this.addOutcomes(op, counts);
    recording.intervals.forEach((ops, second) => {
      while (this.intervals.length <= second) this.intervals.push(new Map());
      for (const [op, encoded] of ops) addInto(this.intervals[second], op, decodeSet(encoded));
    });
  }

  /** Adds another merged recording's totals and outcomes (not its intervals): repeats. */
  addRepeat(other: MergedRecording): void {
    for (const [op, h] of other.totals) this.addTotals(op, h);
    for (const [op, counts] of other.outcomes) this.addOutcomes(op, counts);
  }

  private addTotals(op: OperationName, h: OperationHistograms): void {
    addInto(this.totals, op, h);
  }

  private addOutcomes(op: OperationName, counts: Iterable<[Outcome, number]>): void {
    const merged = this.outcomes.get(op) ?? new Map<Outcome, number>();
    this.outcomes.set(op, merged);
    for (const [outcome, n] of counts) merged.set(outcome, (merged.get(outcome) ?? 0) + n);
  }

  operations(): OperationName[] {
    return [...new Set([...this.outcomes.keys(), ...this.totals.keys()])];
  }
}

function decodeSet(encoded: EncodedHistograms): OperationHistograms {
  return {
    intended: decodeFromCompressedBase64(encoded.intended),
    actual: decodeFromCompressedBase64(encoded.actual),
    failed: decodeFromCompressedBase64(encoded.failed),
  };
}

function addInto(map: Map<OperationName, OperationHistograms>, op: OperationName, from: OperationHistograms): void {
  let h = map.get(op);
  if (h === undefined) {
    h = { intended: newHistogram(), actual: newHistogram(), failed: newHistogram() };
    map.set(op, h);
  }
  for (const kind of KINDS) h[kind].add(from[kind]);
}
