/**
 * Order-preserving, prefix-free byte encodings of key values, so that LMDB's unsigned
 * byte order of stored keys equals DynamoDB's order of key values:
 *
 * - S: UTF-8 bytes, each 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01. Byte order of
 *   the encoding equals byte order of the UTF-8 (DynamoDB orders strings by UTF-8 bytes).
 * - B: the same escaping over the raw bytes (DynamoDB orders binary as unsigned bytes).
 * - N: numeric order. A sign byte (0x01 negative, 0x02 zero, 0x03 positive); zero ends
 *   there. Otherwise an exponent byte (power of ten of the leading digit + 130, 0..255),
 *   then the significant digits in base-100 pairs (the last pair padded with 0, one byte
 *   1 + 10·d1 + d2, i.e. 1..100), then a terminator 0x00. Negative numbers store the
 *   exponent byte as 255 − e, each pair as 101 − (10·d1 + d2) and the terminator 0xFF, so
 *   larger magnitudes sort first. Numbers are canonical: "1.0" and "1" encode alike.
 *
 * No encoding is a prefix of another of the same type, so components concatenate: the
 * item key `tableId (u32 BE) | hash (u64 BE) | enc(pk) | enc(sk)` orders by table, hash,
 * partition key, then sort key, and a partition's items share the prefix up to enc(pk).
 */
import { partitionHash } from './hash.js';
import { formatDecimal, parseNumber } from './number.js';
import type { AttributeValue, Item, KeyShape, ScalarAttributeType } from './types.js';

const ESCAPE = 0x00;
const ESCAPED_ZERO = 0xff;
const STRING_END = 0x01;

const N_NEGATIVE = 0x01;
const N_ZERO = 0x02;
const N_POSITIVE = 0x03;
const N_EXPONENT_BIAS = 130;
const N_POSITIVE_END = 0x00;
const N_NEGATIVE_END = 0xff;
/** Sign + exponent + 19 pairs + terminator. */
const N_MAX_BYTES = 22;

export const TABLE_PREFIX_BYTES = 4;
export const HASH_PREFIX_BYTES = 12;
/** Reusable scratch space; every public function copies out of it before returning. */
let scratch = new Uint8Array(8192);
let utf8Scratch = new Uint8Array(8192);
const utf8Encoder = new TextEncoder();

function ensureScratch(bytes: number): void {
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
}

function ensureUtf8Scratch(bytes: number): void {
  if (utf8Scratch.length < bytes) utf8Scratch = new Uint8Array(Math.max(bytes, utf8Scratch.length * 2));
}

/** Worst-case encoded size of a component, for sizing scratch. */
function maxComponentBytes(av: AttributeValue): number {
  if ('S' in av) return av.S.length * 6 + 2; // ≤ 3 UTF-8 bytes per unit, each possibly escaped
  if ('B' in av) return av.B.length * 2 + 2;
  if ('N' in av) return N_MAX_BYTES;
  throw new TypeError('key encoding: a key value is S, N or B');
}

function writeEscaped(src: Uint8Array, srcLength: number, out: Uint8Array, pos: number): number {
  for (let i = 0; i < srcLength; i++) {
    const b = src[i];
    if (b === ESCAPE) {
      out[pos++] = ESCAPE;
      out[pos++] = ESCAPED_ZERO;
    } else {
      out[pos++] = b;
    }
  }
  out[pos++] = ESCAPE;
  out[pos++] = STRING_END;
  return pos;
}

function writeNumber(text: string, out: Uint8Array, pos: number): number {
  const d = parseNumber(text);
  if (d.sign === 0) {
    out[pos++] = N_ZERO;
    return pos;
  }
  const negative = d.sign < 0;
  const digits = d.digits;
  const e = digits.length - 1 + d.exponent + N_EXPONENT_BIAS; // 0..255 for valid numbers
  out[pos++] = negative ? N_NEGATIVE : N_POSITIVE;
  out[pos++] = negative ? 255 - e : e;
  for (let i = 0; i < digits.length; i += 2) {
    const d1 = digits.charCodeAt(i) - 48;
    const d2 = i + 1 < digits.length ? digits.charCodeAt(i + 1) - 48 : 0;
    const v = d1 * 10 + d2;
    out[pos++] = negative ? 101 - v : 1 + v;
  }
  out[pos++] = negative ? N_NEGATIVE_END : N_POSITIVE_END;
  return pos;
}

/** Writes enc(av) into `out` (which must have room) at `pos`; returns the end position. */
function writeComponent(av: AttributeValue, out: Uint8Array, pos: number): number {
  if ('S' in av) {
    const s = av.S;
    ensureUtf8Scratch(s.length * 3);
    const { written } = utf8Encoder.encodeInto(s, utf8Scratch);
    return writeEscaped(utf8Scratch, written, out, pos);
  }
  if ('B' in av) return writeEscaped(av.B, av.B.length, out, pos);
  if ('N' in av) return writeNumber(av.N, out, pos);
  throw new TypeError('key encoding: a key value is S, N or B');
}

