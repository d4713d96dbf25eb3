import { afterEach, describe, expect, it } from 'vitest';
import { TempDirs, SHAPE_SN, SHAPE_H, groupRec, entry, putOp, prng } from './helpers.js';
import { decodeWriteOp, encodeWriteOp } from '../../src/storage/codec.js';
import type { Item } from '../../src/model/types.js';
import type { ConditionAst, UpdateAst } from '../../src/expressions/ast.js';
import type { WriteOp } from '../../src/storage/operations.js';
import type { NodeStore } from '../../src/storage/node-store.js';

const tmp = new TempDirs();
afterEach(() => tmp.cleanup());

const T = 7;
const notExists: ConditionAst = { kind: 'attribute_not_exists', path: ['pk'] };
const vEquals = (n: string): ConditionAst => ({ kind: 'compare', op: '=', left: { kind: 'path', path: ['v'] }, right: { kind: 'value', value: { N: n } } });
const setV = (n: string): UpdateAst => ({ set: [{ path: ['v'], value: { kind: 'value', value: { N: n } } }], remove: [], add: [], delete: [] });
const key = (pk: string, sk: number): Item => ({ pk: { S: pk }, sk: { N: String(sk) } });
const item = (pk: string, sk: number, v: string, extra: Item = {}): Item => ({ ...key(pk, sk), v: { N: v }, ...extra });

class Applier {
  index = 0;
  constructor(readonly s: NodeStore, readonly group: number) {}
  apply(...ops: Array<WriteOp | undefined>) {
    const entries = ops.map((op) => entry(++this.index, op));
    return this.s.applyCommitted([{ group: this.group, entries }])[0];
  }
}

describe('write op codec', () => {
  it('round-trips every op type', () => {
    const ops: WriteOp[] = [
      { type: 'put', tableId: 3, key: key('a', 1), item: item('a', 1, '1', { b: { B: new Uint8Array([0, 1, 2]) }, m: { M: { x: { L: [{ S: 'y' }, { NULL: true }] } } } }), returnValues: 'ALL_OLD', condition: notExists, returnOldOnConditionFailure: true },
      { type: 'delete', tableId: 3, key: key('a', 1), returnValues: 'NONE' },
      { type: 'update', tableId: 3, key: key('a', 1), update: setV('2'), returnValues: 'UPDATED_NEW', condition: vEquals('1') },
      { type: 'delete', tableId: 3, key: key('a', 1), returnValues: 'NONE', measureSizes: true },
    ];
    for (const op of ops) {
      const back = decodeWriteOp(encodeWriteOp(op));
      expect(back).toEqual(op);
    }
  });
});

