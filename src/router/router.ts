/**
 * A request router: one per thread that sends requests (the main thread's, and one per
 * benchmark client thread), with its own rings to every storage node and its own cache of
 * leaders. It batches requests per node into one ring record per flush, and follows
 * redirects: `notLeader` (try the hinted leader, or the next replica), `notReady` (a new
 * leader waiting out the old lease: wait and retry), `noGroup` (stale map: re-read it),
 * `busy` (back off). Requests that get no answer in time are retried where that is safe
 * (reads, redirects) and failed as retryable server errors where it is not (a write whose
 * outcome is unknown), as DynamoDB does.
 *
 * The main thread never blocks: it awaits replies with `Atomics.waitAsync` on its doorbell.
 * A pending waitAsync does not keep a Node thread alive, so a ref'd timer is held while
 * requests are outstanding, and released after, so that a process can exit on its own.
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBError } from '../model/errors.js';
import type { DynamoDBErrorName } from '../model/errors.js';
import { writeBatched } from '../transport/codec.js';
import type { Endpoint } from '../transport/fabric.js';
import { envelopeToWire, readEnvelopes, type Envelope, type ReplyMessage, type RequestMessage } from '../transport/protocol.js';

/** Where a request goes: the group's leader, any replica (eventually consistent reads), or
 *  one node (control operations). */
export type Target =
  | { mode: 'leader'; group: number; replicas: number[] }
  | { mode: 'any'; group: number; replicas: number[] }
  | { mode: 'node'; group: number; node: number };

export interface RouterOptions {
  /** How long one attempt waits for its reply before it counts as lost (ms). */
  attemptTimeoutMs: number;
  /** How long a request may take in all, redirects and retries included (ms). */
  deadlineMs: number;
}

export const DEFAULT_ROUTER_OPTIONS: RouterOptions = { attemptTimeoutMs: 2000, deadlineMs: 10_000 };

/** Most requests outstanding on one router; past it, `request` fails fast (retryable). */
export const MAX_OUTSTANDING_REQUESTS = 65_536;
/** Most requests in one ring record. */
const MAX_BATCH = 256;
/** Back-off between retries of a redirected request: doubles from min to max (ms). */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 50;
/** Longest the pump sleeps before it looks at timeouts again (ms). */
const PUMP_SLEEP_MS = 10;
/** The pump yields to other macrotasks (I/O, timers) at least this often (ms). */
const PUMP_YIELD_MS = 5;

interface Outstanding {
  id: number;
  target: Target;
  body: unknown;
  /** Safe to send again when no answer came: reads and control requests. */
  idempotent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  node: number;
  attempts: number;
  sentAtMs: number;
  /** When waiting to be re-sent: not before this time. */
  retryAtMs: number;
  deadlineMs: number;
  inFlight: boolean;
}

export interface RouterCounters {
  requests: number;
  redirects: number;
  timeouts: number;
  retries: number;
}

export class Router {
  readonly counters: RouterCounters = { requests: 0, redirects: 0, timeouts: 0, retries: 0 };
  private readonly options: RouterOptions;
  private readonly outstanding = new Map<number, Outstanding>();
  private readonly outbox = new Map<number, RequestMessage[]>();
  private readonly waitingRetry = new Set<Outstanding>();
  private readonly leaders = new Map<number, number>();
  /** Per group, the replica (index) to try first while its leader is unknown: moved past a
   *  node that left an attempt unanswered, so that new requests do not all wait on one
   *  silent node (paused, cut off) while another replica leads. */
  private readonly searchFrom = new Map<number, number>();
  private readonly downNodes = new Set<number>();
  private nextId = 1;
  private anyCursor = 0;
  private flushScheduled = false;
  private pumping = false;
  private closed = false;

  constructor(private readonly endpoint: Endpoint, options: Partial<RouterOptions> = {}) {
    this.options = { ...DEFAULT_ROUTER_OPTIONS, ...options };
  }

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  /** The router's current guess of a group's leader. */
  leaderOf(group: number): number | undefined {
    return this.leaders.get(group);
  }

  request(target: Target, body: unknown, idempotent: boolean): Promise<unknown> {
    if (this.closed) return Promise.reject(new DynamoDBError('ServiceUnavailable', 'The database is closed.'));
    if (this.outstanding.size >= MAX_OUTSTANDING_REQUESTS) {
      return Promise.reject(new DynamoDBError('RequestLimitExceeded', `Too many requests in flight on this router (${MAX_OUTSTANDING_REQUESTS}); retry later.`));
    }
    this.counters.requests++;
    return new Promise((resolve, reject) => {
      const now = performance.now();
      const request: Outstanding = {
        id: this.nextId++, target, body, idempotent, resolve, reject,
        node: this.chooseNode(target, 0), attempts: 0, sentAtMs: now, retryAtMs: 0,
        deadlineMs: now + this.options.deadlineMs, inFlight: false,
      };
      this.outstanding.set(request.id, request);
      this.send(request, now);
      this.startPump();
    });
  }

