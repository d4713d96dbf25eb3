/**
 * Checksums at rest (checked-values.ts): every value of a node's items B-tree carries a
 * CRC32C of its key and payload, verified on every read. Damage is made here by writing
 * bytes straight into the B-tree (as NodeStore.rot does), and no read, range read, digest
 * or apply may hand a damaged value on as data.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from 'lmdb';
import type { Item } from '../../src/model/types.js';
import type { IndexSpec } from '../../src/model/index-spec.js';
import { encodeItemKey } from '../../src/model/key-encoding.js';
import type { NodeStore } from '../../src/storage/node-store.js';
import { ItemChecksumError } from '../../src/storage/checked-values.js';
import { ITEM_COLLECTION_SPACE_ID, type GroupIndexes } from '../../src/storage/indexes.js';
import type { WriteOp } from '../../src/storage/operations.js';
import { TempDirs, entry, groupRec, putOp, SHAPE_SN } from './helpers.js';

const T = 3;
const OTHER_T = 4;
const byLs: IndexSpec = { id: 30, name: 'byLs', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ls', type: 'N' }] }, projection: { type: 'ALL' } };
const INDEXES: GroupIndexes = { local: [byLs], global: [] };

const key = (pk: string, sk: number): Item => ({ pk: { S: pk }, sk: { N: String(sk) } });
const itemOf = (pk: string, sk: number, extra: Item = {}): Item => ({ ...key(pk, sk), v: { S: `${pk}/${sk}`.padEnd(120, '.') }, ...extra });
const put = (tableId: number, item: Item, extra: Partial<WriteOp> = {}): WriteOp => putOp(tableId, SHAPE_SN, item, extra);

/** The store's raw items B-tree (stored keys, sealed values). */
function rawItems(store: NodeStore): Database<Uint8Array, Uint8Array> {
  return (store as unknown as { data: { items: Database<Uint8Array, Uint8Array> } }).data.items;
}

/** Every row of the B-tree, as hex key → hex value. */
function rows(store: NodeStore): Map<string, string> {
  const out = new Map<string, string>();
  for (const { key: k, value } of rawItems(store).getRange({})) out.set(Buffer.from(k).toString('hex'), Buffer.from(value).toString('hex'));
  return out;
}

/** Flips byte `at` of the stored value of `storedKey`, as rot does (checksum untouched). */
function flip(store: NodeStore, storedKey: Uint8Array, at: number): void {
  const items = rawItems(store);
  const value = new Uint8Array(items.getBinary(storedKey)!);
  value[at] ^= 0xff;
  items.putSync(storedKey, value);
}

function caught(read: () => unknown): ItemChecksumError {
  try {
    read();
  } catch (error) {
    if (error instanceof ItemChecksumError) return error;
    throw error;
  }
  throw new Error('the read returned data from a damaged value');
}

