/**
 * Latency attribution: where each request's time went, stage by stage, from the moment the
 * router accepted it to the moment it read the reply. The router stamps its own stages;
 * the node stamps its stages into the reply's trace (`ReplyTrace`); both use one clock (see
 * protocol.ts), so the stages of a request are consecutive intervals that add up to its
 * total exactly. Always on: a reply costs ~150-200 ns of stage arithmetic and counting
 * (`npm run bench:micro -- attribution`).
 *
 * Stages, in order (a read has `read` where a write has `replicate` and `apply`):
 *  - retry: earlier attempts of a redirected or lost request, and their back-off (0 when
 *    the first attempt was answered);
 *  - queue: waiting in the router for room in the node's ring or window;
 *  - transit: in the ring until the node's round read it (ring, wake-up, the round);
 *  - leader: at the node before work began (a strong read waits for the round's apply);
 *  - replicate: proposal to quorum commit (followers' WAL write and sync, the leader's own);
 *  - apply: commit to applied in the B-tree;
 *  - read: serving a read from the B-tree;
 *  - reply: applied or read to written to the router's ring;
 *  - return: the reply's ring transit until the router read it.
 * `walSync` (the leader's own WAL sync, which overlaps `replicate`) is kept beside them.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import { ReplyTrace } from '../transport/protocol.js';

export type RequestKind = 'read' | 'write';

export const WRITE_STAGES = ['retry', 'queue', 'transit', 'leader', 'replicate', 'apply', 'reply', 'return'] as const;
export const READ_STAGES = ['retry', 'queue', 'transit', 'leader', 'read', 'reply', 'return'] as const;
export type StageName = typeof WRITE_STAGES[number] | typeof READ_STAGES[number];
/** Not a stage: the leader's WAL sync runs during `replicate`. */
export const OVERLAP_STAGES = ['walSync'] as const;

/** Microseconds. Means add up across consecutive stages; percentiles do not. */
export interface StagePercentiles {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** One request's stages (µs), for the slowest-requests lists. */
export interface RequestTiming {
  /** 'read' or 'write' in a router; the operation (READ, UPDATE, ...) in the harness. */
  kind: string;
  /** Router-accepted to reply read (µs). */
  totalUs: number;
  /** When the router accepted it (ms, the shared clock). */
  acceptedAtMs: number;
  stages: Partial<Record<string, number>>;
}

export interface KindLatency {
  count: number;
  total: StagePercentiles;
  stages: Partial<Record<string, StagePercentiles>>;
}

export interface LatencySnapshot {
  read: KindLatency;
  write: KindLatency;
  /** The slowest requests since the last reset, slowest first. */
  slowest: RequestTiming[];
}

/** What the router knows of a request when its reply arrives (ms, the shared clock). */
export interface RouterStamps {
  acceptedAtMs: number;
  /** When its last attempt was queued. */
  queuedAtMs: number;
  /** When its last attempt was written to the ring. */
  sentAtMs: number;
  receivedAtMs: number;
}

/** A time on the shared clock (ms) in whole µs. Stages are differences of these, so the
 *  stages of a request add up to its total exactly (rounding each interval would not). */
export function msToUs(ms: number): number {
  return Math.round(ms * 1000);
}

/** The stage intervals (µs) of one answered request; undefined without a usable trace. */
export function stagesOf(kind: RequestKind, router: RouterStamps, trace: readonly number[] | undefined): RequestTiming | undefined {
  if (trace === undefined || trace.length < ReplyTrace.LENGTH) return undefined;
  // Each boundary is kept at or after the one before and within [accepted, received]:
  // threads may read the clock a few µs apart, and a stage never runs backwards.
  const start = msToUs(router.acceptedAtMs);
  const end = Math.max(start, msToUs(router.receivedAtMs));
  const queued = Math.min(end, Math.max(start, msToUs(router.queuedAtMs)));
  const sent = Math.min(end, Math.max(queued, msToUs(router.sentAtMs)));
  // The node's stages are µs after its RECEIVED (protocol.ts ReplyTrace).
  const at = msToUs(trace[ReplyTrace.RECEIVED]);
  const received = Math.min(end, Math.max(sent, at));
  const started = Math.min(end, Math.max(received, at + trace[ReplyTrace.STARTED]));
  let stages: RequestTiming['stages'];
  if (kind === 'write') {
    const committed = Math.min(end, Math.max(started, at + trace[ReplyTrace.COMMITTED]));
    const applied = Math.min(end, Math.max(committed, at + trace[ReplyTrace.APPLIED]));
    const replied = Math.min(end, Math.max(applied, at + trace[ReplyTrace.REPLIED]));
    stages = {
      retry: queued - start, queue: sent - queued, transit: received - sent, leader: started - received,
      replicate: committed - started, apply: applied - committed, reply: replied - applied, return: end - replied,
    };
    const synced = trace[ReplyTrace.SYNCED];
    if (synced !== ReplyTrace.NOT_SYNCED) stages.walSync = Math.max(0, synced - trace[ReplyTrace.STARTED]);
  } else {
    const read = Math.min(end, Math.max(started, at + trace[ReplyTrace.APPLIED]));
    const replied = Math.min(end, Math.max(read, at + trace[ReplyTrace.REPLIED]));
    stages = {
      retry: queued - start, queue: sent - queued, transit: received - sent, leader: started - received,
      read: read - started, reply: replied - read, return: end - replied,
    };
  }
  return { kind, totalUs: end - start, acceptedAtMs: router.acceptedAtMs, stages };
}

/** One hour in µs: the largest latency a histogram tracks exactly (it resizes beyond). */
const HIGHEST_US = 3_600_000_000;

function newHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
}

