import { afterEach, describe, expect, it } from 'vitest';
import { TempDirs, SHAPE_SN, groupRec, entry, putOp, prng } from './helpers.js';
import type { AttributeValue, Item } from '../../src/model/types.js';
import type { UpdateAst } from '../../src/expressions/ast.js';
import type { WriteOp } from '../../src/storage/operations.js';
import type { NodeStore } from '../../src/storage/node-store.js';
import type { LogEntry } from '../../src/replication/types.js';
import { compareNumbers } from '../../src/model/number.js';
import { dynamoKeyOrderPrefix } from '../../src/model/hash.js';
import {
  decodeOutboxRecord, encodeIndexControl, indexEntryKey, indexHash, type GroupIndexes, type IndexSpec,
} from '../../src/storage/indexes.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const T = 7;
const byLs: IndexSpec = { id: 20, name: 'byLs', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ls', type: 'N' }] }, projection: { type: 'KEYS_ONLY' } };
const byLsAll: IndexSpec = { id: 21, name: 'byLsAll', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ls', type: 'N' }] }, projection: { type: 'ALL' } };
const byLsInclude: IndexSpec = { id: 22, name: 'byLsInc', key: { hash: [{ name: 'pk', type: 'S' }], range: [{ name: 'ls', type: 'N' }] }, projection: { type: 'INCLUDE', nonKeyAttributes: ['v'] } };
const byG: IndexSpec = { id: 30, name: 'byG', key: { hash: [{ name: 'g', type: 'S' }], range: [] }, projection: { type: 'INCLUDE', nonKeyAttributes: ['v'] } };
const LOCAL: GroupIndexes = { local: [byLs, byLsAll, byLsInclude], global: [] };

class Applier {
  index = 0;
  constructor(readonly s: NodeStore, readonly group: number) {}
  apply(...ops: WriteOp[]) {
    return this.applyEntries(ops.map((op) => entry(++this.index, op)));
  }
  control(data: Uint8Array) {
    return this.applyEntries([{ term: 1, index: ++this.index, data }]);
  }
  private applyEntries(entries: LogEntry[]) {
    return this.s.applyCommitted([{ group: this.group, entries }])[0];
  }
}

function setup(indexes: GroupIndexes | undefined, dir = tmp.make()) {
  const s = tmp.open(dir);
  s.saveGroup({ ...groupRec(1, T, SHAPE_SN), ...(indexes !== undefined ? { indexes } : {}) });
  return { a: new Applier(s, 1), s, dir };
}

const key = (pk: string, sk: number): Item => ({ pk: { S: pk }, sk: { N: String(sk) } });
const del = (pk: string, sk: number): WriteOp => ({ type: 'delete', tableId: T, key: key(pk, sk), returnValues: 'NONE' });
const setLs = (pk: string, sk: number, ls: number): WriteOp => {
  const update: UpdateAst = { set: [{ path: ['ls'], value: { kind: 'value', value: { N: String(ls) } } }], remove: [], add: [], delete: [] };
  return { type: 'update', tableId: T, key: key(pk, sk), update, returnValues: 'NONE' };
};
const removeLs = (pk: string, sk: number): WriteOp => ({ type: 'update', tableId: T, key: key(pk, sk), update: { set: [], remove: [['ls']], add: [], delete: [] }, returnValues: 'NONE' });

/** Every page of an index query, following LastEvaluatedKey. */
function queryIndex(s: NodeStore, spec: IndexSpec, pk: string, opts: { forward?: boolean; limit?: number; range?: { op: '<' | '<=' | '>' | '>=' | '=' | 'BETWEEN'; values: AttributeValue[] }; fetchBase?: boolean } = {}): Item[] {
  const out: Item[] = [];
  let esk: Item | undefined;
  for (let n = 0; n < 1000; n++) {
    const page = s.query(1, {
      tableId: T, indexId: spec.id, keyCondition: { hash: { S: pk }, ...(opts.range ? { range: opts.range } : {}) }, forward: opts.forward ?? true,
      ...(opts.limit ? { limit: opts.limit } : {}), ...(esk ? { exclusiveStartKey: esk } : {}), ...(opts.fetchBase ? { fetchBase: true } : {}),
    });
    out.push(...page.items);
    if (page.lastEvaluatedKey === undefined) return out;
    expect(Object.keys(page.lastEvaluatedKey).sort()).toEqual(['ls', 'pk', 'sk']);
    esk = page.lastEvaluatedKey;
  }
  throw new Error('paging does not end');
}

/** Entries that share an index key follow DynamoDB's order of their table keys (its
 *  3-byte MD5 prefix), then the table key. */
function tieOrder(x: Item, y: Item): number {
  return Buffer.compare(Buffer.from(dynamoKeyOrderPrefix(x.pk, x.sk)), Buffer.from(dynamoKeyOrderPrefix(y.pk, y.sk)))
    || compareNumbers((x.sk as { N: string }).N, (y.sk as { N: string }).N);
}

/** What an LSI on (pk, ls) holds of `items`, in index order. */
function expectedLsi(items: Map<string, Item>, pk: string, project: (item: Item) => Item): Item[] {
  return [...items.values()]
    .filter((it) => it.pk.S === pk && it.ls !== undefined)
    .sort((x, y) => compareNumbers((x.ls as { N: string }).N, (y.ls as { N: string }).N) || tieOrder(x, y))
    .map(project);
}

describe('local secondary indexes', () => {
  it('follow random puts, updates and deletes (sparse, every projection, both directions, paged)', () => {
    const { a, s } = setup(LOCAL);
    const rnd = prng(13);
    const model = new Map<string, Item>();
    const id = (pk: string, sk: number) => `${pk}/${sk}`;
    for (let round = 0; round < 30; round++) {
      const ops: WriteOp[] = [];
      for (let i = 0; i < 20; i++) {
        const pk = `p${Math.floor(rnd() * 3)}`;
        const sk = Math.floor(rnd() * 15);
        const ls = Math.floor(rnd() * 6) - 2; // ties between items, negative numbers
        const r = rnd();
        if (r < 0.4) {
          const item: Item = { ...key(pk, sk), v: { S: `v${round}.${i}` }, w: { N: String(i) } };
          if (rnd() < 0.8) item.ls = { N: String(ls) };
          ops.push(putOp(T, SHAPE_SN, item));
          model.set(id(pk, sk), item);
        } else if (r < 0.7) {
          ops.push(setLs(pk, sk, ls));
          model.set(id(pk, sk), { ...(model.get(id(pk, sk)) ?? key(pk, sk)), ls: { N: String(ls) } });
        } else if (r < 0.8) {
          ops.push(removeLs(pk, sk));
          const old = model.get(id(pk, sk));
          const { ls: _, ...rest } = old ?? key(pk, sk);
          model.set(id(pk, sk), rest);
        } else {
          ops.push(del(pk, sk));
          model.delete(id(pk, sk));
        }
      }
      expect(a.apply(...ops).every((r) => r?.ok)).toBe(true);
    }
    const keysOnly = (it: Item): Item => ({ pk: it.pk, sk: it.sk, ls: it.ls });
    for (const pk of ['p0', 'p1', 'p2']) {
      const want = expectedLsi(model, pk, keysOnly);
      expect(want.length).toBeGreaterThan(3);
      expect(queryIndex(s, byLs, pk)).toEqual(want);
      expect(queryIndex(s, byLs, pk, { limit: 2 })).toEqual(want);
      expect(queryIndex(s, byLs, pk, { limit: 3, forward: false })).toEqual([...want].reverse());
      expect(queryIndex(s, byLsAll, pk)).toEqual(expectedLsi(model, pk, (it) => it));
      expect(queryIndex(s, byLsInclude, pk)).toEqual(expectedLsi(model, pk, (it) => ({ ...keysOnly(it), ...(it.v ? { v: it.v } : {}) })));
      // Range conditions on the index's sort key (ties on ls stay in DynamoDB's table-key order).
      const N = (n: number): AttributeValue => ({ N: String(n) });
      const lsOf = (it: Item) => Number((it.ls as { N: string }).N);
      expect(queryIndex(s, byLs, pk, { range: { op: '=', values: [N(1)] } })).toEqual(want.filter((it) => lsOf(it) === 1));
      expect(queryIndex(s, byLs, pk, { range: { op: '<=', values: [N(0)] }, limit: 1 })).toEqual(want.filter((it) => lsOf(it) <= 0));
      expect(queryIndex(s, byLs, pk, { range: { op: '>', values: [N(0)] } })).toEqual(want.filter((it) => lsOf(it) > 0));
      expect(queryIndex(s, byLs, pk, { range: { op: 'BETWEEN', values: [N(-1), N(1)] }, forward: false })).toEqual(want.filter((it) => lsOf(it) >= -1 && lsOf(it) <= 1).reverse());
      // Fetching from the table: whole items, and the blocks fetched are counted.
      const page = s.query(1, { tableId: T, indexId: byLs.id, keyCondition: { hash: { S: pk } }, forward: true, fetchBase: true });
      expect(page.items).toEqual(expectedLsi(model, pk, (it) => it));
      expect(page.fetchedBlocks).toBe(page.items.length);
    }
    // A scan of the index walks every partition key's entries in index order.
    const scanned = s.scan(1, { tableId: T, indexId: byLs.id, hashLo: '0000000000000000', hashHi: 'ffffffffffffffff' });
    expect(scanned.count).toBe([...model.values()].filter((it) => it.ls !== undefined).length);
  });

  it('a failed condition changes no index entry; a drop removes them', () => {
    const { a, s } = setup(LOCAL);
    a.apply(putOp(T, SHAPE_SN, { ...key('a', 1), ls: { N: '5' } }));
    const r = a.apply(putOp(T, SHAPE_SN, { ...key('a', 1), ls: { N: '6' } }, { condition: { kind: 'attribute_not_exists', path: ['pk'] } }));
    expect(r[0]?.ok).toBe(false);
    expect(queryIndex(s, byLs, 'a')).toEqual([{ ...key('a', 1), ls: { N: '5' } }]);
    s.dropGroup(1);
    s.saveGroup({ ...groupRec(1, T, SHAPE_SN), indexes: LOCAL });
    expect(queryIndex(s, byLs, 'a')).toEqual([]);
  });

  it('entry keys sort by the index hash, then values; a multi-attribute hash hashes them together', () => {
    const k1 = indexEntryKey(byLs, SHAPE_SN, { ...key('a', 2), ls: { N: '1' } })!;
    const k2 = indexEntryKey(byLs, SHAPE_SN, { ...key('a', 1), ls: { N: '2' } })!;
    expect(Buffer.compare(k1, k2)).toBeLessThan(0);
    expect(indexEntryKey(byLs, SHAPE_SN, key('a', 1))).toBeUndefined();
    expect(indexEntryKey(byLs, SHAPE_SN, { ...key('a', 1), ls: { S: 'not a number' } })).toBeUndefined();
    expect(indexHash([{ S: 'a' }, { S: 'b' }])).not.toBe(indexHash([{ S: 'ab' }, { S: '' }]));
  });
});

describe('the outbox of global indexes', () => {
  it('records each change of a GSI image at its log index; nothing when the image is unchanged; trims', () => {
    const { a, s } = setup({ local: [], global: [byG] });
    a.apply(
      putOp(T, SHAPE_SN, { ...key('a', 1), g: { S: 'x' }, v: { N: '1' } }), // 1: new entry
      putOp(T, SHAPE_SN, { ...key('a', 1), g: { S: 'x' }, v: { N: '1' }, other: { S: 'not projected' } }), // 2: same image
      setLs('a', 1, 3), // 3: ls is not projected: same image
      putOp(T, SHAPE_SN, { ...key('a', 1), g: { S: 'y' }, v: { N: '2' } }), // 4: moves
      putOp(T, SHAPE_SN, { ...key('b', 1), v: { N: '2' } }), // 5: not in the index
      del('a', 1), // 6: leaves
    );
    const records = s.outbox(1, 0, 100);
    expect(records.map((r) => r.index)).toEqual([1, 4, 6]);
    expect(decodeOutboxRecord(records[0].data)).toEqual([{ indexId: 30, newImage: { ...key('a', 1), g: { S: 'x' }, v: { N: '1' } } }]);
    expect(decodeOutboxRecord(records[1].data)).toEqual([{ indexId: 30, oldKeys: { ...key('a', 1), g: { S: 'x' } }, newImage: { ...key('a', 1), g: { S: 'y' }, v: { N: '2' } } }]);
    expect(decodeOutboxRecord(records[2].data)).toEqual([{ indexId: 30, oldKeys: { ...key('a', 1), g: { S: 'y' } } }]);
    expect(s.outbox(1, 1, 1).map((r) => r.index)).toEqual([4]);
    a.control(encodeIndexControl({ t: 'trim', upTo: 4 }));
    expect(s.outbox(1, 0, 100).map((r) => r.index)).toEqual([6]);
  });

  it('a config entry starts recording at its log index, on every replica alike, and outlives a reopen', async () => {
    const { a, s, dir } = setup(undefined);
    a.apply(putOp(T, SHAPE_SN, { ...key('a', 1), g: { S: 'x' } }));
    a.control(encodeIndexControl({ t: 'config', indexes: { local: [], global: [byG] } }));
    a.apply(putOp(T, SHAPE_SN, { ...key('a', 2), g: { S: 'x' } }));
    expect(s.outbox(1, 0, 10).map((r) => r.index)).toEqual([3]);
    await s.close();
    const s2 = tmp.open(dir);
    const b = new Applier(s2, 1);
    b.index = s2.appliedIndex(1);
    b.apply(putOp(T, SHAPE_SN, { ...key('a', 3), g: { S: 'x' } }));
    expect(s2.outbox(1, 0, 10).map((r) => r.index)).toEqual([3, 4]);
    b.control(encodeIndexControl({ t: 'config', indexes: { local: [], global: [] } }));
    b.apply(putOp(T, SHAPE_SN, { ...key('a', 4), g: { S: 'x' } }));
    expect(s2.outbox(1, 0, 10).map((r) => r.index)).toEqual([3, 4]);
  });
});
