import { EventEmitter } from 'node:events';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Supervisor, type NodeThreadHandle, type SupervisorClock } from '../../src/control/supervisor.js';
import { DEFAULT_TIMING } from '../../src/node/constants.js';
import {
  CONTROL_HAND_OVER, CONTROL_HANDED_OVER, CONTROL_KILL, CONTROL_PAUSE_MS, CONTROL_PAUSES_BEGUN, CONTROL_STATE, CONTROL_STOP,
  CONTROL_WORDS, NODE_STATE_RUNNING, type NodeWorkerData,
} from '../../src/node/worker-data.js';
import { Doorbell } from '../../src/transport/doorbell.js';
import { allocateFabric, Endpoint, type FabricBuffers } from '../../src/transport/fabric.js';

/**
 * A storage-node thread as the supervisor sees it, played by the test: it reports itself
 * running, begins pauses, hands over, and exits when the test says so. Whenever it exits
 * it wakes every control word, so that the supervisor's Atomics waits end at once rather
 * than at their 50 ms timeout (what they then find is the same either way).
 */
class FakeNodeThread extends EventEmitter implements NodeThreadHandle {
  readonly control: Int32Array;
  terminations = 0;
  exited = false;

  constructor(readonly data: NodeWorkerData) {
    super();
    this.control = new Int32Array(data.control);
  }

  running(): void {
    Atomics.store(this.control, CONTROL_STATE, NODE_STATE_RUNNING);
    Atomics.notify(this.control, CONTROL_STATE);
  }

  beginPause(): void {
    Atomics.store(this.control, CONTROL_PAUSE_MS, 0);
    Atomics.add(this.control, CONTROL_PAUSES_BEGUN, 1);
    Atomics.notify(this.control, CONTROL_PAUSES_BEGUN);
  }

  exit(code: number): void {
    if (this.exited) return;
    this.exited = true;
    this.emit('exit', code);
    for (let word = 0; word < CONTROL_WORDS; word++) Atomics.notify(this.control, word);
  }

  fail(error: Error): void {
    this.emit('error', error);
    this.exit(1);
  }

  terminate(): Promise<number> {
    this.terminations++;
    this.exit(1);
    return Promise.resolve(1);
  }
}

/** Time that moves only when the test says so. */
class ManualClock implements SupervisorClock {
  private nowMsValue = 1000;
  private waits: Array<{ atMs: number; keepAlive: boolean; resolve: () => void }> = [];

  nowMs(): number {
    return this.nowMsValue;
  }

  delay(ms: number, keepAlive: boolean): Promise<void> {
    return new Promise((resolve) => this.waits.push({ atMs: this.nowMsValue + ms, keepAlive, resolve }));
  }

  /** The waits pending now, as [ms from now, keepAlive]. */
  pending(): Array<[number, boolean]> {
    return this.waits.map((w) => [w.atMs - this.nowMsValue, w.keepAlive]);
  }

