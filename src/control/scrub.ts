/**
 * Scrub (DESIGN, "Durability"; the paper's section 5): every partition is rebuilt from
 * the archive (its latest archived snapshot plus the archived WAL after it; a split child
 * without one, through its parent's: partition-lineage.ts) on a background thread, and
 * compared with each live replica through Merkle trees over its key space, as of the log
 * index that replica's data reflects. A replica that differs from the rebuilt partition,
 * while another replica agrees with it, is repaired: its node marks the partition damaged
 * and takes in a snapshot from the leader. A rebuilt partition no replica agrees with is
 * reported and repairs nothing: the archive, not the replicas, would then be suspect.
 *
 * One scrub: (1) every live replica's data is read out at once (snapshot exports, damaged
 * rows included, left packed); (2) the archive is flushed, so it covers every index read;
 * (3) per partition, the rebuild and the comparisons, together on the background thread
 * (scrub-worker.ts): the main thread, where embedded callers' requests are routed, only
 * moves bytes; (4) repairs, a fresh archived snapshot for the next scrub to start from,
 * and the archive's retention: what lies before the snapshot it must keep is removed
 * (archive-retention.ts).
 */
import type { Item } from '../model/types.js';
import type { NodeRequestBody } from '../node/requests.js';
import type { NodeStats } from '../node/storage-node.js';
import type { PartitionInfo } from '../router/partition-map.js';
import type { PackedSnapshotPiece } from '../storage/snapshot.js';
import {
  ArchivedSnapshotError, archiveSnapshot, readArchivedSnapshotBytes, removeArchivedSnapshot, type ArchivedSnapshot,
} from './archive-snapshots.js';
import { pruneBefore, retainedFrom } from './archive-retention.js';
import { readArchivedEntries } from './archiver.js';
import type { BackgroundPool } from './background-pool.js';
import type { Metadata } from './metadata.js';
import type { ObjectStore } from './object-store.js';
import { lineageBase, type LineageBase } from './partition-lineage.js';
import type { ScrubComparison, ScrubTask } from './scrub-worker.js';

export interface ScrubMismatch {
  table: string;
  /** The partition's replication group. */
  partition: number;
  node: number;
  /** The keys whose data differ: an item's key attributes, or the stored key (hex) of a
   *  row that is not an item (an index entry, bookkeeping). */
  keys: Array<Item | { storedKey: string }>;
  /** Whether the replica was repaired (false: no replica agreed with the archive). */
  repaired: boolean;
}

export interface ScrubReport {
  /** Partitions looked at, and replicas compared with their rebuilt partition. */
  partitions: number;
  compared: number;
  mismatches: ScrubMismatch[];
  /** Replicas repaired from a healthy one. */
  repaired: number;
  /** Replicas not compared, and why (down, behind the archive's snapshot, a hole). */
  skipped: Array<{ table: string; partition: number; node: number; reason: string }>;
}

export interface ScrubDeps {
  metadata: Pick<Metadata, 'tables'>;
  /** ControlPlane.exportPieces. */
  exportPieces(partition: PartitionInfo, options?: { node?: number; keepDamaged?: boolean }): AsyncGenerator<PackedSnapshotPiece>;
  control(node: number, group: number, body: NodeRequestBody): Promise<unknown>;
  isAlive(node: number): boolean;
  archive: {
    store: ObjectStore;
    flush(): Promise<unknown>;
    /** WalArchiver.forgetThrough (retention). */
    forgetThrough(tableId: number, group: number, through: number): Promise<number>;
  };
  /** Where partitions are rebuilt and compared (a background thread). */
  background: BackgroundPool;
  /** How long a scrub waits for a repair to finish (ms). */
  repairTimeoutMs?: number;
}

/** An archived snapshot is taken after a scrub when the newest is this many entries old. */
const SNAPSHOT_EVERY_ENTRIES = 10_000;

export class Scrubber {
  /** `snapshotsPruned`, `objectsPruned`: what retention removed from the archive. */
  readonly counters = { scrubs: 0, mismatches: 0, repaired: 0, snapshotsPruned: 0, objectsPruned: 0 };

  constructor(private readonly deps: ScrubDeps) {}

