/** The project's seeded PRNG (mulberry32), under the name these tests use. */
export { seededRandom as mulberry32 } from '../../src/model/prng.js';

/** Seed from SHARDBOX_SEED or the clock; tests print it in failure messages. */
export function testSeed(): number {
  const env = process.env.SHARDBOX_SEED;
  return env !== undefined ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** CRC32C bit at a time, straight from the definition: the reference the fast ones are
 *  checked against. */
export function crc32cReference(bytes: Uint8Array, start: number, end: number, seed = 0): number {
  let c = ~seed >>> 0;
  for (let i = start; i < end; i++) {
    c ^= bytes[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}
