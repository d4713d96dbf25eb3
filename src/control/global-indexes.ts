/**
 * The control plane's side of global secondary indexes: the propagator that carries each
 * base partition's outbox (storage/indexes.ts) to the index's own partitions, the online
 * backfill of an index added to a table with items, and the lag of every index.
 *
 * One loop per base partition that has a global index. It asks the partition's leader
 * for outbox records after its cursor, turns them into index writes (delete the old entry,
 * put the new one), sends them to the index's partitions, and only then moves its cursor
 * and, now and then, trims the outbox with a replicated trim entry. Within a batch only
 * the last write per entry key is sent (each is the entry's full state, so the last one
 * decides), all at once. A failed batch is sent again from the same cursor: index writes
 * are idempotent, and replaying records in order ends in the same state. The cursor need
 * not be durable: after a restart it starts at 0 and the leader answers from the trim
 * point, which is replicated.
 *
 * Backfill: the index's groups are created, then every base partition gets an
 * index-config entry (every replica starts recording the index at that log index), then
 * each partition's loop scans the partition into the index BEFORE it applies any more of
 * its outbox, so what the scan saw stale is fixed by the outbox records after it.
 *
 * Polls are long polls: a leader that has no records holds the request until an apply
 * brings some (or 50 ms pass), so a record leaves as soon as it is applied, and an idle
 * partition costs one request per 50 ms; nothing spins.
 *
 * Read freshness (`waitCaughtUp`): a base partition has caught up as of time T once a poll
 * sent at T came back with less than a full batch and its records were applied, or a probe
 * (an outbox read after the cursor, not held) sent at T came back empty. A write
 * acknowledged before T was applied on the leader before T, so it was in that answer. A
 * query that waits makes the next polls short and sends a probe, so it is not held up by a
 * long poll sent before it began.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { build, type Histogram } from 'hdr-histogram-js';
import { hexToHash } from '../model/hash.js';
import { decodeItemKeyHash } from '../model/key-encoding.js';
import type { Item } from '../model/types.js';
import type { NodeRequestBody } from '../node/requests.js';
import type { PartitionInfo } from '../router/partition-map.js';
import type { Target } from '../router/router.js';
import { encodeWriteOp } from '../storage/codec.js';
import {
  decodeOutboxRecord, encodeIndexControl, inIndex, indexEntryKey, projectForIndex,
} from '../storage/indexes.js';
import type { GroupRecord } from '../storage/wal.js';
import type { OutboxRecord, PageResult, WriteOp } from '../storage/operations.js';
import { globalIndexRouteName, groupIndexesOf, type GlobalIndexMeta, type Metadata, type TableMeta } from './metadata.js';

/** Outbox records asked for per poll. */
const OUTBOX_BATCH = 128;
/** How long a leader holds a poll that finds no records (a long poll; ms). */
const POLL_WAIT_MS = 50;
/** After a failed batch (a leader change, a node down). */
const RETRY_AFTER_MS = 20;
/** Trim the outbox once this many records were applied, or this long after the last trim. */
const TRIM_EVERY_RECORDS = 512;
const TRIM_EVERY_MS = 50;
/** Items per page of a backfill scan. */
const BACKFILL_PAGE_ITEMS = 256;
/** How often the loops are matched to the metadata (new tables, dropped ones). */
const SYNC_INTERVAL_MS = 100;
const LAG_HIGHEST_US = 60_000_000;

export interface GlobalIndexDeps {
  metadata: Metadata;
  /** The main router's request. */
  request(target: Target, body: NodeRequestBody, idempotent: boolean): Promise<unknown>;
  /** Creates replication groups and resolves once each serves. */
  createGroups(partitions: PartitionInfo[], rec: (partition: PartitionInfo) => GroupRecord): Promise<void>;
  dropGroups(partitions: PartitionInfo[]): Promise<void>;
  /** The clock of the nodes' apply stamps (ms): performance.timeOrigin + performance.now(). */
  clock(): number;
}

/** Index lag percentiles (ms), from a base write's apply on its leader to the index
 *  write's acknowledgement. */
