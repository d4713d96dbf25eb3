/**
 * The write-ahead log of every group a node hosts, in its own LMDB environment: this is
 * the durability point (DESIGN: "the WAL is the durability point; the B-tree is not").
 *
 * Layout (one env, four named dbs):
 *  - `log`:     key = group (4 B BE) | index (8 B BE); value = CRC32C (4 B BE, over the
 *               rest) | term (4 B BE) | data. Every read checks the CRC.
 *  - `groups`:  group → GroupRecord (msgpack).
 *  - `hard`:    group → HardState (msgpack).
 *  - `logmeta`: group → { compactedIndex, compactedTerm, checkpointed } : where the log
 *               starts after compaction (so an emptied log keeps its lastIndex across a
 *               restart) and the applied index last made durable in the data env.
 *  - `dropped`: group → GroupRecord of a dropped group whose item deletion is not yet
 *               known durable (redone on open, cleared by the next checkpoint).
 *
 * Durability: 'sync' → every commit is fdatasync'ed before transactionSync returns
 * (noSync: false, overlappingSync: false, so that commit == durable, and so that the env
 * can be reopened with either mode); 'async' → noSync (a process crash loses nothing, an
 * OS crash may lose the last commits).
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { crc32c } from '../transport/crc32c.js';
import type { HardState, LogEntry, LogReader } from '../replication/types.js';
import type { KeyShape } from '../model/types.js';

export interface GroupRecord {
  group: number;
  tableId: number;
  tableName: string;
  keyShape: KeyShape;
  /** 16-hex-digit inclusive bounds of the partition's hash range. */
  hashStart: string;
  hashEnd: string;
  voters: number[];
}

export interface LogMeta {
  /** Last index dropped by compaction (0 = none); the log starts at compactedIndex + 1. */
  compactedIndex: number;
  compactedTerm: number;
  /** Applied index known durable in the data env (set by checkpoint). */
  checkpointed: number;
}

export interface PersistRecord {
  group: number;
  truncateFrom?: number;
  entries: LogEntry[];
  hardState?: HardState;
}

export class WalChecksumError extends Error {
  constructor(readonly group: number, readonly index: number) {
    super(`WAL checksum mismatch: group ${group} index ${index} (stored CRC32C does not match the record; not used)`);
    this.name = 'WalChecksumError';
  }
}

const ENTRY_HEADER_BYTES = 8;
const NEW_HARD_STATE: HardState = Object.freeze({ term: 0, vote: -1, commit: 0 }) as HardState;

export function walKey(group: number, index: number): Uint8Array {
  const k = new Uint8Array(12);
  const v = new DataView(k.buffer);
  v.setUint32(0, group);
  v.setUint32(4, Math.floor(index / 0x1_0000_0000));
  v.setUint32(8, index >>> 0);
  return k;
}

function walKeyIndex(key: Uint8Array): number {
  const v = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return v.getUint32(4) * 0x1_0000_0000 + v.getUint32(8);
}

export function encodeWalValue(term: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENTRY_HEADER_BYTES + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(4, term);
  out.set(data, ENTRY_HEADER_BYTES);
  v.setUint32(0, crc32c(out, 4, out.length));
  return out;
}

/** Per-group in-memory view of the log. Invariant: firstIndex <= lastIndex + 1, and
 *  `runs` (term changes, ascending start) describes the terms of [runs[0].start, lastIndex]. */
interface LogState {
  first: number;
  last: number;
  meta: LogMeta;
  runs: Array<{ start: number; term: number }>;
}

export interface WalStats {
  walCommits: number;
  walBytes: number;
  walEntries: number;
  walChecksumFailures: number;
}

export class Wal {
  readonly root: RootDatabase;
  private readonly log: Database<Uint8Array, Uint8Array>;
  private readonly groupsDb: Database<GroupRecord, number>;
  private readonly hardDb: Database<HardState, number>;
  private readonly metaDb: Database<LogMeta, number>;
  private readonly droppedDb: Database<GroupRecord, number>;
  private readonly states = new Map<number, LogState>();
  private readonly hard = new Map<number, HardState>();
  private readonly groupRecs = new Map<number, GroupRecord>();

