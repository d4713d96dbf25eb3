/**
 * The WAL archiver: every node's sealed WAL segments, split per partition into archive
 * objects in an ObjectStore, with a manifest per partition and node; the verification
 * that compares the replicas' archives; and the read-back that scrub and point-in-time
 * restore use.
 *
 * Layout (keys of the ObjectStore):
 *   wal/<tableId>/<group>/<from>-<to>.n<node>.seg    entries from..to as node archived them
 *   wal/<tableId>/<group>/manifest.n<node>.json       that node's ranges of the partition
 * One manifest per partition AND node: every replica archives, and each manifest has one
 * writer, so no two archivers (or, on S3, two machines) ever race on an object.
 *
 * Object: magic u32 'SBW1' | group u32 | from u64 | to u64 | per entry (index u64 | term
 * u32 | data length u32 | data) | CRC32C u32 of everything before it (little endian). The
 * manifest repeats the CRC, so a replaced object is caught as well as a damaged one.
 *
 * Which entries: a WAL segment holds every group's records, including entries a later
 * leader overwrote (TRUNCATE, or an ENTRY at an index already written). The archiver
 * replays the node's unarchived segments in order, keeping each group's log as the WAL
 * states it, and archives an entry only once it is final: at or below a commit index
 * (HARD_STATE), a compaction point (META), or the group's applied index that the node
 * reported when the segments were listed (valid only once every segment written by then
 * has been read, so only for a pass that sealed first). Committed entries are never
 * overwritten, so an archived entry is one that ended up in the log. A segment is marked
 * archived once no entry written in it or before it is still waiting to become final;
 * the WAL keeps it until then (WalOptions.archive). The work is idempotent: a node's
 * manifest says how far it got (`archivedThrough` below), and a segment read again after
 * a crash adds nothing.
 */
import { crc32c } from '../checksum/crc32c.js';
import { readSegmentRecords, WalSegmentError, type NodeWalArchiveView, type WalRecord } from '../storage/index.js';
import type { LogEntry } from '../replication/types.js';
import type { ObjectStore } from './object-store.js';
import type { NodeRequestBody } from '../node/requests.js';

// ---- manifests and objects -----------------------------------------------------------------

export interface ArchivedRange {
  from: number;
  to: number;
  /** Object key. */
  object: string;
  /** CRC32C of the object (its trailer). */
  crc: number;
  bytes: number;
  /** The range does not continue this node's previous one: the node's log restarted after
   *  index `index` (a snapshot install, or a compaction before archiving began). `object`:
   *  the snapshot's, once snapshots are archived. */
  afterSnapshot?: { index: number; object?: string };
}

export interface ArchiveManifest {
  version: 1;
  tableId: number;
  table: string;
  group: number;
  node: number;
  ranges: ArchivedRange[];
  /** The last index of the ranges retention removed (forgetThrough): archiving goes on
   *  after it when no range is left. */
  forgotten?: number;
}

const OBJECT_MAGIC = 0x31574253; // 'SBW1'
const OBJECT_HEADER = 24;
const ENTRY_HEADER = 16;
const TWO32 = 0x1_0000_0000;

export function groupPrefix(tableId: number, group: number): string {
  return `wal/${tableId}/${group}/`;
}

export function manifestKey(tableId: number, group: number, node: number): string {
  return `${groupPrefix(tableId, group)}manifest.n${node}.json`;
}

export function objectKey(tableId: number, group: number, node: number, from: number, to: number): string {
  return `${groupPrefix(tableId, group)}${from}-${to}.n${node}.seg`;
}

function setU64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x >>> 0, true);
  v.setUint32(at + 4, Math.floor(x / TWO32), true);
}

function getU64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * TWO32;
}

