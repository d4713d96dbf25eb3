import { describe, expect, it } from 'vitest';
import {
  decodeItemKey,
  decodeItemKeyHash,
  decodeKeyComponent,
  decodeTableId,
  encodeItemKey,
  encodeKeyComponent,
  hashPrefix,
  partitionKeyPrefix,
  prefixUpperBound,
  tablePrefix,
} from '../../src/model/key-encoding.js';
import { partitionHash } from '../../src/model/hash.js';
import { canonicalNumber, compareNumbers } from '../../src/model/number.js';
import type { AttributeValue, KeyShape, ScalarAttributeType } from '../../src/model/types.js';
import { makeRng, seedFromEnv, type Rng } from './prng.js';

const rng = makeRng(seedFromEnv());
const SEED = `seed=${rng.seed} (replay with SHARDBOX_SEED=${rng.seed})`;

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function randomNumber(r: Rng): string {
  const kind = r.int(0, 9);
  if (kind === 0) return r.pick(['0', '-0', '0.000', '0e50']);
  const nDigits = r.pick([1, 1, 2, 3, 5, 10, 20, 37, 38, r.int(1, 38)]);
  let digits = String(r.int(1, 9));
  for (let i = 1; i < nDigits; i++) digits += String(r.int(0, 9));
  // Leading-digit power in [-130, 125].
  const leading = kind <= 2 ? r.pick([-130, -129, 124, 125, r.int(-130, 125)]) : r.int(-5, 20);
  const exponent = leading - (nDigits - 1);
  const neg = r.next() < 0.5 ? '-' : '';
  // Several spellings of the same value.
  switch (r.int(0, 2)) {
    case 0:
      return `${neg}${digits}e${exponent}`;
    case 1:
      return `${neg}${digits[0]}.${digits.slice(1)}E${leading >= 0 ? '+' : ''}${leading}`;
    default:
      return `${neg}${digits}000e${exponent - 3}`;
  }
}

function randomString(r: Rng): string {
  const len = r.pick([0, 1, 2, 3, 5, 10, 40]);
  let s = '';
  for (let i = 0; i < len; i++) {
    switch (r.int(0, 6)) {
      case 0: s += '\u0000'; break;
      case 1: s += String.fromCharCode(r.int(1, 0x7f)); break;
      case 2: s += String.fromCharCode(r.int(0x80, 0x7ff)); break;
      case 3: s += String.fromCharCode(r.pick([r.int(0x800, 0xd7ff), r.int(0xe000, 0xffff)])); break;
      case 4: s += String.fromCodePoint(r.int(0x10000, 0x10ffff)); break; // surrogate pair
      case 5: s += r.pick(['a', 'b', 'ab', '\u00ff', '\uffff', '\u{10ffff}']); break;
      default: s += String.fromCharCode(r.int(0x61, 0x63));
    }
  }
  return s === '' ? 'a' : s; // key strings are non-empty
}

function randomBinary(r: Rng): Uint8Array {
  const len = r.pick([1, 1, 2, 3, 8, 30]);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = r.pick([0x00, 0x01, 0xfe, 0xff, r.int(0, 255)]);
  return b;
}

function randomValue(r: Rng, type: ScalarAttributeType): AttributeValue {
  if (type === 'S') return { S: randomString(r) };
  if (type === 'N') return { N: randomNumber(r) };
  return { B: randomBinary(r) };
}

/** DynamoDB's order of two key values of one type. */
function dynamoCompare(a: AttributeValue, b: AttributeValue): number {
  if ('N' in a && 'N' in b) return compareNumbers(a.N, b.N);
  if ('S' in a && 'S' in b) return sign(Buffer.compare(Buffer.from(a.S, 'utf8'), Buffer.from(b.S, 'utf8')));
  if ('B' in a && 'B' in b) return sign(Buffer.compare(Buffer.from(a.B), Buffer.from(b.B)));
  throw new Error('mixed types');
}

function canonicalValue(av: AttributeValue): AttributeValue {
  return 'N' in av ? { N: canonicalNumber(av.N) } : av;
}

function isPrefix(p: Uint8Array, x: Uint8Array): boolean {
  return p.length <= x.length && Buffer.compare(Buffer.from(p), Buffer.from(x.subarray(0, p.length))) === 0;
}

