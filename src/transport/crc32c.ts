/**
 * CRC32C (Castagnoli), reflected polynomial 0x82F63B78, as used by iSCSI, ext4,
 * LevelDB/RocksDB and TigerBeetle. Every ring record carries one (invariant 4).
 *
 * Slice-by-16 over 32-bit words (slice-by-8 over bytes for short or odd inputs): the
 * tables let the inner loop consume 16 bytes per step with independent lookups instead
 * of a chain of dependent ones. ~0.5-0.7 µs per KB here (~1.5-2 GB/s).
 */

const POLY_REFLECTED = 0x82f63b78;
const SLICES = 16;

/**
 * T[k * 256 + b]: CRC contribution of byte b followed by k zero bytes. One flat
 * Int32Array (not 16 subarrays): measured faster in V8, one base pointer for all lookups.
 */
const T: Int32Array = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(SLICES * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b];
    for (let k = 1; k < SLICES; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
}

/** Below this many bytes the byte loop beats building a word view. */
const WORD_PATH_MIN_BYTES = 128;

/** True when a Uint32Array reads bytes [b0,b1,b2,b3] as b0 | b1<<8 | ... (x86, ARM). */
export const LITTLE_ENDIAN: boolean = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * CRC32C of bytes[start, end). `seed` chains: crc32c(b, m, e, crc32c(b, s, m)) equals
 * crc32c(b, s, e). Returns an unsigned 32-bit integer.
 */
export function crc32c(bytes: Uint8Array, start = 0, end: number = bytes.length, seed = 0): number {
  if (start < 0 || end > bytes.length || start > end) {
    throw new RangeError(`crc32c: range [${start}, ${end}) outside 0..${bytes.length}`);
  }
  if (LITTLE_ENDIAN && end - start >= WORD_PATH_MIN_BYTES) {
    // Bytes up to a 4-aligned address, then the word loop over a view of the rest.
    let c = ~seed;
    let i = start;
    for (; ((bytes.byteOffset + i) & 3) !== 0; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 2);
    const rest = bytes.subarray(i, end);
    return crc32cWords(words, rest, 0, end - i, ~c >>> 0);
  }
  let c = ~seed;
  let i = start;
  const end8 = end - ((end - i) & 7);
  for (; i < end8; i += 8) {
    const one = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ c;
    c =
      T[0x700 + (one & 0xff)] ^
      T[0x600 + ((one >>> 8) & 0xff)] ^
      T[0x500 + ((one >>> 16) & 0xff)] ^
      T[0x400 + (one >>> 24)] ^
      T[0x300 + bytes[i + 4]] ^
      T[0x200 + bytes[i + 5]] ^
      T[0x100 + bytes[i + 6]] ^
      T[bytes[i + 7]];
  }
  for (; i < end; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * CRC32C over 32-bit words: words[startWord, endWord) (little-endian byte order), then
 * the tail bytes bytes[endWord * 4, endByte). `words` and `bytes` must view the same
 * memory from the same byte offset. This is the ring's hot path: word loads instead of
 * byte loads. Only valid on little-endian machines
 * (see LITTLE_ENDIAN); callers fall back to crc32c otherwise.
 */
export function crc32cWords(
  words: Uint32Array,
  bytes: Uint8Array,
  startByte: number,
  endByte: number,
  seed = 0,
): number {
  // startByte must be 4-aligned: asserted by the caller's layout (records are 8-aligned).
  // Slice-by-16: four word loads and 16 independent lookups per 16 bytes.
  let c = ~seed;
  let w = startByte >>> 2;
  const wEnd16 = w + (((endByte - startByte) >>> 4) << 2);
  for (; w < wEnd16; w += 4) {
    const a = words[w] ^ c;
    const b = words[w + 1];
    const d = words[w + 2];
    const e = words[w + 3];
    c =
      T[0xf00 + (a & 0xff)] ^
      T[0xe00 + ((a >>> 8) & 0xff)] ^
      T[0xd00 + ((a >>> 16) & 0xff)] ^
      T[0xc00 + (a >>> 24)] ^
      T[0xb00 + (b & 0xff)] ^
      T[0xa00 + ((b >>> 8) & 0xff)] ^
      T[0x900 + ((b >>> 16) & 0xff)] ^
      T[0x800 + (b >>> 24)] ^
      T[0x700 + (d & 0xff)] ^
      T[0x600 + ((d >>> 8) & 0xff)] ^
      T[0x500 + ((d >>> 16) & 0xff)] ^
      T[0x400 + (d >>> 24)] ^
      T[0x300 + (e & 0xff)] ^
      T[0x200 + ((e >>> 8) & 0xff)] ^
      T[0x100 + ((e >>> 16) & 0xff)] ^
      T[e >>> 24];
  }
  for (let i = w << 2; i < endByte; i++) c = T[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
