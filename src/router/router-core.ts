/**
 * The request router's logic as a sans-I/O state machine, like `ReplicaCore`: it keeps
 * the requests outstanding, the leader cache, per-node queues, retries and timers, and it
 * never reads a clock, starts a timer or touches a ring itself. Time comes in as `nowMs`
 * arguments; ring writes go through a `RouterTransport`; answers leave through each
 * request's callbacks. `Router` (router.ts) drives it on a real thread; the simulator
 * drives the same class over simulated rings and time.
 *
 * A request's life: `request` queues it for its node → `flush` writes the node's queue to
 * its ring (as much as fits) and starts the attempt's timer there, not before: waiting
 * for ring space is queueing, not a lost reply → `onReply` answers it, or follows a
 * redirect (`notLeader`: the hinted leader or the next replica; `notReady`/`busy`: wait
 * and retry; `noGroup`: re-choose) → `tick` re-sends what waited out its back-off and
 * gives up on attempts that got no answer: a read is retried elsewhere, a write has an
 * unknown outcome (it may have applied), as DynamoDB says with InternalServerError.
 *
 * Backpressure: each node's queue of requests not yet in its ring is bounded. When it is
 * full, a new request fails at once with `ThrottlingException`: retryable, and certain
 * not to have been applied, since it never left this router.
 */
import { DynamoDBError } from '../model/errors.js';
import type { DynamoDBErrorName } from '../model/errors.js';
import type { ReplyMessage, RequestMessage } from '../transport/protocol.js';
import { LatencyTracker, stagesOf, type RequestTiming } from './latency.js';

/** Where a request goes: the group's leader, any replica (eventually consistent reads), or
 *  one node (control operations). */
export type Target =
  | { mode: 'leader'; group: number; replicas: number[]; reroute?: Reroute }
  | { mode: 'any'; group: number; replicas: number[]; reroute?: Reroute }
  | { mode: 'node'; group: number; node: number };

/** Where the request's key lives per the partition map as the router sees it now: asked
 *  again when a node answers `wrongPartition` or `noGroup` (a split or a dropped group), so
 *  that the request follows the new map. Reads the map only (no I/O, no clock). */
export type Reroute = () => { group: number; replicas: number[] } | undefined;

export interface RouterOptions {
  /** How long one attempt waits for its reply, from when it entered the node's ring, before
   *  it counts as lost (ms). */
  attemptTimeoutMs: number;
  /** How long a request may take in all, queueing, redirects and retries included (ms). */
  deadlineMs: number;
}

export const DEFAULT_ROUTER_OPTIONS: RouterOptions = { attemptTimeoutMs: 2000, deadlineMs: 10_000 };

/** Most requests outstanding on one router; past it, `request` fails fast (retryable). */
export const MAX_OUTSTANDING_REQUESTS = 65_536;
/** Most requests waiting for ring space to one node. Past it a new request is throttled:
 *  a queue this long already means tens of milliseconds of waiting at a busy node, and a
 *  longer one would only turn load into latency (and, past the timeout, into unknowns). */
export const MAX_QUEUED_PER_NODE = 1024;
/** Most requests one router has in a node's ring or at the node at once; the rest wait
 *  in the router's queue for that node. The node takes its whole ring each round, so this
 *  bounds the work a router's requests can pile up there: whatever is in flight finishes
 *  well within an attempt's timeout even on a starved machine, and a timeout keeps
 *  meaning a lost reply, not a long queue. Above a client thread's closed-loop window
 *  (512 over all nodes), so a healthy run never waits on it. */
export const MAX_IN_FLIGHT_PER_NODE = 512;
/** The same window in bytes of request bodies (as the caller sized them): a node's cost is
 *  its bytes to replicate and persist, so fewer large writes are let in at once. */
export const MAX_IN_FLIGHT_BYTES_PER_NODE = 1 << 20;
/** Most requests in one ring record. A node's queue is written to its ring as soon as it
 *  holds this many, without waiting for the end of the caller's turn. */