describe('checksums at rest', () => {
  const tmp = new TempDirs();
  afterEach(() => tmp.cleanup());

  /** A store with group 1 (table T, with a local index when asked) and group 2 (OTHER_T),
   *  each holding items p{0..pks-1} × sk {0..perPk-1}; returns the next log index of each. */
  function filled(pks = 4, perPk = 5, indexes?: GroupIndexes): { store: NodeStore; next: Map<number, number> } {
    const store = tmp.open(tmp.make());
    store.saveGroup({ ...groupRec(1, T, SHAPE_SN), ...(indexes !== undefined ? { indexes } : {}) });
    store.saveGroup(groupRec(2, OTHER_T, SHAPE_SN));
    const next = new Map<number, number>();
    for (const [group, tableId] of [[1, T], [2, OTHER_T]]) {
      const entries = [];
      let index = 1;
      for (let p = 0; p < pks; p++) for (let s = 0; s < perPk; s++) entries.push(entry(index++, put(tableId, itemOf(`p${p}`, s, { ls: { N: String(s) } }))));
      store.applyCommitted([{ group, entries }]);
      next.set(group, index);
    }
    return { store, next };
  }

  it('a change of any byte of a stored value, its checksum included, is detected and counted', () => {
    const { store } = filled(1, 1);
    const storedKey = encodeItemKey(T, SHAPE_SN, key('p0', 0));
    const length = rawItems(store).getBinary(storedKey)!.length;
    for (let at = 0; at < length; at++) {
      flip(store, storedKey, at);
      const error = caught(() => store.get(1, { tableId: T, key: key('p0', 0) }));
      expect(error.group, `byte ${at}`).toBe(1);
      expect(error.tableId).toBe(T);
      expect(error.spaceId).toBe(T);
      expect(Buffer.from(error.storedKey).equals(Buffer.from(storedKey))).toBe(true);
      flip(store, storedKey, at);
    }
    expect(store.stats.itemChecksumFailures).toBe(length);
    expect(store.get(1, { tableId: T, key: key('p0', 0) }).item).toEqual(itemOf('p0', 0, { ls: { N: '0' } }));
  });

  it('a value moved under another key fails too (the checksum covers the key)', () => {
    const { store } = filled(1, 2);
    const items = rawItems(store);
    const a = encodeItemKey(T, SHAPE_SN, key('p0', 0));
    const b = encodeItemKey(T, SHAPE_SN, key('p0', 1));
    items.putSync(b, new Uint8Array(items.getBinary(a)!));
    expect(caught(() => store.get(1, { tableId: T, key: key('p0', 1) })).group).toBe(1);
  });

  it('rot damages `count` distinct items drawn from the seed, and no read returns them', () => {
    const one = filled(4, 5).store;
    const two = filled(4, 5).store;
    const rotted = one.rot(5, 42);
    expect(rotted.available).toBe(40);
    expect(rotted.damaged).toHaveLength(5);
    // The same seed over the same data damages the same items.
    expect(two.rot(5, 42).damaged).toEqual(rotted.damaged);
    const ids = new Set(rotted.damaged.map((d) => `${d.group}:${Buffer.from(d.storedKey).toString('hex')}`));
    expect(ids.size).toBe(5);
    for (const d of rotted.damaged) {
      expect(d.tableId).toBe(d.group === 1 ? T : OTHER_T);
      expect(d.tableName).toBe(`t${d.tableId}`);
      const error = caught(() => one.get(d.group, { tableId: d.tableId, key: d.key }));
      expect(error.group).toBe(d.group);
      expect(Buffer.from(error.storedKey).equals(Buffer.from(d.storedKey))).toBe(true);
      // A Query of its partition key and a Scan of its group meet it too.
      caught(() => one.query(d.group, { tableId: d.tableId, keyCondition: { hash: d.key.pk }, forward: true }));
      caught(() => one.query(d.group, { tableId: d.tableId, keyCondition: { hash: d.key.pk }, forward: false }));
      caught(() => one.scan(d.group, { tableId: d.tableId, hashLo: '0000000000000000', hashHi: 'ffffffffffffffff' }));
      caught(() => one.groupDigest(d.group));
    }
    expect(one.stats.itemChecksumFailures).toBe(5 * 5);
    // Every other item reads as it was written.
    for (const [group, tableId] of [[1, T], [2, OTHER_T]]) {
      for (let p = 0; p < 4; p++) {
        for (let s = 0; s < 5; s++) {
          if (rotted.damaged.some((d) => d.group === group && d.key.pk.S === `p${p}` && d.key.sk.N === String(s))) continue;
          expect(one.get(group, { tableId, key: key(`p${p}`, s) }).item).toEqual(itemOf(`p${p}`, s, { ls: { N: String(s) } }));
        }
      }
    }
    // A second rot draws among the items still intact.
    expect(one.rot(35, 7).damaged).toHaveLength(35);
    expect(one.rot(1, 7)).toEqual({ damaged: [], available: 0 });
  });

  it('rot damages nothing when the node holds fewer items than asked', () => {
    const { store } = filled(2, 2);
    const before = rows(store);
    expect(store.rot(9, 1)).toEqual({ damaged: [], available: 8 });
    expect(rows(store)).toEqual(before);
    expect(() => store.rot(0, 1)).toThrow(RangeError);
  });

  it('damage survives a reopen', async () => {
    const dir = tmp.make();
    let store = tmp.open(dir);
    store.saveGroup(groupRec(1, T, SHAPE_SN));
    store.applyCommitted([{ group: 1, entries: [entry(1, put(T, itemOf('a', 1)))] }]);
    const [d] = store.rot(1, 3).damaged;
    await store.checkpoint();
    await store.close();
    store = tmp.open(dir);
    expect(caught(() => store.get(1, { tableId: T, key: d.key })).group).toBe(1);
  });

  it('an apply that meets a damaged item stops its group at that entry; its earlier entries and other groups apply', () => {
    const { store, next } = filled(2, 2);
    const damagedKey = encodeItemKey(T, SHAPE_SN, key('p0', 0));
    flip(store, damagedKey, 10);
    const n1 = next.get(1)!;
    const n2 = next.get(2)!;
    const conditional = put(T, itemOf('p0', 0, { w: { S: 'new' } }), { condition: { kind: 'attribute_exists', path: ['pk'] } });
    const results = store.applyCommitted([
      { group: 1, entries: [entry(n1, put(T, itemOf('before', 1))), entry(n1 + 1, conditional), entry(n1 + 2, put(T, itemOf('after', 1)))] },
      { group: 2, entries: [entry(n2, put(OTHER_T, itemOf('x', 1))), entry(n2 + 1, put(OTHER_T, itemOf('y', 1)))] },
    ]);
    expect(results.damaged).toHaveLength(1);
    expect(results.damaged![0]).toMatchObject({ group: 1, index: n1 + 1 });
    expect(results.damaged![0].error.group).toBe(1);
    expect(results[0]).toEqual([{ ok: true }]);
    expect(results[1]).toEqual([{ ok: true }, { ok: true }]);
    expect(store.appliedIndex(1)).toBe(n1);
    expect(store.appliedIndex(2)).toBe(n2 + 1);
    expect(store.get(1, { tableId: T, key: key('before', 1) }).item).toBeDefined();
    expect(store.get(1, { tableId: T, key: key('after', 1) }).item).toBeUndefined();
    expect(store.get(2, { tableId: OTHER_T, key: key('y', 1) }).item).toBeDefined();
    // The damaged item was not overwritten: still damaged, never data.
    caught(() => store.get(1, { tableId: T, key: key('p0', 0) }));
    // Asked again from where it stopped, the group stops again, changing nothing.
    const before = rows(store);
    const again = store.applyCommitted([{ group: 1, entries: [entry(n1 + 1, conditional)] }]);
    expect(again.damaged?.map((d) => d.index)).toEqual([n1 + 1]);
    expect(again[0]).toEqual([]);
    expect(rows(store)).toEqual(before);
    expect(store.appliedIndex(1)).toBe(n1);
  });

  it('no write that reads a damaged item writes anything: conditions, old images, updates, index maintenance', () => {
    const ops: Array<[string, (pk: string) => WriteOp]> = [
      ['conditional put', (pk) => put(T, itemOf(pk, 0), { condition: { kind: 'attribute_not_exists', path: ['pk'] } })],
      ['put returning ALL_OLD', (pk) => put(T, itemOf(pk, 0), { returnValues: 'ALL_OLD' })],
      ['put on a table with a local index', (pk) => put(T, itemOf(pk, 0, { ls: { N: '9' } }))],
      ['delete on a table with a local index', (pk) => ({ type: 'delete', tableId: T, key: key(pk, 0), returnValues: 'NONE' })],
      ['update', (pk) => ({
        type: 'update', tableId: T, key: key(pk, 0), returnValues: 'ALL_NEW',
        update: { set: [{ path: ['v'], value: { kind: 'value', value: { S: 'u' } } }], remove: [], add: [], delete: [] },
      })],
    ];
    for (const [what, op] of ops) {
      const { store, next } = filled(2, 2, INDEXES);
      flip(store, encodeItemKey(T, SHAPE_SN, key('p1', 0)), 5);
      const before = rows(store);
      const results = store.applyCommitted([{ group: 1, entries: [entry(next.get(1)!, op('p1'))] }]);
      expect(results.damaged?.map((d) => d.group), what).toEqual([1]);
      expect(rows(store), what).toEqual(before);
      expect(store.appliedIndex(1), what).toBe(next.get(1)! - 1);
    }
  });

  it('an entry that meets a damaged row after it began writing (a collection size row) writes nothing either', () => {
    const { store, next } = filled(2, 2, INDEXES);
    // The item collection's size row of p1: read by index maintenance after the item's put is staged.
    const sizeRow = [...rawItems(store).getKeys({})].find((k) => Buffer.from(k).readUInt32BE(0) === ITEM_COLLECTION_SPACE_ID && Buffer.from(k).includes(Buffer.from('p1')))!;
    expect(sizeRow).toBeDefined();
    flip(store, sizeRow, 6);
    const before = rows(store);
    // A smaller item: the collection shrinks, so the limit check before the writes reads no size row.
    const smaller: Item = { ...key('p1', 0), ls: { N: '1' } };
    const results = store.applyCommitted([{ group: 1, entries: [entry(next.get(1)!, put(T, smaller))] }]);
    expect(results.damaged?.map((d) => [d.group, d.error.spaceId])).toEqual([[1, ITEM_COLLECTION_SPACE_ID]]);
    expect(rows(store)).toEqual(before);
  });

  it('local-index entries are checked: a Query of the index meets a damaged entry', () => {
    const { store } = filled(1, 3, INDEXES);
    // The index entries are the rows of the index's key space (its id in the first 4 bytes).
    const entryKeys = [...rawItems(store).getKeys({})].filter((k) => Buffer.from(k).readUInt32BE(0) === byLs.id);
    expect(entryKeys).toHaveLength(3);
    const read = () => store.query(1, { tableId: T, indexId: byLs.id, keyCondition: { hash: { S: 'p0' } }, forward: true });
    expect(read().count).toBe(3);
    flip(store, entryKeys[1], 7);
    expect(caught(read).spaceId).toBe(byLs.id);
  });

  it('a blind put (no condition, no old image, no index) replaces a damaged item without reading it', () => {
    const { store, next } = filled(1, 1);
    flip(store, encodeItemKey(T, SHAPE_SN, key('p0', 0)), 9);
    const results = store.applyCommitted([{ group: 1, entries: [entry(next.get(1)!, put(T, itemOf('p0', 0, { fresh: { BOOL: true } })))] }]);
    expect(results.damaged).toBeUndefined();
    expect(store.get(1, { tableId: T, key: key('p0', 0) }).item).toEqual(itemOf('p0', 0, { fresh: { BOOL: true } }));
  });
});
