/**
 * The items B-tree of a node (the `data` LMDB environment): deterministic apply of write
 * ops (the apply logic itself is apply.ts, shared with the simulator), reads, Query and
 * Scan pages, digests.
 *
 * The env is always noSync: it is NOT the durability point. Every apply batch is one
 * transaction that also records each group's applied index, so after any crash the items
 * and the applied index agree, and the WAL is replayed from there. `checkpoint` (in
 * NodeStore) forces an mdb_env_sync to learn which applied index is durable.
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import type { AttributeValue, Item, KeyShape } from '../model/types.js';
import { DynamoDBError } from '../model/errors.js';
import { decodeTableId, encodeItemKey, encodeKeyComponent, hashPrefix, partitionKeyPrefix, tablePrefix } from '../model/key-encoding.js';
import { hexToHash } from '../model/hash.js';
import { itemSize } from '../model/item-size.js';
import { extractKey } from '../model/validate.js';
import { evaluateCondition, project } from '../expressions/index.js';
import type { ConditionAst, ProjectionAst } from '../expressions/ast.js';
import { crc32c } from '../transport/crc32c.js';
import { applyWriteOp, getItem, type ApplyStats, type ItemKV } from './apply.js';
import { inKeyOrder, storedKey, storedLowerBound, storedUpperBound } from './stored-key.js';
import { compareBytes, concatBytes, decodeItem, decodeRawWriteOp, keySuccessor, prefixEnd } from './codec.js';
import type { GetRequest, GetResult, PageResult, QueryRequest, ScanRequest, WriteResult } from './operations.js';
import type { GroupRecord } from './wal.js';

/** DynamoDB's page limit: a Query/Scan stops once it has read 1 MB of items. */
export const PAGE_BYTES_MAX = 1024 * 1024;

/** A group record with its bounds parsed once. */
export interface GroupRange {
  rec: GroupRecord;
  hashStart: bigint;
  hashEnd: bigint;
}

export function groupRange(rec: GroupRecord): GroupRange {
  const hashStart = hexToHash(rec.hashStart);
  const hashEnd = hexToHash(rec.hashEnd);
  if (hashStart > hashEnd) throw new Error(`group ${rec.group}: hashStart ${rec.hashStart} > hashEnd ${rec.hashEnd}`);
  return { rec, hashStart, hashEnd };
}

const MAX_HASH = 0xffff_ffff_ffff_ffffn;

/** [lo, hi) item-key bounds of a table's hash interval [h0, h1] (inclusive). */
export function hashIntervalBounds(tableId: number, h0: bigint, h1: bigint): { lo: Uint8Array; hi: Uint8Array } {
  const lo = hashPrefix(tableId, h0);
  const hi = h1 === MAX_HASH ? prefixEnd(tablePrefix(tableId)) ?? new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]) : hashPrefix(tableId, h1 + 1n);
  return { lo, hi };
}

export type { ApplyStats } from './apply.js';

export class ItemStore {
  readonly root: RootDatabase;
  readonly items: Database<Uint8Array, Uint8Array>;
  private readonly appliedDb: Database<number, number>;
  private readonly applied = new Map<number, number>();
  /** The apply code's view of the items DB (called inside applyBatch's transaction). */
  private readonly kv: ItemKV;

  constructor(path: string, options: { useWritemap: boolean }, private readonly stats: ApplyStats) {
    this.root = open({
      path,
      noSync: true,
      overlappingSync: false,
      useWritemap: options.useWritemap,
      noMemInit: true,
      maxDbs: 4,
    });
    this.items = this.root.openDB({ name: 'items', keyEncoding: 'binary', encoding: 'binary' });
    this.appliedDb = this.root.openDB({ name: 'applied', keyEncoding: 'uint32', encoding: 'msgpack' });
    for (const { key, value } of this.appliedDb.getRange()) this.applied.set(key, value);
    const items = this.items;
    this.kv = {
      // getBinaryFast: a volatile view of LMDB's read buffer, decoded at once (the decoder copies).
      get: (key) => items.getBinaryFast(storedKey(key)),
      put: (key, value) => void items.putSync(storedKey(key), value),
      remove: (key) => void items.removeSync(storedKey(key)),
    };
  }

  appliedIndex(group: number): number {
    return this.applied.get(group) ?? 0;
  }

  appliedIndexes(): Map<number, number> {
    return new Map(this.applied);
  }