export const MAX_BATCH = 256;
/** Back-off between retries of a redirected request: doubles from min to max (ms). */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 50;

/** How the core reaches the nodes: the real rings (router.ts) or the simulator's. */
export interface RouterTransport {
  /** This router's endpoint id (the nodes reply to it). */
  readonly id: number;
  /** Writes as many of `requests`, in order, to `node`'s inbound ring as fit now, in as few
   *  records as possible; returns how many. A request too large for any record is handed
   *  to `onTooLarge` and counts as written. */
  write(node: number, requests: readonly RequestMessage[], onTooLarge: (request: RequestMessage) => void): number;
  /** Rings `node`'s doorbell after writes. */
  wake(node: number): void;
  /** The node is about to stop on purpose: send it nothing new that another can serve. */
  isDraining(node: number): boolean;
}

/**
 * Test-only: one known bug, switched on at the exact decision point in RouterCore where it
 * would live, so the simulator can show its checkers catch it (test/sim/mutations.test.ts).
 * Never set in production (`Router` passes none).
 */
export type RouterMutation =
  /** A write whose attempt got no answer is re-sent like a read, instead of failing as an
   *  unknown outcome: it may apply twice. */
  'retryLostWrite';

export const ROUTER_MUTATIONS: readonly RouterMutation[] = ['retryLostWrite'];

export interface RequestCallbacks {
  resolve: (value: unknown) => void;
  reject: (error: DynamoDBError) => void;
  /** Called with the request's stages just before `resolve`/`reject` when a node answered
   *  it with a trace. */
  onTiming?: (timing: RequestTiming) => void;
}

type State =
  /** In its node's queue, not yet in the ring: certainly not applied. */
  | 'queued'
  /** In the ring or at the node: the attempt's timer runs. */
  | 'inFlight'
  /** Redirected: waits out its back-off before it is queued again. */
  | 'backoff';

interface Outstanding {
  readonly id: number;
  /** Changed only by a reroute (the partition map moved the key to another group). */
  target: Target;
  readonly body: unknown;
  /** Safe to send again when no answer came: reads and control requests. */
  readonly idempotent: boolean;
  readonly callbacks: RequestCallbacks;
  readonly deadlineMs: number;
  /** Its body's size as the caller gave it (the write's log entry), for the byte window. */
  readonly bytes: number;
  state: State;
  node: number;
  attempts: number;
  /** When the current state began (ms): queued since, in the ring since, backing off since. */
  sinceMs: number;
  /** When the router accepted it, and when its latest attempt was queued (ms). */
  readonly acceptedAtMs: number;
  queuedAtMs: number;
  /** With 'backoff': not before this time. */
  retryAtMs: number;
  /** The node's last answer was 'busy' (its group's pipeline was full). */
  busy: boolean;
  /** The id its current attempt went out with: every attempt has its own, so a late reply
   *  to an earlier attempt (timed out, or redirected and re-sent) is known to be stale. */
  wireId: number;
}

export interface RouterCounters {
  requests: number;
  redirects: number;
  timeouts: number;
  retries: number;
  /** Requests refused because their node's queue was full (ThrottlingException). */
  throttled: number;
}

