/**
 * The items B-tree of one node, driven directly (no node, no WAL): apply batches and their
 * preconditions, applied indexes, point reads, Query and Scan order, long keys, digests
 * and range deletion, and what survives a reopen.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ItemStore, type ApplyStats } from '../../src/storage/items.js';
import { groupRange, hashIntervalBounds, type GroupRange } from '../../src/storage/key-intervals.js';
import { encodeWriteOp } from '../../src/storage/codec.js';
import type { WriteOp, WriteResult } from '../../src/storage/operations.js';
import type { ConditionAst, UpdateAst } from '../../src/expressions/ast.js';
import type { Item } from '../../src/model/types.js';
import { encodeItemKey, hashPrefix, tablePrefix } from '../../src/model/key-encoding.js';
import { hashToHex, partitionHash } from '../../src/model/hash.js';
import { STORED_PREFIX_BYTES } from '../../src/storage/stored-key.js';
import { itemSize } from '../../src/model/item-size.js';
import { compareBytes, prefixEnd } from '../../src/storage/codec.js';
import { FULL_END, FULL_START, groupRec, putOp, SHAPE_H, SHAPE_SS } from './helpers.js';

const T = 4; // the table of groups 1 and 2
const OTHER_T = 9; // the table of group 3

const notExists: ConditionAst = { kind: 'attribute_not_exists', path: ['pk'] };
const vIs = (v: string): ConditionAst => ({ kind: 'compare', op: '=', left: { kind: 'path', path: ['v'] }, right: { kind: 'value', value: { S: v } } });
const setV = (v: string): UpdateAst => ({ set: [{ path: ['v'], value: { kind: 'value', value: { S: v } } }], remove: [], add: [], delete: [] });
const CONDITION_FAILED = { ok: false, error: { name: 'ConditionalCheckFailedException', message: 'The conditional request failed' } };

const item = (pk: string, sk: string, v = `${pk}/${sk}`): Item => ({ pk: { S: pk }, sk: { S: sk }, v: { S: v } });
const key = (pk: string, sk: string): Item => ({ pk: { S: pk }, sk: { S: sk } });
const put = (it: Item, extra: Partial<WriteOp> = {}): WriteOp => putOp(T, SHAPE_SS, it, extra);
const del = (k: Item, extra: Partial<WriteOp> = {}): WriteOp => ({ type: 'delete', tableId: T, key: k, returnValues: 'NONE', ...extra } as WriteOp);
const update = (k: Item, u: UpdateAst, extra: Partial<WriteOp> = {}): WriteOp => ({ type: 'update', tableId: T, key: k, update: u, returnValues: 'NONE', ...extra } as WriteOp);
const sks = (items: Item[]): string[] => items.map((it) => (it.sk as { S: string }).S);

/** Groups 1 (table T, lower half of the hash space), 2 (table T, upper half) and 3
 *  (another table, everything). */
function ranges(): Map<number, GroupRange> {
  return new Map([
    [1, groupRange(groupRec(1, T, SHAPE_SS, FULL_START, '7fffffffffffffff'))],
    [2, groupRange(groupRec(2, T, SHAPE_SS, '8000000000000000', FULL_END))],
    [3, groupRange(groupRec(3, OTHER_T, SHAPE_H))],
  ]);
}

/** The group of table T whose half of the hash space holds `pk`. */
const groupOf = (pk: string): number => (partitionHash({ S: pk }) < 0x8000000000000000n ? 1 : 2);

let dir: string;
let stores: ItemStore[] = [];
let stats: ApplyStats;
const groups = ranges();

/** Opens the store in `<dir>/<name>` (closed after the test). */
function openStore(name = 'data', useWritemap = false): ItemStore {
  const store = new ItemStore(path.join(dir, name), { useWritemap }, stats);
  stores.push(store);
  return store;
}

async function reopen(store: ItemStore, name = 'data'): Promise<ItemStore> {
  stores = stores.filter((s) => s !== store);
  await store.close();
  return openStore(name);
}

