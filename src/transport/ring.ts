/**
 * Single-producer / single-consumer ring of length-prefixed, CRC32C-checked records in a
 * SharedArrayBuffer. Either side constructs `new Ring(sab)` in its own thread; the
 * producer uses reserve/commit/tryWrite, the consumer read/isEmpty.
 *
 * Memory layout (bytes):
 *
 *   0    u32 magic 'SBR1'          4  u32 capacity (bytes of the data region, 2^k)
 *   8    u32 byte offset of the CRC32C tables (0: none; see "CRC" below)
 *   64   i32 tail (producer line)  72 f64 producer counters (see PRODUCER_STATS)
 *   128  i32 head (consumer line)  136 f64 consumer counters (see CONSUMER_STATS)
 *   256  data region, `capacity` bytes
 *
 * head and tail are free-running u32 byte positions (kept in Int32 slots, compared with
 * `>>> 0` arithmetic); the offset in the data region is `position & (capacity - 1)`.
 * Invariant: 0 <= (tail - head) >>> 0 <= capacity. Only the producer stores tail, only
 * the consumer stores head; each publishes with Atomics.store after its plain writes,
 * and the other side reads it with Atomics.load, so the record bytes written before a
 * tail store are visible to a consumer that observed that tail.
 *
 * Record (8-aligned, contiguous, never split across the end of the region):
 *
 *   +0  u32 payload length         +4 u8 format version  +5 u8 kind  +6 u16 reserved (0)
 *   +8  u32 CRC32C over bytes +0..+8, then +12..+16 and the payload
 *   +12 u32 reserved (0)
 *   +16 payload, then zero..7 bytes of alignment padding (not covered by the CRC)
 *
 * The payload starts 8-aligned on purpose: V8 copies into or out of a SharedArrayBuffer
 * word by word only when source and destination agree modulo 8, and byte by byte
 * otherwise. With the payload at +12 (the old layout) copying an 8-aligned 1 KB payload
 * in (tryWrite, the codec's copy path) or out (the codec's read scratch) took ~320 ns
 * instead of ~50 ns.
 *
 * When the space to the end of the region is too short for the next record, the
 * producer writes a padding record (kind PADDING_KIND, length 0; or nothing at all if
 * fewer than RECORD_HEADER_BYTES remain) and starts the record at offset 0. The
 * consumer skips a padding record, and an end gap shorter than a header, to offset 0.
 *
 * CRC: when the buffer is a shared WebAssembly.Memory (Ring.allocate and allocateMemory
 * make it one, with the slice-by-16 tables after the data region, the whole rounded up
 * to 64 KiB pages), a side that holds the Memory object computes CRCs with a wasm kernel
 * that reads the records in place (~1.7x the JS loop per KB). A side that has only the
 * SharedArrayBuffer (another thread that got just the SAB) runs the JS word loop: copying
 * each record into a private wasm memory first measured slower in the two-thread
 * benchmark (0.8M against 1.1M records/s). Both compute the same CRC32C: the format does
 * not depend on which side uses which. To get the in-place path in another thread, hand
 * it the Memory (structured-cloneable, like a SAB): `new Ring(memory)`.
 *
 * A full ring never blocks: reserve/tryWrite return undefined/false at once and the
 * caller decides (replication treats it as a lost message, invariant 5).
 */

import { crc32c, crc32cWords, LITTLE_ENDIAN } from '../checksum/crc32c.js';
import {
  CRC32C_TABLE_BYTES,
  hasCrc32cTables,
  kernelForMemory,
  WASM_AVAILABLE,
  writeCrc32cTables,
  type Crc32cKernel,
} from '../checksum/crc32c-wasm.js';
import { wasmApi, WASM_PAGE_BYTES, type WasmMemory } from '../checksum/wasm-api.js';

export const RING_MAGIC = 0x31524253; // 'SBR1' little-endian
/** Bytes of the control block before the data region. */
export const RING_CONTROL_BYTES = 256;
export const RECORD_HEADER_BYTES = 16;
/** Offset of the CRC in a record header. */
const CRC_FIELD = 8;
/** Records start at multiples of this. */
export const RECORD_ALIGN_BYTES = 8;
export const RING_MIN_CAPACITY_BYTES = 64;
/** Positions are u32: the capacity must leave room for the wrap arithmetic. */
export const RING_MAX_CAPACITY_BYTES = 1 << 30;
/** Kind of the wrap marker; kinds 0..254 are the caller's. */
export const PADDING_KIND = 0xff;

