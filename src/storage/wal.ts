/**
 * The write-ahead log of every group a node hosts: one sequence of append-only segment
 * files `<path>/segment-<n>.log`. This is the durability point (DESIGN: "the WAL is the
 * durability point; the B-tree is not").
 *
 * Record (little endian): crc32c u32 | payload length u32 | type u8 | 3 zero bytes |
 * payload. The CRC covers bytes [4, 12 + length): the rest of the header and the payload.
 *
 *  - BATCH      seq u64 | body bytes u32 | record count u32. Every write is one batch: a
 *               BATCH header, then its records. Recovery applies a batch only when all of
 *               it is there, so a persist is never half-applied.
 *  - ENTRY      group u32 | index u64 | term u32 | data
 *  - HARD_STATE group u32 | term u32 | vote i32 | commit u64
 *  - TRUNCATE   group u32 | fromIndex u64 (drops entries >= fromIndex)
 *  - META       group u32 | compactedIndex u64 | compactedTerm u32 | checkpointed u64
 *  - GROUP      group u32 | GroupRecord as JSON (saveGroup)
 *  - DROP       group u32 | GroupRecord as JSON, or nothing (dropGroup; leaves a tombstone)
 *  - UNDROP     group u32 (clearDropped)
 *  - SEGMENT    segment number u32 | byte length of the previous segment u64
 *
 * Everything lives in the log, so its order is the order of events (a dropped and re-added
 * group cannot see its old entries again). A new segment starts with one batch restating
 * the whole small state: SEGMENT, then per hosted group GROUP, META and HARD_STATE, and a
 * DROP per tombstone. So an old segment is only needed for its entries: segments are
 * deleted oldest first once no hosted group needs an entry in them (per segment, the
 * highest index written per group, capped by later truncations, versus each group's
 * compaction point). The WAL is reopened into a fresh segment, after cutting a torn tail.
 *
 * Durability: 'sync' → persist, saveGroup and dropGroup fdatasync their write before
 * returning (one write and one sync per batch: group commit). compact, setCheckpointed and
 * clearDropped are written without a sync: losing them in an OS crash only keeps more log
 * (the current segment is synced before any segment file is deleted). 'async' → nothing is
 * synced: a process crash loses nothing, an OS crash may lose the last batches.
 *
 * Recovery scans the segments in order and rebuilds, per group, every entry's location
 * (segment, offset, length) and the terms (in memory: term lookups are on the hot path),
 * the hard state and the metadata. A batch that fails its checks at the end of the last
 * segment with nothing valid after it is a torn write: the file is cut there. Anywhere
 * else it is corruption: counted in walChecksumFailures, never applied (its intact records
 * are), and reads of the entries it held throw WalChecksumError. Reads (`entries`,
 * `readEntry`) read the recorded ranges with readSync and check every record's CRC.
 *
 * Archiving (WalOptions.archive): sealed segments (every one but the one written) are
 * read by an archiver outside the node's thread with `readSegmentRecords`, and a segment
 * is deleted only once the archiver said it is archived (`markArchived`, persisted in
 * `<path>/archived` so that a restart keeps the pin; the archiver's work is idempotent,
 * so a crash between archiving and marking only re-archives).
 */
import {
  closeSync,
  existsSync,
  readFileSync,
  renameSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../checksum/crc32c.js';
import type { HardState, LogEntry, LogReader } from '../replication/types.js';
import type { GlobalIndexTable, GroupIndexes } from './indexes.js';
import type { KeyShape } from '../model/types.js';

export interface GroupRecord {
  group: number;
  tableId: number;
  tableName: string;
  keyShape: KeyShape;
  /** 16-hex-digit inclusive bounds of the partition's hash range. */
  hashStart: string;
  hashEnd: string;
  /** The group's membership as of the last membership entry this node applied (or the
   *  one it was created with): every voter, and which of them are log replicas (WAL only)
   *  or removed replicas awaited back (see replication/membership.ts). */
  voters: number[];
  logReplicas?: number[];
  awaited?: Array<{ id: number; from: number }>;
  /** This node's replica is a log replica: it keeps the WAL only and applies nothing. */
  logReplica?: boolean;
  /** The secondary indexes a partition of a table maintains from its first entry (those
   *  declared at CreateTable); index-config entries change them later (indexes.ts). */
  indexes?: GroupIndexes;
  /** The largest item collection a write may grow (tables with local indexes); absent:
   *  DynamoDB's 10 GB. Smaller only in tests (ShardBox's itemCollectionLimitBytes). */
  itemCollectionLimitBytes?: number;
  /** The group is a partition of a global index's own table. */
  globalIndexTable?: GlobalIndexTable;
  /** Set once this node applied the group's split (node/split.ts): the entry's index and
   *  term, the first hash of the upper child, and the children's groups. Entries after it
   *  are never applied; the group serves nothing but its log (and its outbox). */
  split?: { index: number; term: number; at: string; children: [number, number]; adopted?: boolean };
  /** A child of a split: its data began as its parent's rows in its range, applied at the
   *  parent's split entry (index, term), where its own log begins. */
  splitFrom?: { group: number; index: number; term: number };
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
  /** A log replica's restart (Ready.logStart): every entry goes and the log continues
   *  after `index`, whose term is `term` (written as a TRUNCATE and a META record). */
  logStart?: { index: number; term: number };
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

export interface WalStats {
  walCommits: number;
  walBytes: number;
  walEntries: number;
  walChecksumFailures: number;
}

export interface WalOptions {
  /** A segment is closed once a batch would take it past this size (default 64 MiB). */
  segmentBytes?: number;
  /** Zeroes written ahead of the write position, so that an fdatasync of an append need
   *  not change the file size (0 = off). Default: DEFAULT_PREALLOCATE_BYTES with 'sync',
   *  0 with 'async' (nothing is synced, so it only costs). */
  preallocateBytes?: number;
  /** Keep every sealed segment until `markArchived` covers it (an archiver reads them).
   *  Default false: segments go once compaction frees them. */
  archive?: boolean;
  /** Told after every sync how far the current segment is durable (its number, and the
   *  bytes synced): what a power failure would leave (the power-off test's emulation). */
  onDurable?: (segment: number, bytes: number) => void;
}

/** A segment file the archiver may read: every sealed one not yet archived, and the one
 *  being written (`sealed` false), whose first `bytes` bytes are whole batches. */
export interface WalSegmentFile {
  segment: number;
  file: string;
  sealed: boolean;
  bytes: number;
}

/** What an archiver needs of a WAL: the segments to read, oldest first. */
export interface WalArchiveView {
  /** Segments <= this one are archived (0: none). */
  archivedThrough: number;
  segments: WalSegmentFile[];
}

/** A record read back from a segment file (readSegmentRecords), in file order. */
export type WalRecord =
  | { type: 'entry'; group: number; index: number; term: number; data: Uint8Array }
  | { type: 'hardState'; group: number; term: number; vote: number; commit: number }
  | { type: 'truncate'; group: number; from: number }
  | { type: 'meta'; group: number; compactedIndex: number; compactedTerm: number; checkpointed: number }
  | { type: 'group'; group: number; record: GroupRecord }
  | { type: 'drop'; group: number }
  | { type: 'undrop'; group: number }
  | { type: 'segment'; segment: number; previousBytes: number };

/** A segment file that does not read back whole (a record fails its CRC, a batch is cut). */
export class WalSegmentError extends Error {
  constructor(readonly file: string, readonly offset: number, reason: string) {
    super(`WAL segment ${file}: ${reason} at byte ${offset}`);
    this.name = 'WalSegmentError';
  }
}

export const ARCHIVED_FILE = 'archived';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Measured with test/storage/wal-bench.mjs: writing zeros ahead roughly halves the p50 of
 *  a synced persist (0.10-0.19 ms vs 0.17-0.37 ms, batches of 1-100 1 KB entries); chunks
 *  of 1 MiB kept the p99 no worse than without (4 MiB chunks made the synced batch that
 *  also flushes them a multi-ms outlier). */
export const DEFAULT_PREALLOCATE_BYTES = 1024 * 1024;

// ---- record format ---------------------------------------------------------------------

export const HDR = 12;
export const RecordType = {
  BATCH: 1,
  ENTRY: 2,
  HARD_STATE: 3,
  TRUNCATE: 4,
  META: 5,
  GROUP: 6,
  DROP: 7,
  UNDROP: 8,
  SEGMENT: 9,
} as const;
const BATCH_PAYLOAD = 16;
const ENTRY_FIXED = 16;
const HARD_PAYLOAD = 20;
const TRUNCATE_PAYLOAD = 12;
const META_PAYLOAD = 24;
const SEGMENT_PAYLOAD = 12;
const MAX_TYPE = RecordType.SEGMENT;

const TWO32 = 0x1_0000_0000;
const CORRUPT = 0xffff_ffff;
const NEW_HARD_STATE: HardState = Object.freeze({ term: 0, vote: -1, commit: 0 }) as HardState;
const ZEROS = new Uint8Array(1024 * 1024);
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export function segmentFileName(n: number): string {
  return `segment-${n}.log`;
}

function getU64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * TWO32;
}

function setU64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x >>> 0, true);
  v.setUint32(at + 4, Math.floor(x / TWO32), true);
}

