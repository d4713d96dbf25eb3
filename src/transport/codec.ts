/**
 * Message codec: plain message objects (nested objects, arrays, numbers, strings,
 * booleans, null, Uint8Array/Buffer) <-> msgpack records in a Ring, via msgpackr.
 *
 * Every record carries its format version in its header (the writer's choice, default
 * FORMAT_VERSION); readers accept FORMAT_VERSION and NEWEST_FORMAT_VERSION = FORMAT_VERSION
 * + 1 (read-write deployments: every node reads the next version before any node sends
 * it; protocol.ts says what differs). Records of other versions are dropped and counted.
 *
 * Write path: the message is packed IN PLACE into space reserved in the ring (no copy).
 * msgpackr refuses to start packing within 2 KiB of its buffer's end, so the reservation
 * is IN_PLACE_RESERVE_BYTES (bounded by the ring's maxRecordBytes); if that much
 * contiguous room is not free, or the message outgrows it, the message is packed into
 * a private scratch buffer and copied into an exactly sized record.
 *
 * Read path: the payload (already CRC-checked by the ring) is copied into a private
 * scratch buffer and decoded from there, with copyBuffers so that decoded Uint8Array
 * fields are fresh copies. Nothing decoded aliases shared memory, which the producer
 * overwrites once the record is consumed, nor the scratch, which the next record
 * overwrites. (Decoding straight from a SharedArrayBuffer view also measured ~3-6x
 * slower with msgpackr's native string extractor: 10-16 µs against ~2 µs for a 1 KB
 * item, and the copy costs ~0.1 µs.) Strings are JS strings: never aliases.
 */

import { Packr, Unpackr, REUSE_BUFFER_MODE, type Options } from 'msgpackr';
import type { Ring } from './ring.js';

export const FORMAT_VERSION = 1;
export const NEWEST_FORMAT_VERSION = FORMAT_VERSION + 1;

/** True for the versions this build reads: the current one and the next. */
export function isReadableVersion(version: number): boolean {
  return version === FORMAT_VERSION || version === NEWEST_FORMAT_VERSION;
}

/** Reservation for in-place packing; msgpackr needs > 2048 + 10 bytes to pack in place. */
export const IN_PLACE_RESERVE_BYTES = 4096;
const MSGPACKR_MIN_TARGET_BYTES = 0x800 + 10 + 8;
/** A msgpackr position no target reaches: forces its next pack into a new buffer. */
const PARKED_POSITION = 0x40000000;

export interface MessageCodecOptions {
  /**
   * msgpackr records (default false). false: objects are msgpack maps, every record
   * decodes on its own. true: each message carries inline record definitions for its
   * repeated object shapes (still self-contained; smaller when shapes repeat).
   * Both ends of a ring must agree.
   */
  useRecords?: boolean;
}

export type MessageVisitor = (message: unknown, version: number, kind: number) => void;

export class MessageCodec {
  /** Records dropped because their format version is not readable here, and the last
   *  such version seen (0: none). */
  versionRejected = 0;
  lastRejectedVersion = 0;
  /** Records read, by format version (index 1 and 2). */
  readonly recordsByVersion = [0, 0, 0];
  /** Records that passed their CRC but failed to decode: dropped. */
  decodeErrors = 0;
  /** Messages that took the scratch-and-copy write path. */
  copiedWrites = 0;