export class RouterCore {
  readonly counters: RouterCounters = { requests: 0, redirects: 0, timeouts: 0, retries: 0, throttled: 0 };
  readonly options: RouterOptions;
  /** Where answered requests spent their time, stage by stage (see latency.ts). */
  readonly latency = new LatencyTracker();
  private readonly outstanding = new Map<number, Outstanding>();
  /** Requests in flight by the id of their current attempt. */
  private readonly attempts = new Map<number, Outstanding>();
  /** Per node, requests not yet written to its ring, oldest first. */
  private readonly queues = new Map<number, Outstanding[]>();
  private readonly backingOff = new Set<Outstanding>();
  private readonly leaders = new Map<number, number>();
  /** Per group, the replica (index) to try first while its leader is unknown: moved past a
   *  node that left an attempt unanswered, so that new requests do not all wait on one
   *  silent node (paused, cut off) while another replica leads. */
  private readonly searchFrom = new Map<number, number>();
  private readonly downNodes = new Set<number>();
  /** Per node, this router's requests in its ring or at it (state 'inFlight'), and their bytes. */
  private readonly inFlightByNode = new Map<number, { count: number; bytes: number }>();
  /** Per node, when it last answered anything or took a request from a full ring (ms). */
  private readonly lastProgressMs = new Map<number, number>();
  private nextId = 1;
  private anyCursor = 0;
  private closed = false;

  constructor(private readonly transport: RouterTransport, options: Partial<RouterOptions> = {}, private readonly mutation?: RouterMutation) {
    this.options = { ...DEFAULT_ROUTER_OPTIONS, ...options };
  }