  /**
   * Applies every entry of every group in ONE transaction, and records each group's
   * applied index in it. Entries must continue each group's applied index exactly.
   */
  applyBatch(
    batch: Array<{ group: number; entries: Array<{ index: number; data: Uint8Array }> }>,
    ranges: Map<number, GroupRange>,
  ): Array<Array<WriteResult | undefined>> {
    // Check preconditions before writing anything.
    const nextApplied = new Map<number, number>();
    for (const b of batch) {
      if (!ranges.has(b.group)) throw new Error(`apply: group ${b.group} is not hosted by this node`);
      let expected = (nextApplied.get(b.group) ?? this.appliedIndex(b.group)) + 1;
      for (const e of b.entries) {
        if (e.index !== expected) {
          throw new Error(`apply: group ${b.group} entry ${e.index} where ${expected} was expected (applied index ${expected - 1})`);
        }
        expected++;
      }
      nextApplied.set(b.group, expected - 1);
    }
    let entries = 0;
    const results = this.root.transactionSync(() => {
      const out: Array<Array<WriteResult | undefined>> = [];
      for (const b of batch) {
        const range = ranges.get(b.group)!;
        const res: Array<WriteResult | undefined> = [];
        for (const e of b.entries) {
          res.push(e.data.length === 0 ? undefined : applyWriteOp(this.kv, range.rec, decodeRawWriteOp(e.data), this.stats));
          entries++;
        }
        out.push(res);
      }
      for (const [group, idx] of nextApplied) this.appliedDb.putSync(group, idx);
      return out;
    });
    for (const [group, idx] of nextApplied) this.applied.set(group, idx);
    this.stats.applyTxns++;
    this.stats.appliedEntries += entries;
    return results;
  }

  // ---- reads -------------------------------------------------------------------------------

  get(range: GroupRange, req: GetRequest): GetResult {
    return getItem(this.kv, range.rec, req);
  }

