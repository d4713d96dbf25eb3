/**
 * Item size as DynamoDB counts it for the 400 KB limit and for capacity units: the UTF-8
 * bytes of every attribute name plus the size of its value.
 *
 * Values: S its UTF-8 bytes; B its raw bytes; BOOL and NULL 1 byte; N its base-100
 * representation (1 byte per pair of significant digits aligned to the decimal point, plus
 * 1 byte of exponent, plus 1 byte for a negative number; 0 is 1 byte); sets the sum of
 * their members; M and L 3 bytes plus, per element, 1 byte plus its size (and for M the
 * element's name).
 */
import { validationError } from './errors.js';
import { parseNumber } from './number.js';
import type { AttributeValue, Item } from './types.js';

/** DynamoDB's item size limit: 400 KB, 1 KB = 1024 bytes. */
export const MAX_ITEM_BYTES = 400 * 1024;

export const ITEM_SIZE_MESSAGE = 'Item size has exceeded the maximum allowed size';

function utf8Length(s: string): number {
  // ASCII fast path: one byte per unit; Buffer.byteLength handles the rest.
  const n = s.length;
  if (n < 32) {
    let i = 0;
    while (i < n && s.charCodeAt(i) < 0x80) i++;
    if (i === n) return n;
  }
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Bytes of a number. Digits sit in base-100 pairs aligned to the decimal point, so a
 * leading digit at an even power of ten starts a pair alone: "1" and "12" take one pair,
 * "123" two.
 */
export function numberSize(text: string): number {
  const d = parseNumber(text);
  if (d.sign === 0) return 1;
  const n = d.digits.length;
  const leadingPower = n - 1 + d.exponent;
  const pairs = Math.ceil(n / 2) + (n % 2 === 0 && leadingPower % 2 === 0 ? 1 : 0);
  return 1 + pairs + (d.sign < 0 ? 1 : 0);
}

/** Bytes of one attribute value, without its name. */
export function attributeValueSize(av: AttributeValue): number {
  if ('S' in av) return utf8Length(av.S);
  if ('N' in av) return numberSize(av.N);
  if ('B' in av) return av.B.length;
  if ('BOOL' in av || 'NULL' in av) return 1;
  if ('M' in av) {
    let size = 3;
    const m = av.M;
    for (const k in m) size += 1 + utf8Length(k) + attributeValueSize(m[k]);
    return size;
  }
  if ('L' in av) {
    let size = 3;
    for (const v of av.L) size += 1 + attributeValueSize(v);
    return size;
  }
  let size = 0;
  if ('SS' in av) for (const s of av.SS) size += utf8Length(s);
  else if ('NS' in av) for (const s of av.NS) size += numberSize(s);
  else if ('BS' in av) for (const b of av.BS) size += b.length;
  return size;
}

/** Bytes of one attribute: its name plus its value. */
export function attributeSize(name: string, av: AttributeValue): number {
  return utf8Length(name) + attributeValueSize(av);
}

/** Bytes of a validated item, exactly as DynamoDB counts them. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const k in item) size += utf8Length(k) + attributeValueSize(item[k]);
  return size;
}

/** Throws DynamoDB's ValidationException when `item` is over 400 KB; returns its size. */
export function validateItemSize(item: Item): number {
  const size = itemSize(item);
  if (size > MAX_ITEM_BYTES) throw validationError(ITEM_SIZE_MESSAGE);
  return size;
}