  get outstandingCount(): number {
    return this.outstanding.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The router's current guess of a group's leader. */
  leaderOf(group: number): number | undefined {
    return this.leaders.get(group);
  }

  /** Requests in `node`'s ring or at the node, not answered yet. */
  inFlightTo(node: number): number {
    return this.inFlightByNode.get(node)?.count ?? 0;
  }

  private window(node: number): { count: number; bytes: number } {
    let window = this.inFlightByNode.get(node);
    if (window === undefined) {
      window = { count: 0, bytes: 0 };
      this.inFlightByNode.set(node, window);
    }
    return window;
  }

  /** Requests waiting for ring space, to every node. */
  get queuedTotal(): number {
    let n = 0;
    for (const queue of this.queues.values()) n += queue.length;
    return n;
  }

  /** Requests waiting for ring space to `node`. */
  queuedFor(node: number): number {
    return this.queues.get(node)?.length ?? 0;
  }

  /**
   * Accepts a request; its callbacks are called exactly once, possibly before this returns
   * (a closed or overloaded router refuses at once). The caller calls `flush` before its
   * turn ends (a full batch is written at once). `bytes` is the body's size where it is
   * large (a write's entry); small requests may leave it 0.
   */
  request(target: Target, body: unknown, idempotent: boolean, nowMs: number, callbacks: RequestCallbacks, bytes = 0): void {
    if (this.closed) return callbacks.reject(new DynamoDBError('ServiceUnavailable', 'The database is closed.'));
    if (this.outstanding.size >= MAX_OUTSTANDING_REQUESTS) {
      return callbacks.reject(new DynamoDBError('RequestLimitExceeded', `Too many requests in flight on this router (${MAX_OUTSTANDING_REQUESTS}); retry later.`));
    }
    this.counters.requests++;
    const request: Outstanding = {
      id: this.nextId++, target, body, idempotent, callbacks, deadlineMs: nowMs + this.options.deadlineMs, bytes,
      state: 'queued', node: this.chooseNode(target, 0), attempts: 0, sinceMs: nowMs, retryAtMs: 0,
      acceptedAtMs: nowMs, queuedAtMs: nowMs, busy: false, wireId: 0,
    };
    this.outstanding.set(request.id, request);
    this.enqueue(request, nowMs);
  }

  /** Writes every node's queue to its ring, as much as fits; what does not stays queued. */
  flush(nowMs: number): void {
    for (const [node, queue] of this.queues) if (queue.length > 0) this.flushNode(node, queue, nowMs);
  }

  onReply(reply: ReplyMessage, nowMs: number): void {
    const request = this.attempts.get(reply.id);
    // A reply to an attempt already given up on (timed out, or the request failed) is stale.
    if (request === undefined || request.state !== 'inFlight' || request.wireId !== reply.id) return;
    this.landed(request);
    this.lastProgressMs.set(request.node, nowMs);
    if (reply.redirect === undefined) {
      if (request.target.mode === 'leader') this.leaders.set(request.target.group, request.node);
      this.finish(request);
      if (request.target.mode !== 'node') {
        const stamps = { acceptedAtMs: request.acceptedAtMs, queuedAtMs: request.queuedAtMs, sentAtMs: request.sinceMs, receivedAtMs: nowMs };
        const timing = stagesOf(request.idempotent ? 'read' : 'write', stamps, reply.trace);
        if (timing !== undefined) {
          this.latency.record(timing);
          request.callbacks.onTiming?.(timing);
        }
      }
      if (reply.error !== undefined) {
        request.callbacks.reject(new DynamoDBError(reply.error.name as DynamoDBErrorName, reply.error.message));
      } else {
        request.callbacks.resolve(reply.body);
      }
      return;
    }
    this.counters.redirects++;
    request.busy = reply.redirect === 'busy';
    switch (reply.redirect) {
      case 'notLeader':
        if (reply.leader !== undefined && reply.leader !== request.node) {
          this.leaders.set(request.target.group, reply.leader);
          // Follow a hint at once, but back off if hints keep bouncing (stale during an election).
          return this.retry(request, nowMs, request.attempts > 3 ? this.backoff(request) : 0, reply.leader);
        }
        this.leaders.delete(request.target.group);
        return this.retry(request, nowMs, this.backoff(request), undefined);
      case 'notReady':
      case 'busy':
        return this.retry(request, nowMs, this.backoff(request), request.node);
      case 'noGroup':
      case 'wrongPartition':
        // Never applied there: follow the map if it moved the key already, else wait for it.
        if (this.rerouted(request)) return this.retry(request, nowMs, 0, undefined);
        return this.retry(request, nowMs, this.backoff(request), undefined);
    }
  }

  /**
   * Timers: re-queues what waited out its back-off, gives up on attempts with no answer
   * within `attemptTimeoutMs` of entering the ring, moves requests stuck behind a node's
   * full ring to another replica, and fails what passed its deadline. Call `flush` after.
   */
  tick(nowMs: number): void {
    for (const request of this.backingOff) {
      if (request.retryAtMs > nowMs) continue;
      this.backingOff.delete(request);
      this.enqueue(request, nowMs);
    }
    for (const request of this.outstanding.values()) {
      if (request.state === 'inFlight' && nowMs - request.sinceMs >= this.options.attemptTimeoutMs) {
        this.counters.timeouts++;
        this.lost(request, nowMs, `no reply from node ${request.node} within ${this.options.attemptTimeoutMs} ms`);
      }
    }
    for (const [node, queue] of this.queues) {
      if (queue.length === 0) continue;
      const waitedMs = nowMs - Math.max(queue[0].sinceMs, this.lastProgressMs.get(node) ?? -Infinity);
      // The node has answered nothing and taken nothing for a whole attempt timeout
      // (paused, wedged): what never reached it may go anywhere, writes included.
      if (waitedMs >= this.options.attemptTimeoutMs) this.moveQueued(node, nowMs);
    }
  }

  /** Sends what waits for `node` (never sent, so safe to send anywhere) elsewhere. */
  private moveQueued(node: number, nowMs: number): void {
    const stuck = this.queues.get(node)?.splice(0) ?? [];
    for (const request of stuck) {
      this.forgetLeader(request, node);
      this.retry(request, nowMs, 0, this.chooseNode(request.target, 0));
    }
  }

  /** When `tick` next has something to do, at the latest (ms); Infinity when nothing waits. */
  nextTimerAt(): number {
    let at = Infinity;
    for (const request of this.backingOff) at = Math.min(at, request.retryAtMs);
    for (const request of this.outstanding.values()) {
      if (request.state !== 'backoff') at = Math.min(at, request.sinceMs + this.options.attemptTimeoutMs);
    }
    return at;
  }

  /** The control plane saw `node` die: fail or move what waits on it now, not at timeout.
   *  Call after taking the node's last replies (answers it wrote before it stopped). */
  nodeDown(node: number, nowMs: number): void {
    this.downNodes.add(node);
    // Requests not yet in its ring never reach it (a restarted node must not apply a write
    // its caller was told had an unknown outcome long before): they go elsewhere.
    this.moveQueued(node, nowMs);
    for (const request of this.outstanding.values()) {
      if (request.state === 'inFlight' && request.node === node) this.lost(request, nowMs, `node ${node} stopped`);
    }
  }

  nodeUp(node: number): void {
    this.downNodes.delete(node);
  }

  /** Whether this router treats `node` as dead (nodeDown, not nodeUp since). */
  isDown(node: number): boolean {
    return this.downNodes.has(node);
  }

  /** Fails everything outstanding; later requests fail at once. */
  close(): void {
    this.closed = true;
    const all = [...this.outstanding.values()];
    this.outstanding.clear();
    this.attempts.clear();
    this.backingOff.clear();
    this.queues.clear();
    this.inFlightByNode.clear();
    for (const request of all) {
      request.callbacks.reject(new DynamoDBError('ServiceUnavailable', 'The database was closed before the request completed.'));
    }
  }

  private chooseNode(target: Target, attempt: number): number {
    if (target.mode === 'node') return target.node;
    // A node about to stop on purpose (seen by every router) gets nothing new while
    // another replica can serve; what is in flight there is answered.
    const usable = (n: number): boolean => !this.downNodes.has(n) && !this.transport.isDraining(n);
    const live = target.replicas.filter(usable);
    const candidates = live.length > 0 ? live : target.replicas;
    if (target.mode === 'any') return candidates[(this.anyCursor++ + attempt) % candidates.length];
    const leader = this.leaders.get(target.group);
    if (leader !== undefined && usable(leader)) return leader;
    return candidates[((this.searchFrom.get(target.group) ?? 0) + attempt) % candidates.length];
  }

  /** Puts a request (new, or re-sent) in its node's queue; throttles it when that is full. */
  private enqueue(request: Outstanding, nowMs: number): void {
    let queue = this.queues.get(request.node);
    if (queue === undefined) {
      queue = [];
      this.queues.set(request.node, queue);
    }
    if (queue.length >= MAX_QUEUED_PER_NODE) {
      this.counters.throttled++;
      this.finish(request);
      request.callbacks.reject(new DynamoDBError('ThrottlingException',
        `Node ${request.node} has ${MAX_QUEUED_PER_NODE} requests waiting for it on this router; the request was not applied. Retry with backoff.`));
      return;
    }
    request.state = 'queued';
    request.sinceMs = nowMs;
    request.queuedAtMs = nowMs;
    queue.push(request);
    if (queue.length >= MAX_BATCH) this.flushNode(request.node, queue, nowMs);
  }

  private flushNode(node: number, queue: Outstanding[], nowMs: number): void {
    const window = this.window(node);
    const messages: RequestMessage[] = [];
    let bytes = window.bytes;
    for (const request of queue) {
      if (window.count + messages.length >= MAX_IN_FLIGHT_PER_NODE) break;
      // One request always goes when nothing is in flight, however large.
      if (bytes + request.bytes > MAX_IN_FLIGHT_BYTES_PER_NODE && window.count + messages.length > 0) break;
      bytes += request.bytes;
      request.wireId = this.nextId++;
      messages.push({ id: request.wireId, group: request.target.group, body: request.body });
    }
    if (messages.length === 0) return;
    const written = this.transport.write(node, messages, (tooLarge) => {
      const request = queue.find((r) => r.wireId === tooLarge.id);
      if (request === undefined || !this.outstanding.has(request.id)) return;
      this.finish(request);
      request.callbacks.reject(new DynamoDBError('ValidationException', 'The request is larger than the transport can carry.'));
    });
    if (written === 0) return;
    const sent = queue.splice(0, written);
    for (const request of sent) {
      if (!this.outstanding.has(request.id)) continue;
      this.attempts.set(request.wireId, request);
      request.state = 'inFlight';
      request.attempts++;
      request.sinceMs = nowMs;
      window.count++;
      window.bytes += request.bytes;
    }
    // The ring had room: the node is taking what it is sent.
    this.lastProgressMs.set(node, nowMs);
    this.transport.wake(node);
  }

  private backoff(request: Outstanding): number {
    return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(request.attempts, 10));
  }