describe('key component encoding (property)', () => {
  for (const type of ['N', 'S', 'B'] as const) {
    it(`${type}: byte order equals DynamoDB order, prefix-free, round-trips; ${SEED}`, () => {
      const values = Array.from({ length: 600 }, () => randomValue(rng, type));
      const encoded = values.map(encodeKeyComponent);
      for (let i = 0; i < values.length; i++) {
        const decoded = decodeKeyComponent(encoded[i], 0, type);
        expect(decoded.next, `${SEED} value ${JSON.stringify(values[i])}`).toBe(encoded[i].length);
        expect(decoded.value, `${SEED}`).toEqual(canonicalValue(values[i]));
        // Decoding from inside a larger buffer stops at the right place.
        const padded = Buffer.concat([Buffer.from([7, 7]), encoded[i], Buffer.from([0, 0xff, 3])]);
        expect(decodeKeyComponent(padded, 2, type).next, SEED).toBe(2 + encoded[i].length);
      }
      for (let k = 0; k < 6000; k++) {
        const i = rng.int(0, values.length - 1);
        const j = k < values.length ? (i + 1) % values.length : rng.int(0, values.length - 1);
        const want = dynamoCompare(values[i], values[j]);
        const got = sign(Buffer.compare(Buffer.from(encoded[i]), Buffer.from(encoded[j])));
        expect(got, `${SEED}: ${JSON.stringify(values[i])} vs ${JSON.stringify(values[j])}`).toBe(want);
        if (want !== 0) {
          expect(isPrefix(encoded[i], encoded[j]), `${SEED}: prefix ${JSON.stringify(values[i])} of ${JSON.stringify(values[j])}`).toBe(false);
        }
      }
      // Sorting by encoding sorts by DynamoDB order.
      const order = values.map((_, i) => i).sort((a, b) => Buffer.compare(Buffer.from(encoded[a]), Buffer.from(encoded[b])));
      for (let k = 1; k < order.length; k++) {
        expect(dynamoCompare(values[order[k - 1]], values[order[k]]), SEED).toBeLessThanOrEqual(0);
      }
    });
  }

  it('encodes equal numbers identically', () => {
    const same = [['1', '1.0', '01', '1e0', '+1', '0.1e1', '10e-1'], ['0', '-0', '0e99', '-0.00'], ['-150', '-1.5E2', '-150.000']];
    for (const group of same) {
      const encs = group.map((n) => Buffer.from(encodeKeyComponent({ N: n })).toString('hex'));
      expect(new Set(encs).size, group.join(' ')).toBe(1);
    }
  });

  it('orders a fixed ladder of numbers', () => {
    const ladder = ['-9.9999999999999999999999999999999999999E+125', '-1e125', '-100', '-99.5', '-10', '-1', '-0.5',
      '-1e-130', '0', '1e-130', '1.5e-130', '0.001', '0.5', '1', '1.05', '1.5', '10', '10.1', '99', '100', '1e125',
      '9.9999999999999999999999999999999999999E+125'];
    const encs = ladder.map((n) => Buffer.from(encodeKeyComponent({ N: n })));
    for (let i = 1; i < encs.length; i++) expect(Buffer.compare(encs[i - 1], encs[i]), `${ladder[i - 1]} < ${ladder[i]}`).toBe(-1);
  });

  it('orders strings by UTF-8 bytes, not UTF-16 units', () => {
    // U+FF61 is 0xFF61 in UTF-16 but U+1F600 is 0xD83D…; UTF-8 puts U+FF61 (EF BD A1) before U+1F600 (F0 9F 98 80).
    const a = Buffer.from(encodeKeyComponent({ S: '\uff61' }));
    const b = Buffer.from(encodeKeyComponent({ S: '\u{1f600}' }));
    expect(Buffer.compare(a, b)).toBe(-1);
    // "a" < "a\0" < "a\0\0" < "a\u0001" < "ab"
    const ladder = ['a', 'a\u0000', 'a\u0000\u0000', 'a\u0001', 'ab'].map((s) => Buffer.from(encodeKeyComponent({ S: s })));
    for (let i = 1; i < ladder.length; i++) expect(Buffer.compare(ladder[i - 1], ladder[i])).toBe(-1);
  });

  it('rejects malformed bytes', () => {
    expect(() => decodeKeyComponent(new Uint8Array([0x61, 0x62]), 0, 'S')).toThrow(RangeError);
    expect(() => decodeKeyComponent(new Uint8Array([0x09]), 0, 'N')).toThrow(RangeError);
    expect(() => decodeKeyComponent(new Uint8Array([0x03, 0x80, 0x05]), 0, 'N')).toThrow(RangeError);
  });
});