/** Applies `ops` to `group` as its next entries (undefined: an entry with no write). */
function apply(s: ItemStore, group: number, ...ops: Array<WriteOp | undefined>): Array<WriteResult | undefined> {
  const first = s.appliedIndex(group) + 1;
  const entries = ops.map((op, i) => ({ index: first + i, data: op === undefined ? new Uint8Array(0) : encodeWriteOp(op) }));
  return s.applyBatch([{ group, entries }], groups)[0];
}

function putAll(s: ItemStore, items: Item[]): void {
  for (const it of items) apply(s, groupOf((it.pk as { S: string }).S), put(it));
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shardbox-items-'));
  stats = { applyTxns: 0, appliedEntries: 0, applyInternalErrors: 0 };
});

afterEach(async () => {
  for (const store of stores) await store.close();
  stores = [];
  await rm(dir, { recursive: true, force: true });
});

describe('group ranges', () => {
  it('parses the bounds, and refuses a range whose start is above its end', () => {
    const r = groupRange(groupRec(5, T, SHAPE_H, '00000000000000ff', '0000000000000100'));
    expect([r.hashStart, r.hashEnd]).toEqual([0xffn, 0x100n]);
    expect(groupRange(groupRec(5, T, SHAPE_H, 'abcdef0000000000', 'abcdef0000000000')).hashEnd).toBe(0xabcdef0000000000n);
    expect(() => groupRange(groupRec(6, T, SHAPE_H, '0000000000000101', '0000000000000100')))
      .toThrow('group 6: hashStart 0000000000000101 > hashEnd 0000000000000100');
  });

  it('the key bounds of a hash interval end just before the next hash, or at the end of the table', () => {
    expect(hashIntervalBounds(T, 5n, 9n)).toEqual({ lo: hashPrefix(T, 5n), hi: hashPrefix(T, 10n) });
    const last = hashIntervalBounds(T, 0n, 0xffffffffffffffffn);
    expect(last.lo).toEqual(hashPrefix(T, 0n));
    expect(last.hi).toEqual(prefixEnd(tablePrefix(T)));
    // Every key of the table's last hash is below that bound, and the next table's first key is not.
    const lastKey = encodeItemKey(T, SHAPE_H, { id: { S: 'x' } });
    expect(compareBytes(hashPrefix(T, 0xffffffffffffffffn), last.hi)).toBe(-1);
    expect(compareBytes(lastKey, last.hi)).toBe(-1);
    expect(compareBytes(tablePrefix(T + 1), last.hi)).toBe(0);
    expect(compareBytes(encodeItemKey(T + 1, SHAPE_H, { id: { S: 'x' } }), last.hi)).toBe(1);
  });
});

