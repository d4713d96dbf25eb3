/**
 * The experiments' harness (`npm run experiment -- NAME`): an experiment opens ShardBox
 * clusters in temporary directories, drives load through phases of constant target rates
 * (open loop: each operation has an intended start, and its latency counts from there, so
 * a stall shows as latency, not as fewer requests), and records per second how many
 * operations succeeded, were throttled or failed, and their latency. The result is a table
 * per phase and an SVG chart (chart.ts).
 *
 * Pure parts (summaries, percentiles, formatting) are exported for the tests; the driver
 * needs only a clock and timers.
 */
import { performance } from 'node:perf_hooks';
import { formatLatency, formatRateShort, table } from '../ycsb/report.js';
import { outcomeOf } from '../ycsb/engines.js';
import { percentile as nearestRank } from '../micro/section.js';

/** A stretch of load at one target rate. */
export interface Phase {
  name: string;
  seconds: number;
  /** Operations started per second (0: idle). */
  opsPerSec: number;
  /** The operation; `i` counts from 0 within the phase. Resolves on success; a rejection
   *  with a throttling error counts as throttled, any other as an error. */
  op: (i: number) => Promise<unknown>;
}

/** What happened in one second of load (by the operations' intended start). */
export interface SecondPoint {
  /** Seconds since the experiment's load began (cluster set-up time is left out). */
  t: number;
  phase: string;
  targetOpsPerSec: number;
  ok: number;
  throttled: number;
  errors: number;
  /** Latency of the successful operations, from their intended start (µs); 0 when none. */
  p50Us: number;
  p99Us: number;
  /** Extra per-second figures an experiment records (consumed units, burst credit, ...). */
  extra?: Record<string, number>;
}

export interface PhaseSummary {
  name: string;
  seconds: number;
  targetOpsPerSec: number;
  okPerSec: number;
  throttledPerSec: number;
  /** Throttled operations ÷ operations. */
  throttledShare: number;
  errors: number;
  p50Us: number;
  p99Us: number;
}

/** A moment worth marking on the chart (a split, a switch). */
export interface ExperimentEvent {
  t: number;
  label: string;
}

export interface ExperimentResult {
  name: string;
  title: string;
  /** The paper's claim the experiment reproduces. */
  claim: string;
  phases: PhaseSummary[];
  timeline: SecondPoint[];
  events: ExperimentEvent[];
  /** What the run found or could not do (decisions, APIs not there yet). */
  notes: string[];
}

// ---------------------------------------------------------------------------------------
// Pure parts.

/** The p-th percentile (0..100) of ascending values, nearest rank; 0 for none (a second
 *  without successes charts as 0). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : nearestRank(sorted, p);
}

/** The seconds of one phase and their successful latencies, summed up. */
export function summarizePhase(name: string, points: readonly SecondPoint[], latenciesUs: readonly number[]): PhaseSummary {
  const seconds = points.length;
  const ok = points.reduce((n, p) => n + p.ok, 0);
  const throttled = points.reduce((n, p) => n + p.throttled, 0);
  const errors = points.reduce((n, p) => n + p.errors, 0);
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const all = ok + throttled + errors;
  return {
    name,
    seconds,
    targetOpsPerSec: seconds === 0 ? 0 : points[0].targetOpsPerSec,
    okPerSec: seconds === 0 ? 0 : ok / seconds,
    throttledPerSec: seconds === 0 ? 0 : throttled / seconds,
    throttledShare: all === 0 ? 0 : throttled / all,
    errors,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
  };
}

function formatShare(share: number): string {
  if (share === 0) return '0%';
  if (share < 0.001) return '<0.1%';
  return `${(share * 100).toFixed(1)}%`;
}