  constructor(path: string, durability: 'sync' | 'async', private readonly stats: WalStats) {
    this.root = open({
      path,
      noSync: durability === 'async',
      overlappingSync: false,
      maxDbs: 8,
      // Reads copy what they keep, so the cheaper non-zeroed pages are safe.
      noMemInit: true,
    });
    this.log = this.root.openDB({ name: 'log', keyEncoding: 'binary', encoding: 'binary' });
    this.groupsDb = this.root.openDB({ name: 'groups', keyEncoding: 'uint32', encoding: 'msgpack' });
    this.hardDb = this.root.openDB({ name: 'hard', keyEncoding: 'uint32', encoding: 'msgpack' });
    this.metaDb = this.root.openDB({ name: 'logmeta', keyEncoding: 'uint32', encoding: 'msgpack' });
    this.droppedDb = this.root.openDB({ name: 'dropped', keyEncoding: 'uint32', encoding: 'msgpack' });
    for (const { key, value } of this.groupsDb.getRange()) {
      this.groupRecs.set(key, value);
      this.loadState(key);
    }
  }

  // ---- groups ----------------------------------------------------------------------------

  groups(): GroupRecord[] {
    return [...this.groupRecs.values()].sort((a, b) => a.group - b.group);
  }

  group(group: number): GroupRecord | undefined {
    return this.groupRecs.get(group);
  }

  saveGroup(rec: GroupRecord): void {
    const copy: GroupRecord = { ...rec, keyShape: { ...rec.keyShape }, voters: [...rec.voters] };
    this.root.transactionSync(() => {
      this.groupsDb.putSync(rec.group, copy);
      this.droppedDb.removeSync(rec.group);
    });
    this.stats.walCommits++;
    this.groupRecs.set(rec.group, copy);
    if (!this.states.has(rec.group)) this.loadState(rec.group);
  }

  /** Removes the group's WAL, hard state and record, leaving a tombstone (its record) in
   *  `dropped` until the data env is known durable without its items. */
  dropGroup(group: number): void {
    const rec = this.groupRecs.get(group);
    const st = this.states.get(group);
    this.root.transactionSync(() => {
      if (st !== undefined) for (let i = st.first; i <= st.last; i++) this.log.removeSync(walKey(group, i));
      // Anything left behind by a torn bookkeeping (belt and braces).
      for (const key of this.log.getKeys({ start: walKey(group, 0), end: walKey(group + 1, 0) })) this.log.removeSync(key);
      this.groupsDb.removeSync(group);
      this.hardDb.removeSync(group);
      this.metaDb.removeSync(group);
      if (rec !== undefined) this.droppedDb.putSync(group, rec);
    });
    this.stats.walCommits++;
    this.groupRecs.delete(group);
    this.states.delete(group);
    this.hard.delete(group);
  }

  droppedGroups(): GroupRecord[] {
    return [...this.droppedDb.getRange()].map((e) => e.value);
  }

  clearDropped(groups: number[]): void {
    if (groups.length === 0) return;
    this.root.transactionSync(() => {
      for (const g of groups) this.droppedDb.removeSync(g);
    });
    this.stats.walCommits++;
  }

  // ---- hard state and log ------------------------------------------------------------------

  hardState(group: number): HardState {
    const hs = this.hard.get(group);
    return hs === undefined ? { ...NEW_HARD_STATE } : { ...hs };
  }

  private loadState(group: number): LogState {
    const meta = this.metaDb.get(group) ?? { compactedIndex: 0, compactedTerm: 0, checkpointed: 0 };
    let first = meta.compactedIndex + 1;
    let last = meta.compactedIndex;
    for (const key of this.log.getKeys({ start: walKey(group, 0), end: walKey(group + 1, 0), limit: 1 })) {
      first = walKeyIndex(key);
    }
    for (const key of this.log.getKeys({ start: walKey(group + 1, 0), end: walKey(group, 0), reverse: true, limit: 1 })) {
      last = walKeyIndex(key);
    }
    const st: LogState = { first, last, meta, runs: [] };
    if (last >= first) {
      // Seed the term cache with the last entry; older terms are read (and checked) lazily.
      // A corrupt last entry leaves the cache empty: the error surfaces on use, not on open.
      try {
        const e = this.readEntry(group, last);
        if (e !== undefined) st.runs.push({ start: last, term: e.term });
      } catch (err) {
        if (!(err instanceof WalChecksumError)) throw err;
      }
    }
    this.states.set(group, st);
    const hs = this.hardDb.get(group);
    if (hs !== undefined) this.hard.set(group, hs);
    return st;
  }

