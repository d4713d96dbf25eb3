/**
 * The integrity primitives every room that moves or stores bytes uses: CRC32C (a JS
 * table kernel and a wasm one for long inputs) and Merkle trees over key ranges.
 */
export { crc32c, crc32cJs, crc32cWords, LITTLE_ENDIAN, WASM_COPY_MIN_BYTES } from './crc32c.js';
