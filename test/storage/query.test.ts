import { afterEach, describe, expect, it } from 'vitest';
import { TempDirs, SHAPE_SN, SHAPE_SS, SHAPE_H, groupRec, entry, putOp, prng } from './helpers.js';
import type { AttributeValue, Item } from '../../src/model/types.js';
import type { RangeOperator } from '../../src/expressions/ast.js';
import type { NodeStore } from '../../src/storage/node-store.js';
import { partitionHash, hashToHex } from '../../src/model/hash.js';
import { compareNumbers } from '../../src/model/number.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

function load(s: NodeStore, group: number, tableId: number, items: Item[], shape = SHAPE_SN): void {
  let i = s.appliedIndex(group);
  for (let off = 0; off < items.length; off += 100) {
    s.applyCommitted([{ group, entries: items.slice(off, off + 100).map((it) => entry(++i, putOp(tableId, shape, it))) }]);
  }
}

/** Every page of a query, following LastEvaluatedKey. */
function allPages(fn: (esk: Item | undefined) => { items: Item[]; lastEvaluatedKey?: Item }): Item[][] {
  const pages: Item[][] = [];
  let esk: Item | undefined;
  for (let n = 0; n < 10000; n++) {
    const p = fn(esk);
    pages.push(p.items);
    if (p.lastEvaluatedKey === undefined) return pages;
    esk = p.lastEvaluatedKey;
  }
  throw new Error('paging does not end');
}

describe('query', () => {
  it('every sort-key operator, both directions, paged with Limit + ExclusiveStartKey', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 5, SHAPE_SN));
    const sks = [-12.5, -3, 0, 0.25, 1, 2, 7, 10, 11, 100, 1e6];
    const items: Item[] = [];
    for (const pk of ['a', 'b', 'c']) for (const sk of sks) items.push({ pk: { S: pk }, sk: { N: String(sk) }, v: { S: `${pk}${sk}` } });
    load(s, 1, 5, items);
    const N = (n: number): AttributeValue => ({ N: String(n) });
    const cases: Array<[RangeOperator | undefined, AttributeValue[], (x: number) => boolean]> = [
      [undefined, [], () => true],
      ['=', [N(7)], (x) => x === 7],
      ['=', [N(8)], () => false],
      ['<', [N(1)], (x) => x < 1],
      ['<=', [N(1)], (x) => x <= 1],
      ['>', [N(10)], (x) => x > 10],
      ['>=', [N(10)], (x) => x >= 10],
      ['BETWEEN', [N(-3), N(10)], (x) => x >= -3 && x <= 10],
      ['BETWEEN', [N(0.5), N(0.6)], () => false],
    ];
    for (const [op, values, pred] of cases) {
      for (const forward of [true, false]) {
        const expected = sks.filter(pred).sort((x, y) => (forward ? x - y : y - x)).map((x) => String(x));
        const keyCondition = { hash: { S: 'b' }, ...(op ? { range: { op, values } } : {}) };
        const whole = s.query(1, { tableId: 5, keyCondition, forward });
        expect(whole.items.map((it) => it.sk.N ?? '')).toEqual(expected.map((x) => String(Number(x))));
        expect(whole.lastEvaluatedKey).toBeUndefined();
        for (const limit of [1, 2, 3]) {
          const pages = allPages((esk) => s.query(1, { tableId: 5, keyCondition, forward, limit, ...(esk ? { exclusiveStartKey: esk } : {}) }));
          expect(pages.flat().map((it) => (it as { sk: { N: string } }).sk.N)).toEqual(whole.items.map((it) => (it as { sk: { N: string } }).sk.N));
          expect(pages.every((p) => p.length <= limit)).toBe(true);
        }
      }
    }
  });

  it('begins_with on S sort keys (with a NUL byte and multi-byte characters), both directions', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 6, SHAPE_SS));
    const sks = ['', 'a', 'ab', 'ab\u0000', 'ab\u0000c', 'abc', 'abd', 'ac', 'b', 'é', 'éa', 'ê', '\u{1F600}x'];
    load(s, 1, 6, sks.map((sk) => ({ pk: { S: 'p' }, sk: { S: sk } })).filter((it) => it.sk.S !== ''), SHAPE_SS);
    for (const prefix of ['a', 'ab', 'ab\u0000', 'é', '\u{1F600}', 'z', '']) {
      for (const forward of [true, false]) {
        const want = sks.filter((x) => x !== '' && x.startsWith(prefix)).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        if (!forward) want.reverse();
        const r = s.query(1, { tableId: 6, keyCondition: { hash: { S: 'p' }, range: { op: 'begins_with', values: [{ S: prefix }] } }, forward });
        expect(r.items.map((it) => (it as { sk: { S: string } }).sk.S)).toEqual(want);
      }
    }
  });

  it('filter, projection, count and the 1 MB page rule', () => {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, 5, SHAPE_SN));
    // 30 items of ~100 KB: a page ends with the item that crosses 1 MB (the 11th).
    const big = 'x'.repeat(100 * 1024);
    load(s, 1, 5, Array.from({ length: 30 }, (_, i) => ({ pk: { S: 'p' }, sk: { N: String(i) }, big: { S: big }, odd: { BOOL: i % 2 === 1 } })));
    const keyCondition = { hash: { S: 'p' } };
    const p1 = s.query(1, { tableId: 5, keyCondition, forward: true, filter: { kind: 'compare', op: '=', left: { kind: 'path', path: ['odd'] }, right: { kind: 'value', value: { BOOL: true } } }, projection: [['sk']] });
    expect(p1.scannedCount).toBe(11);
    expect(p1.bytesRead).toBeGreaterThanOrEqual(1024 * 1024);
    expect(p1.count).toBe(5);
    expect(p1.items).toEqual([1, 3, 5, 7, 9].map((i) => ({ sk: { N: String(i) } })));
    expect(p1.lastEvaluatedKey).toEqual({ pk: { S: 'p' }, sk: { N: '10' } });
    const pages = allPages((esk) => s.query(1, { tableId: 5, keyCondition, forward: false, countOnly: true, ...(esk ? { exclusiveStartKey: esk } : {}) }));
    expect(pages.length).toBe(3);
    expect(pages.every((p) => p.length === 0)).toBe(true);
    const c = s.query(1, { tableId: 5, keyCondition, forward: false, countOnly: true, limit: 4 });
    expect([c.count, c.scannedCount, c.items.length, c.lastEvaluatedKey]).toEqual([4, 4, 0, { pk: { S: 'p' }, sk: { N: '26' } }]);
  });
});