  private stateOf(group: number): LogState {
    const st = this.states.get(group);
    if (st === undefined) throw new Error(`WAL: group ${group} is not hosted by this node (saveGroup first)`);
    return st;
  }

  logMeta(group: number): LogMeta {
    return { ...this.stateOf(group).meta };
  }

  /** Reads one entry, checking its CRC; undefined when absent. */
  readEntry(group: number, index: number): LogEntry | undefined {
    const v = this.log.getBinaryFast(walKey(group, index));
    if (v === undefined) return undefined;
    return this.checkedEntry(group, index, v, true);
  }

  private checkedEntry(group: number, index: number, v: Uint8Array, copy: boolean): LogEntry {
    if (v.length < ENTRY_HEADER_BYTES) {
      this.stats.walChecksumFailures++;
      throw new WalChecksumError(group, index);
    }
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    if (view.getUint32(0) !== crc32c(v, 4, v.length)) {
      this.stats.walChecksumFailures++;
      throw new WalChecksumError(group, index);
    }
    // A plain Uint8Array (not a Buffer), copied when `v` is LMDB's volatile read buffer.
    const data = copy
      ? new Uint8Array(v.subarray(ENTRY_HEADER_BYTES, v.length)) // end: lmdb-js shortens its reused buffer via .length
      : new Uint8Array(v.buffer, v.byteOffset + ENTRY_HEADER_BYTES, v.length - ENTRY_HEADER_BYTES);
    return { term: view.getUint32(4), index, data };
  }

  persist(batch: PersistRecord[]): void {
    // Plan first (pure), write in one transaction, then publish the new in-memory view
    // only after the commit succeeded.
    const plans: Array<{ group: number; st: LogState; from: number; newLast: number; rec: PersistRecord }> = [];
    let bytes = 0;
    for (const rec of batch) {
      const st = this.stateOf(rec.group);
      let from = rec.truncateFrom ?? Infinity;
      if (rec.entries.length > 0) from = Math.min(from, rec.entries[0].index);
      if (from <= st.meta.compactedIndex) {
        throw new Error(`WAL: group ${rec.group} cannot truncate/overwrite from ${from}: entries <= ${st.meta.compactedIndex} are compacted`);
      }
      const lastAfterTruncate = Math.min(st.last, from - 1);
      let expected = lastAfterTruncate + 1;
      for (const e of rec.entries) {
        if (e.index !== expected) {
          throw new Error(`WAL: group ${rec.group} entry index ${e.index} where ${expected} was expected (no holes)`);
        }
        expected++;
        bytes += e.data.length + ENTRY_HEADER_BYTES + 12;
      }
      plans.push({ group: rec.group, st, from, newLast: expected - 1, rec });
    }
    this.root.transactionSync(() => {
      for (const p of plans) {
        for (let i = p.from; i <= p.st.last; i++) this.log.removeSync(walKey(p.group, i));
        for (const e of p.rec.entries) this.log.putSync(walKey(p.group, e.index), encodeWalValue(e.term, e.data));
        if (p.rec.hardState !== undefined) this.hardDb.putSync(p.group, p.rec.hardState);
      }
    });
    this.stats.walCommits++;
    this.stats.walBytes += bytes;
    for (const p of plans) {
      const st = p.st;
      if (p.from <= st.last) {
        while (st.runs.length > 0 && st.runs[st.runs.length - 1].start >= p.from) st.runs.pop();
      }
      for (const e of p.rec.entries) {
        const lastRun = st.runs[st.runs.length - 1];
        if (lastRun === undefined || lastRun.term !== e.term) st.runs.push({ start: e.index, term: e.term });
      }
      st.last = p.newLast;
      if (st.last < st.first) st.first = st.meta.compactedIndex + 1;
      this.stats.walEntries += p.rec.entries.length;
      if (p.rec.hardState !== undefined) this.hard.set(p.group, { ...p.rec.hardState });
    }
  }

