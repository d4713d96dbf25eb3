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
import { encodeItemKey, encodeKeyComponent, partitionKeyPrefix } from '../model/key-encoding.js';
import { hexToHash } from '../model/hash.js';
import { seededRandom } from '../model/prng.js';
import { itemSize } from '../model/item-size.js';
import { extractKey } from '../model/validate.js';
import { evaluateCondition, project } from '../expressions/index.js';
import type { ConditionAst, ProjectionAst } from '../expressions/ast.js';
import { crc32c } from '../checksum/crc32c.js';
import { applyEntry, getItem, readItem, type ApplyStats, type ApplyTarget, type ItemKV } from './apply.js';
import { checkedKV, checksumFailure, ItemChecksumError, openValue, VALUE_CHECKSUM_BYTES, type ChecksumStats } from './checked-values.js';
import {
  indexEntryKey, indexEntryKeyOf, indexHashPrefix, outboxKey, outboxIndexOf, readIndexConfig, writeSplitChildIndexConfig,
  type GroupIndexes, type IndexSpec,
} from './indexes.js';
import { inKeyOrder, storedLowerBound, storedUpperBound } from './stored-key.js';
import { compareBytes, concatBytes, decodeItem, keySuccessor, prefixEnd } from './codec.js';
import type {
  ApplyBatchResults, ApplyDamage, GetRequest, GetResult, OutboxRecord, PageResult, QueryRequest, ScanRequest, WriteResult,
} from './operations.js';
import type { GroupRecord } from './wal.js';
import { rowBytes, type InstalledSnapshot, type SnapshotRow, type SnapshotSource } from './snapshot.js';
import { groupIndexRows, groupKeyIntervals, groupRange, hashIntervalBounds, localIndexIntervals, type GroupRange, type KeyInterval } from './key-intervals.js';

/** One stored item damaged by `rot` (fault injection). */
export interface RottedItem {
  tableId: number;
  tableName: string;
  group: number;
  /** The item's key attributes (as they were before the damage). */
  key: Item;
  /** Its B-tree key. */
  storedKey: Uint8Array;
}

/** What DynamoDB adds to each index entry's size (IndexSizeBytes). */
const INDEX_ENTRY_OVERHEAD_BYTES = 100;

/** DynamoDB's page limit: a Query/Scan stops once it has read 1 MB of items. */
export const PAGE_BYTES_MAX = 1024 * 1024;

export type { ApplyStats } from './apply.js';

/** A snapshot install under way (ItemStore.beginInstall): the snapshot, the group's key
 *  intervals as they were when it began (what `clear` empties), and the phase. */
interface InstallMarker extends InstalledSnapshot {
  phase: 'clear' | 'move';
  intervals: KeyInterval[];
}

export class ItemStore {
  readonly root: RootDatabase;
  readonly items: Database<Uint8Array, Uint8Array>;
  private readonly appliedDb: Database<number, number>;
  /** Rows of snapshots being received, by (group u32, row number u32), until installed. */
  private readonly staging: Database<Uint8Array, Uint8Array>;
  private readonly stagedRows = new Map<number, number>();
  /** Per group, the snapshot its data was last replaced with. */
  private readonly installed: Database<InstalledSnapshot, number>;
  /** Per group, a snapshot install under way (a step at a time: `continueInstall`). */
  private readonly installs: Database<InstallMarker, number>;
  private readonly applied = new Map<number, number>();
  /** The apply code's view of the items DB (called inside applyBatch's transaction). */
  private readonly kv: ItemKV;
  /** Each group's apply target, with its current index list (an index-config entry
   *  changes it as it applies; the config row keeps it across restarts). */
  private readonly targets = new Map<number, { rec: GroupRecord; target: ApplyTarget }>();