/** Encodes entries `from..to` (consecutive) of a group as one archive object. */
export function encodeArchiveObject(group: number, entries: readonly LogEntry[]): { bytes: Uint8Array; crc: number } {
  if (entries.length === 0) throw new Error('archive: an object holds at least one entry');
  let size = OBJECT_HEADER + 4;
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && entries[i].index !== entries[i - 1].index + 1) throw new Error(`archive: entries ${entries[i - 1].index} and ${entries[i].index} are not consecutive`);
    size += ENTRY_HEADER + entries[i].data.length;
  }
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, OBJECT_MAGIC, true);
  v.setUint32(4, group, true);
  setU64(v, 8, entries[0].index);
  setU64(v, 16, entries[entries.length - 1].index);
  let at = OBJECT_HEADER;
  for (const e of entries) {
    setU64(v, at, e.index);
    v.setUint32(at + 8, e.term, true);
    v.setUint32(at + 12, e.data.length, true);
    bytes.set(e.data, at + ENTRY_HEADER);
    at += ENTRY_HEADER + e.data.length;
  }
  const crc = crc32c(bytes, 0, at);
  v.setUint32(at, crc, true);
  return { bytes, crc };
}

export class ArchiveObjectError extends Error {
  constructor(readonly object: string, reason: string) {
    super(`archive object ${object}: ${reason}`);
    this.name = 'ArchiveObjectError';
  }
}

