import { seededRandom } from '../../src/model/prng.js';

/** A small seeded PRNG (mulberry32) for property tests; print the seed on failure. */
export interface Rng {
  readonly seed: number;
  next(): number; // [0, 1)
  int(lo: number, hi: number): number; // inclusive
  pick<T>(xs: readonly T[]): T;
}

export function makeRng(seed: number = (Date.now() ^ (process.pid << 8)) >>> 0): Rng {
  const next = seededRandom(seed);
  return {
    seed,
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

/** Seed from SHARDBOX_SEED if set, so a failure can be replayed. */
export function seedFromEnv(): number | undefined {
  const s = process.env.SHARDBOX_SEED;
  return s === undefined ? undefined : Number(s) >>> 0;
}