  constructor(path: string, options: { useWritemap: boolean }, private readonly stats: ApplyStats & ChecksumStats) {
    this.root = open({
      path,
      noSync: true,
      overlappingSync: false,
      useWritemap: options.useWritemap,
      noMemInit: true,
      maxDbs: 8,
    });
    this.items = this.root.openDB({ name: 'items', keyEncoding: 'binary', encoding: 'binary' });
    this.appliedDb = this.root.openDB({ name: 'applied', keyEncoding: 'uint32', encoding: 'msgpack' });
    this.staging = this.root.openDB({ name: 'snapshot-staging', keyEncoding: 'binary', encoding: 'binary' });
    this.installed = this.root.openDB({ name: 'snapshots', keyEncoding: 'uint32', encoding: 'msgpack' });
    this.installs = this.root.openDB({ name: 'snapshot-installs', keyEncoding: 'uint32', encoding: 'msgpack' });
    for (const { key, value } of this.appliedDb.getRange()) this.applied.set(key, value);
    // An install a crash interrupted is finished: its marker says what is left to do, and
    // the rows it has not moved yet are still staged.
    for (const { key: group, value: marker } of [...this.installs.getRange()]) {
      while (!this.installStep(group, marker, Infinity));
    }
    // Rows of a snapshot whose transfer a crash interrupted are of no use: it starts over.
    if (this.staging.getKeysCount() > 0) this.staging.clearSync();
    const items = this.items;
    // Stored keys, values sealed with their CRC32C and verified on every get (checked-values.ts).
    this.kv = checkedKV({
      // getBinaryFast: a volatile view of LMDB's read buffer, decoded at once (the decoder copies).
      get: (key) => items.getBinaryFast(key),
      put: (key, value) => void items.putSync(key, value),
      remove: (key) => void items.removeSync(key),
    }, stats);
  }

  appliedIndex(group: number): number {
    return this.applied.get(group) ?? 0;
  }

  /** The group's apply target: its table, key shape and current indexes. */
  target(rec: GroupRecord): ApplyTarget {
    const cached = this.targets.get(rec.group);
    if (cached !== undefined && cached.rec === rec) return cached.target;
    const indexes = readIndexConfig(this.kv, rec.group)?.indexes ?? rec.indexes;
    const target: ApplyTarget = {
      group: rec.group, tableId: rec.tableId, keyShape: rec.keyShape, ...(indexes !== undefined ? { indexes } : {}),
      ...(rec.itemCollectionLimitBytes !== undefined ? { itemCollectionLimitBytes: rec.itemCollectionLimitBytes } : {}),
    };
    this.targets.set(rec.group, { rec, target });
    return target;
  }

  /** The indexes a group maintains now. */
  indexesOf(rec: GroupRecord): GroupIndexes | undefined {
    return this.target(rec).indexes;
  }

  appliedIndexes(): Map<number, number> {
    return new Map(this.applied);
  }

  /**
   * Applies every entry of every group in ONE transaction, and records each group's
   * applied index in it. Entries must continue each group's applied index exactly.
   *
   * A group whose entry meets a damaged stored value (ItemChecksumError) stops there:
   * that entry wrote nothing (apply.ts stages an entry's writes until its reads are
   * done), its earlier entries stay applied, its applied index stays just before it, and
   * the results say so in `damaged`. Other groups of the batch are unaffected.
   */
  applyBatch(
    batch: Array<{ group: number; entries: Array<{ index: number; data: Uint8Array }> }>,
    ranges: Map<number, GroupRange>,
  ): ApplyBatchResults {
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
    const damaged: ApplyDamage[] = [];
    const results: ApplyBatchResults = this.root.transactionSync(() => {
      const out: ApplyBatchResults = [];
      for (const b of batch) {
        const res: Array<WriteResult | undefined> = [];
        out.push(res);
        if (damaged.some((d) => d.group === b.group)) continue; // stopped earlier in this batch
        const rec = ranges.get(b.group)!.rec;
        for (const e of b.entries) {
          try {
            res.push(e.data.length === 0 ? undefined : applyEntry(this.kv, this.target(rec), e.data, e.index, this.stats));
          } catch (error) {
            if (!(error instanceof ItemChecksumError)) throw error;
            nextApplied.set(b.group, e.index - 1);
            damaged.push({ group: b.group, index: e.index, error: error.inGroup(b.group, rec.tableId) });
            break;
          }
          entries++;
        }
      }
      for (const [group, idx] of nextApplied) this.appliedDb.putSync(group, idx);
      return out;
    });
    for (const [group, idx] of nextApplied) this.applied.set(group, idx);
    this.stats.applyTxns++;
    this.stats.appliedEntries += entries;
    if (damaged.length > 0) results.damaged = damaged;
    return results;
  }

