/**
 * What one partition's traffic looked like, collected cheaply on every request so that the
 * control plane can decide splits for consumption (src/control/split-policy.ts): consumed
 * read and write units per second, and a uniform sample of the requests it served (their
 * partition-key hash, an order-preserving prefix of their sort key, their units and their
 * arrival order).
 *
 * Where it is fed: the leader's node shell (storage-node.ts, `handleRequest`) sees every
 * request of the partitions it leads. One sampler per group it leads, created with the
 * group and dropped with it (`dropGroup`, and a split's parent); `observe` when the
 * control plane asks (a node request, like `stats`), and the window starts over. The hook
 * goes where admission control charges a request on the leader, once admitted:
 *   - a write (`case 'write'`, before `core.propose`): `recordWriteEntry(roundAtMs,
 *     body.entry, units)`: the hash is read in place from the item key the entry carries;
 *   - a read (`get`; `query` has one partition key too): `recordHash` with the partition
 *     hash of `body.req.key` (better: the router sends the hash it computed along, so the
 *     node need not hash again).
 * A router could feed it too (the `split` experiment does, bench/experiments/split.ts),
 * but a router sees only its own share of a partition's requests.
 *
 * Per request: a few typed-array writes and one PRNG draw, no allocation (hashes come in
 * as two 32-bit halves, not as a bigint). All memory is allocated in the constructor.
 */
import { hashToHex } from '../model/hash.js';
import { HASH_PREFIX_BYTES } from '../model/key-encoding.js';
import { seededRandom } from '../model/prng.js';
import { OP_HEADER_BYTES } from '../storage/codec.js';

/** Where the partition hash sits in a B-tree item key: after the 4-byte table id. */
export const ITEM_KEY_HASH_OFFSET = HASH_PREFIX_BYTES - 8;

export interface LoadSamplerOptions {
  /** Requests kept in the sample of a window (a reservoir: each request of the window is
   *  in it with the same probability). Default 512: the split point from 512 samples is
   *  within a few percent of the true load median. */
  sampleSize?: number;
  /** Seconds of per-second consumption kept (the longest sustain time a policy can ask
   *  for). Default 120. */
  historySeconds?: number;
  /** Seed of the reservoir's draws (tests; any value is fine). Default 1. */
  seed?: number;
}

/** One sampled request. */
export interface LoadSample {
  /** The partition-key hash, 16 hex digits. */
  hashHex: string;
  /** An order-preserving prefix of the sort key (first 4 bytes of its encoding, big-endian;
   *  0 without a sort key): tells the items of one item collection apart, in key order. */
  sortPrefix: number;
  readUnits: number;
  writeUnits: number;
  /** Arrival order within the window (1 = the window's first request). */
  seq: number;
}

/** Consumption of one whole second. */
export interface SecondLoad {
  /** Seconds since the epoch of the clock fed to `record`. */
  second: number;
  readUnits: number;
  writeUnits: number;
}

/** One window of a partition's traffic, as the split policy reads it (plain data: it may
 *  cross threads). */
export interface LoadObservation {
  windowStartMs: number;
  windowEndMs: number;
  /** Requests recorded in the window. */
  requests: number;
  /** Units consumed in the window. */
  readUnits: number;
  writeUnits: number;
  /** The last whole seconds (oldest first, none missing; seconds without traffic are 0),
   *  up to `historySeconds` of them, ending with the second before `windowEndMs`'s. */
  perSecond: SecondLoad[];
  /** Sampled requests in arrival order. */
  samples: LoadSample[];
}

export class PartitionLoadSampler {
  readonly sampleSize: number;
  readonly historySeconds: number;
  private readonly random: () => number;

  // The reservoir, column by column.
  private readonly hashHi: Uint32Array;
  private readonly hashLo: Uint32Array;
  private readonly sortPrefix: Uint32Array;
  private readonly sampleRead: Float64Array;
  private readonly sampleWrite: Float64Array;
  private readonly sampleSeq: Float64Array;
  private kept = 0;

  // The window.
  private seen = 0;
  private windowStartMs: number | undefined;
  private windowRead = 0;
  private windowWrite = 0;

  // Per-second consumption, a ring indexed by second % historySeconds.
  private readonly secondOf: Float64Array;
  private readonly secondRead: Float64Array;
  private readonly secondWrite: Float64Array;
  /** The first second ever recorded; -1 before any. */
  private firstSecond = -1;

  constructor(options: LoadSamplerOptions = {}) {
    const sampleSize = options.sampleSize ?? 512;
    const historySeconds = options.historySeconds ?? 120;
    if (!Number.isInteger(sampleSize) || sampleSize < 1) throw new RangeError(`options.sampleSize must be a positive integer, got ${sampleSize}`);
    if (!Number.isInteger(historySeconds) || historySeconds < 1) throw new RangeError(`options.historySeconds must be a positive integer, got ${historySeconds}`);
    this.sampleSize = sampleSize;
    this.historySeconds = historySeconds;
    this.random = seededRandom(options.seed ?? 1);
    this.hashHi = new Uint32Array(sampleSize);
    this.hashLo = new Uint32Array(sampleSize);
    this.sortPrefix = new Uint32Array(sampleSize);
    this.sampleRead = new Float64Array(sampleSize);
    this.sampleWrite = new Float64Array(sampleSize);
    this.sampleSeq = new Float64Array(sampleSize);
    this.secondOf = new Float64Array(historySeconds).fill(-1);
    this.secondRead = new Float64Array(historySeconds);
    this.secondWrite = new Float64Array(historySeconds);
  }