  /** Requests sent to `node` and not answered yet. */
  inFlightTo(node: number): number {
    let n = 0;
    for (const request of this.outstanding.values()) if (request.inFlight && request.node === node) n++;
    return n;
  }

  /** The control plane saw `node` die: fail or move what waits on it now, not at timeout. */
  nodeDown(node: number): void {
    // Answers it wrote before it stopped are answers: take them first.
    readEnvelopes(this.endpoint.from(node), (envelope) => this.receive(envelope));
    this.downNodes.add(node);
    // Requests not yet written to its ring never reach it: a restarted node must not
    // apply a write its caller was told had an unknown outcome long before.
    this.outbox.delete(node);
    for (const request of this.outstanding.values()) {
      if (request.inFlight && request.node === node) this.lost(request, performance.now(), `node ${node} stopped`);
    }
  }

  nodeUp(node: number): void {
    this.downNodes.delete(node);
  }

  /** Fails everything outstanding; later requests fail at once. */
  close(): void {
    this.closed = true;
    for (const request of this.outstanding.values()) {
      request.reject(new DynamoDBError('ServiceUnavailable', 'The database was closed before the request completed.'));
    }
    this.outstanding.clear();
    this.waitingRetry.clear();
    this.outbox.clear();
  }

  private chooseNode(target: Target, attempt: number): number {
    if (target.mode === 'node') return target.node;
    // A node about to stop on purpose (fabric's draining flag, seen by every router) gets
    // nothing new while another replica can serve; what is in flight there is answered.
    const usable = (n: number): boolean => !this.downNodes.has(n) && !this.endpoint.isDraining(n);
    const live = target.replicas.filter(usable);
    const candidates = live.length > 0 ? live : target.replicas;
    if (target.mode === 'any') return candidates[(this.anyCursor++ + attempt) % candidates.length];
    const leader = this.leaders.get(target.group);
    if (leader !== undefined && usable(leader)) return leader;
    return candidates[((this.searchFrom.get(target.group) ?? 0) + attempt) % candidates.length];
  }

  private send(request: Outstanding, now: number): void {
    request.attempts++;
    request.inFlight = true;
    request.sentAtMs = now;
    let queue = this.outbox.get(request.node);
    if (queue === undefined) {
      queue = [];
      this.outbox.set(request.node, queue);
    }
    queue.push({ id: request.id, group: request.target.group, body: request.body });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Writes each node's queued requests as few ring records as fit; what does not fit
   *  stays queued for the pump's next turn. */
  private flush(): void {
    for (const [node, queue] of this.outbox) {
      if (queue.length === 0) continue;
      const version = this.endpoint.sendVersion;
      const wrap = (reqs: RequestMessage[]): unknown => envelopeToWire({ k: 'req', from: this.endpoint.id, reqs }, version);
      const sent = writeBatched(this.endpoint.to(node), queue, wrap, MAX_BATCH, (tooLarge) => {
        const request = this.outstanding.get(tooLarge.id);
        if (request === undefined) return;
        this.finish(request);
        request.reject(new DynamoDBError('ValidationException', 'The request is larger than the transport can carry.'));
      }, version);
      if (sent > 0) {
        queue.splice(0, sent);
        this.endpoint.wake(node);
      }
    }
  }

  private outboxEmpty(): boolean {
    for (const queue of this.outbox.values()) if (queue.length > 0) return false;
    return true;
  }

  /**
   * Blocks this thread until a reply may have arrived or `timeoutMs` passes. Only for a
   * worker thread that paces requests more finely than timers can (a load generator):
   * timers fire up to a millisecond late, this wakes within microseconds of a reply.
   * True when a reply may have arrived (the caller should let the event loop turn).
   */
  waitForReplies(timeoutMs: number): boolean {
    const seq = this.endpoint.bell.seq;
    if (!this.endpoint.inboxEmpty()) return true;
    return this.endpoint.bell.sleep(seq, timeoutMs) !== 'timed-out';
  }

  private startPump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    // Holds the thread alive while requests are outstanding (waitAsync does not).
    const keepAlive = setInterval(() => {}, 1 << 30);
    let lastYield = performance.now();
    try {
      while (this.outstanding.size > 0 && !this.closed) {
        if (!this.outboxEmpty()) this.flush();
        let received = 0;
        for (const node of this.endpoint.peers) {
          received += readEnvelopes(this.endpoint.from(node), (envelope) => this.receive(envelope));
        }
        const now = performance.now();
        this.checkTimers(now);
        if (received > 0) {
          // Let the callers' continuations run (they may send more) before draining again.
          if (now - lastYield >= PUMP_YIELD_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            lastYield = performance.now();
          } else {
            await Promise.resolve();
          }
          continue;
        }
        const seq = this.endpoint.bell.prepare();
        if (this.endpoint.inboxEmpty() && this.outstanding.size > 0) {
          await this.endpoint.bell.sleepAsync(seq, this.sleepBudget(now));
        }
        this.endpoint.bell.done();
        lastYield = performance.now();
      }
    } finally {
      clearInterval(keepAlive);
      this.pumping = false;
    }
    if (this.outstanding.size > 0 && !this.closed) this.startPump();
  }

