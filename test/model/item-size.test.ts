import { describe, expect, it } from 'vitest';
import { DynamoDBError } from '../../src/model/errors.js';
import { itemSize, MAX_ITEM_BYTES, numberSize, validateItemSize } from '../../src/model/item-size.js';
import { readCapacityUnits, transactionalReadCapacityUnits, transactionalWriteCapacityUnits, writeCapacityUnits } from '../../src/model/capacity.js';
import { HASH_SPACE, hashToHex, hexToHash, partitionHash } from '../../src/model/hash.js';

describe('itemSize', () => {
  it('follows the developer guide rules', () => {
    expect(itemSize({ id: { S: 'abc' } })).toBe(2 + 3);
    expect(itemSize({ 'é': { S: 'é€😀' } })).toBe(2 + 2 + 3 + 4);
    expect(itemSize({ b: { B: new Uint8Array(10) } })).toBe(1 + 10);
    expect(itemSize({ t: { BOOL: true }, n: { NULL: true } })).toBe(2 + 2);
    expect(itemSize({ m: { M: {} }, l: { L: [] } })).toBe(1 + 3 + 1 + 3);
    // Map: 3 + per entry (1 + name + value); list: 3 + per element (1 + value).
    expect(itemSize({ m: { M: { ab: { S: 'xyz' }, c: { BOOL: false } } } })).toBe(1 + 3 + (1 + 2 + 3) + (1 + 1 + 1));
    expect(itemSize({ l: { L: [{ S: 'xyz' }, { L: [] }] } })).toBe(1 + 3 + (1 + 3) + (1 + 3));
    expect(itemSize({ ss: { SS: ['a', 'bc'] }, bs: { BS: [new Uint8Array(2), new Uint8Array(3)] } })).toBe(2 + 3 + 2 + 5);
    expect(itemSize({ ns: { NS: ['1', '12', '123'] } })).toBe(2 + 2 + 2 + 3);
  });

  it.each([
    ['0', 1],
    ['1', 2],
    ['12', 2],
    ['123', 3],
    ['-1', 3],
    ['12.3456', 4], // pairs 12|34|56 + exponent
    ['1.5', 3], // 01|50
    ['0.15', 2], // 15
    ['1' + '0'.repeat(125), 2],
    ['11' + '0'.repeat(124), 2],
    ['11111' + '0'.repeat(121), 4],
    ['111111' + '0'.repeat(120), 4],
    ['1111111' + '0'.repeat(119), 5],
    ['1'.repeat(38) + '0'.repeat(88), 20],
    ['1.0', 2],
  ])('numberSize(%s) = %d', (n, size) => {
    expect(numberSize(n)).toBe(size);
  });

  it('limits items to 400 KB (dynalite-measured boundaries)', () => {
    const key = 'abcdef';
    const ok = { a: { S: key }, b: { S: 'x'.repeat(MAX_ITEM_BYTES - 1 - key.length - 1) } };
    expect(validateItemSize(ok)).toBe(MAX_ITEM_BYTES);
    const big = { a: { S: key }, b: { S: 'x'.repeat(MAX_ITEM_BYTES - key.length - 1) } };
    try {
      validateItemSize(big);
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(DynamoDBError);
      expect((e as DynamoDBError).message).toBe('Item size has exceeded the maximum allowed size');
    }
    // Two 7-digit numbers at 1e125 take 5 bytes each.
    const c = '1111111' + '0'.repeat(119);
    const fits = { a: { S: key }, b: { S: 'x'.repeat(MAX_ITEM_BYTES - key.length - 14) }, c: { N: c }, d: { N: c } };
    expect(itemSize(fits)).toBe(MAX_ITEM_BYTES);
  });
});

describe('capacity', () => {
  it('reads: 4 KB units, half when eventually consistent', () => {
    expect(readCapacityUnits(0, true)).toBe(1);
    expect(readCapacityUnits(0, false)).toBe(0.5);
    expect(readCapacityUnits(4096, true)).toBe(1);
    expect(readCapacityUnits(4097, true)).toBe(2);
    expect(readCapacityUnits(4097, false)).toBe(1);
    expect(readCapacityUnits(10 * 1024, false)).toBe(1.5);
    expect(transactionalReadCapacityUnits(4097)).toBe(4);
  });
  it('writes: 1 KB units, at least 1', () => {
    expect(writeCapacityUnits(0)).toBe(1);
    expect(writeCapacityUnits(900)).toBe(1);
    expect(writeCapacityUnits(1024)).toBe(1);
    expect(writeCapacityUnits(1025)).toBe(2);
    expect(transactionalWriteCapacityUnits(1025)).toBe(4);
  });
});

describe('partitionHash', () => {
  it('is stable, canonical for numbers, type-tagged', () => {
    const h = partitionHash({ S: 'user1' });
    expect(h).toBe(partitionHash({ S: 'user1' }));
    expect(h >= 0n && h < HASH_SPACE).toBe(true);
    expect(partitionHash({ N: '1.0' })).toBe(partitionHash({ N: '1' }));
    expect(partitionHash({ N: '1' })).not.toBe(partitionHash({ S: '1' }));
    expect(partitionHash({ B: new Uint8Array([0x31]) })).not.toBe(partitionHash({ S: '1' }));
    // Pinned value: changing it would move every stored item to another partition.
    expect(hashToHex(partitionHash({ S: 'a' }))).toBe('e55bb1ae59b6a648'); // md5('Sa')[0..8]
    expect(hexToHash(hashToHex(h))).toBe(h);
    expect(hashToHex(1n)).toBe('0000000000000001');
    expect(() => hexToHash('xyz')).toThrow(RangeError);
  });
});
