/**
 * Snapshots on real threads (DESIGN, "Failure"): with one replica down, the others keep
 * writing far past the WAL's bound (walRetainEntries). Their WALs stay under it instead
 * of keeping every entry for the dead replica; when it restarts, its log is too far
 * behind for the leaders' WALs, so each leader sends it a snapshot of its data, and it
 * ends up with exactly its peers' data.
 */
import { readdirSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createHashTable, openCluster, seedFromEnv, waitFor } from './helpers.js';
import { itemsOfRows, unpackRows, type PackedSnapshotPiece } from '../../src/storage/snapshot.js';

let db: ShardBox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const RETAIN = 400;
const SEGMENT_BYTES = 256 * 1024;
const PARTITIONS = 4;
const WRITES = 12_000;
const VALUE = 'v'.repeat(1000);

function walBytes(node: number): number {
  const wal = join(dir!, `node-${node}`, 'wal');
  // A segment may be deleted between the listing and its stat (compaction runs on).
  return readdirSync(wal).reduce((sum, f) => sum + (statSync(join(wal, f), { throwIfNoEntry: false })?.size ?? 0), 0);
}

describe('snapshots on real threads', () => {
  it('the WAL stays bounded while a replica is down, and the replica catches up by snapshot to its peers\' exact data', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-snapshots-'));
    const seed = seedFromEnv(20261203);
    // admission: false: the burst outruns a partition's 1,000 WCU; this test is about the WAL.
    db = await openCluster({ dir, partitions: PARTITIONS, walRetainEntries: RETAIN, walSegmentBytes: SEGMENT_BYTES, seed, admission: false });
    const cluster = db;
    await createHashTable(cluster, 'snap');
    await cluster.faults.kill(2);
    await waitFor('a leader of every partition on nodes 0 and 1', 10_000, async () => {
      const parts = await cluster.replicaStatus('snap');
      return parts.every(({ replicas }) => replicas.some((r) => r?.role === 'leader' && r.leaseTicksLeft > 0)) ? true : undefined;
    });

    for (let i = 0; i < WRITES; i += 200) {
      await Promise.all(Array.from({ length: 200 }, (_, j) => cluster.putItem({ TableName: 'snap', Item: { id: { S: `k${i + j}` }, v: { S: VALUE } } })));
    }
    // What the WAL may hold: RETAIN entries per group (an entry is a little over its 1 KB
    // item), plus the segment being written and one a compaction has not freed yet.
    const bound = PARTITIONS * RETAIN * 1300 + 2 * SEGMENT_BYTES;
    const unbounded = WRITES * 1000;
    // Compaction follows the next checkpoint (every 2 s).
    const sizes = await waitFor(`the WALs of nodes 0 and 1 under ${bound} bytes`, 15_000, async () => {
      const s = [walBytes(0), walBytes(1)];
      return s.every((b) => b <= bound) ? s : undefined;
    });
    console.log(`WAL bytes with node 2 down after ${WRITES} writes of 1 KB: ${sizes.join(', ')} (bound ${bound}; keeping every entry would be over ${unbounded})`);
    // Every leader's log no longer reaches back to what node 2 holds: only a snapshot can help it.
    await waitFor('every leader\'s WAL compacted past node 2', 15_000, async () => {
      const parts = await cluster.replicaStatus('snap');
      return parts.every(({ replicas }) => replicas.some((r) => r?.role === 'leader' && r.firstIndex > RETAIN)) ? true : undefined;
    });

    const restartedAt = performance.now();
    await cluster.faults.restart(2);
    const startedMs = performance.now() - restartedAt;
    const digests = await waitFor('node 2 to hold its peers\' data', 30_000, async () => {
      const parts = await cluster.replicaDigests('snap');
      const same = parts.every(({ replicas }) => replicas.every((r) => r !== undefined && r.applied === replicas[0]!.applied && r.crc === replicas[0]!.crc && r.items === replicas[0]!.items));
      return same ? parts : undefined;
    });
    const caughtUpMs = performance.now() - restartedAt;
    expect(digests.reduce((sum, p) => sum + p.replicas[0]!.items, 0)).toBe(WRITES);

    const stats = await cluster.nodeStats();
    // The lagging replicas were caught up by snapshots (a partition whose leadership moved
    // meanwhile to a replica whose WAL still reached back may have used that instead).
    expect(stats[2]!.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    expect(stats[0]!.snapshotsSent + stats[1]!.snapshotsSent).toBeGreaterThanOrEqual(1);
    console.log(`node 2 started in ${startedMs.toFixed(0)} ms and caught up ${caughtUpMs.toFixed(0)} ms after its restart by ${stats[2]!.snapshotsInstalled} snapshots (${stats[0]!.snapshotBytesSent + stats[1]!.snapshotBytesSent} bytes sent, ${stats[0]!.snapshotsAbandoned + stats[1]!.snapshotsAbandoned} transfers abandoned)`);

    // Every item reads back from every replica (eventually consistent reads go anywhere).
    for (let i = 0; i < WRITES; i += 997) {
      const got = await cluster.getItem({ TableName: 'snap', Key: { id: { S: `k${i}` } } });
      expect(got.Item?.v?.S).toBe(VALUE);
    }
  }, 120_000);

  it('exports a consistent snapshot of every partition, a piece at a time, while writes go on', async () => {
    db = await openCluster({ partitions: 3, seed: seedFromEnv(20261206) });
    const cluster = db;
    await createHashTable(cluster, 'exported');
    for (let i = 0; i < 600; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => cluster.putItem({ TableName: 'exported', Item: { id: { S: `k${i + j}` }, n: { N: String(i + j) } } })));
    }
    let writing = true;
    const writes = (async () => {
      for (let i = 600; writing; i++) await cluster.putItem({ TableName: 'exported', Item: { id: { S: `k${i}` }, n: { N: String(i) } } });
    })();
    const [{ partition }] = await cluster.replicaStatus('exported');
    const cp = (cluster as unknown as { controlPlane: { exportPieces(p: typeof partition, options: { maxBytes: number }): AsyncGenerator<PackedSnapshotPiece> } }).controlPlane;
    const seen = new Map<string, number>();
    let pieces = 0;
    let index = -1;
    for (const { partition: p } of await cluster.replicaStatus('exported')) {
      for await (const piece of cp.exportPieces(p, { maxBytes: 4096 })) {
        pieces++;
        if (p.group === partition.group) {
          if (index === -1) index = piece.index;
          expect(piece.index).toBe(index); // one applied index for the whole snapshot
        }
        for (const item of itemsOfRows(unpackRows(piece.payload, piece.crc), piece.rec.tableId)) seen.set(item.id.S!, Number(item.n.N));
      }
    }
    writing = false;
    await writes;
    expect(pieces).toBeGreaterThan(3); // small pieces: many requests per partition
    for (let i = 0; i < 600; i++) expect(seen.get(`k${i}`)).toBe(i);
    for (const [key, n] of seen) expect(key).toBe(`k${n}`);
  }, 60_000);
});