/** The phases as a table: target and achieved rates, throttles, errors, p50 and p99. */
export function formatPhaseTable(phases: readonly PhaseSummary[]): string[] {
  return table(
    ['phase', 'seconds', 'target/s', 'ok/s', 'throttled/s', 'throttled', 'errors', 'p50', 'p99'],
    phases.map((p) => [
      p.name,
      String(p.seconds),
      formatRateShort(p.targetOpsPerSec),
      formatRateShort(p.okPerSec),
      formatRateShort(p.throttledPerSec),
      formatShare(p.throttledShare),
      String(p.errors),
      p.okPerSec > 0 ? formatLatency(p.p50Us) : '-',
      p.okPerSec > 0 ? formatLatency(p.p99Us) : '-',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

/** The whole report of a result: title, claim, phase table, events and notes. */
export function formatReport(result: ExperimentResult): string {
  const lines = [`${result.title}`, `  claim: ${result.claim}`, '', ...formatPhaseTable(result.phases).map((l) => `  ${l}`)];
  if (result.events.length > 0) lines.push('', ...result.events.map((e) => `  at ${e.t} s: ${e.label}`));
  if (result.notes.length > 0) lines.push('', ...result.notes.map((n) => `  note: ${n}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------
// The driver.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Operations in flight at most; more due wait (and their latency grows from their
 *  intended start), so an overloaded cluster is not buried under promises. */
const MAX_IN_FLIGHT = 512;
/** The driver wakes this often to start the operations due. */
const TICK_MS = 1;
/** After its last phase, a drive waits this long at most for operations in flight. */
const DRAIN_MS = 5000;

interface SecondRecord {
  point: SecondPoint;
  latenciesUs: number[];
}

/**
 * Runs phases one after the other and collects them into a result. Experiments call
 * `drive` (once per cluster, say), `mark` and `note`, then `result()`.
 */
export class Recorder {
  private readonly seconds: SecondRecord[] = [];
  readonly events: ExperimentEvent[] = [];
  readonly notes: string[] = [];
  /** Called once per second of load for the experiment's extra figures. */
  extraEachSecond: (() => Promise<Record<string, number> | undefined> | Record<string, number> | undefined) | undefined;
  /** Where the running phase began, in load seconds and on the clock. */
  private phaseBase = 0;
  private phaseStartMs: number | undefined;

  constructor(private readonly clock: Clock = realClock) {}

  /** Seconds of load so far: where the next phase begins. */
  get elapsed(): number {
    return this.seconds.length;
  }

  /** Marks now on the timeline (within the running phase, to a tenth of a second). */
  mark(label: string): void {
    const t = this.phaseStartMs === undefined ? this.elapsed : this.phaseBase + (this.clock.now() - this.phaseStartMs) / 1000;
    this.events.push({ t: Math.min(this.elapsed, Math.round(t * 10) / 10), label });
  }

  /** Adds a note to the result (once: a note made again, by a second cluster, say, is kept once). */
  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Drives each phase for its seconds at its rate; resolves once its operations are
   *  answered (or DRAIN_MS after the last phase ends). */
  async drive(phases: readonly Phase[]): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    for (const phase of phases) {
      const base = this.seconds.length;
      for (let s = 0; s < phase.seconds; s++) {
        this.seconds.push({
          point: { t: base + s, phase: phase.name, targetOpsPerSec: phase.opsPerSec, ok: 0, throttled: 0, errors: 0, p50Us: 0, p99Us: 0 },
          latenciesUs: [],
        });
      }
      const start = this.clock.now();
      this.phaseBase = base;
      this.phaseStartMs = start;
      const endMs = phase.seconds * 1000;
      const interval = phase.opsPerSec > 0 ? 1000 / phase.opsPerSec : Infinity;
      let issued = 0;
      let nextExtra = 0;
      for (;;) {
        const elapsedMs = this.clock.now() - start;
        if (elapsedMs >= nextExtra * 1000 && nextExtra < phase.seconds) {
          const point = this.seconds[base + nextExtra].point;
          Promise.resolve(this.extraEachSecond?.()).then((extra) => {
            if (extra !== undefined) point.extra = extra;
          }, () => undefined);
          nextExtra++;
        }
        if (elapsedMs >= endMs) break;
        while (issued * interval <= elapsedMs && issued * interval < endMs && inFlight.size < MAX_IN_FLIGHT) {
          const intendedMs = start + issued * interval;
          const record = this.seconds[base + Math.floor((issued * interval) / 1000)];
          const i = issued++;
          const done = this.run(phase.op, i, intendedMs, record).finally(() => inFlight.delete(done));
          inFlight.add(done);
        }
        await this.clock.sleep(TICK_MS);
      }
    }
    this.phaseStartMs = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(inFlight),
      new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_MS))),
    ]);
    clearTimeout(timer);
  }

  private async run(op: Phase['op'], i: number, intendedMs: number, record: SecondRecord): Promise<void> {
    try {
      await op(i);
      record.point.ok++;
      record.latenciesUs.push(Math.max(1, Math.round((this.clock.now() - intendedMs) * 1000)));
    } catch (error) {
      if (outcomeOf(error) === 'THROTTLED') record.point.throttled++;
      else {
        record.point.errors++;
        if (record.point.errors === 1) this.firstErrors.push(`${record.point.phase}: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }

  /** The first error of each second that had one (shown in the notes, a few at most). */
  private readonly firstErrors: string[] = [];

  /** The timeline and the phase summaries (a phase run twice is summed once per run). */
  result(meta: { name: string; title: string; claim: string }): ExperimentResult {
    const timeline = this.seconds.map(({ point, latenciesUs }) => {
      const sorted = [...latenciesUs].sort((a, b) => a - b);
      return { ...point, p50Us: percentile(sorted, 50), p99Us: percentile(sorted, 99) };
    });
    const phases: PhaseSummary[] = [];
    let at = 0;
    while (at < this.seconds.length) {
      const name = this.seconds[at].point.phase;
      let end = at;
      while (end < this.seconds.length && this.seconds[end].point.phase === name) end++;
      phases.push(summarizePhase(name, timeline.slice(at, end), this.seconds.slice(at, end).flatMap((s) => s.latenciesUs)));
      at = end;
    }
    const notes = [...this.notes];
    if (this.firstErrors.length > 0) notes.push(`errors (first of each second, up to 3): ${this.firstErrors.slice(0, 3).join(' | ')}`);
    return { ...meta, phases, timeline, events: [...this.events], notes };
  }
}