  // ---- reads -------------------------------------------------------------------------------

  get(range: GroupRange, req: GetRequest): GetResult {
    return getItem(this.kv, range.rec, req);
  }

  query(range: GroupRange, req: QueryRequest): PageResult {
    const { rec } = range;
    const index = req.indexId === undefined ? undefined : this.indexOf(rec, req.indexId);
    let P: Uint8Array;
    if (index === undefined) {
      P = partitionKeyPrefix(rec.tableId, rec.keyShape, req.keyCondition.hash);
    } else {
      P = indexHashPrefix(index.spec.id, req.indexHashValues ?? [req.keyCondition.hash]);
      for (const v of req.indexRangeEquals ?? []) P = concatBytes(P, encodeKeyComponent(v));
    }
    let lo: Uint8Array = P;
    let hi: Uint8Array | undefined = prefixEnd(P);
    const r = req.keyCondition.range;
    if (r !== undefined) {
      const v0 = r.values[0];
      const k0 = concatBytes(P, encodeKeyComponent(v0));
      switch (r.op) {
        case '=':
          lo = k0;
          hi = prefixEnd(k0);
          break;
        case '<':
          hi = k0;
          break;
        case '<=':
          hi = prefixEnd(k0);
          break;
        case '>':
          lo = prefixEnd(k0) ?? k0;
          break;
        case '>=':
          lo = k0;
          break;
        case 'BETWEEN':
          lo = k0;
          hi = prefixEnd(concatBytes(P, encodeKeyComponent(r.values[1])));
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
      const k = index === undefined
        ? encodeItemKey(rec.tableId, rec.keyShape, req.exclusiveStartKey)
        : indexEntryKey(index.spec, index.tableShape, req.exclusiveStartKey);
      if (k === undefined) throw new DynamoDBError('ValidationException', 'The provided starting key is invalid: The provided key element does not match the schema');
      if (req.forward) {
        const after = keySuccessor(k);
        if (compareBytes(after, lo) > 0) lo = after;
      } else if (compareBytes(k, hi) < 0) {
        hi = k;
      }
    }
    return this.page(this.keys(rec, index, req.fetchBase === true), lo, hi, !req.forward, req);
  }

  scan(range: GroupRange, req: ScanRequest): PageResult {
    const { rec } = range;
    const index = req.indexId === undefined ? undefined : this.indexOf(rec, req.indexId);
    const h0 = maxBig(hexToHash(req.hashLo), range.hashStart);
    const h1 = minBig(hexToHash(req.hashHi), range.hashEnd);
    if (h0 > h1) return { items: [], count: 0, scannedCount: 0, bytesRead: 0 };
    let { lo, hi } = hashIntervalBounds(index?.spec.id ?? rec.tableId, h0, h1);
    if (req.exclusiveStartKey !== undefined) {
      const k = index === undefined
        ? encodeItemKey(rec.tableId, rec.keyShape, req.exclusiveStartKey)
        : indexEntryKey(index.spec, index.tableShape, req.exclusiveStartKey);
      if (k === undefined) throw new DynamoDBError('ValidationException', 'The provided starting key is invalid: The provided key element does not match the schema');
      const after = keySuccessor(k);
      if (compareBytes(after, lo) > 0) lo = after;
    }
    return this.page(this.keys(rec, index, req.fetchBase === true), lo, hi, false, req);
  }

  /** The index `indexId` as `rec`'s group holds it: a local index of its table, or the
   *  global index whose own table the group is a partition of. */
  private indexOf(rec: GroupRecord, indexId: number): { spec: IndexSpec; tableShape: KeyShape; local: boolean } {
    const global = rec.globalIndexTable;
    if (global !== undefined && global.spec.id === indexId) return { spec: global.spec, tableShape: global.tableShape, local: false };
    const local = this.indexesOf(rec)?.local.find((spec) => spec.id === indexId);
    if (local === undefined) throw new DynamoDBError('ValidationException', `The table does not have the specified index (id ${indexId})`);
    return { spec: local, tableShape: rec.keyShape, local: true };
  }

  /** How a page reads the rows of a table or of an index. */
  private keys(rec: GroupRecord, index: { spec: IndexSpec; tableShape: KeyShape; local: boolean } | undefined, fetchBase: boolean): PageKeys {
    if (index === undefined) {
      const shape = rec.keyShape;
      return { keyOf: (item) => extractKey(item, shape), fullKey: (item) => encodeItemKey(rec.tableId, shape, extractKey(item, shape)) };
    }
    const { spec, tableShape } = index;
    return {
      keyOf: (item) => indexEntryKeyOf(spec, tableShape, item),
      fullKey: (item) => indexEntryKey(spec, tableShape, item)!,
      ...(fetchBase && index.local ? { fetch: (entry: Item) => readItem(this.kv, encodeItemKey(rec.tableId, tableShape, extractKey(entry, tableShape))) } : {}),
    };
  }

  /** Outbox records of `group` after log index `after`, oldest first, at most `max`. */
  outbox(group: number, after: number, max: number): OutboxRecord[] {
    const out: OutboxRecord[] = [];
    const start = outboxKey(group, after + 1);
    const end = prefixEnd(outboxKey(group, 0).subarray(0, 8))!;
    for (const { key, value } of this.items.getRange({ start, end, limit: max })) {
      out.push({ index: outboxIndexOf(key), data: new Uint8Array(this.open(key, value)) });
    }
    return out;
  }

  /** Key intervals of a group's local-index entries in hash range [h0, h1], and of its
   *  item collections' size rows. */
  localIndexIntervals(rec: GroupRecord, h0: bigint, h1: bigint): KeyInterval[] {
    return localIndexIntervals(this.indexesOf(rec), h0, h1);
  }

  /** Key intervals of a group's outbox and index-config row. */
  groupIndexRows(group: number): KeyInterval[] {
    return groupIndexRows(group);
  }

  /** One page over item keys [lo, hi): Limit and 1 MB (before the filter), then filter,
   *  projection, Select COUNT. LastEvaluatedKey when another item is in range, or when the
   *  page stopped at Limit (DynamoDB does not look further to know). */
  private page(
    keys: PageKeys,
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
    // Each row's value is verified before it is decoded (a truncated row's twice: rare).
    const fullKey = (row: { key: Uint8Array; value: Uint8Array }): Uint8Array => keys.fullKey(decodeItem(this.open(row.key, row.value)));
    let last: Item | undefined;
    let more = false;
    for (const { key, value } of inKeyOrder(this.items.getRange(options), fullKey, lo, hi, reverse)) {
      if (out.scannedCount >= limit || out.bytesRead >= maxBytes) {
        more = true;
        break;
      }
      const entry = decodeItem(this.open(key, value));
      out.scannedCount++;
      out.bytesRead += itemSize(entry);
      last = entry;
      let item = entry;
      if (keys.fetch !== undefined) {
        // The same transaction holds the item (a local index is maintained with it).
        const base = keys.fetch(entry);
        if (base !== undefined) {
          item = base;
          out.fetchedBlocks = (out.fetchedBlocks ?? 0) + Math.max(1, Math.ceil(itemSize(base) / 4096));
        }
      }
      if (req.filter !== undefined && !evaluateCondition(req.filter, item)) continue;
      out.count++;
      if (!req.countOnly) out.items.push(req.projection !== undefined ? project(item, req.projection) : item);
    }
    if (last !== undefined) {
      out.lastKey = keys.keyOf(last);
      if (more || out.scannedCount >= limit) out.lastEvaluatedKey = out.lastKey;
    }
    return out;
  }

  // ---- whole ranges ------------------------------------------------------------------------

  /** Entries of key space `spaceId` (a table's or an index's) in hash range [h0, h1], and
   *  their size as DynamoDB counts an index's: item bytes plus 100 bytes each. */
  spaceStats(spaceId: number, h0: bigint, h1: bigint): { items: number; bytes: number } {
    const { lo, hi } = hashIntervalBounds(spaceId, h0, h1);
    let items = 0;
    let bytes = 0;
    for (const { key, value } of this.items.getRange({ start: lo, end: hi })) {
      items++;
      bytes += itemSize(decodeItem(this.open(key, value))) + INDEX_ENTRY_OVERHEAD_BYTES;
    }
    return { items, bytes };
  }

  /** Order-dependent CRC32C over every (key, value) of keys [lo, hi), then of each of
   *  `more` (index entries), with the count and size (as DynamoDB counts TableSizeBytes)
   *  of the items in [lo, hi). */
  digest(lo: Uint8Array, hi: Uint8Array, more: Array<{ lo: Uint8Array; hi: Uint8Array }> = []): { items: number; crc: number; bytes: number } {
    let crc = 0;
    let items = 0;
    let bytes = 0;
    [{ lo, hi }, ...more].forEach((range, i) => {
      for (const { key, value } of this.items.getRange({ start: range.lo, end: range.hi })) {
        // Verified first: replicas compare digests to find divergence, and a damaged value
        // is damage to report, not a difference of data.
        const payload = this.open(key, value);
        crc = crc32c(key, 0, key.length, crc);
        crc = crc32c(value, 0, value.length, crc);
        if (i > 0) continue;
        bytes += itemSize(decodeItem(payload));
        items++;
      }
    });
    return { items, crc, bytes };
  }

  // ---- snapshots ---------------------------------------------------------------------------

  /** Every key interval a group owns: its items, local-index entries and collection sizes
   *  in its hash range, its outbox and its index configuration. */
  groupIntervals(range: GroupRange): KeyInterval[] {
    return groupKeyIntervals(range, this.indexesOf(range.rec));
  }

  /** A consistent view of the group's rows as of now (an LMDB read transaction held until
   *  `close`: writes go on meanwhile), with the applied index they reflect. */
  openSnapshot(range: GroupRange, options: { keepDamaged?: boolean } = {}): SnapshotSource {
    const intervals = this.groupIntervals(range);
    const index = this.appliedIndex(range.rec.group);
    const group = range.rec.group;
    const tableId = range.rec.tableId;
    const transaction = this.root.useReadTransaction();
    const items = this.items;
    let at = 0;
    let after: Uint8Array | undefined;
    let closed = false;
    return {
      index,
      next(maxBytes: number): SnapshotRow[] {
        if (closed) throw new Error('snapshot source is closed');
        const rows: SnapshotRow[] = [];
        let bytes = 0;
        while (at < intervals.length && bytes < maxBytes) {
          const { lo, hi } = intervals[at];
          const range = after === undefined
            ? items.getRange({ start: lo, end: hi, transaction })
            : items.getRange({ start: after, end: hi, exclusiveStart: true, transaction });
          let full = false;
          for (const { key, value } of range) {
            let row: SnapshotRow;
            if (openValue(key, value) !== undefined) row = [new Uint8Array(key), new Uint8Array(value)];
            else if (options.keepDamaged === true) row = [new Uint8Array(key), DAMAGED_VALUE];
            else throw new ItemChecksumError(new Uint8Array(key), group, tableId);
            rows.push(row);
            bytes += rowBytes(row);
            after = row[0];
            if (bytes >= maxBytes) {
              full = true;
              break;
            }
          }
          if (!full) {
            at++;
            after = undefined;
          }
        }
        return rows;
      },
      close(): void {
        if (closed) return;
        closed = true;
        transaction.done();
      },
    };
  }

  /** Keeps a received chunk's rows aside (not yet the group's data). */
  stageSnapshotRows(group: number, rows: readonly SnapshotRow[]): void {
    let n = this.stagedRows.get(group) ?? 0;
    this.root.transactionSync(() => {
      for (const [key, value] of rows) {
        const packed = new Uint8Array(4 + key.length + value.length);
        new DataView(packed.buffer).setUint32(0, key.length, true);
        packed.set(key, 4);
        packed.set(value, 4 + key.length);
        this.staging.putSync(stagingKey(group, n++), packed);
      }
    });
    this.stagedRows.set(group, n);
  }

  discardStagedSnapshot(group: number): void {
    if (!this.stagedRows.has(group)) return;
    this.stagedRows.delete(group);
    this.root.transactionSync(() => {
      const keys = [...this.staging.getKeys({ start: stagingKey(group, 0), end: stagingKey(group + 1, 0) })];
      for (const k of keys) this.staging.removeSync(k);
    });
  }

  /**
   * Starts replacing the group's rows with the staged ones (all of them: the last chunk is
   * in) and its applied index with the snapshot's. The work is done by `continueInstall`,
   * a step at a time, so that a partition's install does not hold its node's thread for
   * one long transaction. From here on the install is finished whatever happens: a crash
   * in the middle is rolled forward when the store opens again (its marker, written now,
   * says what is left, and the staged rows not yet moved are still there). Meanwhile the
   * group's rows are a mix of old and new: it serves nothing (node/snapshot-transfer.ts).
   */
  beginInstall(range: GroupRange, snapshot: InstalledSnapshot): void {
    const marker: InstallMarker = { index: snapshot.index, term: snapshot.term, phase: 'clear', intervals: this.groupIntervals(range) };
    this.installs.putSync(range.rec.group, marker);
  }

  /** One step of the group's install: at most `maxRows` rows removed or moved, in one
   *  transaction. True once the install is finished (its applied index is the
   *  snapshot's; durable at the next checkpoint). */
  continueInstall(group: number, maxRows: number): boolean {
    const marker = this.installs.get(group);
    if (marker === undefined) return true;
    return this.installStep(group, marker, maxRows);
  }

  /** Clears the group's old rows (phase `clear`, interval by interval), then moves the
   *  staged rows in (phase `move`), then records the snapshot: each step, and each phase
   *  change, in one transaction with the marker saying where the install stands. */
  private installStep(group: number, marker: InstallMarker, maxRows: number): boolean {
    let finished = false;
    this.root.transactionSync(() => {
      let budget = maxRows;
      if (marker.phase === 'clear') {
        for (const { lo, hi } of marker.intervals) {
          // Collected first: not mutated under a live cursor.
          const keys = [...this.items.getKeys({ start: lo, end: hi, limit: budget })];
          for (const k of keys) this.items.removeSync(k);
          budget -= keys.length;
          if (budget <= 0) return;
        }
        marker.phase = 'move';
        this.installs.putSync(group, marker);
      }
      const staged = [...this.staging.getRange({ start: stagingKey(group, 0), end: stagingKey(group + 1, 0), limit: budget })];
      for (const { key, value } of staged) {
        const kl = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0, true);
        this.items.putSync(value.subarray(4, 4 + kl), value.subarray(4 + kl));
        this.staging.removeSync(key);
      }
      if (staged.length === budget) return;
      this.appliedDb.putSync(group, marker.index);
      this.installed.putSync(group, { index: marker.index, term: marker.term });
      this.installs.removeSync(group);
      finished = true;
    });
    if (finished) {
      this.stagedRows.delete(group);
      this.applied.set(group, marker.index);
      // Its index configuration came with the rows.
      this.targets.delete(group);
    }
    return finished;
  }

