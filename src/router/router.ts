/**
 * A request router on a real thread: one per thread that sends requests (the main
 * thread's, and one per benchmark client thread), with its own rings to every storage
 * node. The logic (queues, leader cache, redirects, retries, timeouts, backpressure) is
 * `RouterCore`'s; this shell feeds it the clock and the replies read from the rings, writes
 * its requests to the rings, and turns its callbacks into promises.
 *
 * The main thread never blocks: it awaits replies with `Atomics.waitAsync` on its doorbell.
 * A pending waitAsync does not keep a Node thread alive, so a ref'd timer is held while
 * requests are outstanding, and released after, so that a process can exit on its own.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBError } from '../model/errors.js';
import { writeBatched } from '../transport/codec.js';
import type { Endpoint } from '../transport/fabric.js';
import { envelopeToWire, readEnvelopes, type Envelope, type RequestMessage } from '../transport/protocol.js';
import type { LatencyTracker, RequestTiming } from './latency.js';
import { MAX_BATCH, RouterCore, type RouterCounters, type RouterOptions, type RouterTransport, type Target } from './router-core.js';

export { DEFAULT_ROUTER_OPTIONS, MAX_IN_FLIGHT_BYTES_PER_NODE, MAX_IN_FLIGHT_PER_NODE, MAX_OUTSTANDING_REQUESTS, MAX_QUEUED_PER_NODE } from './router-core.js';
export type { RouterCounters, RouterOptions, Target } from './router-core.js';

/** The shared clock of every thread (ms): node stamps in reply traces use the same one, so a
 *  request's stages can be subtracted across threads. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Longest the pump sleeps before it looks at timers again (ms). */
const PUMP_SLEEP_MS = 10;
/** The pump yields to other macrotasks (I/O, timers) at least this often (ms). */
const PUMP_YIELD_MS = 5;
/** While a queue waits for ring space, the pump looks again this often (ms). */
const RING_FULL_RETRY_MS = 1;

/** `RouterTransport` over this thread's SAB rings. */
class RingTransport implements RouterTransport {
  constructor(private readonly endpoint: Endpoint) {}

  get id(): number {
    return this.endpoint.id;
  }

  write(node: number, requests: readonly RequestMessage[], onTooLarge: (request: RequestMessage) => void): number {
    const version = this.endpoint.sendVersion;
    const wrap = (reqs: RequestMessage[]): unknown => envelopeToWire({ k: 'req', from: this.endpoint.id, reqs }, version);
    return writeBatched(this.endpoint.to(node), requests, wrap, MAX_BATCH, onTooLarge, version);
  }

  wake(node: number): void {
    this.endpoint.wake(node);
  }

  isDraining(node: number): boolean {
    return this.endpoint.isDraining(node);
  }
}

export class Router {
  private readonly core: RouterCore;
  private flushScheduled = false;
  private pumping = false;

  constructor(private readonly endpoint: Endpoint, options: Partial<RouterOptions> = {}) {
    this.core = new RouterCore(new RingTransport(endpoint), options);
  }

  get counters(): RouterCounters {
    return this.core.counters;
  }

  get outstandingCount(): number {
    return this.core.outstandingCount;
  }

  /** Where this router's answered requests spent their time, stage by stage. */
  get latency(): LatencyTracker {
    return this.core.latency;
  }

  /** The router's current guess of a group's leader. */
  leaderOf(group: number): number | undefined {
    return this.core.leaderOf(group);
  }

  /** Sends `body` to `target`. `bytes` sizes a large body (a write's log entry);
   *  `onTiming` receives the request's stages when a node answers it. */
  request(target: Target, body: unknown, idempotent: boolean, extra: { bytes?: number; onTiming?: (timing: RequestTiming) => void } = {}): Promise<unknown> {
    // Before it is sent anywhere: a write put in a dead node's ring has an unknown outcome.
    this.followNodeStates();
    return new Promise((resolve, reject: (error: DynamoDBError) => void) => {
      this.core.request(target, body, idempotent, nowMs(), { resolve, reject, onTiming: extra.onTiming }, extra.bytes ?? 0);
      if (this.core.isClosed) return; // refused at once
      this.scheduleFlush();
      this.startPump();
    });
  }