  /** Moves time forward by `ms`, ending each wait that falls due in time order and letting
   *  what it resumes run before the next. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMsValue + ms;
    for (;;) {
      await settle();
      const due = this.waits.filter((w) => w.atMs <= targetMs).sort((a, b) => a.atMs - b.atMs)[0];
      if (due === undefined) break;
      this.waits.splice(this.waits.indexOf(due), 1);
      this.nowMsValue = due.atMs;
      due.resolve();
    }
    this.nowMsValue = targetMs;
  }
}

/** Lets every promise continuation (and Atomics.waitAsync wake-up) that is ready run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await nextTurn();
}

const NODES = 3;
const SEED = 0xffff_fff0;

function cluster() {
  const fabric: FabricBuffers = allocateFabric({ nodes: NODES, routers: 1, nodeRingBytes: 4096, routerRingBytes: 4096 });
  const links = new SharedArrayBuffer(64);
  const clock = new ManualClock();
  const threads: FakeNodeThread[] = [];
  const supervisor = new Supervisor({
    dir: '/data/cluster', durability: 'sync', fabric, timing: DEFAULT_TIMING, seed: SEED, links, clock,
    log: { walRetainEntries: 100_000, walSegmentBytes: 1 << 20, snapshotBytesPerSec: 1 << 24 },
    spawn: (data) => {
      const thread = new FakeNodeThread(data);
      threads.push(thread);
      return thread;
    },
  });
  const events: string[] = [];
  supervisor.onStart = (node) => events.push(`start ${node}`);
  supervisor.onExit = (node) => events.push(`exit ${node}`);
  const router = new Endpoint(fabric, NODES); // reads the draining flags as every router does
  const bellSeq = (node: number) => new Doorbell(fabric.bells[node]).seq;
  /** The newest thread of `node`. */
  const thread = (node: number) => threads.filter((t) => t.data.nodeId === node).at(-1)!;
  /** Starts `node`, whose thread reports running at once. */
  async function started(node: number): Promise<FakeNodeThread> {
    const starting = supervisor.start(node);
    thread(node).running();
    await starting;
    return thread(node);
  }
  return { supervisor, fabric, links, clock, threads, events, router, bellSeq, thread, started };
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { done: () => boolean; promise: Promise<T> } {
  let done = false;
  const tracked = promise.finally(() => { done = true; });
  tracked.catch(() => {});
  return { done: () => done, promise: tracked };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('supervisor: starting nodes', () => {
  it('hands the node thread its configuration and a fresh control block', async () => {
    const c = cluster();
    await c.started(2);
    expect(c.threads.length).toBe(1);
    const { data } = c.threads[0];
    expect(data).toEqual({
      nodeId: 2,
      dir: path.join('/data/cluster', 'node-2'),
      durability: 'sync',
      fabric: c.fabric,
      timing: DEFAULT_TIMING,
      log: { walRetainEntries: 100_000, walSegmentBytes: 1 << 20, snapshotBytesPerSec: 1 << 24 },
      seed: (SEED + 2 * 7919) >>> 0, // wraps past 2^32
      control: expect.any(SharedArrayBuffer),
      links: c.links,
      latencyAttribution: true,
    });
    expect(data.seed).toBe(15_822);
    expect(data.control.byteLength).toBe(CONTROL_WORDS * 4);
    expect(c.supervisor.nodeCount).toBe(NODES);
  });

  it('resolves only once the thread reports running, then calls onStart', async () => {
    const c = cluster();
    const start = track(c.supervisor.start(0));
    await settle();
    expect(start.done()).toBe(false);
    expect(c.supervisor.isAlive(0)).toBe(true); // the thread is up, recovering its store
    expect(c.events).toEqual([]);
    c.thread(0).running();
    await start.promise;
    expect(c.events).toEqual(['start 0']);
  });

  it('refuses to start a node that is running', async () => {
    const c = cluster();
    await c.started(1);
    await expect(c.supervisor.start(1)).rejects.toThrow('node 1 is already running');
    expect(c.threads.length).toBe(1);
  });

  it('a thread that dies of an error while starting: start fails with its message, and the death is reported', async () => {
    const c = cluster();
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const start = c.supervisor.start(1);
    c.thread(1).fail(new Error('WAL record 17 fails its checksum'));
    await expect(start).rejects.toThrow('storage node 1 failed to start: WAL record 17 fails its checksum');
    expect(c.supervisor.isAlive(1)).toBe(false);
    expect(c.events).toEqual(['exit 1']);
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(warnings.mock.calls[0][0]).toMatch(/^storage node 1 stopped: Error: WAL record 17 fails its checksum/);
    expect(warnings.mock.calls[0][1]).toBe('ShardBoxNodeFailure');
  });

  it('a thread that exits quietly while starting: start says so', async () => {
    const c = cluster();
    const start = c.supervisor.start(0);
    c.thread(0).exit(0);
    await expect(start).rejects.toThrow('storage node 0 failed to start: it exited');
    expect(c.events).toEqual(['exit 0']);
  });

  it('start clears a draining flag left by a hand-over', async () => {
    const c = cluster();
    await c.started(1);
    expect(await c.supervisor.handOver(1, 0)).toBe(false);
    expect(c.router.isDraining(1)).toBe(true);
    c.thread(1).exit(0);
    await c.started(1);
    expect(c.router.isDraining(1)).toBe(false);
  });
});

describe('supervisor: a node that dies, and its restart', () => {
  it('a crash is reported through onExit; the node can be started again with a new thread', async () => {
    const c = cluster();
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const first = await c.started(0);
    await c.started(1);
    first.fail(new Error('invariant: applied index went backwards'));
    expect(c.supervisor.isAlive(0)).toBe(false);
    expect(c.supervisor.isAlive(1)).toBe(true);
    expect(c.events).toEqual(['start 0', 'start 1', 'exit 0']);
    expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/^storage node 0 stopped: .*applied index went backwards/), 'ShardBoxNodeFailure');
    // Control requests to the dead node are no-ops.
    await c.supervisor.stop(0);
    await c.supervisor.kill(0);
    expect(await c.supervisor.pause(0, 100)).toBe(false);
    expect(await c.supervisor.handOver(0, 100)).toBe(true);
    expect(first.terminations).toBe(0);

    const second = await c.started(0);
    expect(second).not.toBe(first);
    expect(second.data.control).not.toBe(first.data.control); // the dead thread's requests do not carry over
    expect(second.data.seed).toBe(first.data.seed);
    expect(c.supervisor.isAlive(0)).toBe(true);
    expect(c.events).toEqual(['start 0', 'start 1', 'exit 0', 'start 0']);
  });

  it('an error from a thread that has already exited is not reported again', async () => {
    const c = cluster();
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const t = await c.started(0);
    t.exit(0);
    t.emit('error', new Error('late'));
    expect(warnings).not.toHaveBeenCalled();
  });
});

