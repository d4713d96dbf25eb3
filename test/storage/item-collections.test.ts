/**
 * Item collections at the apply level, without I/O: apply (apply.ts) over an in-memory
 * key-value view keeps each collection's size row (indexes.ts) in step with puts, updates
 * and deletes, and refuses a write that would grow a collection past the limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TempDirs, entry, groupRec } from './helpers.js';
import type { Item } from '../../src/model/types.js';
import { itemSize } from '../../src/model/item-size.js';
import type { UpdateAst } from '../../src/expressions/ast.js';
import { applyWriteOp, type ApplyStats, type ApplyTarget, type ItemKV } from '../../src/storage/apply.js';
import { decodeItem, decodeRawWriteOp, encodeWriteOp } from '../../src/storage/codec.js';
import {
  ITEM_COLLECTION_SPACE_ID, ITEM_COLLECTION_TOO_LARGE_MESSAGE, itemCollectionKey, readItemCollectionBytes, type GroupIndexes, type IndexSpec,
} from '../../src/storage/indexes.js';
import type { WriteOp, WriteResult } from '../../src/storage/operations.js';
import { sealValue } from '../../src/storage/checked-values.js';

const T = 7;
const SHAPE = { hashName: 'pk', hashType: 'S' as const, rangeName: 'sk', rangeType: 'N' as const };
const byLs: IndexSpec = { id: 20, name: 'byLs', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ls', type: 'N' }] }, projection: { type: 'KEYS_ONLY' } };
const byLsAll: IndexSpec = { id: 21, name: 'byLsAll', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ls', type: 'N' }] }, projection: { type: 'ALL' } };
const INDEXES: GroupIndexes = { local: [byLs, byLsAll], global: [] };

class MapKV implements ItemKV {
  readonly map = new Map<string, Uint8Array>();
  get(key: Uint8Array) {
    return this.map.get(Buffer.from(key).toString('hex'));
  }
  put(key: Uint8Array, value: Uint8Array) {
    this.map.set(Buffer.from(key).toString('hex'), value.slice());
  }
  remove(key: Uint8Array) {
    this.map.delete(Buffer.from(key).toString('hex'));
  }
  /** Every row, as hex key → hex value (to compare states). */
  snapshot(): Map<string, string> {
    return new Map([...this.map].map(([k, v]) => [k, Buffer.from(v).toString('hex')]));
  }
  collectionRows(): number {
    return [...this.map.keys()].filter((k) => parseInt(k.slice(0, 8), 16) === ITEM_COLLECTION_SPACE_ID).length;
  }
}

function setup(limitBytes?: number, indexes: GroupIndexes = INDEXES) {
  const kv = new MapKV();
  const target: ApplyTarget = { group: 1, tableId: T, keyShape: SHAPE, indexes, ...(limitBytes !== undefined ? { itemCollectionLimitBytes: limitBytes } : {}) };
  const stats: ApplyStats = { applyTxns: 0, appliedEntries: 0, applyInternalErrors: 0 };
  let index = 0;
  const apply = (op: WriteOp): WriteResult => applyWriteOp(kv, target, decodeRawWriteOp(encodeWriteOp(op)), stats, ++index);
  const size = (pk: string) => readItemCollectionBytes(kv, indexes, { S: pk });
  return { kv, apply, size };
}

const key = (pk: string, sk: number): Item => ({ pk: { S: pk }, sk: { N: String(sk) } });
const put = (item: Item): WriteOp => ({ type: 'put', tableId: T, key: { pk: item.pk, sk: item.sk }, item, returnValues: 'NONE' });
const del = (pk: string, sk: number): WriteOp => ({ type: 'delete', tableId: T, key: key(pk, sk), returnValues: 'NONE' });
const setV = (pk: string, sk: number, v: string): WriteOp => {
  const update: UpdateAst = { set: [{ path: ['v'], value: { kind: 'value', value: { S: v } } }], remove: [], add: [], delete: [] };
  return { type: 'update', tableId: T, key: key(pk, sk), update, returnValues: 'NONE' };
};

/** DynamoDB's storage sizes: the item and each local-index entry, each with 100 bytes of
 *  overhead (byLs projects keys only, byLsAll the whole item). */
