/**
 * The latency accounting of a client thread: every operation gets a latency from its
 * intended start whatever its outcome, failures apart from successes, operations left
 * unanswered at the end of the drain at the time they waited, and throughput counts only
 * the operations that succeeded.
 */
import { describe, expect, it } from 'vitest';
import { LatencyRecorder, MergedRecording, percentilesOf, tagOf, WindowCounts } from '../../bench/ycsb/latency.js';
import { outcomeRates } from '../../bench/ycsb/results.js';

const WINDOW_START_MS = 1_000_000;

describe('LatencyRecorder', () => {
  it('times successful operations into intended and actual, the others into intendedFailed and failed', () => {
    const recorder = new LatencyRecorder(WINDOW_START_MS);
    // Due at t, sent 2 ms late, answered 1 ms after that.
    recorder.record('READ', 'OK', WINDOW_START_MS, WINDOW_START_MS + 2, WINDOW_START_MS + 3);
    recorder.record('READ', 'THROTTLED', WINDOW_START_MS + 10, WINDOW_START_MS + 10, WINDOW_START_MS + 10.5);
    recorder.record('READ', 'ERROR', WINDOW_START_MS + 20, WINDOW_START_MS + 25, WINDOW_START_MS + 45);
    const h = recorder.totals.get('READ')!;
    expect(h.intended.totalCount).toBe(1);
    expect(h.intended.maxValue).toBe(3000);
    expect(h.actual.maxValue).toBe(1000);
    expect(h.intendedFailed.totalCount).toBe(2);
    expect(h.failed.totalCount).toBe(2);
    // From the intended start: 0.5 ms and 25 ms; from the actual start: 0.5 ms and 20 ms.
    expect(h.intendedFailed.minNonZeroValue).toBe(500);
    expect(h.intendedFailed.maxValue).toBe(25_000);
    expect(h.failed.maxValue).toBe(20_000);
    expect([...recorder.outcomes.get('READ')!]).toEqual([['OK', 1], ['THROTTLED', 1], ['ERROR', 1]]);
  });

  it('counts an operation unanswered at the end of the drain as TIMEOUT at the time it waited', () => {
    const recorder = new LatencyRecorder(WINDOW_START_MS);
    const drainEnd = WINDOW_START_MS + 12_000;
    // Sent on time and never answered; and one that was never sent at all.
    recorder.recordUnfinished('UPDATE', WINDOW_START_MS + 500, WINDOW_START_MS + 500, drainEnd);
    recorder.recordUnfinished('UPDATE', WINDOW_START_MS + 1_500, undefined, drainEnd);
    const h = recorder.totals.get('UPDATE')!;
    expect(recorder.outcomes.get('UPDATE')!.get('TIMEOUT')).toBe(2);
    expect(h.intended.totalCount).toBe(0);
    expect(h.intendedFailed.totalCount).toBe(2);
    expect(h.intendedFailed.minNonZeroValue).toBeGreaterThanOrEqual(10_495_000);
    expect(h.intendedFailed.maxValue).toBeGreaterThanOrEqual(11_495_000);
    // Only the one that was sent has a latency from its actual start.
    expect(h.failed.totalCount).toBe(1);
    // Per second of the intended start, as the interval log draws it.
    expect(recorder.intervals[0].get('UPDATE')!.intendedFailed.totalCount).toBe(1);
    expect(recorder.intervals[1].get('UPDATE')!.intendedFailed.totalCount).toBe(1);
  });

  it('crosses threads encoded and adds up, every series included', () => {
    const a = new LatencyRecorder(WINDOW_START_MS);
    const b = new LatencyRecorder(WINDOW_START_MS);
    for (let i = 0; i < 99; i++) a.record('READ', 'OK', WINDOW_START_MS + i, WINDOW_START_MS + i, WINDOW_START_MS + i + 1);
    b.record('READ', 'ERROR', WINDOW_START_MS, WINDOW_START_MS, WINDOW_START_MS + 400);
    b.recordUnfinished('READ', WINDOW_START_MS + 2_000, undefined, WINDOW_START_MS + 5_000);
    const merged = new MergedRecording();
    merged.add(a.encode());
    merged.add(b.encode());
    const h = merged.totals.get('READ')!;
    expect(percentilesOf(h.intended).count).toBe(99);
    // The successful ones' p99 does not contain the failures; they are beside it.
    expect(percentilesOf(h.intended).p99).toBe(1000);
    expect(percentilesOf(h.intendedFailed).count).toBe(2);
    expect(percentilesOf(h.intendedFailed).max).toBeGreaterThanOrEqual(2_999_000);
    expect([...merged.outcomes.get('READ')!]).toEqual([['OK', 99], ['ERROR', 1], ['TIMEOUT', 1]]);
    expect(merged.intervals).toHaveLength(3);
    expect(merged.intervals[2].get('READ')!.intendedFailed.totalCount).toBe(1);
  });

  it('names its series as YCSB does', () => {
    expect(tagOf('READ', 'actual')).toBe('READ');
    expect(tagOf('READ', 'intended')).toBe('Intended-READ');
    expect(tagOf('UPDATE', 'failed')).toBe('UPDATE-FAILED');
    expect(tagOf('UPDATE', 'intendedFailed')).toBe('Intended-UPDATE-FAILED');
  });
});

describe('WindowCounts', () => {
  it('counts as throughput only the operations that succeeded inside the window', () => {
    const counts = new WindowCounts(WINDOW_START_MS, WINDOW_START_MS + 1_000);
    counts.count('OK', WINDOW_START_MS);
    counts.count('OK', WINDOW_START_MS + 999);
    counts.count('ERROR', WINDOW_START_MS + 10);
    counts.count('THROTTLED', WINDOW_START_MS + 20);
    counts.count('NOT_FOUND', WINDOW_START_MS + 30);
    counts.count('OK', WINDOW_START_MS - 1); // warm-up
    counts.count('OK', WINDOW_START_MS + 1_000); // after the window
    expect(counts.counts()).toEqual({ succeededInWindow: 2, failedInWindow: 3 });
  });
});

describe('outcomeRates', () => {
  it('gives the shares of a level that failed and were throttled', () => {
    const p = percentilesOf(undefined);
    const rates = outcomeRates({
      operations: {
        READ: { count: 900, errors: 0, outcomes: { OK: 900 }, intended: p, actual: p },
        UPDATE: { count: 100, errors: 30, outcomes: { OK: 70, THROTTLED: 20, TIMEOUT: 10 }, intended: p, actual: p },
      },
    });
    expect(rates).toEqual({ count: 1000, errors: 30, throttled: 20, errorRate: 0.03, throttleRate: 0.02 });
    expect(outcomeRates({ operations: {} }).errorRate).toBe(0);
  });
});
