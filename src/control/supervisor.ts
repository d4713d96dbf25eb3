/**
 * Starts and stops storage-node threads. One worker thread per node for the node's whole
 * life; a stop asks the node to finish its round and close its store, a kill makes the
 * thread exit at its next step with nothing flushed or closed (a crash: whatever was not
 * persisted is lost, as the tests want).
 */
import { cpSync, existsSync, readdirSync, rmSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { compiledScriptUrl } from './compiled-script.js';
import type { NodeTiming } from '../node/constants.js';
import {
  CONTROL_HAND_OVER, CONTROL_HANDED_OVER, CONTROL_KILL, KILL_EXIT, KILL_FAIL, CONTROL_PAUSE_MS, CONTROL_PAUSES_BEGUN, CONTROL_STATE, CONTROL_STOP, CONTROL_WORDS,
  NODE_STATE_RUNNING, powerLossCopyDir,
  type Durability, type NodeLogSettings, type NodeWorkerData,
} from '../node/worker-data.js';
import { Doorbell } from '../transport/doorbell.js';
import { setNodeDown, setNodeDraining, type FabricBuffers } from '../transport/fabric.js';

/** How long a graceful stop may take before the thread is terminated (ms). */
const STOP_TIMEOUT_MS = 10_000;
/** How long a killed node may take to reach its next step and exit before its thread is
 *  terminated (ms). */
const KILL_TIMEOUT_MS = 2_000;
/** How often a hand-over is checked for completion (ms). */
const HAND_OVER_POLL_MS = 2;

/** The compiled worker script. Under vitest this module runs from its TypeScript source;
 *  threads need JavaScript, so they run the build output (`npm test` builds first). */
export function nodeWorkerUrl(): URL {
  return compiledScriptUrl(import.meta.url, '../node/worker.js', 'storage-node worker');
}

/** What the supervisor needs of a node's thread: a `Worker` (a fake in unit tests). */
export interface NodeThreadHandle {
  once(event: 'error', listener: (error: Error) => void): unknown;
  once(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** The time the supervisor waits by: real timers, or a fake in unit tests. */
export interface SupervisorClock {
  nowMs(): number;
  /** Resolves after `ms`; while `keepAlive` is false the wait does not keep the process alive. */
  delay(ms: number, keepAlive: boolean): Promise<void>;
}

const REAL_CLOCK: SupervisorClock = {
  nowMs: () => performance.now(),
  delay: (ms, keepAlive) => sleep(ms, undefined, { ref: keepAlive }),
};

function spawnNodeWorker(data: NodeWorkerData): NodeThreadHandle {
  return new Worker(nodeWorkerUrl(), { workerData: data, name: `shardbox-node-${data.nodeId}` });
}

export interface SupervisorConfig {
  dir: string;
  durability: Durability;
  /** Node stores keep sealed WAL segments for the archiver. Default false. */
  archiveWal?: boolean;
  /** The power-off test's emulation: each node reports how far its WAL is durable, and
   *  keeps a copy of its B-tree as each checkpoint made it durable (powerOff). */
  emulatePowerLoss?: boolean;
  fabric: FabricBuffers;
  timing: NodeTiming;
  log: NodeLogSettings;
  seed: number;
  /** The cluster's cut links (`LinkCuts`), handed to every node thread. */
  links: SharedArrayBuffer;
  /** The admission board, handed to every node thread (absent: no admission control). */
  admission?: SharedArrayBuffer;
  /** Nodes stamp replies with their stages' times (ShardBox's latencyAttribution).
   *  Default true. */
  latencyAttribution?: boolean;
  /** Starts a node's thread. Default: a worker thread running the compiled node script. */
  spawn?: (data: NodeWorkerData) => NodeThreadHandle;
  /** Default: performance.now() and timers. */
  clock?: SupervisorClock;
}

interface NodeThread {
  worker: NodeThreadHandle;
  control: Int32Array;
  exited: Promise<number>;
  alive: boolean;
}

export class Supervisor {
  private readonly threads: Array<NodeThread | undefined> = [];
  private readonly powerLoss: Array<SharedArrayBuffer | undefined> = [];
  private readonly spawn: (data: NodeWorkerData) => NodeThreadHandle;
  private readonly clock: SupervisorClock;
  /** Called when a node thread ends, planned or not; `error` when it died of one. */
  onExit: (node: number, error: Error | undefined) => void = () => {};
  onStart: (node: number) => void = () => {};

  constructor(private readonly config: SupervisorConfig) {
    this.spawn = config.spawn ?? spawnNodeWorker;
    this.clock = config.clock ?? REAL_CLOCK;
  }

  get nodeCount(): number {
    return this.config.fabric.layout.nodes;
  }

  isAlive(node: number): boolean {
    return this.threads[node]?.alive ?? false;
  }

  /** Starts node `node`'s thread and resolves once it has recovered its store and runs. */
  async start(node: number): Promise<void> {
    if (this.isAlive(node)) throw new Error(`node ${node} is already running`);
    setNodeDraining(this.config.fabric, node, false);
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    const data: NodeWorkerData = {
      nodeId: node,
      dir: path.join(this.config.dir, `node-${node}`),
      durability: this.config.durability,
      ...(this.config.archiveWal === true ? { archiveWal: true } : {}),
      ...(this.config.emulatePowerLoss === true ? { powerLoss: (this.powerLoss[node] = new SharedArrayBuffer(16)) } : {}),
      fabric: this.config.fabric,
      timing: this.config.timing,
      log: this.config.log,
      seed: (this.config.seed + node * 7919) >>> 0,
      control: control.buffer as SharedArrayBuffer,
      links: this.config.links,
      ...(this.config.admission === undefined ? {} : { admission: this.config.admission }),
      latencyAttribution: this.config.latencyAttribution !== false,
    };
    const worker = this.spawn(data);
    let failed: Error | undefined;
    const thread: NodeThread = {
      worker,
      control,
      alive: true,
      exited: new Promise((resolve) => {
        worker.once('error', (error) => {
          failed = error;
          // A node that dies of an error (an invariant check, a corrupt WAL) says so loudly;
          // the cluster goes on without it, as it would without a crashed machine.
          if (thread.alive) process.emitWarning(`storage node ${node} stopped: ${error.stack ?? error.message}`, 'ShardBoxNodeFailure');
        });
        worker.once('exit', (code) => {
          thread.alive = false;
          setNodeDown(this.config.fabric, node);
          this.onExit(node, failed);
          resolve(code);
        });
      }),
    };
    this.threads[node] = thread;
    // Wait for the node to report it is running (its store opened and recovered).
    while (Atomics.load(control, CONTROL_STATE) !== NODE_STATE_RUNNING) {
      if (!thread.alive) throw new Error(`storage node ${node} failed to start: ${failed?.message ?? 'it exited'}`);
      const wait = Atomics.waitAsync(control, CONTROL_STATE, Atomics.load(control, CONTROL_STATE), 50);
      if (wait.async) await wait.value;
      else await this.clock.delay(1, true);
    }
    this.onStart(node);
  }

  /**
   * Before a planned stop: asks the node to hand every leadership it holds over to a
   * follower and resolves true once it leads nothing and has answered every write it
   * accepted, or false after `timeoutMs` (it keeps trying until it stops). Every router
   * sends it nothing new from now on (the fabric's draining flag, cleared by `start`);
   * requests that reach it meanwhile are redirected to the new leaders.
   */
  async handOver(node: number, timeoutMs: number): Promise<boolean> {
    const thread = this.threads[node];
    if (thread === undefined || !thread.alive) return true;
    setNodeDraining(this.config.fabric, node, true);
    Atomics.store(thread.control, CONTROL_HAND_OVER, 1);
    this.wakeNode(node);
    const deadline = this.clock.nowMs() + timeoutMs;
    while (Atomics.load(thread.control, CONTROL_HANDED_OVER) !== 1) {
      const left = deadline - this.clock.nowMs();
      if (!thread.alive || left <= 0) return false;
      // A ref'd timer, not waitAsync: a pending waitAsync does not keep the process alive.
      await this.clock.delay(Math.min(left, HAND_OVER_POLL_MS), true);
    }
    return true;
  }

  /** Asks the node to stop after its current round and waits for its thread to end. */
  async stop(node: number): Promise<void> {
    const thread = this.threads[node];
    if (thread === undefined || !thread.alive) return;
    Atomics.store(thread.control, CONTROL_STOP, 1);
    Atomics.notify(thread.control, CONTROL_STOP); // a paused node sleeps on this word
    this.wakeNode(node);
    const timeout = this.clock.delay(STOP_TIMEOUT_MS, false).then(() => 'timeout' as const);
    if ((await Promise.race([thread.exited, timeout])) === 'timeout') await thread.worker.terminate();
    await thread.exited;
  }

  /** Kills the node's thread at whatever instant it is in (a crash). */
  /**
   * A power failure of node `node` (emulatePowerLoss): its thread dies at once, then its
   * disk is made what a power failure would have left: each WAL segment cut to what was
   * synced, and the items B-tree back to the copy its last checkpoint made (nothing when
   * none was made: a B-tree never synced). Start it again with `start`.
   */
  async powerOff(node: number): Promise<{ walBytesKept: number; bTreeFromCheckpoint: boolean }> {
    const shared = this.powerLoss[node];
    if (this.config.emulatePowerLoss !== true || shared === undefined) throw new Error('powerOff needs emulatePowerLoss');
    await this.kill(node);
    const [segment, bytes] = new Float64Array(shared);
    if (segment === 0) throw new Error(`node ${node} never reported its WAL durable: nothing to play back`);
    const nodeDir = path.join(this.config.dir, `node-${node}`);
    const walDir = path.join(nodeDir, 'wal');
    for (const file of readdirSync(walDir)) {
      const n = /^segment-(\d+)\.log$/.exec(file)?.[1];
      if (n === undefined) continue;
      if (Number(n) > segment) rmSync(path.join(walDir, file));
      else if (Number(n) === segment) truncateSync(path.join(walDir, file), bytes);
    }
    const dataDir = path.join(nodeDir, 'data');
    rmSync(dataDir, { recursive: true, force: true });
    const copy = powerLossCopyDir(nodeDir);
    const bTreeFromCheckpoint = existsSync(copy);
    if (bTreeFromCheckpoint) cpSync(copy, dataDir, { recursive: true });
    return { walBytesKept: bytes, bTreeFromCheckpoint };
  }

  async kill(node: number, how: typeof KILL_EXIT | typeof KILL_FAIL = KILL_EXIT): Promise<void> {
    const thread = this.threads[node];
    if (thread === undefined || !thread.alive) return;
    // The node exits on its own at its next step (process.exit in the worker: a crash,
    // nothing flushed or closed). Not worker.terminate() first: terminating a thread inside
    // an LMDB write transaction leaves lmdb-js's write lock held, and the thread's own
    // cleanup then waits for it forever. terminate() stays the fallback for a stuck thread.
    Atomics.store(thread.control, CONTROL_KILL, how);
    this.wakeNode(node);
    const timeout = this.clock.delay(KILL_TIMEOUT_MS, false).then(() => 'timeout' as const);
    if ((await Promise.race([thread.exited, timeout])) === 'timeout') await thread.worker.terminate();
    await thread.exited;
  }

  /**
   * Asks the node to pause for `ms` (alive, silent) and resolves once the pause has begun:
   * the node takes the request between two rounds, even a busy one. False when the node
   * is not running, or ends before it begins the pause.
   */
  async pause(node: number, ms: number): Promise<boolean> {
    const thread = this.threads[node];
    if (thread === undefined || !thread.alive) return false;
    const begun = Atomics.load(thread.control, CONTROL_PAUSES_BEGUN);
    Atomics.store(thread.control, CONTROL_PAUSE_MS, ms);
    this.wakeNode(node);
    while (Atomics.load(thread.control, CONTROL_PAUSES_BEGUN) === begun) {
      if (!thread.alive) return false;
      const wait = Atomics.waitAsync(thread.control, CONTROL_PAUSES_BEGUN, begun, 50);
      if (wait.async) await wait.value;
    }
    return true;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.threads.map((_, node) => this.stop(node)));
  }

  private wakeNode(node: number): void {
    new Doorbell(this.config.fabric.bells[node]).ring();
  }
}