  /** Requests sent to `node` and not answered yet. */
  inFlightTo(node: number): number {
    return this.core.inFlightTo(node);
  }

  /** The control plane saw `node` die: fail or move what waits on it now, not at timeout. */
  nodeDown(node: number): void {
    // Answers it wrote before it stopped are answers: take them first.
    const now = nowMs();
    readEnvelopes(this.endpoint.from(node), (envelope) => this.receive(envelope, now));
    this.core.nodeDown(node, now);
    this.scheduleFlush();
  }

  nodeUp(node: number): void {
    this.core.nodeUp(node);
  }

  /** A router in another thread than the control plane's learns of a node's death (or
   *  return) from the fabric: what waits on a dead node fails or moves now, not after its
   *  attempt timeout. A few atomic loads per pump turn. */
  private followNodeStates(): void {
    for (const node of this.endpoint.peers) {
      const down = this.endpoint.isDown(node);
      if (down === this.core.isDown(node)) continue;
      if (down) this.nodeDown(node);
      else this.nodeUp(node);
    }
  }

  /** Fails everything outstanding; later requests fail at once. */
  close(): void {
    this.core.close();
  }

  /**
   * Blocks this thread until a reply may have arrived or `timeoutMs` passes. Only for a
   * worker thread that paces requests more finely than timers can (a load generator):
   * timers fire up to a millisecond late, this wakes within microseconds of a reply.
   * True when a reply may have arrived (the caller should let the event loop turn).
   */
  waitForReplies(timeoutMs: number): boolean {
    // What this turn queued goes out first: the scheduled flush is a microtask, and it
    // would run only after this blocking wait (measured: a read's queue stage p99 ~3 ms).
    this.core.flush(nowMs());
    // Nodes ring only a bell whose owner said it sleeps: without that, a reply that came
    // while this router's pump was between two of its own sleeps (yielding) would let this
    // wait run to its timeout. The pump cannot run during this wait (same thread), so its
    // own state of the bell is put back after.
    const bell = this.endpoint.bell;
    const pumpSleeping = bell.prepared;
    const seq = bell.prepare();
    try {
      if (!this.endpoint.inboxEmpty()) return true;
      return bell.sleep(seq, timeoutMs) !== 'timed-out';
    } finally {
      if (!pumpSleeping) bell.done();
    }
  }

  /** Requests queued in one turn of the caller go out together, at the end of the turn. */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.core.flush(nowMs());
    });
  }

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    // Holds the thread alive while requests are outstanding (waitAsync does not).
    const keepAlive = setInterval(() => {}, 1 << 30);
    let lastYield = nowMs();
    try {
      while (this.core.outstandingCount > 0 && !this.core.isClosed) {
        this.followNodeStates();
        let now = nowMs();
        this.core.flush(now);
        let received = 0;
        for (const node of this.endpoint.peers) {
          received += readEnvelopes(this.endpoint.from(node), (envelope) => this.receive(envelope, now));
        }
        now = nowMs();
        this.core.tick(now);
        this.core.flush(now);
        if (received > 0) {
          // Let the callers' continuations run (they may send more) before draining again.
          if (now - lastYield >= PUMP_YIELD_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            lastYield = nowMs();
          } else {
            await Promise.resolve();
          }
          continue;
        }
        const seq = this.endpoint.bell.prepare();
        if (this.endpoint.inboxEmpty() && this.core.outstandingCount > 0) {
          await this.endpoint.bell.sleepAsync(seq, this.sleepBudget(now));
        }
        this.endpoint.bell.done();
        lastYield = nowMs();
      }
    } finally {
      clearInterval(keepAlive);
      this.pumping = false;
    }
    if (this.core.outstandingCount > 0 && !this.core.isClosed) this.startPump();
  }

  private sleepBudget(now: number): number {
    let wake = Math.min(now + PUMP_SLEEP_MS, this.core.nextTimerAt());
    if (this.core.queuedTotal > 0) wake = Math.min(wake, now + RING_FULL_RETRY_MS);
    return Math.max(0, wake - now);
  }

  private receive(envelope: Envelope, now: number): void {
    if (envelope.k !== 'rep') return;
    for (const reply of envelope.reps) this.core.onReply(reply, now);
  }
}
