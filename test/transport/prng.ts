/** The project's seeded PRNG (mulberry32), under the name these tests use. */
export { seededRandom as mulberry32 } from '../../src/node/prng.js';

/** Seed from SHARDBOX_SEED or the clock; tests print it in failure messages. */
export function testSeed(): number {
  const env = process.env.SHARDBOX_SEED;
  return env !== undefined ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}