describe('composite item keys (property)', () => {
  const shapes: KeyShape[] = [
    { hashName: 'pk', hashType: 'S', rangeName: 'sk', rangeType: 'N' },
    { hashName: 'pk', hashType: 'N', rangeName: 'sk', rangeType: 'S' },
    { hashName: 'pk', hashType: 'B', rangeName: 'sk', rangeType: 'B' },
    { hashName: 'id', hashType: 'S' },
  ];
  for (const shape of shapes) {
    it(`${shape.hashType}/${shape.rangeType ?? '-'}: orders by table, hash, pk, sk and round-trips; ${SEED}`, () => {
      // A few partition keys, many sort keys each, so equal-pk pairs are common.
      const pks = Array.from({ length: 12 }, () => randomValue(rng, shape.hashType));
      const keys = Array.from({ length: 400 }, () => {
        const key: Record<string, AttributeValue> = { [shape.hashName]: rng.pick(pks) };
        if (shape.rangeName !== undefined) key[shape.rangeName] = randomValue(rng, shape.rangeType as ScalarAttributeType);
        return { tableId: rng.pick([0, 1, 7, 0xffffffff]), key };
      });
      const enc = keys.map(({ tableId, key }) => Buffer.from(encodeItemKey(tableId, shape, key)));
      for (let i = 0; i < keys.length; i++) {
        const { tableId, key } = keys[i];
        const decoded = decodeItemKey(enc[i], shape);
        const want: Record<string, AttributeValue> = { [shape.hashName]: canonicalValue(key[shape.hashName]) };
        if (shape.rangeName !== undefined) want[shape.rangeName] = canonicalValue(key[shape.rangeName]);
        expect(decoded, SEED).toEqual(want);
        expect(decodeTableId(enc[i]), SEED).toBe(tableId);
        expect(decodeItemKeyHash(enc[i]), SEED).toBe(partitionHash(key[shape.hashName]));
        const prefix = Buffer.from(partitionKeyPrefix(tableId, shape, key[shape.hashName]));
        expect(isPrefix(prefix, enc[i]), SEED).toBe(true);
        expect(isPrefix(hashPrefix(tableId, partitionHash(key[shape.hashName])), enc[i]), SEED).toBe(true);
        expect(isPrefix(tablePrefix(tableId), enc[i]), SEED).toBe(true);
        const upper = prefixUpperBound(prefix);
        if (upper !== undefined) expect(Buffer.compare(enc[i], Buffer.from(upper)), SEED).toBe(-1);
      }
      for (let k = 0; k < 4000; k++) {
        const i = rng.int(0, keys.length - 1);
        const j = rng.int(0, keys.length - 1);
        const a = keys[i];
        const b = keys[j];
        const ha = partitionHash(a.key[shape.hashName]);
        const hb = partitionHash(b.key[shape.hashName]);
        let want = sign(a.tableId - b.tableId);
        if (want === 0) want = ha < hb ? -1 : ha > hb ? 1 : 0;
        if (want === 0) want = dynamoCompare(a.key[shape.hashName], b.key[shape.hashName]);
        if (want === 0 && shape.rangeName !== undefined) want = dynamoCompare(a.key[shape.rangeName], b.key[shape.rangeName]);
        expect(sign(Buffer.compare(enc[i], enc[j])), `${SEED}: ${i} vs ${j}`).toBe(want);
      }
    });
  }

  it('lays out the header big-endian', () => {
    const shape: KeyShape = { hashName: 'id', hashType: 'S' };
    const key = encodeItemKey(0x01020304, shape, { id: { S: 'x' } });
    const h = partitionHash({ S: 'x' });
    expect(Buffer.from(key.subarray(0, 4)).toString('hex')).toBe('01020304');
    expect(Buffer.from(key.subarray(4, 12)).toString('hex')).toBe(h.toString(16).padStart(16, '0'));
    expect(Buffer.from(key.subarray(12)).toString('hex')).toBe('780001');
    expect(Buffer.from(hashPrefix(1, 0xffffffffffffffffn)).toString('hex')).toBe('00000001ffffffffffffffff');
    expect(() => hashPrefix(1, 1n << 64n)).toThrow(RangeError);
    expect(() => tablePrefix(-1)).toThrow(RangeError);
    expect(prefixUpperBound(new Uint8Array([1, 0xff]))).toEqual(Buffer.from([2]));
    expect(prefixUpperBound(new Uint8Array([0xff]))).toBeUndefined();
  });
});
