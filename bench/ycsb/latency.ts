/**
 * Latency recording: HdrHistograms in microseconds, per operation type, kept four ways
 * (YCSB's `measurement.interval=both`, for successful and for failed operations apart):
 * from the intended start and from the actual start, of the OK ones and of the others.
 * Every operation due in a window gets a latency whatever its outcome; one still
 * unanswered when the drain ends counts the time it waited until then. Client threads
 * record, then send their histograms to the main thread encoded (HdrHistogram's
 * compressed base64, the .hlog format), where they are added up.
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

/** The four histograms of one operation type: OK ones from intended and actual start,
 *  the others (failed, throttled, timed out) from actual and intended start. */
export interface OperationHistograms {
  intended: Histogram;
  actual: Histogram;
  failed: Histogram;
  intendedFailed: Histogram;
}

export type Kind = keyof OperationHistograms;
export const KINDS: readonly Kind[] = ['intended', 'actual', 'failed', 'intendedFailed'];

/** HdrHistogram log tags, as YCSB names the series: READ, Intended-READ, READ-FAILED,
 *  Intended-READ-FAILED. */
export function tagOf(op: OperationName, kind: Kind): string {
  switch (kind) {
    case 'intended':
      return `Intended-${op}`;
    case 'actual':
      return op;
    case 'failed':
      return `${op}-FAILED`;
    case 'intendedFailed':
      return `Intended-${op}-FAILED`;
  }
}

function newHistograms(): OperationHistograms {
  return { intended: newHistogram(), actual: newHistogram(), failed: newHistogram(), intendedFailed: newHistogram() };
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
      h = newHistograms();
      map.set(op, h);
    }
    return h;
  }

  /** One finished operation: intended and actual start and its end, in ms on one clock.
   *  OK ones go in `intended`/`actual`, the others in `intendedFailed`/`failed`. */
  record(op: OperationName, outcome: Outcome, intendedMs: number, actualMs: number, endMs: number): void {
    this.count(op, outcome);
    const ok = outcome === 'OK';
    this.recordLatency(op, intendedMs, ok ? 'intended' : 'intendedFailed', endMs - intendedMs);
    this.recordLatency(op, intendedMs, ok ? 'actual' : 'failed', endMs - actualMs);
  }

  /** An operation still unanswered (sent at actualMs) or never sent (actualMs undefined)
   *  when the drain ended at endMs: a TIMEOUT that counts, at least, the time it waited. */
  recordUnfinished(op: OperationName, intendedMs: number, actualMs: number | undefined, endMs: number): void {
    this.count(op, 'TIMEOUT');
    this.recordLatency(op, intendedMs, 'intendedFailed', endMs - intendedMs);
    if (actualMs !== undefined) this.recordLatency(op, intendedMs, 'failed', endMs - actualMs);
  }

  private count(op: OperationName, outcome: Outcome): void {
    const counts = this.outcomes.get(op) ?? new Map<Outcome, number>();
    this.outcomes.set(op, counts);
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }

  /** Into the totals and the interval of the operation's intended start. */
  private recordLatency(op: OperationName, intendedMs: number, kind: Kind, ms: number): void {
    const second = Math.max(0, Math.floor((intendedMs - this.windowStartMs) / 1000));
    while (this.intervals.length <= second) this.intervals.push(new Map());
    const us = toMicros(ms);
    this.histograms(this.totals, op)[kind].recordValue(us);
    this.histograms(this.intervals[second], op)[kind].recordValue(us);
  }

  encode(): EncodedRecording {
    const encodeSet = (h: OperationHistograms): EncodedHistograms =>
      Object.fromEntries(KINDS.map((kind) => [kind, encodeIntoCompressedBase64(h[kind])])) as EncodedHistograms;
    return {
      totals: [...this.totals].map(([op, h]) => [op, encodeSet(h)]),
      outcomes: [...this.outcomes].map(([op, counts]) => [op, [...counts]]),
      intervals: this.intervals.map((m) => [...m].map(([op, h]) => [op, encodeSet(h)])),
    };
  }
}

/** Operations that finished inside a measured window, apart by success: throughput counts
 *  only the ones that succeeded. */
export class WindowCounts {
  private succeeded = 0;
  private failed = 0;

  constructor(private readonly windowStartMs: number, private readonly windowEndMs: number) {}

  count(outcome: Outcome, endMs: number): void {
    if (endMs < this.windowStartMs || endMs >= this.windowEndMs) return;
    if (outcome === 'OK') this.succeeded++;
    else this.failed++;
  }

  counts(): { succeededInWindow: number; failedInWindow: number } {
    return { succeededInWindow: this.succeeded, failedInWindow: this.failed };
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
  return Object.fromEntries(KINDS.map((kind) => [kind, decodeFromCompressedBase64(encoded[kind])])) as unknown as OperationHistograms;
}

function addInto(map: Map<OperationName, OperationHistograms>, op: OperationName, from: OperationHistograms): void {
  let h = map.get(op);
  if (h === undefined) {
    h = newHistograms();
    map.set(op, h);
  }
  for (const kind of KINDS) h[kind].add(from[kind]);
}