function expectedBytes(item: Item): number {
  const base = itemSize(item) + 100;
  if (item.ls === undefined) return base;
  const keysOnly: Item = { pk: item.pk, sk: item.sk, ls: item.ls };
  return base + itemSize(keysOnly) + 100 + itemSize(item) + 100;
}

describe('item collection sizes', () => {
  it('follow puts, updates and deletes of every item of a partition-key value', () => {
    const { apply, size, kv } = setup();
    const a1: Item = { ...key('a', 1), ls: { N: '5' }, v: { S: 'x'.repeat(300) } };
    const a2: Item = { ...key('a', 2), v: { S: 'y'.repeat(50) } };
    const b1: Item = { ...key('b', 1), ls: { N: '1' } };
    expect(apply(put(a1))).toMatchObject({ ok: true, collectionBytes: expectedBytes(a1) });
    expect(apply(put(a2))).toMatchObject({ ok: true, collectionBytes: expectedBytes(a1) + expectedBytes(a2) });
    apply(put(b1));
    expect(size('a')).toBe(expectedBytes(a1) + expectedBytes(a2));
    expect(size('b')).toBe(expectedBytes(b1));

    // An update that grows an item grows its collection by the item's and its entries' growth.
    const a1Grown: Item = { ...a1, v: { S: 'z'.repeat(1000) } };
    expect(apply(setV('a', 1, 'z'.repeat(1000)))).toMatchObject({ ok: true, collectionBytes: expectedBytes(a1Grown) + expectedBytes(a2) });
    // A put over an item replaces its share.
    const a2Indexed: Item = { ...a2, ls: { N: '9' } };
    apply(put(a2Indexed));
    expect(size('a')).toBe(expectedBytes(a1Grown) + expectedBytes(a2Indexed));

    expect(apply(del('a', 1))).toMatchObject({ ok: true, collectionBytes: expectedBytes(a2Indexed) });
    // An empty collection has no row left.
    expect(apply(del('a', 2))).toMatchObject({ ok: true, collectionBytes: 0 });
    expect(size('a')).toBe(0);
    expect(kv.collectionRows()).toBe(1);
    apply(del('b', 1));
    expect(kv.collectionRows()).toBe(0);
  });

  it('is not tracked for a table without local indexes', () => {
    const byG: IndexSpec = { id: 30, name: 'byG', key: { hash: [{ name: 'g', type: 'S' }], range: [] }, projection: { type: 'KEYS_ONLY' } };
    const { apply, kv } = setup(undefined, { local: [], global: [byG] });
    const result = apply(put({ ...key('a', 1), g: { S: 'x' } }));
    expect(result.ok).toBe(true);
    expect(result.ok && result.collectionBytes).toBeUndefined();
    expect(kv.collectionRows()).toBe(0);
  });

  it('a write that would grow a collection past the limit is refused and changes nothing', () => {
    const small: Item = { ...key('a', 1), ls: { N: '1' }, v: { S: 'x'.repeat(100) } };
    const limit = expectedBytes(small) + 400;
    const { apply, kv, size } = setup(limit);
    expect(apply(put(small)).ok).toBe(true);
    const before = kv.snapshot();

    // Fits alone (in another collection it is accepted below), not beside `small`.
    const medium: Item = { ...key('a', 2), v: { S: 'y'.repeat(350) } };
    expect(expectedBytes(medium)).toBeLessThan(limit);
    const refused = apply(put(medium));
    expect(refused).toEqual({ ok: false, error: { name: 'ItemCollectionSizeLimitExceededException', message: ITEM_COLLECTION_TOO_LARGE_MESSAGE } });
    expect(kv.snapshot()).toEqual(before);
    // An update that grows an item past it too.
    expect(apply(setV('a', 1, 'z'.repeat(600)))).toMatchObject({ ok: false, error: { name: 'ItemCollectionSizeLimitExceededException' } });
    expect(kv.snapshot()).toEqual(before);

    // Other collections are not affected, and writes within the limit go through.
    expect(apply(put({ ...medium, pk: { S: 'b' } })).ok).toBe(true);
    const fits: Item = { ...key('a', 3), v: { S: 'w'.repeat(10) } };
    expect(expectedBytes(small) + expectedBytes(fits)).toBeLessThanOrEqual(limit);
    expect(apply(put(fits)).ok).toBe(true);
    expect(size('a')).toBe(expectedBytes(small) + expectedBytes(fits));
  });

  it('a collection above the limit may still shrink', () => {
    const item: Item = { ...key('a', 1), ls: { N: '1' }, v: { S: 'x'.repeat(300) } };
    const loose = setup();
    loose.apply(put(item));
    loose.apply(put({ ...key('a', 2), v: { S: 'y'.repeat(300) } }));
    // The same rows, under a limit they already exceed (as after a lowered limit).
    const tight = setup(100);
    for (const [k, v] of loose.kv.map) tight.kv.map.set(k, v);
    expect(tight.apply(setV('a', 1, 'short')).ok).toBe(true);
    expect(tight.apply(del('a', 2)).ok).toBe(true);
    expect(tight.size('a')).toBe(expectedBytes({ ...item, v: { S: 'short' } }));
    expect(tight.apply(setV('a', 1, 'longer than short'))).toMatchObject({ ok: false });
  });

  it('replicas that apply the same writes hold the same size rows', () => {
    const ops: WriteOp[] = [];
    for (let i = 0; i < 60; i++) {
      const pk = `p${i % 4}`;
      const sk = i % 7;
      if (i % 5 === 4) ops.push(del(pk, sk));
      else if (i % 3 === 0) ops.push(setV(pk, sk, 'v'.repeat(i * 3)));
      else ops.push(put({ ...key(pk, sk), ...(i % 2 === 0 ? { ls: { N: String(i) } } : {}), v: { S: 'u'.repeat(i) } }));
    }
    const one = setup();
    const two = setup();
    for (const op of ops) {
      one.apply(op);
      two.apply(op);
    }
    expect(one.kv.snapshot()).toEqual(two.kv.snapshot());
    // And each row is what the collection's items imply, recomputed from the items.
    const implied = new Map<string, number>();
    for (const [k, v] of one.kv.map) {
      if (parseInt(k.slice(0, 8), 16) !== T) continue;
      const item = decodeItem(v);
      implied.set(item.pk.S!, (implied.get(item.pk.S!) ?? 0) + expectedBytes(item));
    }
    expect(implied.size).toBeGreaterThan(0);
    for (const pk of ['p0', 'p1', 'p2', 'p3']) expect(one.size(pk)).toBe(implied.get(pk) ?? 0);
  });
});