describe('apply', () => {
  function setup() {
    const s = tmp.open(tmp.make());
    s.saveGroup(groupRec(1, T, SHAPE_SN));
    return new Applier(s, 1);
  }

  it('put with a condition and ALL_OLD; condition failure returns the old item only when asked', () => {
    const a = setup();
    const r = a.apply(
      putOp(T, SHAPE_SN, item('a', 1, '1'), { condition: notExists, returnValues: 'ALL_OLD' }),
      putOp(T, SHAPE_SN, item('a', 1, '2'), { condition: notExists }),
      putOp(T, SHAPE_SN, item('a', 1, '3'), { condition: notExists, returnOldOnConditionFailure: true }),
      putOp(T, SHAPE_SN, item('a', 1, '4'), { condition: vEquals('1'), returnValues: 'ALL_OLD' }),
      undefined,
    );
    expect(r[0]).toEqual({ ok: true });
    expect(r[1]).toEqual({ ok: false, error: { name: 'ConditionalCheckFailedException', message: 'The conditional request failed' } });
    expect(r[2]).toEqual({ ok: false, error: { name: 'ConditionalCheckFailedException', message: 'The conditional request failed', details: { Item: item('a', 1, '1') } } });
    expect(r[3]).toEqual({ ok: true, attributes: item('a', 1, '1') });
    expect(r[4]).toBeUndefined();
    expect(a.s.get(1, { tableId: T, key: key('a', 1) })).toEqual({ item: item('a', 1, '4') });
    expect(a.s.get(1, { tableId: T, key: key('a', 1), projection: [['v']] })).toEqual({ item: { v: { N: '4' } } });
    expect(a.s.appliedIndex(1)).toBe(5);
  });

  it('delete with a condition and ALL_OLD', () => {
    const a = setup();
    a.apply(putOp(T, SHAPE_SN, item('a', 1, '1')));
    const r = a.apply(
      { type: 'delete', tableId: T, key: key('a', 1), condition: vEquals('2'), returnValues: 'ALL_OLD', returnOldOnConditionFailure: true },
      { type: 'delete', tableId: T, key: key('a', 1), condition: vEquals('1'), returnValues: 'ALL_OLD' },
      { type: 'delete', tableId: T, key: key('a', 1), returnValues: 'ALL_OLD' },
    );
    expect(r[0]).toMatchObject({ ok: false, error: { name: 'ConditionalCheckFailedException', details: { Item: item('a', 1, '1') } } });
    expect(r[1]).toEqual({ ok: true, attributes: item('a', 1, '1') });
    expect(r[2]).toEqual({ ok: true });
    expect(a.s.get(1, { tableId: T, key: key('a', 1) })).toEqual({});
  });

  it('update: creates from the key, every ReturnValues, conditions, evaluator errors, 400 KB', () => {
    const a = setup();
    const u = (update: UpdateAst, returnValues: WriteOp['returnValues'], condition?: ConditionAst): WriteOp =>
      ({ type: 'update', tableId: T, key: key('a', 1), update, returnValues, ...(condition ? { condition } : {}) }) as WriteOp;
    const addW: UpdateAst = { set: [{ path: ['w'], value: { kind: 'value', value: { S: 'w' } } }], remove: [], add: [], delete: [] };
    const r = a.apply(
      u(setV('1'), 'ALL_NEW'),
      u(addW, 'UPDATED_OLD'),
      u(setV('2'), 'UPDATED_OLD'),
      u(setV('3'), 'UPDATED_NEW'),
      u(setV('4'), 'ALL_OLD'),
      u(setV('5'), 'NONE', vEquals('9')),
      u({ set: [{ path: ['v'], value: { kind: 'plus', left: { kind: 'path', path: ['v'] }, right: { kind: 'path', path: ['w'] } } }], remove: [], add: [], delete: [] }, 'ALL_NEW'),
      u({ set: [{ path: ['big'], value: { kind: 'value', value: { S: 'x'.repeat(410 * 1024) } } }], remove: [], add: [], delete: [] }, 'ALL_NEW'),
    );
    expect(r[0]).toEqual({ ok: true, attributes: item('a', 1, '1') });
    expect(r[1]).toEqual({ ok: true }); // w did not exist before
    expect(r[2]).toEqual({ ok: true, attributes: { v: { N: '1' } } });
    expect(r[3]).toEqual({ ok: true, attributes: { v: { N: '3' } } });
    expect(r[4]).toEqual({ ok: true, attributes: item('a', 1, '3', { w: { S: 'w' } }) });
    expect(r[5]).toMatchObject({ ok: false, error: { name: 'ConditionalCheckFailedException' } });
    expect(r[6]).toMatchObject({ ok: false, error: { name: 'ValidationException' } });
    expect(r[7]).toEqual({ ok: false, error: { name: 'ValidationException', message: 'Item size to update has exceeded the maximum allowed size' } });
    expect(a.s.get(1, { tableId: T, key: key('a', 1) }).item).toEqual(item('a', 1, '4', { w: { S: 'w' } }));
  });

  it('measured writes report the item sizes DynamoDB charges by: before, and after an update', () => {
    const a = setup();
    const big = item('a', 1, '1', { pad: { S: 'x'.repeat(2000) } });
    const size = (i: Item) => Object.entries(i).reduce((n, [k, v]) => n + k.length + ('S' in v ? v.S.length : 'N' in v ? 2 : 0), 0);
    const measured = { measureSizes: true } as const;
    const r = a.apply(
      putOp(T, SHAPE_SN, big, measured),
      putOp(T, SHAPE_SN, item('a', 1, '2'), measured),
      { type: 'update', tableId: T, key: key('a', 1), update: setV('3'), returnValues: 'NONE', measureSizes: true },
      { type: 'update', tableId: T, key: key('b', 1), update: setV('3'), returnValues: 'ALL_NEW', measureSizes: true },
      { type: 'delete', tableId: T, key: key('a', 1), returnValues: 'NONE', measureSizes: true },
      { type: 'delete', tableId: T, key: key('a', 1), returnValues: 'NONE' },
    );
    const small = size(item('a', 1, '2'));
    expect(r[0]).toEqual({ ok: true, sizes: { oldItemBytes: 0 } });
    expect(r[1]).toEqual({ ok: true, sizes: { oldItemBytes: size(big) } });
    expect(r[2]).toEqual({ ok: true, sizes: { oldItemBytes: small, newItemBytes: small } });
    expect(r[3]).toEqual({ ok: true, attributes: item('b', 1, '3'), sizes: { oldItemBytes: 0, newItemBytes: size(item('b', 1, '3')) } });
    expect(r[4]).toEqual({ ok: true, sizes: { oldItemBytes: small } });
    expect(r[5]).toEqual({ ok: true });
  });

  it('later entries of a batch see earlier ones; applied index continues exactly', () => {
    const a = setup();
    const r = a.apply(
      putOp(T, SHAPE_SN, item('a', 1, '1'), { condition: notExists }),
      putOp(T, SHAPE_SN, item('a', 1, '2'), { condition: notExists }),
    );
    expect(r.map((x) => x!.ok)).toEqual([true, false]);
    expect(() => a.s.applyCommitted([{ group: 1, entries: [entry(5, undefined)] }])).toThrow(/expected/);
    expect(() => a.s.applyCommitted([{ group: 2, entries: [entry(1, undefined)] }])).toThrow(/not hosted/);
    expect(a.s.appliedIndex(1)).toBe(2);
  });

  it('two stores applying the same entries hold identical data (seeded)', () => {
    const rnd = prng(20240611);
    const stores = [tmp.open(tmp.make()), tmp.open(tmp.make(), 'async', false)];
    for (const s of stores) s.saveGroup(groupRec(1, T, SHAPE_SN));
    const entries = [];
    for (let i = 1; i <= 2000; i++) {
      const k = key(`p${Math.floor(rnd() * 20)}`, Math.floor(rnd() * 20));
      const x = rnd();
      let op: WriteOp | undefined;
      if (x < 0.4) op = putOp(T, SHAPE_SN, { ...k, v: { N: String(Math.floor(rnd() * 5)) }, s: { S: 'x'.repeat(Math.floor(rnd() * 200)) } }, rnd() < 0.3 ? { condition: vEquals('1') } : {});
      else if (x < 0.7) op = { type: 'update', tableId: T, key: k, update: setV(String(Math.floor(rnd() * 5))), returnValues: 'ALL_NEW', ...(rnd() < 0.3 ? { condition: vEquals('2') } : {}) };
      else if (x < 0.9) op = { type: 'delete', tableId: T, key: k, returnValues: 'NONE', ...(rnd() < 0.5 ? { condition: vEquals('3') } : {}) };
      entries.push(entry(i, op));
    }
    const results = stores.map((s) => {
      const out = [];
      for (let i = 0; i < entries.length; i += 37) out.push(...s.applyCommitted([{ group: 1, entries: entries.slice(i, i + 37) }])[0]);
      return out;
    });
    expect(results[0]).toEqual(results[1]);
    const d = stores.map((s) => s.groupDigest(1));
    expect(d[0]).toEqual(d[1]);
    expect(d[0].items).toBeGreaterThan(50);
    // A divergent write shows up in the digest.
    stores[1].applyCommitted([{ group: 1, entries: [entry(2001, putOp(T, SHAPE_SN, item('p0', 0, '99')))] }]);
    expect(stores[1].groupDigest(1)).not.toEqual(d[0]);
  });

  it('restart keeps applied index and data; checkpoint records a durable applied index', async () => {
    const dir = tmp.make();
    let s = tmp.open(dir);
    s.saveGroup(groupRec(1, 9, SHAPE_H));
    const ops = Array.from({ length: 10 }, (_, i) => entry(i + 1, putOp(9, SHAPE_H, { id: { S: `k${i}` }, n: { N: String(i) } })));
    s.applyCommitted([{ group: 1, entries: ops.slice(0, 6) }]);
    await s.checkpoint();
    expect(s.checkpointedIndex(1)).toBe(6);
    s.applyCommitted([{ group: 1, entries: ops.slice(6) }]);
    expect(s.checkpointedIndex(1)).toBe(6);
    const digest = s.groupDigest(1);
    await s.close();
    s = tmp.open(dir);
    expect(s.appliedIndex(1)).toBe(10);
    expect(s.checkpointedIndex(1)).toBe(6);
    expect(s.groupDigest(1)).toEqual(digest);
    await s.checkpoint();
    expect(s.checkpointedIndex(1)).toBe(10);
  });
});