/** Decodes an archive object, checking its CRC32C (and `expectedCrc`, the manifest's). */
export function decodeArchiveObject(key: string, bytes: Uint8Array, expectedCrc?: number): { group: number; from: number; to: number; entries: LogEntry[] } {
  if (bytes.length < OBJECT_HEADER + 4) throw new ArchiveObjectError(key, `${bytes.length} bytes is too short`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 4;
  const crc = v.getUint32(end, true);
  if (crc32c(bytes, 0, end) !== crc) throw new ArchiveObjectError(key, 'CRC32C mismatch (the object is damaged)');
  if (expectedCrc !== undefined && crc !== expectedCrc) throw new ArchiveObjectError(key, `CRC32C ${crc} is not the manifest's ${expectedCrc} (the object was replaced)`);
  if (v.getUint32(0, true) !== OBJECT_MAGIC) throw new ArchiveObjectError(key, 'not an archive object (bad magic)');
  const group = v.getUint32(4, true);
  const from = getU64(v, 8);
  const to = getU64(v, 16);
  const entries: LogEntry[] = [];
  let at = OBJECT_HEADER;
  while (at < end) {
    if (at + ENTRY_HEADER > end) throw new ArchiveObjectError(key, `entry header cut at byte ${at}`);
    const index = getU64(v, at);
    const term = v.getUint32(at + 8, true);
    const length = v.getUint32(at + 12, true);
    if (at + ENTRY_HEADER + length > end) throw new ArchiveObjectError(key, `entry ${index} runs past the end`);
    entries.push({ index, term, data: bytes.slice(at + ENTRY_HEADER, at + ENTRY_HEADER + length) });
    at += ENTRY_HEADER + length;
  }
  if (entries.length !== to - from + 1 || entries.some((e, i) => e.index !== from + i)) {
    throw new ArchiveObjectError(key, `holds entries that are not exactly ${from}..${to}`);
  }
  return { group, from, to, entries };
}

// ---- the archiver -----------------------------------------------------------------------------

/** One node as the archiver sees it (a storage node through requests, or a Wal in tests). */
export interface ArchiverNode {
  readonly node: number;
  /** The node's WAL segments to archive and its applied indexes (sealing first with
   *  `seal`); undefined when the node does not archive. */
  view(seal: boolean): Promise<NodeWalArchiveView | undefined>;
  markArchived(segment: number): Promise<void>;
}

export interface NodeArchivePass {
  node: number;
  /** Segments read, and the highest marked archived after the pass (0: none). */
  segmentsRead: number;
  archivedThrough: number;
  objects: number;
  entries: number;
  /** Why the pass stopped short: a segment that did not read back whole (WalSegmentError:
   *  archiving of this node stops before it until it is repaired; reported, never skipped
   *  silently), or a node that could not be asked. */
  error?: string;
}

interface PendingEntry {
  index: number;
  term: number;
  data: Uint8Array;
  /** Segment the entry was read from (it pins that segment until archived). */
  segment: number;
}

/** A group's log as replayed from the WAL by one pass. */
interface GroupReplay {
  group: number;
  tableId: number;
  table: string;
  /** Entries not archived yet, ascending. */
  pending: PendingEntry[];
  /** Entries <= final are committed. */
  final: number;
  /** Compaction points seen (a range starting right after one follows a snapshot). */
  compactedAt: Set<number>;
  /** Dropped from this node later in the segments read: its final entries are still
   *  archived (a deleted table's log stays restorable); the rest pins nothing. */
  dropped?: boolean;
}

export class WalArchiver {
  readonly counters = { passes: 0, objects: 0, entries: 0, segmentsArchived: 0, errors: 0, objectsForgotten: 0 };
  /** The last error of a pass, for tools (undefined after a clean pass). */
  lastError: string | undefined;
  private readonly manifests = new Map<string, ArchiveManifest>();
  /** Passes of one node run one at a time (a periodic pass and a flush may overlap). */
  private readonly queues = new Map<number, Promise<unknown>>();

  constructor(readonly store: ObjectStore) {}

  /** Archives what `node` has sealed (everything it has written, with `seal`). */
  archiveNode(node: ArchiverNode, seal: boolean): Promise<NodeArchivePass> {
    return this.onNode(node.node, () => this.pass(node, seal));
  }

  /** Runs `work` after what is queued for `node`'s manifests (one writer at a time). */
  private onNode<T>(node: number, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(node) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.queues.set(node, next);
    return next;
  }

  /**
   * Forgets every replica's archived entries of a partition up to `through` (retention:
   * a snapshot at `through` or later replaces them): each manifest stops naming the
   * ranges that end there or before (and records how far they went, where the next pass
   * continues), then their objects are deleted. Resolves to the objects deleted.
   */
  async forgetThrough(tableId: number, group: number, through: number): Promise<number> {
    let deleted = 0;
    for (const key of await this.store.list(groupPrefix(tableId, group))) {
      const m = /manifest\.n(\d+)\.json$/.exec(key);
      if (m === null) continue;
      const node = Number(m[1]);
      deleted += await this.onNode(node, async () => {
        const manifest = await this.manifestOf(tableId, '', group, node);
        const gone = manifest.ranges.filter((r) => r.to <= through);
        if (gone.length === 0) return 0;
        manifest.forgotten = Math.max(manifest.forgotten ?? 0, ...gone.map((r) => r.to));
        manifest.ranges = manifest.ranges.filter((r) => r.to > through);
        // The manifest first: it must never name an object that is gone.
        await this.store.put(key, new TextEncoder().encode(JSON.stringify(manifest)));
        for (const r of gone) await this.store.delete(r.object);
        this.counters.objectsForgotten += gone.length;
        return gone.length;
      });
    }
    return deleted;
  }

  private async manifestOf(tableId: number, table: string, group: number, node: number): Promise<ArchiveManifest> {
    const key = manifestKey(tableId, group, node);
    let manifest = this.manifests.get(key);
    if (manifest === undefined) {
      const bytes = await this.store.get(key);
      manifest = bytes === undefined
        ? { version: 1, tableId, table, group, node, ranges: [] }
        : parseManifest(key, bytes);
      this.manifests.set(key, manifest);
    }
    return manifest;
  }

  private async pass(node: ArchiverNode, seal: boolean): Promise<NodeArchivePass> {
    this.counters.passes++;
    const view = await node.view(seal);
    const result: NodeArchivePass = { node: node.node, segmentsRead: 0, archivedThrough: view?.archivedThrough ?? 0, objects: 0, entries: 0 };
    if (view === undefined) return result;
    const groups = new Map<number, GroupReplay>();
    const dropped: GroupReplay[] = [];
    // The current segment is read only when the pass sealed first (it then holds little):
    // only then is the applied index valid for what was read.
    const segments = view.segments.filter((s) => s.sealed || seal);
    let readAll = true;
    let lastSealedRead = view.archivedThrough;
    for (const segment of segments) {
      let records: WalRecord[];
      try {
        records = readSegmentRecords(segment.file, segment.bytes);
      } catch (error) {
        if (!(error instanceof WalSegmentError)) throw error;
        result.error = error.message;
        this.counters.errors++;
        this.lastError = error.message;
        readAll = false;
        break;
      }
      result.segmentsRead++;
      for (const record of records) replay(groups, dropped, record, segment.segment);
      if (segment.sealed) lastSealedRead = segment.segment;
    }
    if (readAll && seal) {
      // Hosted groups only: a dropped group's applied index is not about these entries.
      for (const [group, g] of groups) g.final = Math.max(g.final, view.applied[group] ?? 0);
    }
    // Archive what is final; whatever stays pending pins its segment.
    let firstPinned = Infinity;
    for (const g of [...dropped, ...groups.values()]) {
      const manifest = await this.manifestOf(g.tableId, g.table, g.group, node.node);
      const through = archivedThrough(manifest);
      const ready = g.pending.filter((e) => e.index > through && e.index <= g.final);
      for (const run of consecutiveRuns(ready)) {
        await this.writeRange(manifest, run, g.compactedAt);
        result.objects++;
        result.entries += run.length;
      }
      if (g.dropped) continue;
      for (const e of g.pending) if (e.index > archivedThrough(manifest) && e.index > g.final) firstPinned = Math.min(firstPinned, e.segment);
    }
    const markThrough = Math.min(lastSealedRead, firstPinned - 1);
    if (markThrough > view.archivedThrough) {
      await node.markArchived(markThrough);
      this.counters.segmentsArchived += markThrough - view.archivedThrough;
      result.archivedThrough = markThrough;
    }
    if (result.error === undefined) this.lastError = undefined;
    return result;
  }

  private async writeRange(manifest: ArchiveManifest, run: PendingEntry[], compactedAt: Set<number>): Promise<void> {
    const through = archivedThrough(manifest);
    const from = run[0].index;
    const to = run[run.length - 1].index;
    const key = objectKey(manifest.tableId, manifest.group, manifest.node, from, to);
    const { bytes, crc } = encodeArchiveObject(manifest.group, run);
    // The object first, then the manifest that names it: a crash between leaves an
    // unnamed object (rewritten by the next pass), never a manifest naming nothing.
    await this.store.put(key, bytes);
    const range: ArchivedRange = { from, to, object: key, crc, bytes: bytes.length };
    if (from !== through + 1 && compactedAt.has(from - 1)) range.afterSnapshot = { index: from - 1 };
    manifest.ranges.push(range);
    await this.store.put(manifestKey(manifest.tableId, manifest.group, manifest.node), new TextEncoder().encode(JSON.stringify(manifest)));
    this.counters.objects++;
    this.counters.entries += run.length;
  }
}

function archivedThrough(manifest: ArchiveManifest): number {
  return Math.max(manifest.forgotten ?? 0, manifest.ranges.length === 0 ? 0 : manifest.ranges[manifest.ranges.length - 1].to);
}

function consecutiveRuns(entries: PendingEntry[]): PendingEntry[][] {
  const runs: PendingEntry[][] = [];
  for (const e of entries) {
    const run = runs[runs.length - 1];
    if (run !== undefined && run[run.length - 1].index + 1 === e.index) run.push(e);
    else runs.push([e]);
  }
  return runs;
}

/** Applies one WAL record to the replayed logs, as the WAL's own recovery would. */
function replay(groups: Map<number, GroupReplay>, dropped: GroupReplay[], record: WalRecord, segment: number): void {
  if (record.type === 'segment') return;
  if (record.type === 'group') {
    if (!groups.has(record.group)) {
      groups.set(record.group, { group: record.group, tableId: record.record.tableId, table: record.record.tableName, pending: [], final: 0, compactedAt: new Set() });
    }
    return;
  }
  if (record.type === 'drop') {
    const g = groups.get(record.group);
    if (g !== undefined) {
      g.dropped = true;
      dropped.push(g);
      groups.delete(record.group);
    }
    return;
  }
  const g = groups.get(record.group);
  if (g === undefined) return; // not hosted (the WAL's recovery ignores these too)
  switch (record.type) {
    case 'entry': {
      // An ENTRY at an index already written overwrites it and everything after (as a
      // TRUNCATE would). A gap before it (entries compacted or archived already) is kept:
      // the ranges are split there.
      dropFrom(g, record.index);
      g.pending.push({ index: record.index, term: record.term, data: record.data, segment });
      return;
    }
    case 'truncate':
      dropFrom(g, record.from);
      return;
    case 'hardState':
      g.final = Math.max(g.final, record.commit);
      return;
    case 'meta':
      g.final = Math.max(g.final, record.compactedIndex);
      if (record.compactedIndex > 0) g.compactedAt.add(record.compactedIndex);
      return;
    case 'undrop':
      return;
  }
}

function dropFrom(g: GroupReplay, from: number): void {
  let n = g.pending.length;
  while (n > 0 && g.pending[n - 1].index >= from) n--;
  g.pending.length = n;
}

function parseManifest(key: string, bytes: Uint8Array): ArchiveManifest {
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(bytes)) as ArchiveManifest;
  } catch (error) {
    throw new ArchiveObjectError(key, `manifest is not JSON (${(error as Error).message})`);
  }
  if (manifest?.version !== 1 || !Array.isArray(manifest.ranges)) throw new ArchiveObjectError(key, 'not a version 1 manifest');
  return manifest;
}