function copyOut(length: number): Uint8Array {
  const out = Buffer.allocUnsafe(length);
  out.set(scratch.subarray(0, length));
  return out;
}

/** enc(av) for an S, N or B key value. */
export function encodeKeyComponent(av: AttributeValue): Uint8Array {
  ensureScratch(maxComponentBytes(av));
  return copyOut(writeComponent(av, scratch, 0));
}

function decodeEscaped(bytes: Uint8Array, offset: number, copy: boolean): { raw: Uint8Array; next: number } {
  let i = offset;
  const n = bytes.length;
  // Fast path: find the terminator; copy only if an escape is met.
  let escapes = 0;
  for (;;) {
    if (i + 1 >= n) throw new RangeError('decodeKeyComponent: unterminated string or binary');
    if (bytes[i] === ESCAPE) {
      if (bytes[i + 1] === STRING_END) break;
      if (bytes[i + 1] !== ESCAPED_ZERO) throw new RangeError('decodeKeyComponent: bad escape');
      escapes++;
      i += 2;
    } else {
      i++;
    }
  }
  const end = i;
  const next = i + 2;
  if (escapes === 0 && !copy) return { raw: bytes.subarray(offset, end), next };
  if (escapes === 0) {
    // A fresh plain Uint8Array: Buffer#slice would share memory with `bytes`.
    const raw = new Uint8Array(end - offset);
    raw.set(bytes.subarray(offset, end));
    return { raw, next };
  }
  const raw = new Uint8Array(end - offset - escapes);
  let o = 0;
  for (let j = offset; j < end; j++) {
    raw[o++] = bytes[j];
    if (bytes[j] === ESCAPE) j++; // skip the 0xFF of the escape
  }
  return { raw, next };
}

// ignoreBOM: a key string may begin with U+FEFF, and it is part of the key.
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function decodeNumber(bytes: Uint8Array, offset: number): { text: string; next: number } {
  const tag = bytes[offset];
  if (tag === N_ZERO) return { text: '0', next: offset + 1 };
  if (tag !== N_NEGATIVE && tag !== N_POSITIVE) throw new RangeError('decodeKeyComponent: bad number tag');
  const negative = tag === N_NEGATIVE;
  const eByte = bytes[offset + 1];
  const e = (negative ? 255 - eByte : eByte) - N_EXPONENT_BIAS;
  const end = negative ? N_NEGATIVE_END : N_POSITIVE_END;
  let digits = '';
  let i = offset + 2;
  for (;; i++) {
    if (i >= bytes.length) throw new RangeError('decodeKeyComponent: unterminated number');
    const b = bytes[i];
    if (b === end) break;
    const v = negative ? 101 - b : b - 1;
    if (v < 0 || v > 99) throw new RangeError('decodeKeyComponent: bad number digit pair');
    digits += v < 10 ? `0${v}` : `${v}`;
  }
  if (digits.endsWith('0')) digits = digits.slice(0, -1); // padding of an odd digit count
  const text = formatDecimal({ sign: negative ? -1 : 1, digits, exponent: e - (digits.length - 1) });
  return { text, next: i + 1 };
}

/** Decodes one component of `type` starting at `offset`; `next` is where the following one starts. */
export function decodeKeyComponent(
  bytes: Uint8Array,
  offset: number,
  type: ScalarAttributeType,
): { value: AttributeValue; next: number } {
  switch (type) {
    case 'S': {
      const { raw, next } = decodeEscaped(bytes, offset, false);
      return { value: { S: utf8Decoder.decode(raw) }, next };
    }
    case 'B': {
      const { raw, next } = decodeEscaped(bytes, offset, true);
      return { value: { B: raw }, next };
    }
    case 'N': {
      const { text, next } = decodeNumber(bytes, offset);
      return { value: { N: text }, next };
    }
  }
}

function checkTableId(tableId: number): void {
  if (!Number.isInteger(tableId) || tableId < 0 || tableId > 0xffffffff) {
    throw new RangeError(`key encoding: tableId must be a u32, got ${tableId}`);
  }
}

function checkHash(hash: bigint): void {
  if (hash < 0n || hash > 0xffffffffffffffffn) throw new RangeError(`key encoding: hash must be a u64, got ${hash}`);
}

