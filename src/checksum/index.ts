/**
 * The integrity primitives every room that moves or stores bytes uses: CRC32C (a JS
 * table kernel and a wasm one for long inputs) and Merkle trees over key ranges.
 */
export { crc32c, crc32cJs, crc32cWords, LITTLE_ENDIAN, WASM_COPY_MIN_BYTES } from './crc32c.js';
export {
  buildMerkleTree, compareBytes, diffKeys, diffMerkleTrees, keyInLeafRanges, leafOfKey, DEFAULT_LEAF_BITS, MAX_LEAF_BITS,
} from './merkle.js';
export type { KeyDifferences, KeyValuePair, LeafRange, MerkleTree } from './merkle.js';