// ---- verification and read-back ---------------------------------------------------------------

export interface ArchiveHole {
  tableId: number;
  group: number;
  /** Indexes from..to are archived by no replica (between the first and last archived). */
  from: number;
  to: number;
}

export type ArchiveMismatch =
  /** A manifest names an object that is not in the store. */
  | { kind: 'missingObject'; tableId: number; group: number; node: number; object: string; from: number; to: number }
  /** An object does not match its CRC32C (damaged) or the manifest's (replaced). */
  | { kind: 'checksum'; tableId: number; group: number; node: number; object: string; from: number; to: number; reason: string }
  /** Two replicas archived different entries (term or data CRC) at the same indexes. */
  | { kind: 'disagreement'; tableId: number; group: number; nodes: [number, number]; from: number; to: number };

export interface ArchiveVerification {
  /** Partitions with at least one manifest. */
  partitions: number;
  /** Ranges (objects) named by the manifests, and entries read back from them. */
  ranges: number;
  entries: number;
  holes: ArchiveHole[];
  mismatches: ArchiveMismatch[];
  /** Per partition: the first and last index in an intact object, and the nodes whose
   *  archives hold any (what scrub and restore may read with readArchivedEntries). */
  coverage: Array<{ tableId: number; group: number; from: number; to: number; nodes: number[] }>;
  /** No holes and no mismatches. */
  ok: boolean;
}