  async scrub(options: { table?: string } = {}): Promise<ScrubReport> {
    this.counters.scrubs++;
    const { deps } = this;
    const report: ScrubReport = { partitions: 0, compared: 0, mismatches: [], repaired: 0, skipped: [] };
    const tables = deps.metadata.tables().filter((t) => t.status === 'ACTIVE' && (options.table === undefined || t.name === options.table));
    // (1) Every live replica's data, read out together.
    const reads = tables.flatMap((meta) => meta.partitions.map((partition) => ({ meta, partition })));
    const exports = await Promise.all(reads.map(async ({ meta, partition }) => {
      const replicas = new Map<number, PackedSnapshotPiece[]>();
      await Promise.all(partition.replicas.map(async (node) => {
        if (!deps.isAlive(node)) {
          report.skipped.push({ table: meta.name, partition: partition.group, node, reason: 'the node is down' });
          return;
        }
        try {
          replicas.set(node, await collect(deps.exportPieces(partition, { node, keepDamaged: true })));
        } catch (error) {
          report.skipped.push({ table: meta.name, partition: partition.group, node, reason: `its data could not be read: ${(error as Error).message}` });
        }
      }));
      return replicas;
    }));
    // (2) The archive then covers every index those reads reflect.
    await deps.archive.flush();
    // (3) Rebuild and compare, partition by partition.
    const repairs: Array<{ node: number; group: number; mismatch: ScrubMismatch }> = [];
    for (let i = 0; i < reads.length; i++) {
      const { meta, partition } = reads[i];
      report.partitions++;
      const replicas = exports[i];
      if (replicas.size === 0) continue;
      const rec = [...replicas.values()][0][0].rec;
      const lowest = Math.min(...[...replicas.values()].map((pieces) => pieces[0].index));
      const last = Math.max(...[...replicas.values()].map((pieces) => pieces[0].index));
      let comparisons: ScrubComparison[];
      // A split child without a snapshot of its own is rebuilt through its parent's archive.
      let lineage: LineageBase;
      let base: ArchivedSnapshot | undefined;
      try {
        lineage = await lineageBase(deps.archive.store, meta, partition, (s) => s.index <= lowest);
        base = lineage.base;
        const task: ScrubTask = {
          rec,
          base: base === undefined ? undefined : { snapshot: base, bytes: await readArchivedSnapshotBytes(deps.archive.store, base) },
          entries: [
            ...lineage.entries,
            ...(last > lineage.from ? await readArchivedEntries(deps.archive.store, meta.tableId, partition.group, lineage.from + 1, last) : []),
          ],
          replicas: [...replicas].map(([node, pieces]) => ({ node, index: pieces[0].index, pieces })),
          ...(lineage.splits.length > 0 ? { lineage: { start: lineage.start, splits: lineage.splits } } : {}),
        };
        const outcome = await deps.background.scrubPartition(task);
        if ('damagedBase' in outcome) throw new ArchivedSnapshotError(base!.object, outcome.damagedBase);
        comparisons = outcome.comparisons;
      } catch (error) {
        for (const node of replicas.keys()) report.skipped.push({ table: meta.name, partition: partition.group, node, reason: `the archive cannot rebuild it: ${(error as Error).message}` });
        // A damaged snapshot would skip its partition at every scrub, and retention may
        // have removed what an older one could rebuild from: it goes, and a snapshot of
        // the leader's data starts the partition's archive again.
        if (error instanceof ArchivedSnapshotError && base !== undefined) {
          await removeArchivedSnapshot(deps.archive.store, base).catch(() => undefined);
          await archiveSnapshot(deps.archive.store, meta.tableId, deps.exportPieces(partition), Date.now()).catch(() => undefined);
        }
        continue;
      }
      const found: Array<{ node: number; mismatch: ScrubMismatch }> = [];
      let agreeing = 0;
      for (const { node, agrees, keys } of comparisons) {
        report.compared++;
        if (agrees) agreeing++;
        else found.push({ node, mismatch: { table: meta.name, partition: partition.group, node, keys, repaired: false } });
      }
      for (const f of found) {
        report.mismatches.push(f.mismatch);
        this.counters.mismatches++;
        if (agreeing > 0) repairs.push({ node: f.node, group: partition.group, mismatch: f.mismatch });
      }
      // (4b) The next scrub starts from a fresh snapshot of its own once this one is far
      // behind, or was not the partition's.
      if (found.length === 0 && agreeing > 0 && (lineage.base === undefined || lineage.splits.length > 0 || last - lineage.from > SNAPSHOT_EVERY_ENTRIES)) {
        await archiveSnapshot(deps.archive.store, meta.tableId, deps.exportPieces(partition), Date.now()).catch(() => undefined);
      }
      // (4c) Retention: what the archive holds before the snapshot it must keep goes
      // (archive-retention.ts). A partition rebuilt through its parent keeps it all.
      if (found.length === 0 && agreeing > 0 && lineage.base !== undefined && lineage.splits.length === 0) {
        // The listing lineageBase read: a snapshot archived since (4b) is newer than the base,
        // which neither choice nor removal looks past.
        const keep = retainedFrom(lineage.own, lineage.base, meta.pointInTimeRecovery, Date.now());
        const pruned = keep === undefined ? undefined : await pruneBefore(deps.archive.store, deps.archive.forgetThrough, lineage.own, keep).catch(() => undefined);
        this.counters.snapshotsPruned += pruned?.snapshots ?? 0;
        this.counters.objectsPruned += pruned?.objects ?? 0;
      }
    }
    // (4) Repairs: the node takes the partition in again from its leader.
    await Promise.all(repairs.map(async (r) => {
      if (await this.repair(r.node, r.group)) {
        r.mismatch.repaired = true;
        report.repaired++;
        this.counters.repaired++;
      }
    }));
    return report;
  }

  /** Asks `node` to repair `group` from its leader, and waits until it has. */
  private async repair(node: number, group: number): Promise<boolean> {
    const deadline = performance.now() + (this.deps.repairTimeoutMs ?? 60_000);
    const before = ((await this.deps.control(node, 0, { t: 'stats' })) as NodeStats).groupsRepaired;
    await this.deps.control(node, group, { t: 'repairGroup', reason: 'scrub found its data different from the partition rebuilt from the archive' });
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (!this.deps.isAlive(node)) return false;
      const stats = (await this.deps.control(node, 0, { t: 'stats' })) as NodeStats;
      if (stats.groupsRepaired > before && !stats.damagedGroups.includes(group)) return true;
    }
    return false;
  }

}

/** Every piece of a replica's export (all at its first piece's index). */
async function collect(pieces: AsyncGenerator<PackedSnapshotPiece>): Promise<PackedSnapshotPiece[]> {
  const all: PackedSnapshotPiece[] = [];
  for await (const piece of pieces) all.push(piece);
  if (all.length === 0) throw new Error('the export came with no piece');
  return all;
}