describe('supervisor: stop and kill', () => {
  it('stop asks the node to stop, wakes it, and resolves once its thread ended', async () => {
    const c = cluster();
    const t = await c.started(1);
    const bellBefore = c.bellSeq(1);
    const stop = track(c.supervisor.stop(1));
    await settle();
    expect(Atomics.load(t.control, CONTROL_STOP)).toBe(1);
    expect(Atomics.load(t.control, CONTROL_KILL)).toBe(0);
    expect(c.bellSeq(1)).toBe(bellBefore + 1);
    expect(c.bellSeq(0)).toBe(0);
    expect(stop.done()).toBe(false);
    // The stop's deadline is no reason to keep the process alive.
    expect(c.clock.pending()).toEqual([[10_000, false]]);
    t.exit(0);
    await stop.promise;
    expect(t.terminations).toBe(0);
    expect(c.supervisor.isAlive(1)).toBe(false);
    expect(c.events).toEqual(['start 1', 'exit 1']);
  });

  it('kill asks the node to exit at its next step (no stop, no terminate) and waits for it', async () => {
    const c = cluster();
    const t = await c.started(2);
    const kill = track(c.supervisor.kill(2));
    await settle();
    expect(Atomics.load(t.control, CONTROL_KILL)).toBe(1);
    expect(Atomics.load(t.control, CONTROL_STOP)).toBe(0);
    expect(c.bellSeq(2)).toBe(1);
    expect(c.clock.pending()).toEqual([[2_000, false]]);
    t.exit(1);
    await kill.promise;
    expect(t.terminations).toBe(0);
    expect(c.events).toEqual(['start 2', 'exit 2']);
  });

  it('a node that does not stop within 10 s, or die within 2 s of a kill, is terminated', async () => {
    for (const [request, deadlineMs] of [['stop', 10_000], ['kill', 2_000]] as const) {
      const c = cluster();
      const t = await c.started(0);
      const ending = track(c.supervisor[request](0));
      await c.clock.advance(deadlineMs - 1);
      expect(t.terminations).toBe(0);
      expect(ending.done()).toBe(false);
      await c.clock.advance(1);
      await ending.promise;
      expect(t.terminations).toBe(1);
      expect(c.supervisor.isAlive(0)).toBe(false);
    }
  });

  it('stopAll stops every running node together, and skips the dead ones', async () => {
    const c = cluster();
    const ts = [await c.started(0), await c.started(1), await c.started(2)];
    ts[1].exit(1);
    const all = track(c.supervisor.stopAll());
    await settle();
    expect(ts.map((t) => Atomics.load(t.control, CONTROL_STOP))).toEqual([1, 0, 1]);
    ts[2].exit(0);
    await settle();
    expect(all.done()).toBe(false);
    ts[0].exit(0);
    await all.promise;
    expect([0, 1, 2].map((n) => c.supervisor.isAlive(n))).toEqual([false, false, false]);
  });
});