describe("item collection sizes on a node's store", () => {
  const tmp = new TempDirs();
  afterEach(() => tmp.cleanup());

  it("are part of the group's digest, and a dropped group's go with it", () => {
    const open = () => {
      const s = tmp.open(tmp.make());
      s.saveGroup({ ...groupRec(1, T, SHAPE), indexes: INDEXES });
      return s;
    };
    const stores = [open(), open()];
    const first: Item = { ...key('a', 1), ls: { N: '1' }, v: { S: 'x'.repeat(200) } };
    for (const s of stores) s.applyCommitted([{ group: 1, entries: [entry(1, put(first)), entry(2, put({ ...key('b', 1), v: { S: 'y' } }))] }]);
    expect(stores[0].groupDigest(1)).toEqual(stores[1].groupDigest(1));
    // A size row that differs (as a replica that counted wrong would hold) shows.
    const items = (stores[1] as unknown as { data: { items: { putSync(k: Uint8Array, v: Uint8Array): void } } }).data.items;
    const rowKey = itemCollectionKey(INDEXES, { S: 'a' });
    items.putSync(rowKey, sealValue(rowKey, new Uint8Array(8))); // a well-sealed row with another size
    expect(stores[1].groupDigest(1)).not.toEqual(stores[0].groupDigest(1));

    // After a drop, a new group of the same range counts its collections from nothing.
    const s = stores[0];
    s.dropGroup(1);
    s.saveGroup({ ...groupRec(1, T, SHAPE), indexes: INDEXES });
    const again: Item = { ...key('a', 2), v: { S: 'z' } };
    expect(s.applyCommitted([{ group: 1, entries: [entry(1, put(again))] }])[0]).toEqual([{ ok: true, collectionBytes: expectedBytes(again) }]);
  });
});