function writeHeader(out: Uint8Array, tableId: number, hash: bigint): void {
  out[0] = tableId >>> 24;
  out[1] = (tableId >>> 16) & 0xff;
  out[2] = (tableId >>> 8) & 0xff;
  out[3] = tableId & 0xff;
  let hi = Number(hash >> 32n);
  let lo = Number(hash & 0xffffffffn);
  for (let i = 7; i >= 4; i--) {
    out[4 + i] = lo & 0xff;
    lo >>>= 8;
  }
  for (let i = 3; i >= 0; i--) {
    out[4 + i] = hi & 0xff;
    hi >>>= 8;
  }
}

/** The 4-byte prefix of every key of a table. */
export function tablePrefix(tableId: number): Uint8Array {
  checkTableId(tableId);
  const out = Buffer.allocUnsafe(TABLE_PREFIX_BYTES);
  out.writeUInt32BE(tableId, 0);
  return out;
}

/** `tableId | hash`: 12 bytes, a bound for scanning a hash range of a table. */
export function hashPrefix(tableId: number, hash: bigint): Uint8Array {
  checkTableId(tableId);
  checkHash(hash);
  const out = Buffer.allocUnsafe(HASH_PREFIX_BYTES);
  writeHeader(out, tableId, hash);
  return out;
}

/**
 * The composite item key with a partition hash the caller already has (the router hashes
 * once per request): `tableId | hash | enc(pk) | enc(sk)`.
 */
export function encodeItemKeyWithHash(tableId: number, hash: bigint, shape: KeyShape, key: Item): Uint8Array {
  checkTableId(tableId);
  checkHash(hash);
  const pk = key[shape.hashName];
  if (pk === undefined) throw new TypeError(`encodeItemKey: missing key attribute ${shape.hashName}`);
  let max = HASH_PREFIX_BYTES + maxComponentBytes(pk);
  let sk: AttributeValue | undefined;
  if (shape.rangeName !== undefined) {
    sk = key[shape.rangeName];
    if (sk === undefined) throw new TypeError(`encodeItemKey: missing key attribute ${shape.rangeName}`);
    max += maxComponentBytes(sk);
  }
  ensureScratch(max);
  writeHeader(scratch, tableId, hash);
  let pos = writeComponent(pk, scratch, HASH_PREFIX_BYTES);
  if (sk !== undefined) pos = writeComponent(sk, scratch, pos);
  return copyOut(pos);
}

/** The composite item key `tableId | partitionHash(pk) | enc(pk) | enc(sk)` of a validated key. */
export function encodeItemKey(tableId: number, shape: KeyShape, key: Item): Uint8Array {
  const pk = key[shape.hashName];
  if (pk === undefined) throw new TypeError(`encodeItemKey: missing key attribute ${shape.hashName}`);
  return encodeItemKeyWithHash(tableId, partitionHash(pk), shape, key);
}

/** Everything of an item key up to and including enc(pk): the range of one partition key's items (a Query). */
export function partitionKeyPrefix(tableId: number, shape: KeyShape, hashKeyValue: AttributeValue): Uint8Array {
  void shape; // the layout does not depend on it today; kept so callers need not change if it does
  checkTableId(tableId);
  const hash = partitionHash(hashKeyValue);
  ensureScratch(HASH_PREFIX_BYTES + maxComponentBytes(hashKeyValue));
  writeHeader(scratch, tableId, hash);
  return copyOut(writeComponent(hashKeyValue, scratch, HASH_PREFIX_BYTES));
}

/** The table id of an item key. */
export function decodeTableId(bytes: Uint8Array): number {
  return ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
}

/** The partition hash of an item key. */
export function decodeItemKeyHash(bytes: Uint8Array): bigint {
  let h = 0n;
  for (let i = 4; i < HASH_PREFIX_BYTES; i++) h = (h << 8n) | BigInt(bytes[i]);
  return h;
}

/** The key attributes encoded in an item key. */
export function decodeItemKey(bytes: Uint8Array, shape: KeyShape): Item {
  const pk = decodeKeyComponent(bytes, HASH_PREFIX_BYTES, shape.hashType);
  const key: Item = { [shape.hashName]: pk.value };
  let next = pk.next;
  if (shape.rangeName !== undefined) {
    const sk = decodeKeyComponent(bytes, next, shape.rangeType as ScalarAttributeType);
    key[shape.rangeName] = sk.value;
    next = sk.next;
  }
  if (next !== bytes.length) throw new RangeError('decodeItemKey: trailing bytes after the key');
  return key;
}

/**
 * The smallest byte string greater than every string that starts with `prefix` (an
 * exclusive end for a prefix range), or undefined when there is none (all 0xFF).
 */
export function prefixUpperBound(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = Buffer.allocUnsafe(i + 1);
      out.set(prefix.subarray(0, i + 1));
      out[i]++;
      return out;
    }
  }
  return undefined;
}