export interface IndexLag {
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface PartitionLoop {
  table: string;
  group: number;
  stopped: boolean;
  /** Outbox records up to this log index are applied to the indexes. */
  cursor: number;
  /** When (performance.now(), ms) the latest request was sent that showed the partition
   *  caught up (see the file's comment); -Infinity until one did. */
  caughtUpAtMs: number;
  /** Reads waiting until the partition has caught up as of `sinceMs`. */
  waiters: Waiter[];
  probing: boolean;
  /** Backfills asked of this partition, run before its next outbox batch. */
  backfills: Array<{ index: string; done: () => void; failed: (error: unknown) => void }>;
  running: Promise<void>;
}

interface Waiter {
  sinceMs: number;
  resolve: () => void;
}

export class GlobalIndexes {
  private readonly loops = new Map<number, PartitionLoop>();
  private readonly lags = new Map<string, Histogram>();
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: GlobalIndexDeps) {}

  start(): void {
    this.syncLoops();
    this.syncTimer = setInterval(() => this.syncLoops(), SYNC_INTERVAL_MS);
    this.syncTimer.unref();
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    const loops = [...this.loops.values()];
    for (const loop of loops) {
      loop.stopped = true;
      for (const w of loop.waiters.splice(0)) w.resolve();
      for (const b of loop.backfills.splice(0)) b.failed(new Error('the database closed during a backfill; it resumes when the database opens'));
    }
    await Promise.all(loops.map((l) => l.running));
    this.loops.clear();
  }

  /** The group record of a partition of a global index's own table. */
  static indexGroupRecord(meta: TableMeta, index: GlobalIndexMeta, partition: PartitionInfo): GroupRecord {
    return {
      group: partition.group, tableId: index.spec.id, tableName: globalIndexRouteName(meta.name, index.spec.name),
      keyShape: meta.keyShape, hashStart: partition.hashStart, hashEnd: partition.hashEnd, voters: partition.replicas,
      globalIndexTable: { spec: index.spec, tableShape: meta.keyShape },
    };
  }

  /**
   * Adds global index `index` (already recorded, CREATING) to a table online: creates its
   * groups, makes every base partition record it, backfills it, and marks it ACTIVE.
   * Also finishes an addition a crash interrupted (every step is idempotent).
   */
  async addIndex(tableName: string, indexName: string): Promise<void> {
    let meta = this.table(tableName);
    const index = this.index(meta, indexName);
    await this.deps.createGroups(index.partitions, (p) => GlobalIndexes.indexGroupRecord(meta, index, p));
    await this.configure(meta);
    meta = this.table(tableName);
    const todo = meta.partitions.filter((p) => !this.index(meta, indexName).backfilled.includes(p.group));
    await Promise.all(todo.map((p) => new Promise<void>((done, failed) => {
      this.loopFor(meta, p.group).backfills.push({ index: indexName, done, failed });
    })));
    this.deps.metadata.updateGlobalIndex(tableName, indexName, { status: 'ACTIVE', backfilling: false });
  }

  /** Deletes global index `index` (marked DELETING): its partitions stop recording it,
   *  its groups go, and its record. */
  async deleteIndex(tableName: string, indexName: string): Promise<void> {
    const meta = this.table(tableName);
    const index = this.index(meta, indexName);
    await this.configure(meta);
    await this.deps.dropGroups(index.partitions);
    this.deps.metadata.removeGlobalIndex(tableName, indexName);
    this.lags.delete(globalIndexRouteName(tableName, indexName));
  }

  /** Proposes the table's current index list to each of its partitions (an index-config
   *  entry through the leader) and waits until each has applied it. */
  async configure(meta: TableMeta): Promise<void> {
    const entry = encodeIndexControl({ t: 'config', indexes: groupIndexesOf(meta) });
    await Promise.all(meta.partitions.map((p) => this.deps.request(leaderOf(p), { t: 'write', entry }, false)));
  }