const I32_MAGIC = 0;
const I32_CAPACITY = 1;
const I32_TABLES = 2;
const I32_TAIL = 64 >> 2;
const I32_HEAD = 128 >> 2;
const F64_PRODUCER = 72 >> 3;
const F64_CONSUMER = 136 >> 3;

// Producer counters, f64 slots from F64_PRODUCER.
const P_RECORDS_WRITTEN = 0;
const P_BYTES_WRITTEN = 1;
const P_WRITES_REFUSED = 2;
const P_FAULTS_INJECTED = 3;
// Consumer counters, f64 slots from F64_CONSUMER.
const C_RECORDS_READ = 0;
const C_BYTES_READ = 1;
const C_CORRUPT_RECORDS = 2;
const C_RESYNCS = 3;
const C_BYTES_DISCARDED = 4;

/** Counters kept in shared memory: readable from either side (slightly stale at worst). */
export interface RingStats {
  /** Data records published (padding excluded). */
  recordsWritten: number;
  /** Payload bytes published. */
  bytesWritten: number;
  /** reserve/tryWrite calls refused because the ring was full. */
  writesRefused: number;
  /** Bytes flipped by the fault hook (corruptNextWrites). */
  faultsInjected: number;
  /** Records delivered to a visitor. */
  recordsRead: number;
  /** Payload bytes delivered. */
  bytesRead: number;
  /** Records whose CRC failed: dropped, never delivered. */
  corruptRecords: number;
  /** Insane headers that made the consumer discard up to the published tail. */
  resyncs: number;
  /** Bytes skipped by resyncs. */
  bytesDiscarded: number;
}

/** Visitor of one record: `payload` views shared memory and is valid only during the call. */
export type RecordVisitor = (payload: Uint8Array, version: number, kind: number) => void;

/**
 * Visitor of one record without a per-record view allocation: the payload is
 * data[start, end). `data` is a Buffer over the ring's whole data region.
 */
export type RecordSpanVisitor = (data: Buffer, start: number, end: number, version: number, kind: number) => void;

const align8 = (n: number): number => (n + 7) & ~7;

/** What a Ring can be built on: a SAB from allocate(), or a Memory from allocateMemory(). */
export type RingBuffer = SharedArrayBuffer | WasmMemory;

/**
 * This thread's Memory objects behind the SABs that allocate() returned, so that
 * `new Ring(sab)` in the allocating thread still gets the in-place wasm CRC.
 */
const memoryOfBuffer = new WeakMap<SharedArrayBuffer, WasmMemory>();

function isWasmMemory(x: unknown): x is WasmMemory {
  return wasmApi !== undefined && x instanceof wasmApi.Memory;
}

function checkCapacity(capacityBytes: number): void {
  if (
    !Number.isInteger(capacityBytes) ||
    capacityBytes < RING_MIN_CAPACITY_BYTES ||
    capacityBytes > RING_MAX_CAPACITY_BYTES ||
    (capacityBytes & (capacityBytes - 1)) !== 0
  ) {
    throw new RangeError(
      `capacityBytes must be a power of two in [${RING_MIN_CAPACITY_BYTES}, ${RING_MAX_CAPACITY_BYTES}], got ${capacityBytes}`,
    );
  }
}

function initControl(buffer: SharedArrayBuffer, capacityBytes: number, tablesOffset: number): void {
  const ctl = new Int32Array(buffer, 0, RING_CONTROL_BYTES >> 2);
  ctl[I32_CAPACITY] = capacityBytes;
  ctl[I32_TABLES] = tablesOffset;
  ctl[I32_MAGIC] = RING_MAGIC;
}

export class Ring {
  /** Data-region bytes, a power of two. */
  readonly capacity: number;
  /** Largest payload a record may carry: an empty ring always has room for it. */
  readonly maxRecordBytes: number;
  readonly sab: SharedArrayBuffer;

  private readonly mask: number;
  private readonly ctl: Int32Array;
  private readonly ctlF64: Float64Array;
  /** Buffer (not plain Uint8Array) so encoders like msgpackr can use utf8Write on it. */
  private readonly data: Buffer;
  private readonly words: Uint32Array;
  /** In-place wasm CRC over this ring's Memory, when this side holds it. */
  private readonly kernel: Crc32cKernel | undefined;