/*
 * Recording into an HdrHistogram-js histogram costs 60-100 ns (Math.log2 and Math.pow per
 * value), and a request records a dozen values. So values below FAST_LIMIT_US are counted
 * in a plain array laid out as the histogram's own buckets (3 significant digits from 1 µs:
 * 2048 sub-buckets, half of them per bucket after the first) and moved into the histogram
 * when it is read. The histogram ends up with the same counts, so every figure is the same.
 */
const HALF_BUCKET_BITS = 10;
const FAST_LIMIT_US = 1 << 21;
const FAST_SLOTS = (21 - HALF_BUCKET_BITS + 1) << HALF_BUCKET_BITS;

/** The slot of an integer 0 ≤ us < FAST_LIMIT_US: the histogram's counts index. */
function slotOf(us: number): number {
  const bucket = Math.max(0, 31 - Math.clz32(us) - HALF_BUCKET_BITS);
  return (bucket << HALF_BUCKET_BITS) + (us >>> bucket);
}

/** The lowest value a slot holds. */
function lowestOf(slot: number): number {
  const bucket = Math.max(0, (slot >>> HALF_BUCKET_BITS) - 1);
  return (slot - (bucket << HALF_BUCKET_BITS)) * 2 ** bucket;
}

/** One latency distribution: an HdrHistogram, with a cheap path for recording. */
class StageHistogram {
  private readonly histogram = newHistogram();
  private readonly pending = new Int32Array(FAST_SLOTS);
  /** The largest value pending (-1: none), recorded as itself on flush so that the maximum stays exact. */
  private pendingMax = -1;

  record(us: number): void {
    if (us >= 0 && us < FAST_LIMIT_US && (us | 0) === us) {
      this.pending[slotOf(us)]++;
      if (us > this.pendingMax) this.pendingMax = us;
    } else {
      this.histogram.recordValue(us);
    }
  }

  /** The histogram with everything recorded so far. */
  read(): Histogram {
    if (this.pendingMax < 0) return this.histogram;
    const pending = this.pending;
    const highestSlot = slotOf(this.pendingMax);
    pending[highestSlot]--;
    this.histogram.recordValue(this.pendingMax);
    for (let slot = 0; slot <= highestSlot; slot++) {
      if (pending[slot] === 0) continue;
      this.histogram.recordValueWithCount(lowestOf(slot), pending[slot]);
      pending[slot] = 0;
    }
    this.pendingMax = -1;
    return this.histogram;
  }

  reset(): void {
    this.read().reset();
  }
}