  /**
   * A split child (node/split.ts): its data is the rows already here in its range, as its
   * parent applied them up to the split entry `base`. Records that as its applied index
   * (and as the snapshot its data stands for), and its index configuration, in one
   * transaction with nothing else: the parent's apply of `base` came before it.
   */
  adoptSplitRange(child: GroupRecord, parent: number, base: InstalledSnapshot): void {
    this.root.transactionSync(() => {
      writeSplitChildIndexConfig(this.kv, parent, child.group, base.index, child.indexes);
      this.appliedDb.putSync(child.group, base.index);
      this.installed.putSync(child.group, { index: base.index, term: base.term });
    });
    this.applied.set(child.group, base.index);
    this.targets.delete(child.group);
  }

  /** The snapshot the group's data was last replaced with, if any. */
  installedSnapshot(group: number): InstalledSnapshot | undefined {
    return this.installed.get(group);
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
      if (forgetGroup !== undefined) {
        this.appliedDb.removeSync(forgetGroup);
        this.installed.removeSync(forgetGroup);
        // An install under way ends with its group (no restart may finish it).
        this.installs.removeSync(forgetGroup);
        const staged = [...this.staging.getKeys({ start: stagingKey(forgetGroup, 0), end: stagingKey(forgetGroup + 1, 0) })];
        for (const k of staged) this.staging.removeSync(k);
      }
    });
    if (forgetGroup !== undefined) {
      this.stagedRows.delete(forgetGroup);
      this.applied.delete(forgetGroup);
      this.targets.delete(forgetGroup);
    }
    return removed;
  }

  /**
   * Fault injection (`db.faults.rot`): flips one byte of the stored value of `count`
   * distinct items of the groups' tables (not their index entries or bookkeeping rows),
   * and leaves the checksum as it was, as bit rot on the disk would. The items are drawn
   * from `seed` by reservoir sampling over the groups' items in key order (memory: one
   * entry per item drawn), so the same seed over the same data damages the same items.
   * When the groups hold fewer than `count` intact items, nothing is damaged; `available`
   * says how many they hold.
   */
  rot(ranges: GroupRange[], count: number, seed: number): { damaged: RottedItem[]; available: number } {
    const random = seededRandom(seed);
    const chosen: Array<{ range: GroupRange; key: Uint8Array }> = [];
    let available = 0;
    for (const range of [...ranges].sort((a, b) => a.rec.group - b.rec.group)) {
      if (range.rec.logReplica === true || range.rec.globalIndexTable !== undefined) continue;
      const { lo, hi } = hashIntervalBounds(range.rec.tableId, range.hashStart, range.hashEnd);
      for (const { key, value } of this.items.getRange({ start: lo, end: hi })) {
        if (openValue(key, value) === undefined) continue; // damaged already
        const slot = available < count ? available : Math.floor(random() * (available + 1));
        available++;
        if (slot < count) chosen[slot] = { range, key: new Uint8Array(key) }; // cursor keys may be reused buffers
      }
    }
    if (available < count) return { damaged: [], available };
    const damaged: RottedItem[] = [];
    this.root.transactionSync(() => {
      for (const { range, key } of chosen) {
        const stored = new Uint8Array(this.items.getBinary(key)!);
        const payload = openValue(key, stored)!;
        damaged.push({ tableId: range.rec.tableId, tableName: range.rec.tableName, group: range.rec.group, key: extractKey(decodeItem(payload), range.rec.keyShape), storedKey: key });
        stored[VALUE_CHECKSUM_BYTES + Math.floor(random() * payload.length)] ^= 0xff;
        this.items.putSync(key, stored);
      }
    });
    damaged.sort((a, b) => a.group - b.group || compareBytes(a.storedKey, b.storedKey));
    return { damaged, available };
  }

  /** The payload of a row read by a cursor, verified (checked-values.ts). */
  private open(key: Uint8Array, value: Uint8Array): Uint8Array {
    const payload = openValue(key, value);
    if (payload === undefined) throw checksumFailure(this.stats, key);
    return payload;
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

/** A damaged row's value in a snapshot read with keepDamaged (no stored value is empty:
 *  every one carries its checksum). */
const DAMAGED_VALUE = new Uint8Array(0);

function stagingKey(group: number, row: number): Uint8Array {
  const key = new Uint8Array(8);
  const view = new DataView(key.buffer);
  view.setUint32(0, group);
  view.setUint32(4, row);
  return key;
}

/** How a page reads rows: the key it reports of an entry (LastEvaluatedKey), the full
 *  B-tree key of an entry (for truncated stored keys), and, for a local index read that
 *  needs attributes it does not project, the table item of an entry. */
interface PageKeys {
  keyOf(entry: Item): Item;
  fullKey(entry: Item): Uint8Array;
  fetch?: (entry: Item) => Item | undefined;
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