  // Producer-local state.
  private cachedHead: number;
  /**
   * Start of the reserved record (a position; any int32, negative past 2 GiB), valid
   * while `reserved`. (A -1 sentinel here once made a ring refuse every write, for good,
   * after 2 GiB had gone through it: positions are free-running u32 kept in int32.)
   */
  private reservedPos = 0;
  private reserved = false;
  /** Bytes skipped to the end of the region before reservedPos (0 if no wrap). */
  private reservedSkip = 0;
  private reservedMax = 0;
  private faultRate = 0;
  private faultRandom: (() => number) | undefined;

  // Consumer-local state.
  private cachedTail: number;

  /**
   * Allocates the shared memory of one ring. `capacityBytes` (the data region) must be
   * a power of two in [RING_MIN_CAPACITY_BYTES, RING_MAX_CAPACITY_BYTES]. The result is
   * the buffer of a shared WebAssembly.Memory (see allocateMemory) when the runtime has
   * one, else a plain SharedArrayBuffer; either way any thread can `new Ring(sab)` on it.
   */
  static allocate(capacityBytes: number): SharedArrayBuffer {
    checkCapacity(capacityBytes);
    if (WASM_AVAILABLE) {
      let memory: WasmMemory | undefined;
      try {
        memory = Ring.allocateMemory(capacityBytes);
      } catch {
        memory = undefined; // e.g. address space for wasm memories exhausted: plain SAB
      }
      if (memory !== undefined) {
        const sab = memory.buffer as SharedArrayBuffer;
        memoryOfBuffer.set(sab, memory);
        return sab;
      }
    }
    const sab = new SharedArrayBuffer(RING_CONTROL_BYTES + capacityBytes);
    initControl(sab, capacityBytes, 0);
    return sab;
  }

  /**
   * Allocates one ring as a shared WebAssembly.Memory: control block, data region, then
   * the CRC32C tables, rounded up to 64 KiB pages. Hand the Memory itself to the other
   * thread once, at start, in workerData (cloned like a SAB) so that both sides compute CRCs
   * in place; `memory.buffer` works as a plain ring buffer too.
   * @throws when the runtime has no WebAssembly or cannot create the memory.
   */
  static allocateMemory(capacityBytes: number): WasmMemory {
    checkCapacity(capacityBytes);
    if (!WASM_AVAILABLE || wasmApi === undefined) throw new Error('Ring.allocateMemory: WebAssembly is not available');
    const tablesOffset = RING_CONTROL_BYTES + capacityBytes;
    const pages = Math.ceil((tablesOffset + CRC32C_TABLE_BYTES) / WASM_PAGE_BYTES);
    const memory = new wasmApi.Memory({ initial: pages, maximum: pages, shared: true });
    const sab = memory.buffer as SharedArrayBuffer;
    writeCrc32cTables(sab, tablesOffset);
    initControl(sab, capacityBytes, tablesOffset);
    return memory;
  }

