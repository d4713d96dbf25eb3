import { describe, expect, it } from 'vitest';
import { DEFAULT_SPLIT_POLICY, decideSplit, keyOrder, loadSplitPoint, type SplitPolicyConfig } from '../../src/control/split-policy.js';
import { hashToHex, hexToHash, HASH_SPACE } from '../../src/model/hash.js';
import { seededRandom } from '../../src/model/prng.js';
import type { LoadObservation, LoadSample } from '../../src/node/load-sampler.js';

const config: SplitPolicyConfig = { ...DEFAULT_SPLIT_POLICY, nodeReadUnitsPerSec: 1000, nodeWriteUnitsPerSec: 1000, sustainSeconds: 5, consumptionShare: 0.5 };
/** The second quarter of the hash space. */
const partition = { hashStart: hashToHex(HASH_SPACE / 4n), hashEnd: hashToHex(HASH_SPACE / 2n - 1n), sizeBytes: 1_000_000 };
const start = HASH_SPACE / 4n;
const width = HASH_SPACE / 4n;

/** A hash at `fraction` (0..1) of the partition's range. */
const at = (fraction: number) => start + (width * BigInt(Math.floor(fraction * 1e9))) / 1_000_000_000n;

function sample(hash: bigint, seq: number, writeUnits = 1, sortPrefix = 0): LoadSample {
  return { hashHex: hashToHex(hash), sortPrefix, readUnits: 0, writeUnits, seq };
}

/** A window of `seconds` whole seconds at `unitsPerSec` write units each, with these samples. */
function observation(samples: LoadSample[], unitsPerSec = 800, seconds = 10): LoadObservation {
  return {
    windowStartMs: 0,
    windowEndMs: seconds * 1000,
    requests: samples.length,
    readUnits: 0,
    writeUnits: unitsPerSec * seconds,
    perSecond: Array.from({ length: seconds }, (_, second) => ({ second, readUnits: 0, writeUnits: unitsPerSec })),
    samples,
  };
}

/** `n` samples at uniformly random places in [from, to) of the range, in random order. */
function uniform(n: number, from: number, to: number, seed: number, firstSeq = 1): LoadSample[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => sample(at(from + random() * (to - from)), firstSeq + i));
}

