/**
 * The stable 64-bit partition hash of a partition-key value, as Dynamo did: the first 8
 * bytes (big-endian) of MD5 over a type tag byte and the value's canonical bytes (S its
 * UTF-8, N its canonical text, B its raw bytes). "1" and "1.0" hash alike; the string "1"
 * and the number 1 do not.
 */
import { createHash, hash } from 'node:crypto';
import { canonicalNumber, parseNumber } from './number.js';
import type { AttributeValue } from './types.js';

/** The hash space: hashes are in [0, HASH_SPACE). */
export const HASH_SPACE = 1n << 64n;

const TAG_S = 0x53; // 'S'
const TAG_N = 0x4e; // 'N'
const TAG_B = 0x42; // 'B'

/** Tag and value bytes are laid out here, then hashed with one-shot `crypto.hash` (about
 *  2.4x faster than a createHash object per call: this runs for every request). Sized for
 *  the largest partition key (2048 bytes; a string's UTF-8 is at most 3 bytes a char). */
const scratch = Buffer.allocUnsafe(1 + 3 * 2048);

export function partitionHash(hashKeyValue: AttributeValue): bigint {
  let length: number;
  if ('S' in hashKeyValue) {
    const text = hashKeyValue.S;
    if (text.length * 3 + 1 > scratch.length) return partitionHashOf(TAG_S, Buffer.from(text, 'utf8'));
    scratch[0] = TAG_S;
    length = 1 + scratch.write(text, 1, 'utf8');
  } else if ('N' in hashKeyValue) {
    const text = canonicalNumber(hashKeyValue.N);
    scratch[0] = TAG_N;
    length = 1 + scratch.write(text, 1, 'latin1');
  } else if ('B' in hashKeyValue) {
    const bytes = hashKeyValue.B;
    if (bytes.length + 1 > scratch.length) return partitionHashOf(TAG_B, bytes);
    scratch[0] = TAG_B;
    scratch.set(bytes, 1);
    length = 1 + bytes.length;
  } else {
    throw new TypeError('partitionHash: a partition key is S, N or B');
  }
  return hash('md5', scratch.subarray(0, length), 'buffer').readBigUInt64BE(0);
}

/** For values too long for the scratch (only invalid, over-long keys get here). */
function partitionHashOf(tag: number, bytes: Uint8Array): bigint {
  const input = Buffer.allocUnsafe(1 + bytes.length);
  input[0] = tag;
  input.set(bytes, 1);
  return hash('md5', input, 'buffer').readBigUInt64BE(0);
}

/** 16 lower-case hex digits, zero-padded. */
export function hashToHex(h: bigint): string {
  return h.toString(16).padStart(16, '0');
}

export function hexToHash(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new RangeError(`hexToHash: not a 64-bit hex hash: ${hex}`);
  return BigInt(`0x${hex}`);
}

/**
 * DynamoDB's own order of items that share an index key: by the first 3 bytes of MD5 over
 * "Outliers" and the table key's bytes (partition key, then sort key; S as UTF-8, B raw,
 * N in DynamoDB's base-100 byte form), as dynalite reproduced it against DynamoDB. Index
 * entries put it before the table key, so a Query on an index returns such items in
 * DynamoDB's order.
 */
export function dynamoKeyOrderPrefix(hashValue: AttributeValue, rangeValue?: AttributeValue): Uint8Array {
  const md5 = createHash('md5').update('Outliers').update(dynamoKeyBytes(hashValue));
  if (rangeValue !== undefined) md5.update(dynamoKeyBytes(rangeValue));
  return md5.digest().subarray(0, 3);
}

function dynamoKeyBytes(value: AttributeValue): Uint8Array {
  if ('S' in value) return Buffer.from(value.S, 'utf8');
  if ('B' in value) return value.B;
  if ('N' in value) return dynamoNumberBytes(value.N);
  throw new TypeError('dynamoKeyOrderPrefix: a key is S, N or B');
}

/** A number as DynamoDB lays it out: an exponent byte, then base-100 digit pairs, each
 *  byte +1 (negative numbers complemented, with a 102 end byte). */
export function dynamoNumberBytes(text: string): Uint8Array {
  const d = parseNumber(text);
  if (d.sign === 0) return Uint8Array.of(0x80);
  const mantissa = Array.from(d.digits, Number);
  const negative = d.sign < 0;
  const exponent = d.exponent + mantissa.length;
  const appendZero = exponent % 2 ? 1 : 0;
  const pairs = Math.floor((mantissa.length + appendZero + 1) / 2);
  const bytes = new Array<number>(pairs < 20 && negative ? pairs + 2 : pairs + 1).fill(0);
  if (pairs < 20 && negative) bytes[pairs + 1] = 102;
  bytes[0] = Math.floor((exponent + appendZero) / 2) - 64;
  if (negative) bytes[0] ^= 0xffffffff;
  let appendedZero = false;
  for (let i = 0; i < mantissa.length; i++) {
    const at = Math.floor((i + appendZero) / 2) + 1;
    if (appendZero && i === 0 && !appendedZero) {
      bytes[at] = 0;
      appendedZero = true;
      i--;
    } else if ((i + appendZero) % 2 === 0) {
      bytes[at] = mantissa[i] * 10;
    } else {
      bytes[at] += mantissa[i];
    }
    if ((i + appendZero) % 2 || i === mantissa.length - 1) bytes[at] = negative ? 101 - bytes[at] : bytes[at] + 1;
  }
  return Uint8Array.from(bytes, (b) => b & 0xff);
}