describe('applyBatch', () => {
  it('applies puts, updates and deletes, answers each entry, and records the applied index', () => {
    const s = openStore();
    expect(s.appliedIndex(1)).toBe(0);
    const pk = 'alpha';
    const g = groupOf(pk);
    const results = apply(s, g,
      put(item(pk, 'a', 'one')),
      undefined, // an entry with no write (a leader's no-op, a membership change)
      update(key(pk, 'a'), setV('two'), { returnValues: 'ALL_OLD' }),
      put(item(pk, 'b')),
      del(key(pk, 'b'), { returnValues: 'ALL_OLD' }),
    );
    expect(results).toEqual([
      { ok: true },
      undefined,
      { ok: true, attributes: item(pk, 'a', 'one') },
      { ok: true },
      { ok: true, attributes: item(pk, 'b') },
    ]);
    expect(s.get(groups.get(g)!, { tableId: T, key: key(pk, 'a') })).toEqual({ item: item(pk, 'a', 'two') });
    expect(s.get(groups.get(g)!, { tableId: T, key: key(pk, 'b') })).toEqual({});
    expect(s.appliedIndex(g)).toBe(5);
    expect(s.appliedIndexes()).toEqual(new Map([[g, 5]]));
    expect(stats).toEqual({ applyTxns: 1, appliedEntries: 5, applyInternalErrors: 0 });
  });

  it('conditions are evaluated against the item as it is when the entry is applied, within one batch', () => {
    const s = openStore();
    const pk = 'beta';
    const g = groupOf(pk);
    expect(apply(s, g,
      put(item(pk, 'a', 'first'), { condition: notExists }),
      put(item(pk, 'a', 'second'), { condition: notExists }), // the first one now exists
      put(item(pk, 'a', 'third'), { condition: vIs('first'), returnValues: 'ALL_OLD' }),
      del(key(pk, 'a'), { condition: vIs('first'), returnOldOnConditionFailure: true }),
      update(key(pk, 'a'), setV('fourth'), { condition: vIs('third'), returnValues: 'UPDATED_NEW' }),
      update(key(pk, 'missing'), setV('x'), { condition: { kind: 'attribute_exists', path: ['pk'] } }),
    )).toEqual([
      { ok: true },
      CONDITION_FAILED,
      { ok: true, attributes: item(pk, 'a', 'first') },
      { ...CONDITION_FAILED, error: { ...CONDITION_FAILED.error, details: { Item: item(pk, 'a', 'third') } } },
      { ok: true, attributes: { v: { S: 'fourth' } } },
      CONDITION_FAILED,
    ]);
    expect(s.get(groups.get(g)!, { tableId: T, key: key(pk, 'a') }).item).toEqual(item(pk, 'a', 'fourth'));
    expect(s.get(groups.get(g)!, { tableId: T, key: key(pk, 'missing') })).toEqual({});
    // A failed condition still consumes its entry.
    expect(s.appliedIndex(g)).toBe(6);
  });

  it('a write for another table fails as an internal error and changes nothing', () => {
    const s = openStore();
    const pk = 'gamma';
    const [result] = apply(s, groupOf(pk), putOp(OTHER_T, SHAPE_SS, item(pk, 'a')));
    expect(result).toEqual({ ok: false, error: { name: 'InternalServerError', message: `write for table ${OTHER_T} reached group ${groupOf(pk)} of table ${T}` } });
    expect(s.get(groups.get(3)!, { tableId: OTHER_T, key: { id: { S: pk } } })).toEqual({});
    expect(s.digest(tablePrefix(T), prefixEnd(tablePrefix(T))!)).toEqual({ items: 0, crc: 0, bytes: 0 });
  });

  it('applies several groups in one transaction, and a group may appear twice if its entries continue', () => {
    const s = openStore();
    apply(s, 1, undefined, undefined);
    const results = s.applyBatch([
      { group: 1, entries: [{ index: 3, data: encodeWriteOp(putOp(OTHER_T, SHAPE_H, { id: { S: 'x' } })) }] },
      { group: 3, entries: [{ index: 1, data: encodeWriteOp(putOp(OTHER_T, SHAPE_H, { id: { S: 'x' } })) }, { index: 2, data: new Uint8Array(0) }] },
      { group: 1, entries: [{ index: 4, data: new Uint8Array(0) }] },
    ], groups);
    expect(results.map((r) => r.map((x) => x?.ok))).toEqual([[false], [true, undefined], [undefined]]);
    expect(s.appliedIndexes()).toEqual(new Map([[1, 4], [3, 2]]));
    expect(stats.applyTxns).toBe(2);
    expect(stats.appliedEntries).toBe(6);
  });

  it('refuses a batch that skips or repeats an index, or names a group it does not host, and writes none of it', () => {
    const s = openStore();
    apply(s, 1, undefined, undefined, undefined);
    const write = encodeWriteOp(putOp(OTHER_T, SHAPE_H, { id: { S: 'y' } }));
    const valid = { group: 3, entries: [{ index: 1, data: write }] };
    expect(() => s.applyBatch([valid, { group: 1, entries: [{ index: 5, data: new Uint8Array(0) }] }], groups))
      .toThrow('apply: group 1 entry 5 where 4 was expected (applied index 3)');
    expect(() => s.applyBatch([valid, { group: 1, entries: [{ index: 3, data: new Uint8Array(0) }] }], groups))
      .toThrow('apply: group 1 entry 3 where 4 was expected (applied index 3)');
    expect(() => s.applyBatch([valid, { group: 3, entries: [{ index: 3, data: write }] }], groups))
      .toThrow('apply: group 3 entry 3 where 2 was expected (applied index 1)');
    expect(() => s.applyBatch([valid, { group: 7, entries: [] }], groups)).toThrow('apply: group 7 is not hosted by this node');
    expect(s.appliedIndexes()).toEqual(new Map([[1, 3]]));
    expect(s.get(groups.get(3)!, { tableId: OTHER_T, key: { id: { S: 'y' } } })).toEqual({});
    expect(stats.applyTxns).toBe(1);
  });

  it('items and applied indexes survive a reopen', async () => {
    let s = openStore();
    putAll(s, [item('alpha', 'a'), item('beta', 'b')]);
    apply(s, 3, putOp(OTHER_T, SHAPE_H, { id: { S: 'z' }, n: { N: '1' } }), undefined);
    const before = s.appliedIndexes();
    await s.sync();
    s = await reopen(s);
    expect(s.appliedIndexes()).toEqual(before);
    expect(s.appliedIndex(3)).toBe(2);
    expect(s.get(groups.get(groupOf('alpha'))!, { tableId: T, key: key('alpha', 'a') }).item).toEqual(item('alpha', 'a'));
    expect(s.get(groups.get(3)!, { tableId: OTHER_T, key: { id: { S: 'z' } }, projection: [['n']] })).toEqual({ item: { n: { N: '1' } } });
  });
});

