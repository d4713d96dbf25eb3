/**
 * The stable 64-bit partition hash of a partition-key value, as Dynamo did: the first 8
 * bytes (big-endian) of MD5 over a type tag byte and the value's canonical bytes (S its
 * UTF-8, N its canonical text, B its raw bytes). "1" and "1.0" hash alike; the string "1"
 * and the number 1 do not.
 */
import { createHash } from 'node:crypto';
import { canonicalNumber } from './number.js';
import type { AttributeValue } from './types.js';

/** The hash space: hashes are in [0, HASH_SPACE). */
export const HASH_SPACE = 1n << 64n;

const TAG_S = new Uint8Array([0x53]); // 'S'
const TAG_N = new Uint8Array([0x4e]); // 'N'
const TAG_B = new Uint8Array([0x42]); // 'B'

export function partitionHash(hashKeyValue: AttributeValue): bigint {
  const h = createHash('md5');
  if ('S' in hashKeyValue) {
    h.update(TAG_S);
    h.update(hashKeyValue.S, 'utf8');
  } else if ('N' in hashKeyValue) {
    h.update(TAG_N);
    h.update(canonicalNumber(hashKeyValue.N), 'latin1');
  } else if ('B' in hashKeyValue) {
    h.update(TAG_B);
    h.update(hashKeyValue.B);
  } else {
    throw new TypeError('partitionHash: a partition key is S, N or B');
  }
  return h.digest().readBigUInt64BE(0);
}

/** 16 lower-case hex digits, zero-padded. */
export function hashToHex(h: bigint): string {
  return h.toString(16).padStart(16, '0');
}

export function hexToHash(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new RangeError(`hexToHash: not a 64-bit hex hash: ${hex}`);
  return BigInt(`0x${hex}`);
}