interface ManifestRef {
  tableId: number;
  group: number;
  keys: string[];
}

async function partitionsIn(store: ObjectStore, tableId?: number): Promise<ManifestRef[]> {
  const keys = await store.list(tableId === undefined ? 'wal/' : `wal/${tableId}/`);
  const byGroup = new Map<string, ManifestRef>();
  for (const key of keys) {
    const m = /^wal\/(\d+)\/(\d+)\/manifest\.n\d+\.json$/.exec(key);
    if (m === null) continue;
    const id = `${m[1]}/${m[2]}`;
    let ref = byGroup.get(id);
    if (ref === undefined) byGroup.set(id, ref = { tableId: Number(m[1]), group: Number(m[2]), keys: [] });
    ref.keys.push(key);
  }
  return [...byGroup.values()].sort((a, b) => a.tableId - b.tableId || a.group - b.group);
}

async function manifestsOf(store: ObjectStore, ref: ManifestRef): Promise<ArchiveManifest[]> {
  const out: ArchiveManifest[] = [];
  for (const key of ref.keys) {
    const bytes = await store.get(key);
    if (bytes !== undefined) out.push(parseManifest(key, bytes));
  }
  return out;
}

/**
 * Compares every replica's archive of every partition (of `tableId`, or all): each object
 * is read and checked against its CRC32C and the manifest's; wherever replicas archived
 * the same index they must agree on its term and data; and every index between the first
 * and the last archived of a partition must be in some replica's intact object.
 */