function validBatchHeader(buf: Uint8Array, at: number, end: number): boolean {
  if (at + HDR + BATCH_PAYLOAD > end) return false;
  if (buf[at + 8] !== RecordType.BATCH || buf[at + 9] !== 0 || buf[at + 10] !== 0 || buf[at + 11] !== 0) return false;
  const v = new DataView(buf.buffer, buf.byteOffset);
  if (v.getUint32(at + 4, true) !== BATCH_PAYLOAD) return false;
  return v.getUint32(at, true) === crc32c(buf, at + 4, at + HDR + BATCH_PAYLOAD);
}

/** Parses the records of a batch body; `bad` lists the offsets of records that fail. */
function parseBody(buf: Uint8Array, v: DataView, from: number, end: number): { recs: Rec[]; bad: number[] } {
  const recs: Rec[] = [];
  const bad: number[] = [];
  let at = from;
  while (at < end) {
    if (at + HDR > end) {
      bad.push(at);
      break;
    }
    const len = v.getUint32(at + 4, true);
    const type = buf[at + 8];
    if (at + HDR + len > end || type === 0 || type > MAX_TYPE || type === RecordType.BATCH) {
      bad.push(at); // its length cannot be trusted: the rest of the body is lost
      break;
    }
    if (v.getUint32(at, true) !== crc32c(buf, at + 4, at + HDR + len)) bad.push(at);
    else recs.push({ type, at, len });
    at += HDR + len;
  }
  return { recs, bad };
}

function decodeRecord(buf: Uint8Array, v: DataView, r: Rec): WalRecord {
  const p = r.at + HDR;
  const group = v.getUint32(p, true);
  switch (r.type) {
    case RecordType.ENTRY:
      return { type: 'entry', group, index: getU64(v, p + 4), term: v.getUint32(p + 12, true), data: buf.slice(p + ENTRY_FIXED, p + r.len) };
    case RecordType.HARD_STATE:
      return { type: 'hardState', group, term: v.getUint32(p + 4, true), vote: v.getInt32(p + 8, true), commit: getU64(v, p + 12) };
    case RecordType.TRUNCATE:
      return { type: 'truncate', group, from: getU64(v, p + 4) };
    case RecordType.META:
      return { type: 'meta', group, compactedIndex: getU64(v, p + 4), compactedTerm: v.getUint32(p + 12, true), checkpointed: getU64(v, p + 16) };
    case RecordType.GROUP:
      return { type: 'group', group, record: JSON.parse(textDecoder.decode(buf.subarray(p + 4, p + r.len))) as GroupRecord };
    case RecordType.DROP:
      return { type: 'drop', group };
    case RecordType.UNDROP:
      return { type: 'undrop', group };
    case RecordType.SEGMENT:
      return { type: 'segment', segment: group, previousBytes: getU64(v, p + 4) };
    default:
      throw new Error(`WAL: record type ${r.type} has no decoder`);
  }
}

/**
 * Every record of a segment file's first `bytes` bytes (default: the whole file), in
 * order, each batch and record checked against its CRC32C. Strict, unlike recovery: a
 * sealed segment was cut to its last whole batch when it was sealed, so anything that does
 * not read back is damage, and throws WalSegmentError. Reads the file with plain fs calls
 * and touches no Wal object, so any thread may use it on a segment the node is not
 * deleting (an archive-pinned one, or the one being written, up to its stated length).
 */