  /** Re-send after `delayMs`, to `node` or a newly chosen one; give up at the deadline. */
  private retry(request: Outstanding, nowMs: number, delayMs: number, node: number | undefined): void {
    if (nowMs + delayMs >= request.deadlineMs) {
      this.finish(request);
      if (request.busy) {
        // Overload, not unavailability: the node kept refusing it for want of room.
        this.counters.throttled++;
        request.callbacks.reject(new DynamoDBError('ThrottlingException',
          `Partition group ${request.target.group} stayed too busy to take the request within ${this.options.deadlineMs} ms; the request was not applied. Retry with backoff.`));
        return;
      }
      request.callbacks.reject(new DynamoDBError('ServiceUnavailable',
        `No replica of partition group ${request.target.group} could serve the request within ${this.options.deadlineMs} ms (a leader election may be in progress); retry.`));
      return;
    }
    this.counters.retries++;
    // A hint may name a node that is stopping or dead (a stale leader hint from a follower
    // that has not noticed yet): choose another then.
    request.node = node !== undefined && !this.transport.isDraining(node) && !this.downNodes.has(node) ? node : this.chooseNode(request.target, request.attempts);
    if (delayMs <= 0) {
      this.enqueue(request, nowMs);
    } else {
      request.state = 'backoff';
      request.sinceMs = nowMs;
      request.retryAtMs = nowMs + delayMs;
      this.backingOff.add(request);
    }
  }