describe('query', () => {
  const pk = 'orders';
  const sortKeys = ['a', 'a\u0000', 'ab', 'b', 'ba', 'z', 'é'];
  const sorted = [...sortKeys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

  function loaded(): { s: ItemStore; range: GroupRange } {
    const s = openStore();
    // Shuffled, and with neighbours in another partition key: the query sees only its own.
    putAll(s, [...sortKeys].reverse().map((sk) => item(pk, sk)));
    putAll(s, [item('orderz', 'a'), item('order', 'zz')]);
    return { s, range: groups.get(groupOf(pk))! };
  }

  it('returns the partition key\'s items in sort-key order, forwards and backwards, from first to last', () => {
    const { s, range } = loaded();
    const forward = s.query(range, { tableId: T, keyCondition: { hash: { S: pk } }, forward: true });
    expect(sks(forward.items)).toEqual(sorted);
    expect(forward.lastEvaluatedKey).toBeUndefined();
    expect(forward.lastKey).toEqual(key(pk, sorted.at(-1)!));
    expect([forward.count, forward.scannedCount]).toEqual([sorted.length, sorted.length]);
    const backward = s.query(range, { tableId: T, keyCondition: { hash: { S: pk } }, forward: false });
    expect(sks(backward.items)).toEqual([...sorted].reverse());
    expect(backward.lastKey).toEqual(key(pk, sorted[0]));
  });

  it('sort-key conditions at the first and last keys', () => {
    const { s, range } = loaded();
    const q = (op: '=' | '<' | '<=' | '>' | '>=' | 'BETWEEN' | 'begins_with', values: string[], forward = true) =>
      sks(s.query(range, { tableId: T, keyCondition: { hash: { S: pk }, range: { op, values: values.map((v) => ({ S: v })) } }, forward }).items);
    expect(q('<', ['a'])).toEqual([]);
    expect(q('<=', ['a'])).toEqual(['a']);
    expect(q('>', ['é'])).toEqual([]);
    expect(q('>=', ['é'])).toEqual(['é']);
    expect(q('=', ['a\u0000'])).toEqual(['a\u0000']);
    expect(q('BETWEEN', ['a', 'ab'])).toEqual(['a', 'a\u0000', 'ab']);
    expect(q('BETWEEN', ['a', 'ab'], false)).toEqual(['ab', 'a\u0000', 'a']);
    expect(q('begins_with', ['a'])).toEqual(['a', 'a\u0000', 'ab']);
    expect(q('begins_with', ['b'], false)).toEqual(['ba', 'b']);
  });

  it('pages by Limit with LastEvaluatedKey, and resumes after ExclusiveStartKey in either direction', () => {
    const { s, range } = loaded();
    for (const forward of [true, false]) {
      const seen: string[] = [];
      let exclusiveStartKey: Item | undefined;
      for (let page = 0; page < 10; page++) {
        const p = s.query(range, { tableId: T, keyCondition: { hash: { S: pk } }, forward, limit: 3, ...(exclusiveStartKey ? { exclusiveStartKey } : {}) });
        seen.push(...sks(p.items));
        exclusiveStartKey = p.lastEvaluatedKey;
        if (exclusiveStartKey === undefined) break;
        expect(p.items.length).toBe(3);
        expect(exclusiveStartKey).toEqual(key(pk, sks(p.items).at(-1)!));
      }
      expect(seen).toEqual(forward ? sorted : [...sorted].reverse());
    }
    // A page that stops at Limit has a LastEvaluatedKey, even when nothing is left (DynamoDB
    // does not look further: dynalite's suite, run against it); a larger Limit has none.
    const exact = s.query(range, { tableId: T, keyCondition: { hash: { S: pk } }, forward: true, limit: sorted.length });
    expect(exact.lastEvaluatedKey).toEqual(key(pk, sorted.at(-1)!));
    const larger = s.query(range, { tableId: T, keyCondition: { hash: { S: pk } }, forward: true, limit: sorted.length + 1 });
    expect(larger.lastEvaluatedKey).toBeUndefined();
    const short = s.query(range, { tableId: T, keyCondition: { hash: { S: pk } }, forward: true, limit: sorted.length - 1 });
    expect(short.lastEvaluatedKey).toEqual(key(pk, sorted.at(-2)!));
  });

  it('begins_with on a number sort key is a validation error', () => {
    const s = openStore();
    const shapeSN = { hashName: 'pk', hashType: 'S' as const, rangeName: 'sk', rangeType: 'N' as const };
    const range = groupRange(groupRec(1, T, shapeSN));
    expect(() => s.query(range, { tableId: T, keyCondition: { hash: { S: pk }, range: { op: 'begins_with', values: [{ N: '1' }] } }, forward: true }))
      .toThrow('begins_with is only valid on S and B sort keys');
  });
});

describe('scan', () => {
  const pks = Array.from({ length: 60 }, (_, i) => `user-${i}`);
  const byHash = (xs: string[]) => [...xs].sort((a, b) => {
    const d = partitionHash({ S: a }) - partitionHash({ S: b });
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });

  it('reads the intersection of the requested hash slice and the group\'s range, in hash order', () => {
    const s = openStore();
    putAll(s, pks.map((pk) => item(pk, 's')));
    apply(s, 3, putOp(OTHER_T, SHAPE_H, { id: { S: 'user-1' } })); // another table: never seen
    const whole = { tableId: T, hashLo: FULL_START, hashHi: FULL_END };
    const low = s.scan(groups.get(1)!, whole);
    const high = s.scan(groups.get(2)!, whole);
    expect(low.items.map((it) => (it.pk as { S: string }).S)).toEqual(byHash(pks.filter((pk) => groupOf(pk) === 1)));
    expect(high.items.map((it) => (it.pk as { S: string }).S)).toEqual(byHash(pks.filter((pk) => groupOf(pk) === 2)));
    // A slice bounded by the exact hashes of two items holds both (inclusive bounds).
    const ordered = byHash(pks.filter((pk) => groupOf(pk) === 1));
    const [first, last] = [ordered[2], ordered[5]];
    const slice = s.scan(groups.get(1)!, { tableId: T, hashLo: hashToHex(partitionHash({ S: first })), hashHi: hashToHex(partitionHash({ S: last })) });
    expect(slice.items.map((it) => (it.pk as { S: string }).S)).toEqual(ordered.slice(2, 6));
    // A slice outside the group's range reads nothing.
    expect(s.scan(groups.get(1)!, { tableId: T, hashLo: '8000000000000000', hashHi: FULL_END })).toEqual({ items: [], count: 0, scannedCount: 0, bytesRead: 0 });
  });

  it('pages by Limit and by maxBytes, resuming after ExclusiveStartKey', () => {
    const s = openStore();
    putAll(s, pks.map((pk) => item(pk, 's', 'x'.repeat(100))));
    const expected = byHash(pks.filter((pk) => groupOf(pk) === 2));
    for (const pageOption of [{ limit: 4 }, { maxBytes: 500 }]) {
      const seen: string[] = [];
      let exclusiveStartKey: Item | undefined;
      for (let page = 0; page < 100; page++) {
        const p = s.scan(groups.get(2)!, { tableId: T, hashLo: FULL_START, hashHi: FULL_END, ...pageOption, ...(exclusiveStartKey ? { exclusiveStartKey } : {}) });
        seen.push(...p.items.map((it) => (it.pk as { S: string }).S));
        exclusiveStartKey = p.lastEvaluatedKey;
        if (exclusiveStartKey === undefined) break;
        if ('limit' in pageOption) expect(p.scannedCount).toBe(4);
        // A page stops with the item that reaches maxBytes.
        else expect([p.bytesRead >= 500, p.bytesRead - itemSize(p.items.at(-1)!) < 500]).toEqual([true, true]);
      }
      expect(seen).toEqual(expected);
    }
  });
});

describe('page size', () => {
  it('a page stops with the item that reaches maxBytes, exactly at the boundary', () => {
    const s = openStore();
    const pks = Array.from({ length: 30 }, (_, i) => `user-${10 + i}`); // items of one size
    putAll(s, pks.map((pk) => item(pk, 's', 'x'.repeat(100))));
    const size = itemSize(item('user-10', 's', 'x'.repeat(100)));
    const scanned = (maxBytes: number) => {
      const p = s.scan(groups.get(2)!, { tableId: T, hashLo: FULL_START, hashHi: FULL_END, maxBytes });
      return [p.scannedCount, p.bytesRead, p.lastEvaluatedKey !== undefined];
    };
    expect(scanned(2 * size - 1)).toEqual([2, 2 * size, true]);
    expect(scanned(2 * size)).toEqual([2, 2 * size, true]);
    expect(scanned(2 * size + 1)).toEqual([3, 3 * size, true]);
  });
});

describe('long keys (stored truncated, beyond lmdb-js\'s key limit)', () => {
  // A 2048-character partition key alone encodes past the stored prefix: every item of it
  // shares its whole stored prefix and differs only in its digest.
  const longPk = 'p'.repeat(2048);
  const longSorts = ['b'.repeat(1024), 'a'.repeat(1024), 'a'.repeat(1023) + 'b', 'a', 'ab', 'a'.repeat(1023)];
  const sortedLong = [...longSorts].sort();

  it('are written, read, conditioned, queried in full-key order and deleted like short ones', async () => {
    let s = openStore();
    expect(encodeItemKey(T, SHAPE_SS, key(longPk, 'a')).length).toBeGreaterThan(STORED_PREFIX_BYTES);
    const g = groupOf(longPk);
    const range = groups.get(g)!;
    expect(apply(s, g, ...longSorts.map((sk) => put(item(longPk, sk, sk.slice(0, 3)), { condition: notExists })))).toEqual(longSorts.map(() => ({ ok: true })));
    expect(apply(s, g, put(item(longPk, 'a'.repeat(1024)), { condition: notExists }))).toEqual([CONDITION_FAILED]);
    for (const sk of longSorts) expect(s.get(range, { tableId: T, key: key(longPk, sk) }).item).toEqual(item(longPk, sk, sk.slice(0, 3)));
    expect(s.get(range, { tableId: T, key: key(longPk, 'a'.repeat(1022)) })).toEqual({});

    const query = (forward: boolean, extra: object = {}) =>
      s.query(range, { tableId: T, keyCondition: { hash: { S: longPk } }, forward, ...extra });
    expect(sks(query(true).items)).toEqual(sortedLong);
    expect(sks(query(false).items)).toEqual([...sortedLong].reverse());
    expect(sks(query(true, { keyCondition: { hash: { S: longPk }, range: { op: 'begins_with', values: [{ S: 'a'.repeat(1023) }] } } }).items))
      .toEqual(['a'.repeat(1023), 'a'.repeat(1024), 'a'.repeat(1023) + 'b']);
    const page = query(true, { limit: 2 });
    expect(query(true, { exclusiveStartKey: page.lastEvaluatedKey }).items.length).toBe(sortedLong.length - 2);
    expect(sks(query(true, { exclusiveStartKey: page.lastEvaluatedKey }).items)).toEqual(sortedLong.slice(2));

    expect(apply(s, g, del(key(longPk, 'a'.repeat(1024)), { returnValues: 'ALL_OLD' }))).toEqual([{ ok: true, attributes: item(longPk, 'a'.repeat(1024), 'aaa') }]);
    s = await reopen(s);
    expect(sks(s.query(range, { tableId: T, keyCondition: { hash: { S: longPk } }, forward: true }).items))
      .toEqual(sortedLong.filter((sk) => sk !== 'a'.repeat(1024)));
  });
});

describe('digest and deleteRanges', () => {
  const tableBounds = (tableId: number) => ({ lo: tablePrefix(tableId), hi: prefixEnd(tablePrefix(tableId))! });

  it('stores that applied the same writes in any order have the same digest; any difference shows', () => {
    const s = openStore();
    const items = ['k1', 'k2', 'k3', 'k4'].map((pk) => item(pk, 's'));
    putAll(s, items);
    const { lo, hi } = tableBounds(T);
    const digest = s.digest(lo, hi);
    expect(digest.items).toBe(4);
    expect(s.digest(tablePrefix(OTHER_T), prefixEnd(tablePrefix(OTHER_T))!)).toEqual({ items: 0, crc: 0, bytes: 0 });
    const other = openStore('other', true);
    putAll(other, [...items].reverse());
    expect(other.digest(lo, hi)).toEqual(digest);
    apply(other, groupOf('k2'), put(item('k2', 's', 'changed')));
    expect(other.digest(lo, hi).items).toBe(4);
    expect(other.digest(lo, hi).crc).not.toBe(digest.crc);
  });

  it('deleteRanges removes exactly the keys of its intervals, and forgets a group\'s applied index durably', async () => {
    let s = openStore();
    const pks = Array.from({ length: 40 }, (_, i) => `k${i}`);
    putAll(s, pks.map((pk) => item(pk, 's')));
    apply(s, 3, putOp(OTHER_T, SHAPE_H, { id: { S: 'k0' } }));
    const lowCount = pks.filter((pk) => groupOf(pk) === 1).length;
    const indexes = s.appliedIndexes();
    const low = hashIntervalBounds(T, 0n, 0x7fffffffffffffffn);
    expect(s.deleteRanges([low], 1)).toBe(lowCount);
    expect(s.appliedIndex(1)).toBe(0);
    expect(s.digest(low.lo, low.hi)).toEqual({ items: 0, crc: 0, bytes: 0 });
    const high = hashIntervalBounds(T, 0x8000000000000000n, 0xffffffffffffffffn);
    expect(s.digest(high.lo, high.hi).items).toBe(pks.length - lowCount);
    expect(s.get(groups.get(3)!, { tableId: OTHER_T, key: { id: { S: 'k0' } } }).item).toEqual({ id: { S: 'k0' } });
    // An empty interval and no group to forget: nothing changes.
    expect(s.deleteRanges([{ lo: high.lo, hi: high.lo }], undefined)).toBe(0);
    s = await reopen(s);
    expect(s.appliedIndexes()).toEqual(new Map([[2, indexes.get(2)!], [3, 1]]));
    expect(s.digest(low.lo, low.hi).items).toBe(0);
    expect(s.digest(high.lo, high.hi).items).toBe(pks.length - lowCount);
  });
});