export async function verifyArchive(store: ObjectStore, options: { tableId?: number } = {}): Promise<ArchiveVerification> {
  const result: ArchiveVerification = { partitions: 0, ranges: 0, entries: 0, holes: [], mismatches: [], coverage: [], ok: true };
  for (const ref of await partitionsIn(store, options.tableId)) {
    result.partitions++;
    const { tableId, group } = ref;
    /** Per index: the first replica's (term, data CRC) seen, to compare the others with. */
    const seen = new Map<number, { node: number; term: number; crc: number }>();
    const covered: Array<[number, number]> = [];
    const nodes = new Set<number>();
    const disagreements = new Map<string, { nodes: [number, number]; indexes: number[] }>();
    for (const manifest of await manifestsOf(store, ref)) {
      for (const range of manifest.ranges) {
        result.ranges++;
        const bytes = await store.get(range.object);
        if (bytes === undefined) {
          result.mismatches.push({ kind: 'missingObject', tableId, group, node: manifest.node, object: range.object, from: range.from, to: range.to });
          continue;
        }
        let entries: LogEntry[];
        try {
          const decoded = decodeArchiveObject(range.object, bytes, range.crc);
          if (decoded.from !== range.from || decoded.to !== range.to) throw new ArchiveObjectError(range.object, `holds ${decoded.from}..${decoded.to}, the manifest says ${range.from}..${range.to}`);
          entries = decoded.entries;
        } catch (error) {
          if (!(error instanceof ArchiveObjectError)) throw error;
          result.mismatches.push({ kind: 'checksum', tableId, group, node: manifest.node, object: range.object, from: range.from, to: range.to, reason: error.message });
          continue;
        }
        covered.push([range.from, range.to]);
        nodes.add(manifest.node);
        for (const e of entries) {
          result.entries++;
          const crc = crc32c(e.data);
          const first = seen.get(e.index);
          if (first === undefined) seen.set(e.index, { node: manifest.node, term: e.term, crc });
          else if (first.term !== e.term || first.crc !== crc) {
            const id = `${first.node}/${manifest.node}`;
            let d = disagreements.get(id);
            if (d === undefined) disagreements.set(id, d = { nodes: [first.node, manifest.node], indexes: [] });
            d.indexes.push(e.index);
          }
        }
      }
    }
    for (const d of disagreements.values()) {
      for (const [from, to] of indexRuns(d.indexes)) result.mismatches.push({ kind: 'disagreement', tableId, group, nodes: d.nodes, from, to });
    }
    for (const [from, to] of gaps(covered)) result.holes.push({ tableId, group, from, to });
    if (covered.length > 0) {
      result.coverage.push({
        tableId, group,
        from: covered.reduce((min, c) => Math.min(min, c[0]), Infinity),
        to: covered.reduce((max, c) => Math.max(max, c[1]), 0),
        nodes: [...nodes].sort((a, b) => a - b),
      });
    }
  }
  result.ok = result.holes.length === 0 && result.mismatches.length === 0;
  return result;
}

function indexRuns(indexes: number[]): Array<[number, number]> {
  const sorted = [...indexes].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const i of sorted) {
    const run = runs[runs.length - 1];
    if (run !== undefined && run[1] + 1 >= i) run[1] = Math.max(run[1], i);
    else runs.push([i, i]);
  }
  return runs;
}

/** The index ranges between the first and last covered that no interval covers. */
function gaps(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  let reach = -Infinity;
  for (const [from, to] of sorted) {
    if (reach !== -Infinity && from > reach + 1) out.push([reach + 1, from - 1]);
    reach = Math.max(reach, to);
  }
  return out;
}

export class ArchiveHoleError extends Error {
  constructor(readonly tableId: number, readonly group: number, readonly index: number) {
    super(`archive: no intact archived copy of table ${tableId} partition group ${group} entry ${index} (a hole in the archive)`);
    this.name = 'ArchiveHoleError';
  }
}

/**
 * Entries fromIndex..toIndex of a partition's log, in order, from the archive: for each
 * stretch, any replica's object that covers it and passes its checks (the one reaching
 * furthest first). Throws ArchiveHoleError at the first index no intact object holds.
 */
export async function readArchivedEntries(store: ObjectStore, tableId: number, group: number, fromIndex: number, toIndex: number): Promise<LogEntry[]> {
  if (!Number.isInteger(fromIndex) || !Number.isInteger(toIndex) || fromIndex < 1 || toIndex < fromIndex) {
    throw new RangeError(`readArchivedEntries: ${fromIndex}..${toIndex} is not a range of log indexes (1 <= from <= to)`);
  }
  const ref = (await partitionsIn(store, tableId)).find((r) => r.group === group);
  const ranges = ref === undefined ? [] : (await manifestsOf(store, ref)).flatMap((m) => m.ranges);
  const bad = new Set<string>();
  const out: LogEntry[] = [];
  let next = fromIndex;
  while (next <= toIndex) {
    const candidates = ranges
      .filter((r) => r.from <= next && next <= r.to && !bad.has(r.object))
      .sort((a, b) => b.to - a.to);
    let entries: LogEntry[] | undefined;
    for (const range of candidates) {
      const bytes = await store.get(range.object);
      try {
        if (bytes === undefined) throw new ArchiveObjectError(range.object, 'missing');
        const decoded = decodeArchiveObject(range.object, bytes, range.crc);
        // An object that is not the manifest's range would stall this loop: not a copy.
        if (decoded.from !== range.from || decoded.to !== range.to) throw new ArchiveObjectError(range.object, 'is not the range its manifest names');
        entries = decoded.entries;
        break;
      } catch (error) {
        if (!(error instanceof ArchiveObjectError)) throw error;
        bad.add(range.object);
      }
    }
    if (entries === undefined) throw new ArchiveHoleError(tableId, group, next);
    for (const e of entries) {
      if (e.index === next && next <= toIndex) {
        out.push(e);
        next++;
      }
    }
  }
  return out;
}