  /** Asks the request's target where its key lives now; true when that is another group. */
  private rerouted(request: Outstanding): boolean {
    const target = request.target;
    if (target.mode === 'node' || target.reroute === undefined) return false;
    const now = target.reroute();
    if (now === undefined || now.group === target.group) return false;
    request.target = { ...target, group: now.group, replicas: now.replicas };
    return true;
  }

  private forgetLeader(request: Outstanding, node: number): void {
    if (request.target.mode !== 'leader') return;
    if (this.leaders.get(request.target.group) === node) this.leaders.delete(request.target.group);
    this.searchFrom.set(request.target.group, request.target.replicas.indexOf(node) + 1);
  }

  /** An attempt ended (answered or given up on): its node has room for one more. */
  private landed(request: Outstanding): void {
    this.attempts.delete(request.wireId);
    const window = this.window(request.node);
    window.count--;
    window.bytes -= request.bytes;
  }

  /** An attempt got no answer: retry what is safe to repeat, fail the rest as unknown.
   *  What still waits for that node is sent elsewhere (it was never sent). */
  private lost(request: Outstanding, nowMs: number, why: string): void {
    this.landed(request);
    this.forgetLeader(request, request.node);
    if (request.target.mode === 'leader') this.moveQueued(request.node, nowMs);
    if (request.idempotent || this.mutation === 'retryLostWrite') {
      // The search has moved past the silent node (leader) or the cursor on (any replica).
      this.retry(request, nowMs, 0, this.chooseNode(request.target, 0));
      return;
    }
    this.finish(request);
    request.callbacks.reject(new DynamoDBError('InternalServerError',
      `The outcome of the write is unknown (${why}); it may or may not have been applied. Retry if the write is idempotent.`));
  }

  private finish(request: Outstanding): void {
    this.outstanding.delete(request.id);
    this.backingOff.delete(request);
  }
}