export function readSegmentRecords(file: string, bytes?: number): WalRecord[] {
  const fd = openSync(file, 'r');
  let buf: Uint8Array;
  try {
    const size = bytes ?? fstatSync(fd).size;
    buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const r = readSync(fd, buf, got, size - got, got);
      if (r === 0) break;
      got += r;
    }
    if (got < size) throw new WalSegmentError(file, got, `file ends before the ${size} bytes expected`);
  } finally {
    closeSync(fd);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: WalRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (!validBatchHeader(buf, pos, buf.length)) throw new WalSegmentError(file, pos, 'no valid batch header');
    const bodyEnd = pos + HDR + BATCH_PAYLOAD + v.getUint32(pos + HDR + 8, true);
    if (bodyEnd > buf.length) throw new WalSegmentError(file, pos, 'batch runs past the end');
    const parsed = parseBody(buf, v, pos + HDR + BATCH_PAYLOAD, bodyEnd);
    if (parsed.bad.length > 0) throw new WalSegmentError(file, parsed.bad[0], 'record fails its CRC32C');
    for (const r of parsed.recs) out.push(decodeRecord(buf, v, r));
    pos = bodyEnd;
  }
  return out;
}

function readArchivedThrough(file: string): number {
  if (!existsSync(file)) return 0;
  const n = Number(readFileSync(file, 'utf8').trim());
  // A damaged file pins everything again (re-archiving is idempotent), never frees more.
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Locations of a group's entries [base, base + count): segment, offset, record length. */
class Locations {
  private a = new Uint32Array(3 * 64);
  private head = 0; // in entries
  count = 0;
  base = 1;

  reset(base: number): void {
    this.head = 0;
    this.count = 0;
    this.base = base;
  }

  push(seg: number, off: number, len: number): void {
    if (3 * (this.head + this.count + 1) > this.a.length) {
      if (this.head > this.count) {
        this.a.copyWithin(0, 3 * this.head, 3 * (this.head + this.count));
        this.head = 0;
      } else {
        const b = new Uint32Array(Math.max(this.a.length * 2, 3 * 64));
        b.set(this.a.subarray(3 * this.head, 3 * (this.head + this.count)));
        this.a = b;
        this.head = 0;
      }
    }
    const at = 3 * (this.head + this.count);
    this.a[at] = seg;
    this.a[at + 1] = off;
    this.a[at + 2] = len;
    this.count++;
  }

  /** Keeps indexes < index. */
  truncateFrom(index: number): void {
    this.count = Math.max(0, Math.min(this.count, index - this.base));
  }

  /** Drops indexes <= index. */
  dropThrough(index: number): void {
    const n = Math.min(this.count, index + 1 - this.base);
    if (n <= 0) return;
    this.head += n;
    this.count -= n;
    this.base += n;
  }

  seg(index: number): number {
    return this.a[3 * (this.head + index - this.base)];
  }
  off(index: number): number {
    return this.a[3 * (this.head + index - this.base) + 1];
  }
  len(index: number): number {
    return this.a[3 * (this.head + index - this.base) + 2];
  }
}

/** Per-group in-memory view of the log. Invariants: first <= last + 1; `locs` covers
 *  exactly [first, last]; `runs` (term changes, ascending start) covers [runs[0].start,
 *  last] with runs[0].start <= first when the log is not empty. */
interface LogState {
  first: number;
  last: number;
  meta: LogMeta;
  runs: Array<{ start: number; term: number }>;
  locs: Locations;
  /** Indexes whose record is known bad or missing (recovery); reads throw. */
  corrupt: Set<number> | undefined;
}

interface Segment {
  n: number;
  fd: number;
  /** Highest live index written here, per group (capped by later truncations). */
  maxIndex: Map<number, number>;
}

/** One record found by the scanner. */
interface Rec {
  type: number;
  at: number; // offset of the header
  len: number; // payload length
}

export class Wal {
  private readonly states = new Map<number, LogState>();
  private readonly hard = new Map<number, HardState>();
  private readonly groupRecs = new Map<number, GroupRecord>();
  private readonly dropped = new Map<number, GroupRecord>();
  /** Segments in order; the last one is written. */
  private readonly segments: Segment[] = [];
  private readonly segmentBytes: number;
  private readonly preallocateBytes: number;
  private readonly sync: boolean;
  private readonly onDurable: ((segment: number, bytes: number) => void) | undefined;
  private writePos = 0;
  /** Bytes of the current segment known synced. */
  private syncedTo = 0;
  private allocatedEnd = 0;
  private seq = 0;
  private scratch = new Uint8Array(1 << 16);
  private view = new DataView(this.scratch.buffer);
  private failed: Error | undefined;
  private closed = false;
  private readonly archive: boolean;
  /** Segments <= this one are archived (WalOptions.archive); persisted in ARCHIVED_FILE. */
  private archivedThrough = 0;
  /** Where the current segment's restated state (its first batch) ends. */
  private headEnd = 0;

  constructor(readonly path: string, durability: 'sync' | 'async', private readonly stats: WalStats, opts: WalOptions = {}) {
    this.sync = durability === 'sync';
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.onDurable = opts.onDurable;
    this.preallocateBytes = opts.preallocateBytes ?? (this.sync ? DEFAULT_PREALLOCATE_BYTES : 0);
    this.archive = opts.archive ?? false;
    if (existsSync(path) && !statSync(path).isDirectory()) {
      throw new Error(`WAL: ${path} is not a directory (a WAL of the older LMDB format? it cannot be read by this version)`);
    }
    mkdirSync(path, { recursive: true });
    if (this.archive) this.archivedThrough = readArchivedThrough(join(path, ARCHIVED_FILE));
    this.recover();
    // Always continue in a fresh segment: the one recovered last may have had a torn tail
    // (cut), and a new segment starts with the restated state.
    this.roll();
    this.maybeDeleteSegments();
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
    const json = textEncoder.encode(JSON.stringify(copy));
    this.writeBatch(HDR + 4 + json.length, this.sync, (at) => this.encGroup(at, RecordType.GROUP, copy.group, json));
    this.applyGroup(copy);
  }

  /** Removes the group's WAL, hard state and record, leaving a tombstone (its record)
   *  until the data env is known durable without its items. */
  dropGroup(group: number): void {
    const rec = this.groupRecs.get(group);
    const json = rec === undefined ? new Uint8Array(0) : textEncoder.encode(JSON.stringify(rec));
    this.writeBatch(HDR + 4 + json.length, this.sync, (at) => this.encGroup(at, RecordType.DROP, group, json));
    this.applyDrop(group, rec);
  }

  droppedGroups(): GroupRecord[] {
    return [...this.dropped.values()].sort((a, b) => a.group - b.group);
  }

  clearDropped(groups: number[]): void {
    const gs = groups.filter((g) => this.dropped.has(g));
    if (gs.length === 0) return;
    this.writeBatch(gs.length * (HDR + 4), false, (at) => {
      for (const g of gs) at = this.encGroup(at, RecordType.UNDROP, g, undefined);
      return at;
    });
    for (const g of gs) this.dropped.delete(g);
  }

  // ---- hard state and log ------------------------------------------------------------------

  hardState(group: number): HardState {
    const hs = this.hard.get(group);
    return hs === undefined ? { ...NEW_HARD_STATE } : { ...hs };
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
    const st = this.states.get(group);
    if (st === undefined || index < st.first || index > st.last) return undefined;
    return this.readRange(group, st, index, index, Infinity)[0];
  }

  /**
   * fdatasync of everything written so far (after `persist(batch, true)`), on the calling
   * thread. Nothing with durability 'async'. A failed sync fails the WAL for good
   * (fsyncgate).
   */
  syncNow(): void {
    if (!this.sync) return;
    if (this.failed !== undefined) throw new Error(`WAL: an earlier write failed (${this.failed.message}); reopen the store`);
    if (this.writePos > this.syncedTo) this.syncThrough(this.segments[this.segments.length - 1], this.writePos);
  }

  /** fdatasync of `seg`, written up to `end`; a failure fails the WAL for good. */
  private syncThrough(seg: Segment, end: number): void {
    try {
      fdatasyncSync(seg.fd);
    } catch (err) {
      this.failed = err as Error;
      throw err;
    }
    this.syncedTo = end;
    this.onDurable?.(seg.n, end);
  }

  /**
   * Writes the batch as one record batch and, with durability 'sync', fdatasyncs it
   * before returning, unless `deferSync`: then the batch is written but durable only once
   * a later `syncNow()` returns, and the caller must treat it so (no acks, no votes).
   */
  persist(batch: PersistRecord[], deferSync = false): void {
    // Plan first (pure), write the batch, then publish the new in-memory view only after
    // the write (and sync) succeeded.
    let bytes = 0;
    const froms: number[] = [];
    const truncates: boolean[] = [];
    const restarts: Array<{ wipe: boolean; meta: LogMeta } | undefined> = [];
    for (const rec of batch) {
      const st = this.stateOf(rec.group);
      // The log as the rest of this record sees it: after the restart, if any.
      let last = st.last;
      let compacted = st.meta.compactedIndex;
      if (rec.logStart !== undefined) {
        const { index, term } = rec.logStart;
        if (index < st.meta.compactedIndex) {
          throw new Error(`WAL: group ${rec.group} cannot restart its log at ${index}, below its compaction point ${st.meta.compactedIndex}`);
        }
        const wipe = st.last >= st.first;
        restarts.push({ wipe, meta: { ...st.meta, compactedIndex: index, compactedTerm: term } });
        bytes += (wipe ? HDR + TRUNCATE_PAYLOAD : 0) + HDR + META_PAYLOAD;
        last = index;
        compacted = index;
      } else {
        restarts.push(undefined);
      }
      let from = rec.truncateFrom ?? Infinity;
      if (rec.entries.length > 0) from = Math.min(from, rec.entries[0].index);
      if (from <= compacted) {
        throw new Error(`WAL: group ${rec.group} cannot truncate/overwrite from ${from}: entries <= ${compacted} are compacted`);
      }
      let expected = Math.min(last, from - 1) + 1;
      for (const e of rec.entries) {
        if (e.index !== expected) {
          throw new Error(`WAL: group ${rec.group} entry index ${e.index} where ${expected} was expected (no holes)`);
        }
        expected++;
        bytes += HDR + ENTRY_FIXED + e.data.length;
      }
      froms.push(from);
      truncates.push(from <= last);
      if (from <= last) bytes += HDR + TRUNCATE_PAYLOAD;
      if (rec.hardState !== undefined) bytes += HDR + HARD_PAYLOAD;
    }
    if (bytes === 0) return;
    const start = this.writeBatch(bytes, this.sync && !deferSync, (at) => {
      for (let r = 0; r < batch.length; r++) {
        const rec = batch[r];
        const st = this.states.get(rec.group)!;
        const restart = restarts[r];
        if (restart !== undefined) {
          if (restart.wipe) at = this.encTruncate(at, rec.group, st.first);
          at = this.encMeta(at, rec.group, restart.meta);
        }
        if (truncates[r]) at = this.encTruncate(at, rec.group, froms[r]);
        for (const e of rec.entries) at = this.encEntry(at, rec.group, e);
        if (rec.hardState !== undefined) at = this.encHard(at, rec.group, rec.hardState);
      }
      return at;
    });
    // Publish: the offsets follow the encoding order above.
    const seg = this.current();
    let at = start + HDR + BATCH_PAYLOAD;
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r];
      const st = this.states.get(rec.group)!;
      const restart = restarts[r];
      if (restart !== undefined) {
        if (restart.wipe) {
          this.applyTruncate(rec.group, st, st.first);
          at += HDR + TRUNCATE_PAYLOAD;
        }
        this.applyMeta(st, restart.meta);
        at += HDR + META_PAYLOAD;
      }
      if (truncates[r]) {
        this.applyTruncate(rec.group, st, froms[r]);
        at += HDR + TRUNCATE_PAYLOAD;
      }
      for (const e of rec.entries) {
        const len = HDR + ENTRY_FIXED + e.data.length;
        this.applyEntry(rec.group, st, seg, e.index, e.term, at, len);
        at += len;
      }
      this.stats.walEntries += rec.entries.length;
      if (rec.hardState !== undefined) {
        this.hard.set(rec.group, { term: rec.hardState.term, vote: rec.hardState.vote, commit: rec.hardState.commit });
        at += HDR + HARD_PAYLOAD;
      }
    }
  }

  compact(group: number, upTo: number): void {
    const st = this.stateOf(group);
    upTo = Math.min(upTo, st.last);
    if (upTo < st.first) return;
    const term = this.termOf(group, upTo);
    if (term === undefined) throw new Error(`WAL: group ${group} has no term for index ${upTo}`);
    const meta: LogMeta = { ...st.meta, compactedIndex: upTo, compactedTerm: term };
    this.writeBatch(HDR + META_PAYLOAD, false, (at) => this.encMeta(at, group, meta));
    this.applyMeta(st, meta);
    this.maybeDeleteSegments();
  }

  setCheckpointed(values: Map<number, number>): void {
    const updates: Array<[number, LogMeta]> = [];
    for (const [group, idx] of values) {
      const st = this.states.get(group);
      if (st === undefined || st.meta.checkpointed >= idx) continue;
      updates.push([group, { ...st.meta, checkpointed: idx }]);
    }
    if (updates.length === 0) return;
    this.writeBatch(updates.length * (HDR + META_PAYLOAD), false, (at) => {
      for (const [g, m] of updates) at = this.encMeta(at, g, m);
      return at;
    });
    for (const [g, m] of updates) this.states.get(g)!.meta = m;
  }

  termOf(group: number, index: number): number | undefined {
    if (index === 0) return 0;
    const st = this.stateOf(group);
    if (index === st.meta.compactedIndex) return st.meta.compactedTerm;
    if (index < st.first || index > st.last) return undefined;
    if (st.corrupt !== undefined && st.corrupt.has(index)) throw new WalChecksumError(group, index);
    const runs = st.runs;
    // Usually the last run (hot path: term(lastIndex), term(recent)).
    let i = runs.length - 1;
    while (i > 0 && runs[i].start > index) i--;
    return runs[i].term;
  }

  entries(group: number, lo: number, hi: number, maxBytes: number): LogEntry[] {
    const st = this.stateOf(group);
    if (lo < st.first) throw new Error(`WAL: group ${group} entries from ${lo} are compacted (first index ${st.first})`);
    hi = Math.min(hi, st.last + 1);
    if (lo >= hi) return [];
    return this.readRange(group, st, lo, hi - 1, maxBytes);
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

  /** Where the next batch goes: segment number and byte offset (for tests and tools). */
  writePosition(): { segment: number; offset: number; synced: number } {
    return { segment: this.current(), offset: this.writePos, synced: this.syncedTo };
  }

  /** Segment numbers on disk, oldest first (for tests and tools). */
  segmentNumbers(): number[] {
    return this.segments.map((s) => s.n);
  }

  // ---- archiving ---------------------------------------------------------------------------

  /**
   * The segments an archiver is to read: the sealed ones not yet archived and the current
   * one (its length now). With `seal`, the current segment is sealed first when anything
   * was written to it after its restated state, so that everything written so far is in
   * sealed segments. Throws unless WalOptions.archive.
   */
  archiveView(seal: boolean): WalArchiveView {
    if (!this.archive) throw new Error('WAL: archiving is off (WalOptions.archive)');
    if (this.closed) throw new Error('WAL is closed');
    if (seal && this.writePos > this.headEnd) this.roll();
    const segments: WalSegmentFile[] = [];
    const last = this.segments.length - 1;
    for (let k = 0; k <= last; k++) {
      const s = this.segments[k];
      if (s.n <= this.archivedThrough) continue;
      const file = join(this.path, segmentFileName(s.n));
      segments.push({ segment: s.n, file, sealed: k < last, bytes: k < last ? fstatSync(s.fd).size : this.writePos });
    }
    return { archivedThrough: this.archivedThrough, segments };
  }

  /**
   * Segments <= `segment` are archived: compaction may delete them. Persisted (a file
   * written whole and renamed) before anything is deleted, so that a restart keeps
   * pinning the segments not archived yet. Only sealed segments can be archived.
   */
  markArchived(segment: number): void {
    if (!this.archive) throw new Error('WAL: archiving is off (WalOptions.archive)');
    if (!Number.isInteger(segment) || segment < 0) throw new RangeError(`WAL: segment number ${segment} is not a non-negative integer`);
    if (segment >= this.current()) throw new RangeError(`WAL: segment ${segment} is not sealed (the current segment is ${this.current()})`);
    if (segment <= this.archivedThrough) return;
    const file = join(this.path, ARCHIVED_FILE);
    const temp = `${file}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, `${segment}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    this.syncDir();
    this.archivedThrough = segment;
    this.maybeDeleteSegments();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const cur = this.segments[this.segments.length - 1];
    if (cur !== undefined && this.failed === undefined) {
      try {
        // Drop the preallocated zeros (not synced: nothing depends on it).
        ftruncateSync(cur.fd, this.writePos);
      } catch {
        // best effort
      }
    }
    for (const s of this.segments) closeSync(s.fd);
    this.segments.length = 0;
  }

  // ---- reads -------------------------------------------------------------------------------

  /** Entries [lo, hi] (at least one, then up to maxBytes of data), each record checked. */
  private readRange(group: number, st: LogState, lo: number, hi: number, maxBytes: number): LogEntry[] {
    const locs = st.locs;
    // Choose the entries first (lengths are known), then read them in a few spans.
    let n = 0;
    let bytes = 0;
    for (let i = lo; i <= hi; i++) {
      const seg = locs.seg(i);
      if (seg === CORRUPT) {
        if (n === 0) throw new WalChecksumError(group, i);
        break; // return what precedes it; the next call throws
      }
      const dataLen = locs.len(i) - HDR - ENTRY_FIXED;
      if (n > 0 && bytes + dataLen > maxBytes) break;
      n++;
      bytes += dataLen;
      if (bytes >= maxBytes) break;
    }
    const out: LogEntry[] = [];
    let i = lo;
    while (i < lo + n) {
      // One span: consecutive entries in one segment whose gaps stay small.
      const seg = locs.seg(i);
      const start = locs.off(i);
      let end = start + locs.len(i);
      let j = i + 1;
      while (j < lo + n && locs.seg(j) === seg && locs.off(j) >= end && locs.off(j) - end <= 64 * 1024 && locs.off(j) + locs.len(j) - start <= 4 * 1024 * 1024) {
        end = locs.off(j) + locs.len(j);
        j++;
      }
      const buf = new Uint8Array(end - start);
      const got = this.readAt(seg, buf, start);
      const view = new DataView(buf.buffer);
      for (let k = i; k < j; k++) {
        const at = locs.off(k) - start;
        const len = locs.len(k);
        if (
          at + len > got ||
          view.getUint32(at + 4, true) !== len - HDR ||
          buf[at + 8] !== RecordType.ENTRY ||
          view.getUint32(at, true) !== crc32c(buf, at + 4, at + len) ||
          view.getUint32(at + HDR, true) !== group ||
          getU64(view, at + HDR + 4) !== k
        ) {
          this.stats.walChecksumFailures++;
          if (out.length === 0) throw new WalChecksumError(group, k);
          return out;
        }
        out.push({ term: view.getUint32(at + HDR + 12, true), index: k, data: buf.subarray(at + HDR + ENTRY_FIXED, at + len) });
      }
      i = j;
    }
    return out;
  }

  private readAt(segNo: number, buf: Uint8Array, position: number): number {
    const seg = this.segments.find((s) => s.n === segNo);
    if (seg === undefined) throw new Error(`WAL: segment ${segNo} is gone`);
    let got = 0;
    while (got < buf.length) {
      const r = readSync(seg.fd, buf, got, buf.length - got, position + got);
      if (r === 0) break;
      got += r;
    }
    return got;
  }

  // ---- writing -----------------------------------------------------------------------------

  private current(): number {
    return this.segments[this.segments.length - 1].n;
  }

  /** Writes one batch of `bodyBytes` of records encoded by `fill` (which gets the offset in
   *  the scratch buffer to start at and returns where it ended); returns its file offset. */
  private writeBatch(bodyBytes: number, sync: boolean, fill: (at: number) => number): number {
    if (this.closed) throw new Error('WAL is closed');
    if (this.failed !== undefined) throw new Error(`WAL: an earlier write failed (${this.failed.message}); reopen the store`);
    const total = HDR + BATCH_PAYLOAD + bodyBytes;
    if (this.writePos > 0 && this.writePos + total > this.segmentBytes) this.roll();
    return this.writeRaw(total, bodyBytes, sync, fill);
  }

  private writeRaw(total: number, bodyBytes: number, sync: boolean, fill: (at: number) => number): number {
    if (this.scratch.length < total) {
      let size = this.scratch.length;
      while (size < total) size *= 2;
      this.scratch = new Uint8Array(size);
      this.view = new DataView(this.scratch.buffer);
    }
    const v = this.view;
    const end = fill(HDR + BATCH_PAYLOAD);
    if (end !== total) throw new Error(`WAL: internal error, batch of ${end} bytes planned as ${total}`);
    this.seq++;
    v.setUint32(4, BATCH_PAYLOAD, true);
    v.setUint32(8, RecordType.BATCH, true);
    setU64(v, HDR, this.seq);
    v.setUint32(HDR + 8, bodyBytes, true);
    v.setUint32(HDR + 12, 0, true);
    v.setUint32(0, crc32c(this.scratch, 4, HDR + BATCH_PAYLOAD), true);
    const seg = this.segments[this.segments.length - 1];
    const pos = this.writePos;
    try {
      if (this.preallocateBytes > 0 && pos + total > this.allocatedEnd) this.preallocate(seg.fd, pos + total);
      let done = 0;
      while (done < total) done += writeSync(seg.fd, this.scratch, done, total - done, pos + done);
      if (sync) this.syncThrough(seg, pos + total);
    } catch (err) {
      // After a failed write or sync the file's state is unknown (fsyncgate): stop.
      this.failed = err as Error;
      throw err;
    }
    this.writePos = pos + total;
    this.stats.walCommits++;
    this.stats.walBytes += total;
    return pos;
  }

  /** Extends the zeroed region past `needed` (written, not synced: the next sync does). */
  private preallocate(fd: number, needed: number): void {
    let end = this.allocatedEnd;
    const target = Math.max(needed, Math.min(this.segmentBytes, end + this.preallocateBytes));
    while (end < target) {
      const n = Math.min(ZEROS.length, target - end);
      end += writeSync(fd, ZEROS, 0, n, end);
    }
    this.allocatedEnd = end;
  }

  private encHeader(at: number, type: number, payloadLen: number): void {
    this.view.setUint32(at + 4, payloadLen, true);
    this.view.setUint32(at + 8, type, true);
  }

  private seal(at: number, end: number): number {
    this.view.setUint32(at, crc32c(this.scratch, at + 4, end), true);
    return end;
  }

  private encEntry(at: number, group: number, e: LogEntry): number {
    const v = this.view;
    const len = ENTRY_FIXED + e.data.length;
    this.encHeader(at, RecordType.ENTRY, len);
    v.setUint32(at + HDR, group, true);
    setU64(v, at + HDR + 4, e.index);
    v.setUint32(at + HDR + 12, e.term, true);
    this.scratch.set(e.data, at + HDR + ENTRY_FIXED);
    return this.seal(at, at + HDR + len);
  }

  private encHard(at: number, group: number, hs: HardState): number {
    const v = this.view;
    this.encHeader(at, RecordType.HARD_STATE, HARD_PAYLOAD);
    v.setUint32(at + HDR, group, true);
    v.setUint32(at + HDR + 4, hs.term, true);
    v.setInt32(at + HDR + 8, hs.vote, true);
    setU64(v, at + HDR + 12, hs.commit);
    return this.seal(at, at + HDR + HARD_PAYLOAD);
  }

  private encTruncate(at: number, group: number, from: number): number {
    this.encHeader(at, RecordType.TRUNCATE, TRUNCATE_PAYLOAD);
    this.view.setUint32(at + HDR, group, true);
    setU64(this.view, at + HDR + 4, from);
    return this.seal(at, at + HDR + TRUNCATE_PAYLOAD);
  }

  private encMeta(at: number, group: number, m: LogMeta): number {
    const v = this.view;
    this.encHeader(at, RecordType.META, META_PAYLOAD);
    v.setUint32(at + HDR, group, true);
    setU64(v, at + HDR + 4, m.compactedIndex);
    v.setUint32(at + HDR + 12, m.compactedTerm, true);
    setU64(v, at + HDR + 16, m.checkpointed);
    return this.seal(at, at + HDR + META_PAYLOAD);
  }

  private encGroup(at: number, type: number, group: number, json: Uint8Array | undefined): number {
    const len = 4 + (json?.length ?? 0);
    this.encHeader(at, type, len);
    this.view.setUint32(at + HDR, group, true);
    if (json !== undefined) this.scratch.set(json, at + HDR + 4);
    return this.seal(at, at + HDR + len);
  }

  /** Starts segment n+1 with the restated state (synced, as is the directory). */
  private roll(): void {
    const prev = this.segments[this.segments.length - 1];
    const prevLen = this.writePos;
    if (prev !== undefined) {
      // Cut the preallocated zeros, so the closed segment ends exactly at prevLen.
      ftruncateSync(prev.fd, prevLen);
      if (this.sync) fdatasyncSync(prev.fd);
    }
    const n = prev === undefined ? 1 : prev.n + 1;
    const fd = openSync(join(this.path, segmentFileName(n)), 'wx+');
    this.segments.push({ n, fd, maxIndex: new Map() });
    this.writePos = 0;
    this.allocatedEnd = 0;
    const groups = this.groups();
    const jsons = groups.map((g) => textEncoder.encode(JSON.stringify(g)));
    const tombs = this.droppedGroups();
    const tombJsons = tombs.map((g) => textEncoder.encode(JSON.stringify(g)));
    let body = HDR + SEGMENT_PAYLOAD;
    for (const j of jsons) body += HDR + 4 + j.length + HDR + META_PAYLOAD + HDR + HARD_PAYLOAD;
    for (const j of tombJsons) body += HDR + 4 + j.length;
    this.writeRaw(HDR + BATCH_PAYLOAD + body, body, false, (at) => {
      this.encHeader(at, RecordType.SEGMENT, SEGMENT_PAYLOAD);
      this.view.setUint32(at + HDR, n, true);
      setU64(this.view, at + HDR + 4, prevLen);
      at = this.seal(at, at + HDR + SEGMENT_PAYLOAD);
      for (let i = 0; i < groups.length; i++) {
        const g = groups[i].group;
        at = this.encGroup(at, RecordType.GROUP, g, jsons[i]);
        at = this.encMeta(at, g, this.states.get(g)!.meta);
        at = this.encHard(at, g, this.hard.get(g) ?? NEW_HARD_STATE);
      }
      for (let i = 0; i < tombs.length; i++) at = this.encGroup(at, RecordType.DROP, tombs[i].group, tombJsons[i]);
      return at;
    });
    fdatasyncSync(fd);
    this.syncedTo = this.writePos;
    this.headEnd = this.writePos;
    this.syncDir();
    this.onDurable?.(n, this.syncedTo);
  }

  private syncDir(): void {
    let dfd: number | undefined;
    try {
      dfd = openSync(this.path, 'r');
      fsyncSync(dfd);
    } catch {
      // Some platforms cannot fsync a directory; the files themselves are synced.
    } finally {
      if (dfd !== undefined) closeSync(dfd);
    }
  }

  /** Deletes the oldest segments while no hosted group needs an entry in them. */
  private maybeDeleteSegments(): void {
    let deleted = false;
    while (this.segments.length > 1) {
      const s = this.segments[0];
      if (this.archive && s.n > this.archivedThrough) break; // the archiver has not read it yet
      let needed = false;
      for (const [g, max] of s.maxIndex) {
        const st = this.states.get(g);
        if (st !== undefined && max > st.meta.compactedIndex) {
          needed = true;
          break;
        }
      }
      if (needed) break;
      if (!deleted) {
        // The compaction points that free it must be durable before it goes.
        const current = this.segments[this.segments.length - 1];
        fdatasyncSync(current.fd);
        this.syncedTo = this.writePos;
        this.onDurable?.(current.n, this.syncedTo);
        deleted = true;
      }
      closeSync(s.fd);
      unlinkSync(join(this.path, segmentFileName(s.n)));
      this.segments.shift();
    }
    if (deleted) this.syncDir();
  }

  // ---- state changes (shared by writes and recovery) -----------------------------------------

  private newState(): LogState {
    const locs = new Locations();
    return { first: 1, last: 0, meta: { compactedIndex: 0, compactedTerm: 0, checkpointed: 0 }, runs: [], locs, corrupt: undefined };
  }

  private applyGroup(rec: GroupRecord): void {
    this.groupRecs.set(rec.group, rec);
    this.dropped.delete(rec.group);
    if (!this.states.has(rec.group)) this.states.set(rec.group, this.newState());
  }

  private applyDrop(group: number, rec: GroupRecord | undefined): void {
    this.groupRecs.delete(group);
    this.states.delete(group);
    this.hard.delete(group);
    for (const s of this.segments) s.maxIndex.delete(group);
    if (rec !== undefined) this.dropped.set(group, rec);
  }

  private applyTruncate(group: number, st: LogState, from: number): void {
    if (from > st.last) return;
    from = Math.max(from, st.first);
    while (st.runs.length > 0 && st.runs[st.runs.length - 1].start >= from) st.runs.pop();
    st.locs.truncateFrom(from);
    if (st.corrupt !== undefined) for (const i of st.corrupt) if (i >= from) st.corrupt.delete(i);
    st.last = from - 1;
    for (const s of this.segments) {
      const m = s.maxIndex.get(group);
      if (m !== undefined && m >= from) s.maxIndex.set(group, from - 1);
    }
  }

  private pushTerm(st: LogState, index: number, term: number): void {
    const lastRun = st.runs[st.runs.length - 1];
    if (lastRun === undefined || lastRun.term !== term) st.runs.push({ start: index, term });
  }

  /** seg === CORRUPT marks an entry whose record is bad or missing. */
  private applyEntry(group: number, st: LogState, seg: number, index: number, term: number, off: number, len: number): void {
    if (index < st.first) return; // compacted already (cannot happen: defensive)
    if (index <= st.last) this.applyTruncate(group, st, index);
    // A gap (recovery only): the records in between were lost to corruption.
    while (st.last + 1 < index) this.markCorrupt(st, st.last + 1);
    st.locs.push(seg, off, len);
    this.pushTerm(st, index, term);
    st.last = index;
    if (seg !== CORRUPT) {
      const segment = this.segments[this.segments.length - 1];
      const m = segment.maxIndex.get(group);
      if (m === undefined || m < index) segment.maxIndex.set(group, index);
    }
  }

  private markCorrupt(st: LogState, index: number): void {
    if (st.locs.count === 0) st.locs.reset(index);
    st.locs.push(CORRUPT, 0, 0);
    this.pushTerm(st, index, -1);
    (st.corrupt ??= new Set()).add(index);
    st.last = index;
  }

  private applyMeta(st: LogState, meta: LogMeta): void {
    const upTo = meta.compactedIndex;
    st.meta = { ...meta };
    if (upTo >= st.first) {
      if (upTo >= st.last) {
        st.last = upTo;
        st.runs.length = 0;
        st.locs.reset(upTo + 1);
        st.corrupt = undefined;
      } else {
        st.locs.dropThrough(upTo);
        if (st.corrupt !== undefined) for (const i of st.corrupt) if (i <= upTo) st.corrupt.delete(i);
      }
      st.first = upTo + 1;
      while (st.runs.length > 1 && st.runs[1].start <= st.first) st.runs.shift();
      if (st.runs.length > 0 && st.runs[0].start < st.first) st.runs[0].start = st.first;
    }
    if (st.locs.count === 0) st.locs.reset(st.first);
  }

  // ---- recovery ----------------------------------------------------------------------------

  private recover(): void {
    const nums: number[] = [];
    for (const name of readdirSync(this.path)) {
      const m = /^segment-(\d+)\.log$/.exec(name);
      if (m !== null) nums.push(Number(m[1]));
    }
    nums.sort((a, b) => a - b);
    const fds = nums.map((n) => openSync(join(this.path, segmentFileName(n)), 'r+'));
    for (let k = 0; k < nums.length; k++) {
      this.segments.push({ n: nums[k], fd: fds[k], maxIndex: new Map() });
      const buf = this.readWhole(fds[k]);
      const isLast = k === nums.length - 1;
      // A closed segment's length is stated by the next one's SEGMENT record; without it
      // (a crash while rolling) its tail may be torn like the last one's.
      const sealedLen = isLast ? undefined : this.statedPrevLength(fds[k + 1]);
      const end = this.scanSegment(buf, sealedLen === undefined, sealedLen);
      if (isLast) this.writePos = end;
      if (sealedLen === undefined && end < buf.length) {
        // Torn tail (or preallocated zeros): cut it, and make the cut durable.
        ftruncateSync(fds[k], end);
        fdatasyncSync(fds[k]);
      }
    }
    this.allocatedEnd = this.writePos;
  }

  private readWhole(fd: number): Uint8Array {
    const size = fstatSync(fd).size;
    const buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const r = readSync(fd, buf, got, size - got, got);
      if (r === 0) break;
      got += r;
    }
    return got < size ? buf.subarray(0, got) : buf;
  }

  private statedPrevLength(fd: number): number | undefined {
    const buf = new Uint8Array(HDR + BATCH_PAYLOAD + HDR + SEGMENT_PAYLOAD);
    if (readSync(fd, buf, 0, buf.length, 0) < buf.length) return undefined;
    if (!validBatchHeader(buf, 0, buf.length)) return undefined;
    const at = HDR + BATCH_PAYLOAD;
    const v = new DataView(buf.buffer);
    if (buf[at + 8] !== RecordType.SEGMENT || v.getUint32(at + 4, true) !== SEGMENT_PAYLOAD) return undefined;
    if (v.getUint32(at, true) !== crc32c(buf, at + 4, at + HDR + SEGMENT_PAYLOAD)) return undefined;
    return getU64(v, at + HDR + 4);
  }

  private findNextBatch(buf: Uint8Array, from: number, end: number): number {
    for (let p = from; p + HDR + BATCH_PAYLOAD <= end; p++) {
      if (buf[p + 8] === RecordType.BATCH && buf[p + 4] === BATCH_PAYLOAD && validBatchHeader(buf, p, end)) return p;
    }
    return -1;
  }

  /** Applies the batches of one segment; returns where its valid data ends. */
  private scanSegment(buf: Uint8Array, tornTailOk: boolean, sealedLen: number | undefined): number {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let end = buf.length;
    if (sealedLen !== undefined) {
      if (sealedLen > buf.length) this.stats.walChecksumFailures++; // a closed segment lost its end
      end = Math.min(end, sealedLen);
    }
    let pos = 0;
    while (pos < end) {
      let bodyEnd = -1;
      let ok = false;
      let parsed: { recs: Rec[]; bad: number[] } | undefined;
      if (validBatchHeader(buf, pos, end)) {
        bodyEnd = pos + HDR + BATCH_PAYLOAD + v.getUint32(pos + HDR + 8, true);
        if (bodyEnd <= end) {
          parsed = parseBody(buf, v, pos + HDR + BATCH_PAYLOAD, bodyEnd);
          ok = parsed.bad.length === 0;
        }
      }
      if (ok) {
        this.seq = Math.max(this.seq, getU64(v, pos + HDR));
        for (const r of parsed!.recs) this.applyRecord(buf, v, r);
        pos = bodyEnd;
        continue;
      }
      // Something is wrong at pos. At the end of the last segment that is a torn write
      // (an unsynced batch, never acknowledged): nothing of it is applied.
      const next = this.findNextBatch(buf, pos + 1, end);
      if (next < 0 && tornTailOk) return pos;
      // Corruption: count it, apply what is intact, and go on at the next batch.
      if (parsed !== undefined && bodyEnd <= end) {
        this.stats.walChecksumFailures += parsed.bad.length;
        const all = [...parsed.recs.map((r) => ({ r, bad: false })), ...parsed.bad.map((at) => ({ r: { type: buf[at + 8], at, len: 0 }, bad: true }))];
        all.sort((x, y) => x.r.at - y.r.at);
        for (const x of all) {
          if (x.bad) this.noteBadRecord(buf, v, x.r.at, bodyEnd);
          else this.applyRecord(buf, v, x.r);
        }
        pos = next < 0 ? end : Math.max(next, bodyEnd);
      } else {
        this.stats.walChecksumFailures++;
        pos = next < 0 ? end : next;
      }
    }
    return end;
  }

  /** A record that failed its CRC: if it plausibly is the next entry of a hosted group,
   *  that entry is marked bad (reads throw) instead of silently missing. */
  private noteBadRecord(buf: Uint8Array, v: DataView, at: number, end: number): void {
    if (buf[at + 8] !== RecordType.ENTRY || at + HDR + ENTRY_FIXED > end) return;
    const group = v.getUint32(at + HDR, true);
    const index = getU64(v, at + HDR + 4);
    const st = this.states.get(group);
    if (st !== undefined && index === st.last + 1) this.markCorrupt(st, index);
  }

  private applyRecord(buf: Uint8Array, v: DataView, r: Rec): void {
    const p = r.at + HDR;
    switch (r.type) {
      case RecordType.ENTRY: {
        const group = v.getUint32(p, true);
        const st = this.states.get(group);
        if (st === undefined) return;
        this.applyEntry(group, st, this.current(), getU64(v, p + 4), v.getUint32(p + 12, true), r.at, HDR + r.len);
        return;
      }
      case RecordType.HARD_STATE: {
        const group = v.getUint32(p, true);
        if (!this.states.has(group)) return;
        this.hard.set(group, { term: v.getUint32(p + 4, true), vote: v.getInt32(p + 8, true), commit: getU64(v, p + 12) });
        return;
      }
      case RecordType.TRUNCATE: {
        const group = v.getUint32(p, true);
        const st = this.states.get(group);
        if (st !== undefined) this.applyTruncate(group, st, getU64(v, p + 4));
        return;
      }
      case RecordType.META: {
        const st = this.states.get(v.getUint32(p, true));
        if (st === undefined) return;
        const meta: LogMeta = { compactedIndex: getU64(v, p + 4), compactedTerm: v.getUint32(p + 12, true), checkpointed: getU64(v, p + 16) };
        if (meta.compactedIndex < st.meta.compactedIndex) meta.compactedIndex = st.meta.compactedIndex, meta.compactedTerm = st.meta.compactedTerm;
        if (meta.checkpointed < st.meta.checkpointed) meta.checkpointed = st.meta.checkpointed;
        this.applyMeta(st, meta);
        return;
      }
      case RecordType.GROUP: {
        const rec = JSON.parse(textDecoder.decode(buf.subarray(p + 4, p + r.len))) as GroupRecord;
        this.applyGroup(rec);
        return;
      }
      case RecordType.DROP: {
        const group = v.getUint32(p, true);
        const rec = r.len > 4 ? (JSON.parse(textDecoder.decode(buf.subarray(p + 4, p + r.len))) as GroupRecord) : undefined;
        this.applyDrop(group, rec);
        return;
      }
      case RecordType.UNDROP:
        this.dropped.delete(v.getUint32(p, true));
        return;
      case RecordType.SEGMENT:
        return;
    }
  }
}