describe('scan, digest, dropGroup', () => {
  function hashOf(id: string): bigint {
    return partitionHash({ S: id });
  }

  it('scans the intersection of the segment bounds and the group range, in key order, paged', () => {
    const s = tmp.open(tmp.make());
    const rnd = prng(7);
    s.saveGroup(groupRec(1, 3, SHAPE_H, '4000000000000000', 'bfffffffffffffff'));
    s.saveGroup(groupRec(2, 4, SHAPE_H)); // another table: never visible to group 1
    const ids = Array.from({ length: 400 }, (_, i) => `id${i}-${Math.floor(rnd() * 1e6)}`);
    load(s, 1, 3, ids.map((id) => ({ id: { S: id } })), SHAPE_H);
    load(s, 2, 4, ids.map((id) => ({ id: { S: id } })), SHAPE_H);
    const inGroup = ids.filter((id) => hashOf(id) >= 0x4000000000000000n && hashOf(id) <= 0xbfffffffffffffffn);
    const sorted = (xs: string[]) => [...xs].sort((a, b) => (hashOf(a) < hashOf(b) ? -1 : hashOf(a) > hashOf(b) ? 1 : 0));
    const all = s.scan(1, { tableId: 3, hashLo: '0000000000000000', hashHi: 'ffffffffffffffff' });
    expect(all.items.map((it) => (it.id as { S: string }).S)).toEqual(sorted(inGroup));
    const lo = 0x6000000000000000n;
    const hi = 0x7fffffffffffffffn;
    const seg = inGroup.filter((id) => hashOf(id) >= lo && hashOf(id) <= hi);
    const pages = allPages((esk) => s.scan(1, { tableId: 3, hashLo: hashToHex(lo), hashHi: hashToHex(hi), limit: 7, ...(esk ? { exclusiveStartKey: esk } : {}) }));
    expect(pages.flat().map((it) => (it.id as { S: string }).S)).toEqual(sorted(seg));
    expect(s.scan(1, { tableId: 3, hashLo: 'c000000000000000', hashHi: 'ffffffffffffffff' }).items).toEqual([]);
  });

  it('dropGroup removes only its range, and the drop survives a restart', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir);
    s.saveGroup(groupRec(1, 3, SHAPE_H, '0000000000000000', '7fffffffffffffff'));
    s.saveGroup(groupRec(2, 3, SHAPE_H, '8000000000000000', 'ffffffffffffffff'));
    s.saveGroup(groupRec(3, 8, SHAPE_H));
    const ids = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const lowIds = ids.filter((id) => hashOf(id) < 0x8000000000000000n);
    load(s, 1, 3, lowIds.map((id) => ({ id: { S: id } })), SHAPE_H);
    load(s, 2, 3, ids.filter((id) => !lowIds.includes(id)).map((id) => ({ id: { S: id } })), SHAPE_H);
    load(s, 3, 8, ids.map((id) => ({ id: { S: id } })), SHAPE_H);
    const d2 = s.groupDigest(2);
    const d3 = s.groupDigest(3);
    expect(s.groupDigest(1).items).toBe(lowIds.length);
    s.dropGroup(1);
    expect(s.groups().map((g) => g.group)).toEqual([2, 3]);
    expect(s.appliedIndex(1)).toBe(0);
    expect([s.groupDigest(2), s.groupDigest(3)]).toEqual([d2, d3]);
    await s.close();
    s = tmp.open(dir);
    s.saveGroup(groupRec(1, 3, SHAPE_H, '0000000000000000', '7fffffffffffffff'));
    expect(s.groupDigest(1)).toEqual({ items: 0, crc: 0, bytes: 0 });
    expect([s.groupDigest(2), s.groupDigest(3)]).toEqual([d2, d3]);
    await s.checkpoint();
  });

  it('numbers sort numerically in query order', () => {
    expect(compareNumbers('-12.5', '0.25')).toBe(-1);
  });
});