  /**
   * Resolves once every global index of `tableName` has caught up with each write to the
   * table acknowledged before this call, or after `timeoutMs` (a base partition may be
   * unavailable): true when it caught up. A table without a global index is caught up.
   */
  async waitCaughtUp(tableName: string, timeoutMs: number): Promise<boolean> {
    const sinceMs = performance.now();
    const meta = this.deps.metadata.table(tableName);
    if (this.closed || meta === undefined || meta.status !== 'ACTIVE' || (meta.globalIndexes ?? []).length === 0) return true;
    const waiters: Array<{ loop: PartitionLoop; waiter: Waiter }> = [];
    const caughtUp = meta.partitions.map((partition) => {
      const loop = this.loopFor(meta, partition.group);
      if (loop.caughtUpAtMs > sinceMs) return undefined;
      return new Promise<void>((resolve) => {
        const waiter = { sinceMs, resolve };
        loop.waiters.push(waiter);
        waiters.push({ loop, waiter });
        this.probe(loop, partition);
      });
    });
    if (waiters.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
    const done = await Promise.race([Promise.all(caughtUp).then(() => true as const), timedOut]);
    clearTimeout(timer);
    // A timed-out read leaves no waiter behind (a partition may stay unavailable for long).
    if (!done) for (const { loop, waiter } of waiters) loop.waiters = loop.waiters.filter((w) => w !== waiter);
    return done;
  }

  /** An outbox read after the loop's cursor that the leader answers at once: empty, the
   *  partition has caught up as of when it was sent. One at a time per partition. */
  private probe(loop: PartitionLoop, partition: PartitionInfo): void {
    if (loop.probing || loop.stopped) return;
    loop.probing = true;
    const sentAtMs = performance.now();
    this.deps.request(leaderOf(partition), { t: 'outbox', after: loop.cursor, max: 1 }, true).then((records) => {
      loop.probing = false;
      if ((records as OutboxRecord[]).length > 0) return; // the loop is behind: its next poll tells
      this.caughtUp(loop, sentAtMs);
      // Reads that began while this probe was out need one sent after them.
      if (loop.waiters.length > 0) this.probe(loop, partition);
    }, () => {
      // Unavailable: the loop retries; the waiting reads give up at their bound.
      loop.probing = false;
    });
  }

  private caughtUp(loop: PartitionLoop, sentAtMs: number): void {
    if (sentAtMs <= loop.caughtUpAtMs) return;
    loop.caughtUpAtMs = sentAtMs;
    const waiting = loop.waiters;
    loop.waiters = [];
    for (const w of waiting) {
      if (w.sinceMs < sentAtMs) w.resolve();
      else loop.waiters.push(w);
    }
  }

  /** p50/p99/max lag per index (`<table>/index/<name>`) since the last reset. */
  lag(options: { reset?: boolean } = {}): Record<string, IndexLag> {
    const out: Record<string, IndexLag> = {};
    for (const [name, h] of this.lags) {
      out[name] = { count: h.totalCount, p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, maxMs: h.maxValue / 1000 };
      if (options.reset === true) h.reset();
    }
    return out;
  }

  /** A loop per partition of every ACTIVE table with a global index; loops of tables or
   *  indexes that are gone stop. */
  private syncLoops(): void {
    if (this.closed) return;
    const wanted = new Set<number>();
    for (const meta of this.deps.metadata.tables()) {
      if (meta.status !== 'ACTIVE' || (meta.globalIndexes ?? []).length === 0) continue;
      for (const p of [...meta.partitions, ...(meta.splitParents ?? []).filter((sp) => sp.outboxDrained !== true)]) {
        wanted.add(p.group);
        this.loopFor(meta, p.group);
      }
    }
    for (const [group, loop] of this.loops) {
      if (wanted.has(group)) continue;
      loop.stopped = true;
      for (const w of loop.waiters.splice(0)) w.resolve();
      for (const b of loop.backfills) b.failed(new Error(`table ${loop.table} or its index is gone`));
      this.loops.delete(group);
    }
  }

  private loopFor(meta: TableMeta, group: number): PartitionLoop {
    let loop = this.loops.get(group);
    if (loop === undefined) {
      loop = {
        table: meta.name, group, stopped: false, cursor: 0, caughtUpAtMs: -Infinity, waiters: [], probing: false,
        backfills: [], running: Promise.resolve(),
      };
      this.loops.set(group, loop);
      loop.running = this.run(loop);
    }
    return loop;
  }

  /**
   * Resolves once the outbox of split parent `group` of `tableName` is propagated to the
   * end (its records go before its children's: their loops wait for it), recorded in the
   * metadata (SplitParent.outboxDrained) so that a restart does not wait for it again.
   * At once for a table without a global index.
   */
  async whenSplitParentDrained(tableName: string, group: number): Promise<void> {
    for (;;) {
      const meta = this.deps.metadata.table(tableName);
      const parent = meta?.splitParents?.find((p) => p.group === group);
      if (meta === undefined || parent === undefined || parent.outboxDrained === true || (meta.globalIndexes ?? []).length === 0) return;
      if (this.closed) throw new Error('the database closed before a split parent\'s index changes were propagated');
      this.syncLoops();
      await sleep(RETRY_AFTER_MS);
    }
  }

  /** A split parent of the loop's table, not yet propagated to the end, whose range holds
   *  `partition`'s: the child's records wait for the parent's. */
  private parentNotDrained(meta: TableMeta, partition: PartitionInfo): boolean {
    const start = hexToHash(partition.hashStart);
    const end = hexToHash(partition.hashEnd);
    return (meta.splitParents ?? []).some((p) => p.outboxDrained !== true && hexToHash(p.hashStart) <= start && end <= hexToHash(p.hashEnd));
  }

  private async run(loop: PartitionLoop): Promise<void> {
    let trimmedTo = 0;
    let lastTrimMs = 0;
    let trimming: Promise<unknown> | undefined;
    while (!loop.stopped && !this.closed) {
      const meta = this.deps.metadata.table(loop.table);
      const splitParent = meta?.splitParents?.find((p) => p.group === loop.group);
      const partition = meta?.partitions.find((p) => p.group === loop.group) ?? (splitParent?.outboxDrained === true ? undefined : splitParent);
      if (meta === undefined || partition === undefined) break;
      if (splitParent === undefined && this.parentNotDrained(meta, partition)) {
        await sleep(RETRY_AFTER_MS);
        continue;
      }
      try {
        while (loop.backfills.length > 0) {
          const backfill = loop.backfills[0];
          await this.backfill(meta, partition, backfill.index);
          loop.backfills.shift();
          backfill.done();
        }
        // A long poll: the leader answers as soon as an apply brings records. Not held
        // while reads wait for the index to catch up.
        const sentAtMs = performance.now();
        const waitMs = loop.waiters.length > 0 ? 0 : POLL_WAIT_MS;
        const records = (await this.deps.request(leaderOf(partition), { t: 'outbox', after: loop.cursor, max: OUTBOX_BATCH, waitMs }, true)) as OutboxRecord[];
        if (records.length > 0) {
          await this.applyRecords(meta, records);
          loop.cursor = records[records.length - 1].index;
        }
        if (records.length < OUTBOX_BATCH) this.caughtUp(loop, sentAtMs);
        if (splitParent !== undefined) {
          // Served by a leader that applied the split (it was published after that): a
          // short answer is the end of the parent's outbox. No trims: its log takes no writes.
          if (records.length < OUTBOX_BATCH) {
            this.deps.metadata.splitParentDrained(loop.table, loop.group);
            break;
          }
          continue;
        }
        // Trims run beside the next polls (one at a time): a trim is idempotent and only
        // ever raises the trim point, so it need not hold the propagation up.
        const now = Date.now();
        const cursor = loop.cursor;
        if (trimming === undefined && cursor > trimmedTo && (cursor - trimmedTo >= TRIM_EVERY_RECORDS || now - lastTrimMs >= TRIM_EVERY_MS)) {
          const upTo = cursor;
          lastTrimMs = now;
          trimming = this.deps.request(leaderOf(partition), { t: 'write', entry: encodeIndexControl({ t: 'trim', upTo }) }, false)
            .then(() => { trimmedTo = Math.max(trimmedTo, upTo); }, () => undefined)
            .finally(() => { trimming = undefined; });
        }
      } catch {
        // A leader change, a node down, a group being dropped: the same batch again later.
        await sleep(RETRY_AFTER_MS);
      }
    }
    await trimming;
  }

  /** Index writes for a batch of outbox records, in record order, the last per entry key. */
  private async applyRecords(meta: TableMeta, records: OutboxRecord[]): Promise<void> {
    const indexes = new Map((meta.globalIndexes ?? []).filter((g) => g.status !== 'DELETING').map((g) => [g.spec.id, g]));
    const writes = new Map<string, { index: GlobalIndexMeta; key: Uint8Array; image: Item | undefined }>();
    const stamps: Array<{ index: GlobalIndexMeta; appliedAtMs: number }> = [];
    for (const record of records) {
      for (const change of decodeOutboxRecord(record.data)) {
        const index = indexes.get(change.indexId);
        if (index === undefined) continue;
        const oldKey = change.oldKeys === undefined ? undefined : indexEntryKey(index.spec, meta.keyShape, change.oldKeys);
        const newKey = change.newImage === undefined ? undefined : indexEntryKey(index.spec, meta.keyShape, change.newImage);
        if (oldKey !== undefined) writes.set(hex(oldKey), { index, key: oldKey, image: undefined });
        if (newKey !== undefined) writes.set(hex(newKey), { index, key: newKey, image: change.newImage });
        if (record.appliedAtMs !== undefined) stamps.push({ index, appliedAtMs: record.appliedAtMs });
      }
    }
    await Promise.all([...writes.values()].map((w) => this.writeEntry(w.index, w.key, w.image)));
    const now = this.deps.clock();
    for (const { index, appliedAtMs } of stamps) this.lagOf(globalIndexRouteName(meta.name, index.spec.name)).recordValue(Math.max(1, Math.round((now - appliedAtMs) * 1000)));
  }

  /** Puts (or, without an image, deletes) one entry in the index's partition for its hash. */
  private async writeEntry(index: GlobalIndexMeta, key: Uint8Array, image: Item | undefined): Promise<void> {
    const hash = decodeItemKeyHash(key);
    const partition = index.partitions.find((p) => hexToHash(p.hashStart) <= hash && hash <= hexToHash(p.hashEnd));
    if (partition === undefined) throw new Error(`no partition of index ${index.spec.name} holds hash ${hash}`);
    const op: WriteOp = image === undefined
      ? { type: 'delete', tableId: index.spec.id, key: {}, returnValues: 'NONE', itemKey: key }
      : { type: 'put', tableId: index.spec.id, key: {}, item: image, returnValues: 'NONE', itemKey: key };
    const result = (await this.deps.request(leaderOf(partition), { t: 'write', entry: encodeWriteOp(op) }, false)) as { ok: boolean };
    if (!result.ok) throw new Error(`index write to ${index.spec.name} failed`);
  }

  /** Scans one base partition (through its leader, page by page) into the index. */
  private async backfill(meta: TableMeta, partition: PartitionInfo, indexName: string): Promise<void> {
    const index = this.index(meta, indexName);
    if (index.backfilled.includes(partition.group)) return;
    let startKey: Item | undefined;
    do {
      const page = (await this.deps.request(leaderOf(partition), {
        t: 'scan', consistent: true,
        req: {
          tableId: meta.tableId, hashLo: partition.hashStart, hashHi: partition.hashEnd, limit: BACKFILL_PAGE_ITEMS,
          ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
        },
      }, true)) as PageResult;
      await Promise.all(page.items.filter((item) => inIndex(item, index.spec.key))
        .map((item) => this.writeEntry(index, indexEntryKey(index.spec, meta.keyShape, item)!, projectForIndex(index.spec, meta.keyShape, item))));
      startKey = page.lastEvaluatedKey;
    } while (startKey !== undefined);
    const now = this.table(meta.name);
    this.deps.metadata.updateGlobalIndex(meta.name, indexName, { backfilled: [...this.index(now, indexName).backfilled, partition.group] });
  }

  private lagOf(name: string): Histogram {
    let h = this.lags.get(name);
    if (h === undefined) {
      h = build({ lowestDiscernibleValue: 1, highestTrackableValue: LAG_HIGHEST_US, numberOfSignificantValueDigits: 3 });
      this.lags.set(name, h);
    }
    return h;
  }

  private table(name: string): TableMeta {
    const meta = this.deps.metadata.table(name);
    if (meta === undefined) throw new Error(`no table ${name}`);
    return meta;
  }

  private index(meta: TableMeta, name: string): GlobalIndexMeta {
    const index = (meta.globalIndexes ?? []).find((g) => g.spec.name === name);
    if (index === undefined) throw new Error(`table ${meta.name} has no global index ${name}`);
    return index;
  }
}

function leaderOf(p: PartitionInfo): Target {
  return { mode: 'leader', group: p.group, replicas: p.replicas };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