  compact(group: number, upTo: number): void {
    const st = this.stateOf(group);
    upTo = Math.min(upTo, st.last);
    if (upTo < st.first) return;
    const term = this.termOf(group, upTo);
    if (term === undefined) throw new Error(`WAL: group ${group} has no term for index ${upTo}`);
    const meta: LogMeta = { ...st.meta, compactedIndex: upTo, compactedTerm: term };
    this.root.transactionSync(() => {
      for (let i = st.first; i <= upTo; i++) this.log.removeSync(walKey(group, i));
      this.metaDb.putSync(group, meta);
    });
    this.stats.walCommits++;
    st.meta = meta;
    st.first = upTo + 1;
    while (st.runs.length > 1 && st.runs[1].start <= st.first) st.runs.shift();
    if (st.runs.length > 0 && st.runs[0].start < st.first) st.runs[0].start = st.first;
    if (st.first > st.last) st.runs.length = 0;
  }

  setCheckpointed(values: Map<number, number>): void {
    const updates: Array<[number, LogMeta]> = [];
    for (const [group, idx] of values) {
      const st = this.states.get(group);
      if (st === undefined || st.meta.checkpointed >= idx) continue;
      updates.push([group, { ...st.meta, checkpointed: idx }]);
    }
    if (updates.length === 0) return;
    this.root.transactionSync(() => {
      for (const [g, m] of updates) this.metaDb.putSync(g, m);
    });
    this.stats.walCommits++;
    for (const [g, m] of updates) this.states.get(g)!.meta = m;
  }

  termOf(group: number, index: number): number | undefined {
    if (index === 0) return 0;
    const st = this.stateOf(group);
    if (index === st.meta.compactedIndex) return st.meta.compactedTerm;
    if (index < st.first || index > st.last) return undefined;
    const runs = st.runs;
    if (runs.length > 0 && index >= runs[0].start) {
      // Usually the last run (hot path: term(lastIndex), term(recent)).
      let i = runs.length - 1;
      while (runs[i].start > index) i--;
      return runs[i].term;
    }
    const e = this.log.getBinaryFast(walKey(group, index));
    if (e === undefined) throw new Error(`WAL: group ${group} is missing entry ${index} inside [${st.first}, ${st.last}]`);
    return this.checkedEntry(group, index, e, false).term;
  }

  entries(group: number, lo: number, hi: number, maxBytes: number): LogEntry[] {
    const st = this.stateOf(group);
    if (lo < st.first) throw new Error(`WAL: group ${group} entries from ${lo} are compacted (first index ${st.first})`);
    hi = Math.min(hi, st.last + 1);
    const out: LogEntry[] = [];
    if (lo >= hi) return out;
    let bytes = 0;
    let expected = lo;
    for (const { key, value } of this.log.getRange({ start: walKey(group, lo), end: walKey(group, hi) })) {
      const index = walKeyIndex(key);
      if (index !== expected) throw new Error(`WAL: group ${group} is missing entry ${expected}`);
      // getRange copies binary values, so the data may alias `value` safely.
      const e = this.checkedEntry(group, index, value, false);
      if (out.length > 0 && bytes + e.data.length > maxBytes) break;
      out.push(e);
      bytes += e.data.length;
      expected++;
      if (bytes >= maxBytes) break;
    }
    if (out.length === 0) throw new Error(`WAL: group ${group} is missing entry ${lo}`);
    return out;
  }

  logReader(group: number): LogReader {
    this.stateOf(group);
    return {
      firstIndex: () => this.stateOf(group).first,
      lastIndex: () => this.stateOf(group).last,
      term: (index: number) => this.termOf(group, index),
      entries: (lo: number, hi: number, maxBytes: number) => this.entries(group, lo, hi, maxBytes),
    };
  }

  /** Raw access for tests that corrupt a stored record. */
  get logDb(): Database<Uint8Array, Uint8Array> {
    return this.log;
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}