describe('decideSplit', () => {
  it('no split while consumption is below its share of the node, or not sustained', () => {
    const samples = uniform(500, 0, 1, 1);
    expect(decideSplit(partition, observation(samples, 400), config)).toMatchObject({ split: false, reason: 'below-threshold' });
    // Two low seconds of the last five: not sustained; one (jitter): sustained.
    const dips = observation(samples, 800);
    dips.perSecond[6].writeUnits = 100;
    dips.perSecond[8].writeUnits = 100;
    expect(decideSplit(partition, dips, config)).toMatchObject({ split: false, reason: 'below-threshold' });
    dips.perSecond[6].writeUnits = 800;
    expect(decideSplit(partition, dips, config)).toMatchObject({ split: true, reason: 'consumption' });
    // One second far above the rest is a burst: its average is high, but one second is not most.
    const burst = observation(samples, 300);
    burst.perSecond[9].writeUnits = 5000;
    expect(decideSplit(partition, burst, config)).toMatchObject({ split: false, reason: 'below-threshold' });
    // Most seconds just at the threshold and one idle: the average falls short.
    const edge = observation(samples, 500);
    edge.perSecond[9].writeUnits = 0;
    expect(decideSplit(partition, edge, config)).toMatchObject({ split: false, reason: 'below-threshold' });
    edge.perSecond[9].writeUnits = 500;
    expect(decideSplit(partition, edge, config)).toMatchObject({ split: true });
    // Too short a history to say it was sustained.
    expect(decideSplit(partition, observation(samples, 800, 3), config)).toMatchObject({ split: false, reason: 'below-threshold' });
    // Dips before the sustain window do not matter.
    dips.perSecond[2].writeUnits = 100;
    dips.perSecond[3].writeUnits = 100;
    expect(decideSplit(partition, dips, config)).toMatchObject({ split: true, reason: 'consumption' });
  });

  it('reads count against the node\'s read capacity, writes against its write capacity', () => {
    const obs = observation(uniform(500, 0, 1, 2), 0);
    obs.perSecond = obs.perSecond.map((s) => ({ ...s, readUnits: 1600 }));
    expect(decideSplit(partition, obs, { ...config, nodeReadUnitsPerSec: 3000 })).toMatchObject({ split: true });
    expect(decideSplit(partition, obs, { ...config, nodeReadUnitsPerSec: 4000 })).toMatchObject({ split: false, reason: 'below-threshold' });
  });

  it('splits at the point that halves the observed load, not at the middle of the range', () => {
    // Most of the load in the partition's first tenth, a little spread over the rest.
    const samples = [...uniform(800, 0, 0.1, 3), ...uniform(200, 0.1, 1, 4, 801)];
    const decision = decideSplit(partition, observation(samples), config);
    expect(decision).toMatchObject({ split: true, reason: 'consumption' });
    if (!decision.split) throw new Error('unreachable');
    const point = hexToHash(decision.atHashHex!);
    expect(point > start && point < at(0.1)).toBe(true);
    expect(decision.lowerShare).toBeCloseTo(0.5, 2);
    const below = samples.filter((s) => hexToHash(s.hashHex) < point).length;
    expect(below).toBe(500);
  });

  it('weighs requests by their units', () => {
    // Equal request counts, but the upper half's requests cost 3 units each.
    const samples = [...uniform(500, 0, 0.5, 5), ...uniform(500, 0.5, 1, 6, 501).map((s) => ({ ...s, writeUnits: 3 }))];
    const decision = decideSplit(partition, observation(samples), config);
    if (!decision.split) throw new Error(`no split: ${decision.detail}`);
    // Of 2,000 units, 500 lie in the lower half: the point that halves them is in the upper.
    expect(hexToHash(decision.atHashHex!) > at(0.5)).toBe(true);
  });

  it('does not split a single hot key', () => {
    const random = seededRandom(8);
    const hot = at(0.3);
    const samples = Array.from({ length: 500 }, (_, i) => sample(random() < 0.9 ? hot : at(random()), i + 1));
    const decision = decideSplit(partition, observation(samples), config);
    expect(decision).toMatchObject({ split: false, reason: 'hot-key' });
    expect(decision.detail).toMatch(/one hash carries 9\d(\.\d)?% of the load/);
  });

  it('does not split one hot item collection (one hash, many sort keys)', () => {
    const samples = Array.from({ length: 300 }, (_, i) => sample(at(0.7), i + 1, 1, (i * 7919) % 1000));
    expect(decideSplit(partition, observation(samples), config)).toMatchObject({ split: false, reason: 'hot-key' });
  });

  it('splits off a key that carries less than maxSideShare', () => {
    const random = seededRandom(9);
    const samples = Array.from({ length: 1000 }, (_, i) => sample(random() < 0.6 ? at(0.3) : at(random()), i + 1));
    const decision = decideSplit(partition, observation(samples), config);
    expect(decision).toMatchObject({ split: true, reason: 'consumption' });
  });

  it('does not split a sequential range, increasing or decreasing', () => {
    const increasing = Array.from({ length: 400 }, (_, i) => sample(at(i / 400), i + 1));
    expect(decideSplit(partition, observation(increasing), config)).toMatchObject({ split: false, reason: 'sequential' });
    const decreasing = increasing.map((s, i) => ({ ...s, seq: 400 - i }));
    const decision = decideSplit(partition, observation(decreasing), config);
    expect(decision).toMatchObject({ split: false, reason: 'sequential' });
    expect(decision.detail).toContain('decreasing');
    // Random arrival order over the same keys is not sequential.
    const shuffled = increasing.map((s, i) => ({ ...s, seq: (i * 7919) % 400 }));
    expect(decideSplit(partition, observation(shuffled), config)).toMatchObject({ split: true });
  });

  it('needs enough samples', () => {
    expect(decideSplit(partition, observation(uniform(10, 0, 1, 10)), config)).toMatchObject({ split: false, reason: 'too-few-samples' });
  });

  it('splits for size whatever the traffic, the mechanism picking the point', () => {
    const big = { ...partition, sizeBytes: config.splitSizeBytes + 1 };
    expect(decideSplit(big, observation([], 0), config)).toMatchObject({ split: true, reason: 'size', atHashHex: undefined });
    expect(decideSplit({ ...partition, sizeBytes: config.splitSizeBytes }, observation([], 0), config)).toMatchObject({ split: false });
  });

  it('a partition of one hash value cannot split', () => {
    const one = { hashStart: partition.hashStart, hashEnd: partition.hashStart, sizeBytes: config.splitSizeBytes * 2 };
    expect(decideSplit(one, observation(uniform(500, 0, 1, 11)), config)).toMatchObject({ split: false, reason: 'single-hash-range' });
  });
});

describe('loadSplitPoint', () => {
  const unit = (s: LoadSample) => s.writeUnits;

  it('cuts between the keys where the cumulative load crosses half, halfway between them', () => {
    const samples = [sample(100n, 1), sample(200n, 2), sample(300n, 3, 2)];
    expect(loadSplitPoint(samples, 0n, 1000n, unit)).toEqual({ at: 250n, lowerShare: 0.5, largerShare: 0.5 });
    // Adjacent hashes: the cut is the upper key itself.
    expect(loadSplitPoint([sample(5n, 1), sample(6n, 2)], 0n, 10n, unit)?.at).toBe(6n);
  });

  it('picks the cut with the lighter heavier side', () => {
    // Cumulative: 1, 2, 6 of 7: cutting after 200 leaves 5/7 above, after 300 leaves 6/7 below.
    const samples = [sample(100n, 1), sample(200n, 2), sample(300n, 3, 4), sample(400n, 4)];
    expect(loadSplitPoint(samples, 0n, 1000n, unit)).toMatchObject({ at: 250n, largerShare: 5 / 7 });
  });

  it('ignores samples outside the range, and gives nothing for one key', () => {
    expect(loadSplitPoint([sample(100n, 1), sample(2000n, 2)], 0n, 1000n, unit)).toBeUndefined();
    expect(loadSplitPoint([sample(100n, 1), sample(100n, 2)], 0n, 1000n, unit)).toBeUndefined();
  });
});

describe('keyOrder', () => {
  it('counts rising and falling pairs in arrival order, skipping repeats', () => {
    const samples = [sample(3n, 2), sample(1n, 1), sample(3n, 3), sample(2n, 4), sample(2n, 5, 1, 9)];
    // arrival: 1, 3, 3, 2, (2, sk 9): up, repeat, down, up
    expect(keyOrder(samples)).toEqual({ pairs: 3, increasing: 2, decreasing: 1 });
  });
});