  private sleepBudget(now: number): number {
    let wake = now + PUMP_SLEEP_MS;
    for (const request of this.waitingRetry) wake = Math.min(wake, request.retryAtMs);
    if (!this.outboxEmpty()) wake = Math.min(wake, now + RETRY_MIN_MS);
    return Math.max(0, wake - now);
  }

  private receive(envelope: Envelope): void {
    if (envelope.k !== 'rep') return;
    for (const reply of envelope.reps) this.onReply(reply);
  }

  private onReply(reply: ReplyMessage): void {
    const request = this.outstanding.get(reply.id);
    // A reply to an attempt already given up on (timed out and re-sent) is stale.
    if (request === undefined || !request.inFlight) return;
    request.inFlight = false;
    if (reply.redirect === undefined) {
      if (request.target.mode === 'leader') this.leaders.set(request.target.group, request.node);
      this.finish(request);
      if (reply.error !== undefined) {
        request.reject(new DynamoDBError(reply.error.name as DynamoDBErrorName, reply.error.message));
      } else {
        request.resolve(reply.body);
      }
      return;
    }
    this.counters.redirects++;
    const now = performance.now();
    switch (reply.redirect) {
      case 'notLeader':
        if (reply.leader !== undefined && reply.leader !== request.node) {
          this.leaders.set(request.target.group, reply.leader);
          // Follow a hint at once, but back off if hints keep bouncing (stale during an election).
          return this.retry(request, now, request.attempts > 3 ? this.backoff(request) : 0, reply.leader);
        }
        this.leaders.delete(request.target.group);
        return this.retry(request, now, this.backoff(request), undefined);
      case 'notReady':
      case 'busy':
        return this.retry(request, now, this.backoff(request), request.node);
      case 'noGroup':
        return this.retry(request, now, this.backoff(request), undefined);
    }
  }

  private backoff(request: Outstanding): number {
    return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(request.attempts, 10));
  }

  /** Re-send after `delayMs`, to `node` or a newly chosen one; give up at the deadline. */
  private retry(request: Outstanding, now: number, delayMs: number, node: number | undefined): void {
    if (now + delayMs >= request.deadlineMs) {
      this.finish(request);
      request.reject(new DynamoDBError('ServiceUnavailable',
        `No replica of partition group ${request.target.group} could serve the request within ${this.options.deadlineMs} ms (a leader election may be in progress); retry.`));
      return;
    }
    this.counters.retries++;
    // A hint may name a node that is stopping (a stale leader hint): choose another then.
    request.node = node !== undefined && !this.endpoint.isDraining(node) ? node : this.chooseNode(request.target, request.attempts);
    if (delayMs <= 0) {
      this.send(request, now);
    } else {
      request.retryAtMs = now + delayMs;
      this.waitingRetry.add(request);
    }
  }

  private checkTimers(now: number): void {
    for (const request of this.waitingRetry) {
      if (request.retryAtMs <= now) {
        this.waitingRetry.delete(request);
        if (this.outstanding.has(request.id)) this.send(request, now);
      }
    }
    for (const request of this.outstanding.values()) {
      if (request.inFlight && now - request.sentAtMs >= this.options.attemptTimeoutMs) {
        this.counters.timeouts++;
        this.lost(request, now, `no reply from node ${request.node} within ${this.options.attemptTimeoutMs} ms`);
      }
    }
  }

  /** An attempt got no answer: retry what is safe to repeat, fail the rest as unknown. */
  private lost(request: Outstanding, now: number, why: string): void {
    request.inFlight = false;
    if (request.target.mode === 'leader') {
      this.leaders.delete(request.target.group);
      this.searchFrom.set(request.target.group, request.target.replicas.indexOf(request.node) + 1);
    }
    if (request.idempotent) {
      this.retry(request, now, 0, this.chooseNode(request.target, request.attempts));
      return;
    }
    this.finish(request);
    request.reject(new DynamoDBError('InternalServerError',
      `The outcome of the write is unknown (${why}); it may or may not have been applied. Retry if the write is idempotent.`));
  }

  private finish(request: Outstanding): void {
    this.outstanding.delete(request.id);
    this.waitingRetry.delete(request);
  }
}