  /**
   * One served request: its partition-key hash as its high and low 32 bits, the units it
   * consumed, and (with a sort key) the first 4 bytes of the sort key's encoding.
   */
  record(nowMs: number, hashHi: number, hashLo: number, readUnits: number, writeUnits: number, sortPrefix = 0): void {
    if (this.windowStartMs === undefined) this.windowStartMs = nowMs;
    this.seen++;
    this.windowRead += readUnits;
    this.windowWrite += writeUnits;
    const second = Math.floor(nowMs / 1000);
    const slot = second % this.historySeconds;
    if (this.secondOf[slot] !== second) {
      this.secondOf[slot] = second;
      this.secondRead[slot] = 0;
      this.secondWrite[slot] = 0;
    }
    this.secondRead[slot] += readUnits;
    this.secondWrite[slot] += writeUnits;
    if (this.firstSecond < 0) this.firstSecond = second;
    // Reservoir sampling (Vitter's algorithm R): the n-th request replaces a kept one with
    // probability size / n, so every request of the window is kept equally likely.
    let at: number;
    if (this.kept < this.sampleSize) at = this.kept++;
    else {
      at = Math.floor(this.random() * this.seen);
      if (at >= this.sampleSize) return;
    }
    this.hashHi[at] = hashHi;
    this.hashLo[at] = hashLo;
    this.sortPrefix[at] = sortPrefix;
    this.sampleRead[at] = readUnits;
    this.sampleWrite[at] = writeUnits;
    this.sampleSeq[at] = this.seen;
  }

  /** `record` for a hash as a bigint (tests, tools; the bigint split allocates). */
  recordHash(nowMs: number, hash: bigint, readUnits: number, writeUnits: number, sortPrefix = 0): void {
    this.record(nowMs, Number(hash >> 32n), Number(hash & 0xffffffffn), readUnits, writeUnits, sortPrefix);
  }

  /** `record` for a B-tree item key (`tableId | hash | ...`): reads the hash in place. */
  recordItemKey(nowMs: number, itemKey: Uint8Array, readUnits: number, writeUnits: number, sortPrefix = 0): void {
    const at = ITEM_KEY_HASH_OFFSET;
    const hi = ((itemKey[at] << 24) | (itemKey[at + 1] << 16) | (itemKey[at + 2] << 8) | itemKey[at + 3]) >>> 0;
    const lo = ((itemKey[at + 4] << 24) | (itemKey[at + 5] << 16) | (itemKey[at + 6] << 8) | itemKey[at + 7]) >>> 0;
    this.record(nowMs, hi, lo, readUnits, writeUnits, sortPrefix);
  }

  /** `record` for a write as the leader receives it (its log entry's data, `encodeWriteOp`):
   *  reads the hash in place from the item key the entry carries. */
  recordWriteEntry(nowMs: number, entry: Uint8Array, writeUnits: number): void {
    if (entry.length < OP_HEADER_BYTES + HASH_PREFIX_BYTES) return;
    this.recordItemKey(nowMs, entry.subarray(OP_HEADER_BYTES), 0, writeUnits);
  }

  /** The window so far and the per-second history, then a new window begins (the
   *  history stays). */
  observe(nowMs: number): LoadObservation {
    const order = Array.from({ length: this.kept }, (_, i) => i).sort((a, b) => this.sampleSeq[a] - this.sampleSeq[b]);
    const samples = order.map((i): LoadSample => ({
      hashHex: hashToHex((BigInt(this.hashHi[i]) << 32n) | BigInt(this.hashLo[i])),
      sortPrefix: this.sortPrefix[i],
      readUnits: this.sampleRead[i],
      writeUnits: this.sampleWrite[i],
      seq: this.sampleSeq[i],
    }));
    const observation: LoadObservation = {
      windowStartMs: this.windowStartMs ?? nowMs,
      windowEndMs: nowMs,
      requests: this.seen,
      readUnits: this.windowRead,
      writeUnits: this.windowWrite,
      perSecond: this.history(Math.floor(nowMs / 1000)),
      samples,
    };
    this.kept = 0;
    this.seen = 0;
    this.windowStartMs = undefined;
    this.windowRead = 0;
    this.windowWrite = 0;
    return observation;
  }

  /** Whole seconds before `currentSecond`, from the first one recorded (at most
   *  historySeconds back). */
  private history(currentSecond: number): SecondLoad[] {
    if (this.firstSecond < 0) return [];
    const out: SecondLoad[] = [];
    for (let s = Math.max(this.firstSecond, currentSecond - this.historySeconds); s < currentSecond; s++) {
      const slot = s % this.historySeconds;
      const here = this.secondOf[slot] === s;
      out.push({ second: s, readUnits: here ? this.secondRead[slot] : 0, writeUnits: here ? this.secondWrite[slot] : 0 });
    }
    return out;
  }
}
