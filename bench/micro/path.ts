/**
 * The floor of a request's path on this machine: shardbox's thread layout (three storage
 * node threads, one or two client threads) and its fabric (rings, doorbells), doing
 * nothing else.
 * A read goes client → leader → client; a write goes client → leader → both followers
 * (each appends 1 KB and fdatasyncs it, as the WAL does; the leader syncs its own at the
 * same time) → the first follower's ack → client. Clients are open loop at the YCSB
 * levels' rates, latency from the intended start, as the harness measures it.
 *
 * No engine with this layout can be faster than this: what shardbox adds is its work
 * (validation, encoding, the replica state machine, LMDB, the harness's event loop) and the
 * CPU that work takes from the threads that wait for a core. A latency goal below these
 * p99s cannot be met with this layout on this machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Doorbell } from '../../src/transport/doorbell.js';
import { allocateFabric } from '../../src/transport/fabric.js';
import type { PathClientResult, PathRole } from './path-worker.js';
import { percentile, type BenchRow, type BenchSection } from './section.js';

export const PATH_NODES = 3;
const WORKER_URL = new URL('./path-worker.js', import.meta.url);
const RING_BYTES = 1 << 20;
const WARM_UP_MS = 1000;
const MEASURE_MS = 8000;
/** The quick run's 10% level (-p target=4000) and the full run's (A's top rate ~15k). */
const RATES = [400, 1500];
/** The harness's two client threads (YCSB's threadcount in the paper's set-up), one (fewer
 *  threads to schedule: the most favourable layout), and two without the fdatasyncs. */
const LAYOUTS = [
  { clients: 2, sync: true },
  { clients: 1, sync: true },
  { clients: 2, sync: false },
];
/** What shardbox's latency goal asks at the 10% level (p99, µs). */
const GOAL_US = { read: 1000, write: 2000 };

function exited(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
}

function message<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', resolve);
  });
}

async function runPath(opsPerSec: number, clients: number, sync: boolean): Promise<PathClientResult> {
  const fabric = allocateFabric({ nodes: PATH_NODES, routers: clients, nodeRingBytes: RING_BYTES, routerRingBytes: RING_BYTES });
  const stop = new SharedArrayBuffer(4);
  const walDir = sync ? mkdtempSync(path.join(os.tmpdir(), 'shardbox-path-')) : undefined;
  const start = (role: PathRole): Worker => new Worker(WORKER_URL, { workerData: role });
  const nodes: Worker[] = [];
  try {
    for (let id = 0; id < PATH_NODES; id++) nodes.push(start({ role: 'node', fabric, id, stop, walDir }));
    const startAtMs = performance.timeOrigin + performance.now() + 300; // the threads are up by then
    const threads = Array.from({ length: clients }, (_, i) =>
      start({ role: 'client', fabric, id: PATH_NODES + i, opsPerSec: opsPerSec / clients, startAtMs, warmUpMs: WARM_UP_MS, measureMs: MEASURE_MS, seed: 7919 * (i + 1) }));
    const results = await Promise.all(threads.map((c) => message<PathClientResult>(c)));
    await Promise.all(threads.map(exited));
    return { readsUs: results.flatMap((r) => r.readsUs), writesUs: results.flatMap((r) => r.writesUs) };
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    for (const bell of fabric.bells.slice(0, PATH_NODES)) new Doorbell(bell).ring();
    await Promise.all(nodes.map(exited));
    if (walDir !== undefined) rmSync(walDir, { recursive: true, force: true });
  }
}

function rows(label: string, op: 'read' | 'write', samplesUs: number[], note: string): BenchRow[] {
  const sorted = samplesUs.sort((a, b) => a - b);
  return [50, 99].map((p) => ({
    metric: `${label} ${op} p${p}`,
    value: Math.round(percentile(sorted, p)),
    unit: 'µs',
    ...(p === 99 ? { target: `goal ≤ ${GOAL_US[op] / 1000} ms` } : {}),
    note,
  }));
}

export const pathSection: BenchSection = {
  name: 'path',
  budgetSeconds: (LAYOUTS.length * RATES.length * (WARM_UP_MS + MEASURE_MS)) / 1000 + 3,
  async run() {
    const out: BenchRow[] = [];
    for (const { clients, sync } of LAYOUTS) {
      for (const rate of RATES) {
        const r = await runPath(rate, clients, sync);
        const label = `path ${rate} ops/s, ${clients} client${clients > 1 ? 's' : ''}, ${sync ? 'sync' : 'async'}:`;
        const note = `3 nodes, no work${sync ? ', writes fdatasync 1 KB' : ''}`;
        out.push(...rows(label, 'read', r.readsUs, `${note} (${r.readsUs.length} reads)`));
        out.push(...rows(label, 'write', r.writesUs, `${note} (${r.writesUs.length} writes)`));
      }
    }
    return out;
  },
};