  query(range: GroupRange, req: QueryRequest): PageResult {
    const { rec } = range;
    const shape = rec.keyShape;
    const P = partitionKeyPrefix(rec.tableId, shape, req.keyCondition.hash);
    let lo: Uint8Array = P;
    let hi: Uint8Array | undefined = prefixEnd(P);
    const r = req.keyCondition.range;
    if (r !== undefined) {
      const v0 = r.values[0];
      const k0 = concatBytes(P, encodeKeyComponent(v0));
      switch (r.op) {
        case '=':
          lo = k0;
          hi = keySuccessor(k0);
          break;
        case '<':
          hi = k0;
          break;
        case '<=':
          hi = keySuccessor(k0);
          break;
        case '>':
          lo = keySuccessor(k0);
          break;
        case '>=':
          lo = k0;
          break;
        case 'BETWEEN':
          lo = k0;
          hi = keySuccessor(concatBytes(P, encodeKeyComponent(r.values[1])));
          break;
        case 'begins_with': {
          lo = beginsWithPrefix(P, v0);
          hi = prefixEnd(lo);
          break;
        }
      }
    }
    if (hi === undefined) hi = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]);
    if (req.exclusiveStartKey !== undefined) {
      const k = encodeItemKey(rec.tableId, shape, req.exclusiveStartKey);
      if (req.forward) {
        const after = keySuccessor(k);
        if (compareBytes(after, lo) > 0) lo = after;
      } else if (compareBytes(k, hi) < 0) {
        hi = k;
      }
    }
    return this.page(shape, lo, hi, !req.forward, req);
  }

  scan(range: GroupRange, req: ScanRequest): PageResult {
    const { rec } = range;
    const h0 = maxBig(hexToHash(req.hashLo), range.hashStart);
    const h1 = minBig(hexToHash(req.hashHi), range.hashEnd);
    if (h0 > h1) return { items: [], count: 0, scannedCount: 0, bytesRead: 0 };
    let { lo, hi } = hashIntervalBounds(rec.tableId, h0, h1);
    if (req.exclusiveStartKey !== undefined) {
      const after = keySuccessor(encodeItemKey(rec.tableId, rec.keyShape, req.exclusiveStartKey));
      if (compareBytes(after, lo) > 0) lo = after;
    }
    return this.page(rec.keyShape, lo, hi, false, req);
  }

  /** One page over item keys [lo, hi): Limit and 1 MB (before the filter), then filter,
   *  projection, Select COUNT. LastEvaluatedKey only when another item is in range. */
  private page(
    shape: KeyShape,
    lo: Uint8Array,
    hi: Uint8Array,
    reverse: boolean,
    req: { limit?: number; maxBytes?: number; filter?: ConditionAst; projection?: ProjectionAst; countOnly?: boolean },
  ): PageResult {
    const out: PageResult = { items: [], count: 0, scannedCount: 0, bytesRead: 0 };
    if (compareBytes(lo, hi) >= 0) return out;
    const limit = req.limit ?? Infinity;
    const maxBytes = Math.min(PAGE_BYTES_MAX, req.maxBytes ?? PAGE_BYTES_MAX);
    // Stored keys (stored-key.ts): a bound longer than a B-tree key reads a little more,
    // and inKeyOrder drops the extra rows and orders long keys by their full keys.
    const slo = storedLowerBound(lo);
    const shi = storedUpperBound(hi);
    const options = reverse
      ? { start: shi, end: slo, reverse: true, exclusiveStart: true, inclusiveEnd: true }
      : { start: slo, end: shi };
    const tableId = decodeTableId(lo);
    const fullKey = (row: { value: Uint8Array }): Uint8Array => encodeItemKey(tableId, shape, extractKey(decodeItem(row.value), shape));
    let last: Item | undefined;
    let more = false;
    for (const { value } of inKeyOrder(this.items.getRange(options), fullKey, lo, hi, reverse)) {
      if (out.scannedCount >= limit || out.bytesRead >= maxBytes) {
        more = true;
        break;
      }
      const item = decodeItem(value);
      out.scannedCount++;
      out.bytesRead += itemSize(item);
      last = item;
      if (req.filter !== undefined && !evaluateCondition(req.filter, item)) continue;
      out.count++;
      if (!req.countOnly) out.items.push(req.projection !== undefined ? project(item, req.projection) : item);
    }
    if (last !== undefined) {
      out.lastKey = extractKey(last, shape);
      if (more) out.lastEvaluatedKey = out.lastKey;
    }
    return out;
  }

  // ---- whole ranges ------------------------------------------------------------------------

  /** Order-dependent CRC32C over every (key, value) of keys [lo, hi), with the items'
   *  count and size as DynamoDB counts it (TableSizeBytes). */
  digest(lo: Uint8Array, hi: Uint8Array): { items: number; crc: number; bytes: number } {
    let crc = 0;
    let items = 0;
    let bytes = 0;
    for (const { key, value } of this.items.getRange({ start: lo, end: hi })) {
      crc = crc32c(key, 0, key.length, crc);
      crc = crc32c(value, 0, value.length, crc);
      bytes += itemSize(decodeItem(value));
      items++;
    }
    return { items, crc, bytes };
  }

  /** Deletes keys [lo, hi) for each interval, and the applied index of `forgetGroup`, in
   *  one transaction. Returns how many items were removed. */
  deleteRanges(intervals: Array<{ lo: Uint8Array; hi: Uint8Array }>, forgetGroup: number | undefined): number {
    let removed = 0;
    this.root.transactionSync(() => {
      for (const { lo, hi } of intervals) {
        // Collect first: do not mutate under a live cursor.
        const keys = [...this.items.getKeys({ start: lo, end: hi })];
        for (const k of keys) this.items.removeSync(k);
        removed += keys.length;
      }
      if (forgetGroup !== undefined) this.appliedDb.removeSync(forgetGroup);
    });
    if (forgetGroup !== undefined) this.applied.delete(forgetGroup);
    return removed;
  }

  /** mdb_env_sync(force) on a libuv thread: everything committed so far is durable when
   *  the promise resolves. (lmdb-js's `flushed` does not sync a noSync env.) */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      (this.root as unknown as { sync(cb: (err?: Error) => void): void }).sync((err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

/** P + the escaped bytes of an S or B prefix, without the component terminator: every
 *  key whose sort key begins with `v` starts with these bytes (see key-encoding.ts). */
function beginsWithPrefix(P: Uint8Array, v: AttributeValue): Uint8Array {
  if (!('S' in v) && !('B' in v)) throw new DynamoDBError('ValidationException', 'begins_with is only valid on S and B sort keys');
  const enc = encodeKeyComponent(v);
  return concatBytes(P, enc.subarray(0, enc.length - 2));
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
