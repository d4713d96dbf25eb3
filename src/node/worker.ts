/**
 * Entry point of a storage-node worker thread: a thin driver around the sans-I/O
 * `StorageNode`. It feeds it the clock and the rings (through `EndpointTransport`), does
 * the disk work the node asks for (the WAL sync on this thread, the checkpoint on libuv's
 * pool) and reports their end back. When a round finds nothing to do the thread sleeps on
 * its doorbell with `Atomics.wait` (blocking is right here: this thread has nothing else
 * to do, and a blocked thread costs no CPU on a 2-core machine) until a peer rings or the
 * next tick is due. It yields to its event loop now and then so that lmdb-js's callbacks and
 * `terminate()` get their turn.
 */
import { workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { NodeStore } from '../storage/index.js';
import { Endpoint } from '../transport/fabric.js';
import { MAX_IDLE_SLEEP_MS, YIELD_EVERY_MS } from './constants.js';
import { EndpointTransport } from './endpoint-transport.js';
import { LinkCuts } from './links.js';
import type { NodeDiskJobs } from './ports.js';
import { StorageNode } from './storage-node.js';
import { powerLossCopyDir, type NodeWorkerData } from './worker-data.js';
import {
  CONTROL_HAND_OVER, CONTROL_HANDED_OVER, CONTROL_KILL, CONTROL_PAUSE_MS, CONTROL_PAUSES_BEGUN, CONTROL_STOP, CONTROL_STATE,
  KILL_EXIT, KILL_FAIL, NODE_STATE_RUNNING, NODE_STATE_STOPPED,
} from './worker-data.js';

const data = workerData as NodeWorkerData;
const control = new Int32Array(data.control);
const endpoint = new Endpoint(data.fabric, data.nodeId);
const durable = data.powerLoss === undefined ? undefined : new Float64Array(data.powerLoss);
const store = NodeStore.open({
  dir: data.dir, durability: data.durability, walSegmentBytes: data.log.walSegmentBytes, archiveWal: data.archiveWal ?? false,
  ...(durable === undefined ? {} : {
    powerLoss: {
      onDurable: (segment: number, bytes: number) => {
        durable[0] = segment;
        durable[1] = bytes;
      },
      copyDir: powerLossCopyDir(data.dir),
    },
  }),
});
const links = new LinkCuts(data.links, data.fabric.layout.nodes + data.fabric.layout.routers);
function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// The WAL sync runs on this thread (the node sends and answers what need not wait for it
// first): handed to libuv's pool, each sync cost two more thread wake-ups, to the pool and
// back through the event loop, and on this 2-core VM a wake-up costs more than the sync.
// The checkpoint, long and off every request's path, runs on the pool; its completion is
// reported at the node's next yield to its event loop.
const jobs: NodeDiskJobs = {
  startSync: () => {
    try {
      store.syncNow();
    } catch (error) {
      node.syncCompleted(toError(error));
      return;
    }
    node.syncCompleted();
  },
  startCheckpoint: () => {
    checkpointing = store.checkpoint().then(
      () => node.checkpointCompleted(),
      (error: unknown) => node.checkpointCompleted(toError(error)),
    );
  },
};
/** The checkpoint under way, if any (settled: never rejects). */
let checkpointing: Promise<void> | undefined;
const node = new StorageNode({
  transport: new EndpointTransport(endpoint), storage: store, jobs, timing: data.timing, seed: data.seed, nowMs: performance.now(), links,
  warn: (message, type) => process.emitWarning(message, type),
  tuning: { logRetainEntries: data.log.walRetainEntries, snapshotBytesPerSec: data.log.snapshotBytesPerSec },
  ...(data.latencyAttribution ? { traceClock: () => performance.timeOrigin + performance.now() } : {}),
  ...(data.admission === undefined ? {} : { admission: data.admission }),
});

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A crash (faults.kill): exit now, between two steps, flushing and closing nothing; or
 *  (faults.fail) die of an error there, as a bug would. Not while a checkpoint's LMDB
 *  sync is on libuv's pool: a thread that ends with it in flight takes the whole process
 *  down when it returns (lmdb-js throws into the ended thread: "FATAL ERROR:
 *  Error::ThrowAsJavaScriptException napi_throw"). The crash comes a moment later. */
function dieIfKilled(): void {
  const kill = Atomics.load(control, CONTROL_KILL);
  if (kill === 0 || node.checkpointRunning) return;
  if (kill === KILL_EXIT) process.exit(1);
  if (kill === KILL_FAIL) throw new Error(`storage node ${data.nodeId}: injected software fault (faults.fail)`);
}

/**
 * Fault injection: a gray failure (a long GC pause, a stalled machine). The thread stays
 * alive but reads no ring, ticks nothing and answers nothing until the pause is over; then
 * the next round delivers every tick that elapsed (the leases expire first) and drains what
 * piled up. It blocks in Atomics.wait, in slices so that a stop is noticed promptly.
 */
function pauseIfAsked(): void {
  const pauseMs = Atomics.exchange(control, CONTROL_PAUSE_MS, 0);
  if (pauseMs <= 0) return;
  Atomics.add(control, CONTROL_PAUSES_BEGUN, 1);
  Atomics.notify(control, CONTROL_PAUSES_BEGUN);
  const until = performance.now() + pauseMs;
  for (let left = pauseMs; left > 0 && Atomics.load(control, CONTROL_STOP) === 0; left = until - performance.now()) {
    Atomics.wait(control, CONTROL_STOP, 0, Math.min(left, MAX_IDLE_SLEEP_MS));
    dieIfKilled();
    // Killed while a checkpoint syncs: the pause ends, so that the sync can return.
    if (Atomics.load(control, CONTROL_KILL) !== 0) break;
  }
}

/** A clean stop leaves the B-tree durable, so a restart has no WAL to replay. */
async function close(): Promise<void> {
  if (!node.checkpointRunning) {
    await store.checkpoint();
    node.compactAfterCheckpoint();
  }
  // Not while a checkpoint's sync is still on libuv's pool (see dieIfKilled).
  await checkpointing;
  await store.close();
}

async function run(): Promise<void> {
  Atomics.store(control, CONTROL_STATE, NODE_STATE_RUNNING);
  Atomics.notify(control, CONTROL_STATE);
  let lastYield = performance.now();
  while (Atomics.load(control, CONTROL_STOP) === 0) {
    dieIfKilled();
    pauseIfAsked();
    const now = performance.now();
    if (Atomics.load(control, CONTROL_HAND_OVER) === 1) {
      const handedOver = node.handOver(now) ? 1 : 0;
      if (Atomics.exchange(control, CONTROL_HANDED_OVER, handedOver) !== handedOver) Atomics.notify(control, CONTROL_HANDED_OVER);
    }
    if (node.round(now)) {
      if (now - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      continue;
    }
    const seq = endpoint.bell.prepare();
    if (endpoint.inboxEmpty() && Atomics.load(control, CONTROL_STOP) === 0 && Atomics.load(control, CONTROL_PAUSE_MS) === 0) {
      // An idle node need not wake every tick: ticks are logical, and the ones that elapse
      // while it sleeps are all delivered when it wakes, before anything else is served.
      // It wakes at least once per heartbeat period, for the leader's heartbeats.
      const sleepMs = Math.min(data.timing.tickMs * data.timing.heartbeatTicks, MAX_IDLE_SLEEP_MS);
      if (sleepMs > 0) endpoint.bell.sleep(seq, sleepMs);
    }
    endpoint.bell.done();
    if (performance.now() - lastYield >= YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
  // A planned stop (after a hand-over): answer what reached the inbox since the last round
  // (redirects to the new leaders) rather than leave a router waiting for a reply.
  if (Atomics.load(control, CONTROL_HAND_OVER) === 1) node.round(performance.now());
  await close();
  Atomics.store(control, CONTROL_STATE, NODE_STATE_STOPPED);
  Atomics.notify(control, CONTROL_STATE);
}

await run();