  constructor(buffer: RingBuffer) {
    let memory: WasmMemory | undefined;
    let sab: SharedArrayBuffer;
    if (isWasmMemory(buffer)) {
      memory = buffer;
      sab = buffer.buffer as SharedArrayBuffer;
    } else {
      sab = buffer;
    }
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < RING_CONTROL_BYTES + RING_MIN_CAPACITY_BYTES) {
      throw new TypeError('Ring: buffer must be a SharedArrayBuffer from Ring.allocate or a Memory from Ring.allocateMemory');
    }
    memory ??= memoryOfBuffer.get(sab);
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, RING_CONTROL_BYTES >> 2);
    this.ctlF64 = new Float64Array(sab, 0, RING_CONTROL_BYTES >> 3);
    if (this.ctl[I32_MAGIC] !== RING_MAGIC) throw new TypeError('Ring: bad magic, not a ring buffer');
    const capacity = this.ctl[I32_CAPACITY];
    if (
      capacity < RING_MIN_CAPACITY_BYTES ||
      capacity > RING_MAX_CAPACITY_BYTES ||
      (capacity & (capacity - 1)) !== 0 ||
      RING_CONTROL_BYTES + capacity > sab.byteLength
    ) {
      throw new TypeError(`Ring: capacity ${capacity} does not match buffer size ${sab.byteLength}`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.maxRecordBytes = capacity / 2 - RECORD_HEADER_BYTES;
    this.data = Buffer.from(sab, RING_CONTROL_BYTES, capacity);
    this.words = new Uint32Array(sab, RING_CONTROL_BYTES, capacity >> 2);
    const tables = this.ctl[I32_TABLES];
    // The tables are checked once here: both sides would compute the same wrong
    // function from corrupted shared tables, so a side that finds them wrong falls back.
    this.kernel =
      memory !== undefined && tables >= RING_CONTROL_BYTES + capacity && hasCrc32cTables(sab, tables)
        ? kernelForMemory(memory, tables)
        : undefined;
    this.cachedHead = Atomics.load(this.ctl, I32_HEAD);
    this.cachedTail = Atomics.load(this.ctl, I32_TAIL);
  }

  /** How this side computes CRCs: 'wasm' in place (it holds the Memory) or 'js'. */
  get crcPath(): 'wasm' | 'js' {
    return this.kernel !== undefined ? 'wasm' : 'js';
  }

  // ---------------------------------------------------------------- producer

  /**
   * Reserves room for one record of up to `maxBytes` payload bytes and returns a view of
   * that payload space inside the shared memory, to be filled in place, then published
   * with commit(). Returns undefined at once when the ring lacks the room (counted in
   * writesRefused). Nothing is visible to the consumer before commit(); a reservation
   * not committed is simply replaced by the next reserve().
   * @throws RangeError when maxBytes > maxRecordBytes (a caller bug, not a full ring).
   */
  reserve(maxBytes: number): Buffer | undefined {
    if (!this.reservePosition(maxBytes)) return undefined;
    const off = (this.reservedPos & this.mask) + RECORD_HEADER_BYTES;
    return this.data.subarray(off, off + maxBytes);
  }

  /**
   * reserve() without the view: returns the offset of the payload space in
   * `dataRegion` (see dataRegion), or -1 when full. For encoders that keep their own view.
   */
  reserveOffset(maxBytes: number): number {
    return this.reservePosition(maxBytes) ? (this.reservedPos & this.mask) + RECORD_HEADER_BYTES : -1;
  }

  /** Buffer over the whole data region (for reserveOffset/readSpans users). */
  get dataRegion(): Buffer {
    return this.data;
  }

  private reservePosition(maxBytes: number): boolean {
    if (!(maxBytes >= 0 && maxBytes <= this.maxRecordBytes)) {
      throw new RangeError(`Ring.reserve: maxBytes ${maxBytes} outside [0, maxRecordBytes=${this.maxRecordBytes}]`);
    }
    const tail = this.ctl[I32_TAIL]; // only this side writes it: a plain read is current
    const need = align8(RECORD_HEADER_BYTES + maxBytes);
    const toEnd = this.capacity - (tail & this.mask);
    const skip = need <= toEnd ? 0 : toEnd;
    if (!this.hasRoom(tail, skip + need)) {
      this.reserved = false;
      this.ctlF64[F64_PRODUCER + P_WRITES_REFUSED]++;
      return false;
    }
    this.reservedPos = (tail + skip) | 0;
    this.reserved = true;
    this.reservedSkip = skip;
    this.reservedMax = maxBytes;
    return true;
  }

  private hasRoom(tail: number, bytes: number): boolean {
    if (this.capacity - ((tail - this.cachedHead) >>> 0) >= bytes) return true;
    this.cachedHead = Atomics.load(this.ctl, I32_HEAD);
    return this.capacity - ((tail - this.cachedHead) >>> 0) >= bytes;
  }

  /**
   * Publishes the reserved record with `length` payload bytes (<= the reserved maxBytes):
   * writes the header and CRC, then stores the new tail. `kind` is the caller's, 0..254.
   */
  commit(length: number, version: number, kind = 0): void {
    if (!this.reserved) throw new Error('Ring.commit without a successful reserve');
    const pos = this.reservedPos;
    if (!(length >= 0 && length <= this.reservedMax)) {
      throw new RangeError(`Ring.commit: length ${length} outside [0, reserved ${this.reservedMax}]`);
    }
    if (!(kind >= 0 && kind < PADDING_KIND)) throw new RangeError(`Ring.commit: kind ${kind} outside [0, 254]`);
    this.reserved = false;
    const skip = this.reservedSkip;
    if (skip >= RECORD_HEADER_BYTES) this.writeHeader(this.capacity - skip, 0, version, PADDING_KIND);
    const off = pos & this.mask;
    this.writeHeader(off, length, version, kind);
    if (this.faultRandom !== undefined && length > 0 && this.faultRandom() < this.faultRate) {
      // Fault injection: corrupt AFTER the CRC so only the consumer's check can catch it.
      const at = off + RECORD_HEADER_BYTES + Math.floor(this.faultRandom() * length);
      this.data[at] ^= 1 + Math.floor(this.faultRandom() * 255);
      this.ctlF64[F64_PRODUCER + P_FAULTS_INJECTED]++;
    }
    this.ctlF64[F64_PRODUCER + P_RECORDS_WRITTEN]++;
    this.ctlF64[F64_PRODUCER + P_BYTES_WRITTEN] += length;
    Atomics.store(this.ctl, I32_TAIL, (pos + align8(RECORD_HEADER_BYTES + length)) | 0);
  }

  /** Copies `payload` into one record. False (at once) when the ring is full. */
  tryWrite(payload: Uint8Array, version: number, kind = 0): boolean {
    const off = this.reserveOffset(payload.length);
    if (off < 0) return false;
    this.data.set(payload, off);
    this.commit(payload.length, version, kind);
    return true;
  }

  private writeHeader(off: number, length: number, version: number, kind: number): void {
    const w = off >>> 2;
    this.words[w] = length;
    this.words[w + 1] = (version & 0xff) | ((kind & 0xff) << 8); // reserved u16 = 0
    this.words[w + 3] = 0; // reserved
    this.words[w + 2] = this.crcOf(off, length);
  }

  /** CRC of the header's first 8 bytes, then everything after the CRC field. */
  private crcOf(off: number, length: number): number {
    const rest = off + CRC_FIELD + 4;
    const restLength = RECORD_HEADER_BYTES - CRC_FIELD - 4 + length;
    const kernel = this.kernel;
    if (kernel !== undefined) {
      const p = RING_CONTROL_BYTES + off;
      return kernel(kernel(0, p, CRC_FIELD), p + CRC_FIELD + 4, restLength) >>> 0;
    }
    if (LITTLE_ENDIAN) {
      const h = crc32cWords(this.words, this.data, off, off + CRC_FIELD);
      return crc32cWords(this.words, this.data, rest, rest + restLength, h);
    }
    const h = crc32c(this.data, off, off + CRC_FIELD);
    return crc32c(this.data, rest, rest + restLength, h);
  }

  /**
   * Fault hook for fault-injection tests: from now on, each committed record with a
   * non-empty payload has, with probability `rate`, one payload byte flipped after its
   * CRC was computed. `random` returns numbers in [0, 1) (pass a seeded PRNG). rate 0
   * turns the hook off.
   */
  corruptNextWrites(rate: number, random: () => number): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`corruptNextWrites: rate must be in [0, 1], got ${rate}`);
    this.faultRate = rate;
    this.faultRandom = rate > 0 ? random : undefined;
  }

  // ---------------------------------------------------------------- consumer

  /**
   * Delivers up to `maxRecords` published records, oldest first, to `visit`, which gets a
   * view of shared memory valid only during the call (copy what you keep). Each record's
   * CRC is checked first: a failing record is dropped and counted in corruptRecords.
   * An insane header (length past the published tail, unknown layout) discards
   * everything up to the published tail (counted in resyncs). Returns the number of
   * records delivered. If `visit` throws, the record is consumed and the error propagates.
   */
  read(visit: RecordVisitor, maxRecords = Infinity): number {
    const data = this.data;
    return this.readSpans((_d, start, end, version, kind) => visit(data.subarray(start, end), version, kind), maxRecords);
  }

  /** read() without a view per record: `visit` gets the region Buffer and [start, end). */
  readSpans(visit: RecordSpanVisitor, maxRecords = Infinity): number {
    const ctl = this.ctl;
    const words = this.words;
    let head = ctl[I32_HEAD]; // only this side writes it
    let delivered = 0;
    while (delivered < maxRecords) {
      let avail = (this.cachedTail - head) >>> 0;
      if (avail === 0) {
        this.cachedTail = Atomics.load(ctl, I32_TAIL);
        avail = (this.cachedTail - head) >>> 0;
        if (avail === 0) break;
      }
      if (avail > this.capacity || (head & 7) !== 0) {
        // Cannot happen with a well-behaved producer; recover rather than read garbage.
        head = this.resync(head);
        continue;
      }
      const off = head & this.mask;
      const toEnd = this.capacity - off;
      if (toEnd < RECORD_HEADER_BYTES) {
        // End gap too short for a header: the producer wrapped without a marker.
        if (avail < toEnd) {
          head = this.resync(head);
          continue;
        }
        head = (head + toEnd) | 0;
        Atomics.store(ctl, I32_HEAD, head);
        continue;
      }
      if (avail < RECORD_HEADER_BYTES) {
        head = this.resync(head);
        continue;
      }
      const w = off >>> 2;
      const length = words[w];
      const meta = words[w + 1];
      const crc = words[w + 2];
      const version = meta & 0xff;
      const kind = (meta >>> 8) & 0xff;
      if (kind === PADDING_KIND) {
        if (length !== 0 || meta >>> 16 !== 0 || avail < toEnd || crc !== this.crcOf(off, 0)) {
          head = this.resync(head);
          continue;
        }
        head = (head + toEnd) | 0;
        Atomics.store(ctl, I32_HEAD, head);
        continue;
      }
      const size = align8(RECORD_HEADER_BYTES + length);
      if (length > this.maxRecordBytes || size > toEnd || size > avail) {
        head = this.resync(head);
        continue;
      }
      const f64 = this.ctlF64;
      if (meta >>> 16 !== 0 || crc !== this.crcOf(off, length)) {
        // The length passed the sanity checks, so skip by it; if it was the corrupted
        // field, the next header is garbage and resyncs (or fails its own CRC).
        f64[F64_CONSUMER + C_CORRUPT_RECORDS]++;
        head = (head + size) | 0;
        Atomics.store(ctl, I32_HEAD, head);
        continue;
      }
      const start = off + RECORD_HEADER_BYTES;
      delivered++;
      f64[F64_CONSUMER + C_RECORDS_READ]++;
      f64[F64_CONSUMER + C_BYTES_READ] += length;
      head = (head + size) | 0;
      try {
        visit(this.data, start, start + length, version, kind);
      } finally {
        // Release the space only after the visitor is done with the view.
        Atomics.store(ctl, I32_HEAD, head);
      }
    }
    return delivered;
  }

  private resync(head: number): number {
    const tail = Atomics.load(this.ctl, I32_TAIL);
    this.cachedTail = tail;
    const f64 = this.ctlF64;
    f64[F64_CONSUMER + C_RESYNCS]++;
    f64[F64_CONSUMER + C_BYTES_DISCARDED] += (tail - head) >>> 0;
    Atomics.store(this.ctl, I32_HEAD, tail);
    return tail;
  }

  /** True when every published record has been consumed (from either side). */
  isEmpty(): boolean {
    return Atomics.load(this.ctl, I32_HEAD) === Atomics.load(this.ctl, I32_TAIL);
  }

  /** Bytes published and not yet consumed, padding included. */
  usedBytes(): number {
    return (Atomics.load(this.ctl, I32_TAIL) - Atomics.load(this.ctl, I32_HEAD)) >>> 0;
  }

  stats(): RingStats {
    const f = this.ctlF64;
    return {
      recordsWritten: f[F64_PRODUCER + P_RECORDS_WRITTEN],
      bytesWritten: f[F64_PRODUCER + P_BYTES_WRITTEN],
      writesRefused: f[F64_PRODUCER + P_WRITES_REFUSED],
      faultsInjected: f[F64_PRODUCER + P_FAULTS_INJECTED],
      recordsRead: f[F64_CONSUMER + C_RECORDS_READ],
      bytesRead: f[F64_CONSUMER + C_BYTES_READ],
      corruptRecords: f[F64_CONSUMER + C_CORRUPT_RECORDS],
      resyncs: f[F64_CONSUMER + C_RESYNCS],
      bytesDiscarded: f[F64_CONSUMER + C_BYTES_DISCARDED],
    };
  }

  get corruptRecords(): number {
    return this.ctlF64[F64_CONSUMER + C_CORRUPT_RECORDS];
  }

  get resyncs(): number {
    return this.ctlF64[F64_CONSUMER + C_RESYNCS];
  }
}