/** A histogram's figures as a snapshot shows them. */
export function percentilesOf(h: Histogram): StagePercentiles {
  if (h.totalCount === 0) return { count: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    mean: Math.round(h.mean * 10) / 10,
    p50: h.getValueAtPercentile(50),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/** Histograms of one kind: the total and each stage. */
class KindHistograms {
  readonly total = new StageHistogram();
  readonly stages = new Map<string, StageHistogram>();

  /** The stage names of the last timing recorded, in its key order, and their histograms:
   *  timings of one kind come in a few shapes, so this spares a Map lookup per stage. */
  private readonly lastNames: string[] = [];
  private readonly lastHistograms: StageHistogram[] = [];

  record(timing: RequestTiming): void {
    this.total.record(timing.totalUs);
    const stages = timing.stages;
    let i = 0;
    for (const stage in stages) {
      const value = stages[stage];
      if (value === undefined) continue;
      if (this.lastNames[i] !== stage) {
        this.lastNames[i] = stage;
        this.lastHistograms[i] = this.stage(stage);
      }
      this.lastHistograms[i++].record(value);
    }
  }

  snapshot(): KindLatency {
    const stages: KindLatency['stages'] = {};
    for (const [stage, h] of this.stages) stages[stage as StageName] = percentilesOf(h.read());
    const total = this.total.read();
    return { count: total.totalCount, total: percentilesOf(total), stages };
  }

  reset(): void {
    this.total.reset();
    for (const h of this.stages.values()) h.reset();
  }

  encode(): Record<string, string> {
    const out: Record<string, string> = { total: encodeIntoCompressedBase64(this.total.read()) };
    for (const [stage, h] of this.stages) out[stage] = encodeIntoCompressedBase64(h.read());
    return out;
  }

  add(encoded: Record<string, string>): void {
    for (const [stage, base64] of Object.entries(encoded)) {
      const h = decodeFromCompressedBase64(base64);
      (stage === 'total' ? this.total : this.stage(stage)).read().add(h);
      h.destroy();
    }
  }

  private stage(stage: string): StageHistogram {
    return getOrCreate(this.stages, stage, () => new StageHistogram());
  }
}

/** A tracker's histograms in a form that crosses threads (HdrHistogram's compressed base64). */
export interface EncodedLatency {
  kinds: Record<string, Record<string, string>>;
  slowest: RequestTiming[];
}

/** How many slowest requests a tracker keeps by default. */
export const DEFAULT_SLOWEST = 10;

/** Per-stage latency of requests by kind (a router's, or several added up). */
export class LatencyTracker {
  private readonly kinds = new Map<string, KindHistograms>();
  /** Slowest first; at most `keepSlowest`. */
  private slowest: RequestTiming[] = [];

  constructor(private keepSlowest = DEFAULT_SLOWEST) {}

  /** How many of the slowest requests to keep from now on. */
  setKeepSlowest(n: number): void {
    this.keepSlowest = Math.max(0, Math.floor(n));
    if (this.slowest.length > this.keepSlowest) this.slowest.length = this.keepSlowest;
  }

  record(timing: RequestTiming): void {
    this.kind(timing.kind).record(timing);
    const n = this.slowest.length;
    if (n >= this.keepSlowest && (n === 0 || timing.totalUs <= this.slowest[n - 1].totalUs)) return;
    this.insertSlowest(timing);
  }

  /** Every kind seen, and the slowest requests. */
  byKind(): { kinds: Record<string, KindLatency>; slowest: RequestTiming[] } {
    const kinds: Record<string, KindLatency> = {};
    for (const [kind, h] of this.kinds) kinds[kind] = h.snapshot();
    return { kinds, slowest: this.slowest.slice() };
  }

  /** A router's view: reads and writes. */
  snapshot(): LatencySnapshot {
    const empty = (): KindLatency => new KindHistograms().snapshot();
    return {
      read: this.kinds.get('read')?.snapshot() ?? empty(),
      write: this.kinds.get('write')?.snapshot() ?? empty(),
      slowest: this.slowest.slice(),
    };
  }

  reset(): void {
    for (const h of this.kinds.values()) h.reset();
    this.slowest = [];
  }

  encode(): EncodedLatency {
    const kinds: EncodedLatency['kinds'] = {};
    for (const [kind, h] of this.kinds) kinds[kind] = h.encode();
    return { kinds, slowest: this.slowest.slice() };
  }

  /** Adds another tracker's encoded histograms and slowest requests to this one. */
  add(encoded: EncodedLatency): void {
    for (const [kind, histograms] of Object.entries(encoded.kinds)) this.kind(kind).add(histograms);
    for (const timing of encoded.slowest) this.insertSlowest(timing);
  }

  private kind(kind: string): KindHistograms {
    return getOrCreate(this.kinds, kind, () => new KindHistograms());
  }

  private insertSlowest(timing: RequestTiming): void {
    if (this.keepSlowest === 0) return;
    this.slowest.push(timing);
    this.slowest.sort((a, b) => b.totalUs - a.totalUs);
    if (this.slowest.length > this.keepSlowest) this.slowest.length = this.keepSlowest;
  }
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
