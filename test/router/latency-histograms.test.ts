/** LatencyTracker counts small values in its own array and moves them into the HdrHistogram
 *  when read: every figure must be what a plain HdrHistogram of the same values gives. */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyTracker, percentilesOf, type RequestTiming } from '../../src/router/latency.js';
import { seededRandom } from '../../src/model/prng.js';

function plainHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

/** Latencies from 0 µs to minutes: mostly small, a long tail, some past the fast path's 2.1 s. */
function latencies(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 0 : Math.floor(Math.exp(random() * Math.log(300_000_000)))));
}

const timing = (totalUs: number, replicate: number): RequestTiming => ({ kind: 'write', totalUs, acceptedAtMs: 0, stages: { replicate } });

describe('LatencyTracker histograms', () => {
  it('give the same count, mean, percentiles and maximum as a plain HdrHistogram', () => {
    const totals = latencies(20_000, 1);
    const stages = latencies(20_000, 2);
    const tracker = new LatencyTracker();
    const total = plainHistogram();
    const replicate = plainHistogram();
    totals.forEach((us, i) => {
      tracker.record(timing(us, stages[i]));
      total.recordValue(us);
      replicate.recordValue(stages[i]);
    });
    expect(Math.max(...totals)).toBeGreaterThan(2_097_152);
    const snap = tracker.snapshot().write;
    expect(snap.total).toEqual(percentilesOf(total));
    expect(snap.stages.replicate).toEqual(percentilesOf(replicate));
    // The maximum is the value itself, not its bucket's edge.
    const small = new LatencyTracker();
    small.record(timing(123_457, 5));
    expect(small.snapshot().write.total.max).toBe(123_457);
  });

  it('keep counting after being read, and encode to the same histogram', () => {
    const values = latencies(5000, 3);
    const tracker = new LatencyTracker();
    const plain = plainHistogram();
    values.forEach((us, i) => {
      tracker.record(timing(us, us));
      plain.recordValue(us);
      if (i === 2500) expect(tracker.snapshot().write.count).toBe(2501);
    });
    // Encoding keeps bucket counts (a maximum comes back as its bucket's edge) for both alike.
    const decoded = decodeFromCompressedBase64(tracker.encode().kinds.write.total);
    expect(percentilesOf(decoded)).toEqual(percentilesOf(decodeFromCompressedBase64(encodeIntoCompressedBase64(plain))));
    const sum = new LatencyTracker();
    sum.record(timing(7, 7));
    sum.add(tracker.encode());
    const plainSum = plainHistogram();
    plainSum.recordValue(7);
    plainSum.add(decodeFromCompressedBase64(encodeIntoCompressedBase64(plain)));
    expect(sum.snapshot().write.total).toEqual(percentilesOf(plainSum));
  });

  it('forget what was counted but not yet read on reset', () => {
    const tracker = new LatencyTracker();
    tracker.record(timing(40, 30));
    tracker.reset();
    tracker.record(timing(900, 800));
    const snap = tracker.snapshot().write;
    expect(snap.total).toEqual({ count: 1, mean: 900, p50: 900, p99: 900, p999: 900, max: 900 });
    expect(snap.stages.replicate?.max).toBe(800);
  });
});