// ---- the periodic archiver of a cluster --------------------------------------------------------

export interface ArchiveServiceDeps {
  archiver: WalArchiver;
  nodes: number;
  isAlive: (node: number) => boolean;
  /** A node-level control request (the main router). */
  control: (node: number, body: NodeRequestBody) => Promise<unknown>;
  /** Time between passes (ms); 0: none, only flush(). */
  intervalMs: number;
}

/** A storage node, reached by requests, as an ArchiverNode. */
export function requestArchiverNode(node: number, control: ArchiveServiceDeps['control']): ArchiverNode {
  return {
    node,
    view: async (seal) => {
      const reply = await control(node, { t: 'walArchive', seal }) as NodeWalArchiveView | { off: true } | { error: string };
      if ('off' in reply) return undefined;
      if ('error' in reply) throw new Error(`archive: node ${node} could not list its WAL segments: ${reply.error}`);
      return reply;
    },
    markArchived: async (segment) => {
      const reply = await control(node, { t: 'walArchived', segment }) as { archived: number } | { error: string };
      if ('error' in reply) throw new Error(`archive: node ${node} could not mark segment ${segment} archived: ${reply.error}`);
    },
  };
}

/**
 * Runs the archiver over every live node every `intervalMs` (without sealing: a pass
 * archives what the nodes sealed as their segments filled), and on demand (`flush`: seal
 * and archive everything written so far). Like autoadmin, a failed pass is counted and
 * simply retried by the next one: every step is idempotent.
 */
export class ArchiveService {
  readonly counters = { turns: 0, failedTurns: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** Passes under way (periodic and flushes), awaited by stop(). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(private readonly deps: ArchiveServiceDeps) {}

  private track<T>(pass: Promise<T>): Promise<T> {
    this.inFlight.add(pass);
    pass.then(() => this.inFlight.delete(pass), () => this.inFlight.delete(pass));
    return pass;
  }

  get archiver(): WalArchiver {
    return this.deps.archiver;
  }

  start(): void {
    this.schedule();
  }

  /** Stops after the pass in progress, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  /** One pass over every live node; with `seal`, each seals its current segment first. */
  async turn(seal: boolean): Promise<NodeArchivePass[]> {
    this.counters.turns++;
    const { deps } = this;
    const alive = Array.from({ length: deps.nodes }, (_, n) => n).filter((n) => deps.isAlive(n));
    // One node at a time: a pass reads whole segments on this (the main) thread. A node
    // that fails (it died mid-request, its WAL failed) does not stop the others: its pass
    // carries the error.
    const passes: NodeArchivePass[] = [];
    for (const node of alive) {
      try {
        passes.push(await deps.archiver.archiveNode(requestArchiverNode(node, deps.control), seal));
      } catch (error) {
        const message = (error as Error).message;
        deps.archiver.counters.errors++;
        deps.archiver.lastError = message;
        passes.push({ node, segmentsRead: 0, archivedThrough: 0, objects: 0, entries: 0, error: message });
      }
    }
    return passes;
  }

  /** Seals and archives everything the live nodes have written. */
  flush(): Promise<NodeArchivePass[]> {
    if (this.stopped) return Promise.reject(new Error('archive: the database is closed'));
    return this.track(this.turn(true));
  }

  private schedule(): void {
    if (this.stopped || this.deps.intervalMs === 0) return;
    // Unref'd: a pending pass must not keep the process alive.
    this.timer = setTimeout(() => {
      void this.track(this.turn(false).catch(() => {
        this.counters.failedTurns++;
      }).finally(() => this.schedule()));
    }, this.deps.intervalMs);
    this.timer.unref();
  }
}