describe('supervisor: hand-over and pause', () => {
  it('hand-over marks the node draining for every router, asks it to hand over, and resolves true once it has', async () => {
    const c = cluster();
    const t = await c.started(1);
    const handOver = track(c.supervisor.handOver(1, 500));
    expect(c.router.isDraining(1)).toBe(true);
    expect(c.router.isDraining(0)).toBe(false);
    expect(Atomics.load(t.control, CONTROL_HAND_OVER)).toBe(1);
    expect(c.bellSeq(1)).toBe(1);
    await c.clock.advance(100);
    expect(handOver.done()).toBe(false);
    Atomics.store(t.control, CONTROL_HANDED_OVER, 1);
    await c.clock.advance(2); // the next poll
    expect(await handOver.promise).toBe(true);
    expect(c.router.isDraining(1)).toBe(true); // until the node is started again
  });

  it('hand-over gives up after its timeout, polling no later than the deadline', async () => {
    const c = cluster();
    await c.started(0);
    const handOver = track(c.supervisor.handOver(0, 5));
    await settle();
    expect(c.clock.pending()).toEqual([[2, true]]); // ref'd: a hand-over keeps the process alive
    await c.clock.advance(4);
    expect(c.clock.pending()).toEqual([[1, true]]); // the last poll waits only what is left
    expect(handOver.done()).toBe(false);
    await c.clock.advance(1);
    expect(await handOver.promise).toBe(false);
  });

  it('hand-over resolves false when the node dies before handing over', async () => {
    const c = cluster();
    const t = await c.started(0);
    const handOver = track(c.supervisor.handOver(0, 1_000));
    await c.clock.advance(10);
    t.exit(1);
    await c.clock.advance(2);
    expect(await handOver.promise).toBe(false);
    expect(c.clock.pending()).toEqual([]);
  });

  it('pause asks for the pause and resolves true once the node has begun it', async () => {
    const c = cluster();
    const t = await c.started(2);
    const pause = track(c.supervisor.pause(2, 750));
    await settle();
    expect(Atomics.load(t.control, CONTROL_PAUSE_MS)).toBe(750);
    expect(c.bellSeq(2)).toBe(1);
    expect(pause.done()).toBe(false);
    t.beginPause();
    expect(await pause.promise).toBe(true);
    // A second pause waits for a second beginning, not the first one.
    const again = track(c.supervisor.pause(2, 20));
    await settle();
    expect(again.done()).toBe(false);
    t.beginPause();
    expect(await again.promise).toBe(true);
  });

  it('pause resolves false when the node ends before beginning it', async () => {
    const c = cluster();
    const t = await c.started(0);
    const pause = c.supervisor.pause(0, 750);
    t.exit(0);
    expect(await pause).toBe(false);
  });
});
