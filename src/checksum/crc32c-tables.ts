/**
 * The CRC32C (Castagnoli, reflected polynomial 0x82F63B78) slice-by-16 lookup tables,
 * shared by the JS (crc32c.ts) and WebAssembly (crc32c-wasm.ts) implementations.
 *
 * T[k * 256 + b]: CRC contribution of byte b followed by k zero bytes. One flat
 * Int32Array (not 16 subarrays): measured faster in V8, one base pointer for all lookups;
 * the wasm kernels copy it verbatim into their linear memory.
 */

export const CRC32C_POLY_REFLECTED = 0x82f63b78;
export const CRC32C_SLICES = 16;

export const CRC32C_TABLES: Int32Array = buildTables();

function buildTables(): Int32Array {
  const t = new Int32Array(CRC32C_SLICES * 256);
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY_REFLECTED : c >>> 1;
    t[b] = c;
  }
  for (let b = 0; b < 256; b++) {
    let c = t[b];
    for (let k = 1; k < CRC32C_SLICES; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + b] = c;
    }
  }
  return t;
}