  private readonly packr: Packr;
  private readonly unpackr: Unpackr;
  private packScratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);
  private readScratch: Buffer = Buffer.allocUnsafeSlow(16 * 1024);

  constructor(options: MessageCodecOptions = {}) {
    const useRecords = options.useRecords ?? false;
    if (typeof useRecords !== 'boolean') throw new TypeError('options.useRecords must be a boolean');
    const o: Options = { useRecords, copyBuffers: true, mapsAsObjects: true, moreTypes: false };
    this.packr = new Packr(o);
    this.unpackr = new Unpackr(o);
  }

  /**
   * Packs `value` into one record of `ring`, stamped with format `version`, and publishes
   * it. Returns false, at once, when the ring is full (the caller decides; replication
   * treats it as a lost message).
   * @throws RangeError when the packed message exceeds ring.maxRecordBytes.
   */
  write(ring: Ring, value: unknown, kind = 0, version = FORMAT_VERSION): boolean {
    const reserve = Math.min(IN_PLACE_RESERVE_BYTES, ring.maxRecordBytes);
    if (reserve >= MSGPACKR_MIN_TARGET_BYTES) {
      const view = ring.reserve(reserve);
      if (view !== undefined) {
        const out = this.packInto(view, value);
        if (out === view && (out as PackedBuffer).start === 0) {
          ring.commit((out as PackedBuffer).end, version, kind);
          return true;
        }
        // Outgrew the reservation: msgpackr moved it to a buffer of its own.
        return this.writeCopy(ring, out as PackedBuffer, kind, version);
      }
    }
    return this.writeCopy(ring, this.packInto(this.packScratch, value) as PackedBuffer, kind, version);
  }

  /**
   * Delivers up to `maxRecords` messages from `ring`, decoded into fresh objects that
   * alias no shared memory. Returns the number of records consumed (delivered or dropped
   * for version/decoding). Errors thrown by `visit` propagate (that record is consumed).
   */
  read(ring: Ring, visit: MessageVisitor, maxRecords = Infinity): number {
    let n = 0;
    ring.readSpans((data, start, end, version, kind) => {
      n++;
      if (!isReadableVersion(version)) {
        this.versionRejected++;
        this.lastRejectedVersion = version;
        return;
      }
      this.recordsByVersion[version]++;
      const length = end - start;
      if (this.readScratch.length < length) this.readScratch = Buffer.allocUnsafeSlow(nextPow2(length));
      data.copy(this.readScratch, 0, start, end);
      let message: unknown;
      try {
        message = this.unpackr.unpack(this.readScratch, { start: 0, end: length });
      } catch {
        this.decodeErrors++;
        return;
      }
      visit(message, version, kind);
    }, maxRecords);
    return n;
  }

  /** Packs into a fresh, unshared Uint8Array (for tests and non-ring transports). */
  encode(value: unknown): Uint8Array {
    const out = this.packInto(this.packScratch, value) as PackedBuffer;
    return Uint8Array.prototype.slice.call(out, out.start, out.end);
  }

  /** Decodes bytes produced by encode(); Uint8Array fields are copies. */
  decode(bytes: Uint8Array): unknown {
    return this.unpackr.unpack(bytes);
  }

  private packInto(target: Buffer, value: unknown): Buffer {
    this.packr.useBuffer(target);
    try {
      return this.packr.pack(value, REUSE_BUFFER_MODE);
    } finally {
      // msgpackr keeps its target and position in module state shared by every Packr of
      // this thread. Park the position past any buffer's end so that the next pack
      // anywhere starts in a fresh buffer instead of writing into the ring's free space
      // (or into our scratch) right after this message.
      this.packr.position = PARKED_POSITION;
    }
  }

  private writeCopy(ring: Ring, out: PackedBuffer, kind: number, version: number): boolean {
    const length = out.end - out.start;
    if (length > ring.maxRecordBytes) {
      throw new RangeError(`message of ${length} bytes exceeds the ring's maxRecordBytes ${ring.maxRecordBytes}`);
    }
    if (out !== this.packScratch && out.length > this.packScratch.length) this.packScratch = out; // keep the bigger one
    const off = ring.reserveOffset(length);
    if (off < 0) return false;
    this.copiedWrites++;
    out.copy(ring.dataRegion, off, out.start, out.end);
    ring.commit(length, version, kind);
    return true;
  }
}

/** msgpackr's REUSE_BUFFER_MODE result: its target buffer with the message's bounds. */
type PackedBuffer = Buffer & { start: number; end: number };

function nextPow2(n: number): number {
  let p = 1024;
  while (p < n) p *= 2;
  return p;
}

let defaultCodec: MessageCodec | undefined;

/** The thread's default codec (useRecords: false). */
export function messageCodec(): MessageCodec {
  return (defaultCodec ??= new MessageCodec());
}

/** Packs `value` directly into `ring` and commits it; false when the ring is full. */
export function writeMessage(ring: Ring, value: unknown, kind = 0, version = FORMAT_VERSION): boolean {
  return messageCodec().write(ring, value, kind, version);
}

/** Decodes the messages available in `ring` (see MessageCodec.read). */
export function readMessages(ring: Ring, visit: MessageVisitor, maxRecords = Infinity): number {
  return messageCodec().read(ring, visit, maxRecords);
}

/**
 * Writes `items` to `ring` in as few records as fit, each record's message built by
 * `wrap(batch)`; a batch that is too large for one record is halved. Returns how many
 * items (from the front) were written: it stops at the first batch the ring has no room
 * for, and the caller keeps the rest for later. An item too large for any record even on
 * its own is handed to `onTooLarge` and counted as written (it will never fit). Records
 * are stamped with format `version`; `wrap` must build that version's message.
 */
export function writeBatched<T>(
  ring: Ring,
  items: readonly T[],
  wrap: (batch: T[]) => unknown,
  maxBatch: number,
  onTooLarge: (item: T) => void,
  version = FORMAT_VERSION,
): number {
  let sent = 0;
  while (sent < items.length) {
    let batch = Math.min(items.length - sent, maxBatch);
    for (;;) {
      let written: boolean;
      try {
        written = writeMessage(ring, wrap(items.slice(sent, sent + batch)), 0, version);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        if (batch > 1) {
          batch = Math.ceil(batch / 2);
          continue;
        }
        onTooLarge(items[sent]);
        sent += 1;
        break;
      }
      if (written) {
        sent += batch;
        break;
      }
      // Full: a smaller batch may still fit in what is free; a single one waits.
      if (batch === 1) return sent;
      batch = Math.ceil(batch / 2);
    }
  }
  return sent;
}
