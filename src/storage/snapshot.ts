/**
 * Snapshots of one replication group's data: every B-tree row the group owns (its items,
 * local-index entries, item-collection sizes, outbox and index configuration), as of one
 * applied log index. A replica that fell behind the leader's WAL, or a new replica, is
 * built from one; the archive keeps them (DESIGN, "Durability").
 *
 * A snapshot travels as chunks of rows, each a few tens of KB: never one huge message,
 * and each with its own CRC32C, checked before a row of it is used.
 *
 * Chunk payload (little endian): rows u32 | per row: key bytes u32 | value bytes u32 |
 * key | value.
 */
import { crc32c } from '../checksum/crc32c.js';
import type { Item } from '../model/types.js';
import { ItemChecksumError, openValue } from './checked-values.js';
import { decodeItem } from './codec.js';
import type { GroupRecord } from './wal.js';

/** One B-tree row: its stored key and its value, as they are on disk. */
export type SnapshotRow = [key: Uint8Array, value: Uint8Array];

/** Rows packed (packRows) with their CRC32C. */
export interface PackedRows {
  payload: Uint8Array;
  crc: number;
}

/** A piece of a group's snapshot as it travels and is archived: its rows, packed, and the
 *  applied index they reflect. */
export interface PackedSnapshotPiece extends PackedRows {
  index: number;
  term: number;
  rec: GroupRecord;
}

/** A consistent view of a group's rows at `index`, read a piece at a time (the node keeps
 *  serving between pieces). `close` must be called when done or abandoned. */
export interface SnapshotSource {
  /** The applied index the rows reflect. */
  readonly index: number;
  /** The next rows, about `maxBytes` of them (at least one row if any is left); an empty
   *  array once every row was read. Each value's own checksum is checked: a damaged one
   *  throws ItemChecksumError (a snapshot never carries damage to another replica), or,
   *  opened with keepDamaged, comes with an empty value. */
  next(maxBytes: number): SnapshotRow[];
  close(): void;
}

/**
 * A snapshot read ahead into memory a slice at a time (`readAhead`), each slice packed
 * (packRows) as it is read, so that the read transaction under it ends once every row is
 * in, long before a paced reader is done with them. While an LMDB read transaction is
 * open, no page freed after it began can be reused: every apply writes fresh pages, and
 * the next checkpoint flushes all of them. Slices are kept packed (one buffer each, not
 * two per row), so that rows held for a second do not weigh on the garbage collector.
 * `next` hands out the slices read ahead first, then reads on demand. A value that failed
 * its checksum while reading ahead is thrown by the `next` that reaches it.
 */
export class ReadAheadSource {
  readonly index: number;
  /** Bytes of packed slices read ahead and not yet handed out. */
  buffered = 0;
  private readonly slices: PackedRows[] = [];
  private exhausted = false;
  private error: unknown;
  private closed = false;

  /** `sliceBytes`: about how many bytes of rows each slice, read ahead or not, holds. */
  constructor(private readonly source: SnapshotSource, readonly sliceBytes: number) {
    this.index = source.index;
  }

  /** Rows are left to read ahead. */
  get reading(): boolean {
    return !this.exhausted && this.error === undefined && !this.closed;
  }

  /** Reads and packs the next slice; the source closes after the last. Returns its bytes. */
  readAhead(): number {
    if (!this.reading) return 0;
    let rows: SnapshotRow[];
    try {
      rows = this.source.next(this.sliceBytes);
    } catch (error) {
      this.error = error;
      this.source.close();
      return 0;
    }
    if (rows.length === 0) {
      this.exhausted = true;
      this.source.close();
      return 0;
    }
    const slice = packRows(rows);
    this.slices.push(slice);
    this.buffered += slice.payload.length;
    return slice.payload.length;
  }

  /** The next slice of rows, packed; one of no rows once every row was handed out. */
  next(): PackedRows {
    if (this.closed) throw new Error('snapshot source is closed');
    const slice = this.slices.shift();
    if (slice !== undefined) {
      this.buffered -= slice.payload.length;
      return slice;
    }
    if (this.error !== undefined) throw this.error;
    return packRows(this.exhausted ? [] : this.source.next(this.sliceBytes));
  }

  close(): void {
    if (this.closed) return;
    // Exhausted or failed, the source closed itself.
    if (this.reading) this.source.close();
    this.closed = true;
    this.slices.length = 0;
    this.buffered = 0;
  }
}

/** The snapshot a group's data was last replaced with (kept with the data, so that a
 *  restart can tell its WAL where the log continues). */
export interface InstalledSnapshot {
  index: number;
  term: number;
}

export class SnapshotChecksumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotChecksumError';
  }
}

/** Bytes of one row in a packed chunk (its key, its value and their two lengths). */
export function rowBytes([key, value]: SnapshotRow): number {
  return 8 + key.length + value.length;
}

/** Bytes of a chunk's rows when packed. */
export function packedSize(rows: readonly SnapshotRow[]): number {
  let n = 4;
  for (const row of rows) n += rowBytes(row);
  return n;
}

export function packRows(rows: readonly SnapshotRow[]): PackedRows {
  const payload = new Uint8Array(packedSize(rows));
  const view = new DataView(payload.buffer);
  view.setUint32(0, rows.length, true);
  let at = 4;
  for (const [k, v] of rows) {
    view.setUint32(at, k.length, true);
    view.setUint32(at + 4, v.length, true);
    payload.set(k, at + 8);
    payload.set(v, at + 8 + k.length);
    at += 8 + k.length + v.length;
  }
  return { payload, crc: crc32c(payload) };
}

/** How many rows a chunk holds, after checking its CRC32C (SnapshotChecksumError on a
 *  mismatch): for who hands a chunk on unopened. */
export function checkedRowCount(payload: Uint8Array, crc: number): number {
  if (crc32c(payload) !== crc) throw new SnapshotChecksumError(`snapshot chunk of ${payload.length} bytes fails its CRC32C`);
  if (payload.length < 4) throw new SnapshotChecksumError('snapshot chunk is malformed (its rows overrun it)');
  return rowCount(payload);
}

/** How many rows a chunk checked already holds. */
export function rowCount(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
}

/** The rows of a chunk, after checking its CRC32C (SnapshotChecksumError on a mismatch
 *  or a malformed payload: nothing of it may be used). */
export function unpackRows(payload: Uint8Array, crc: number): SnapshotRow[] {
  const count = checkedRowCount(payload, crc);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const fail = (): never => {
    throw new SnapshotChecksumError('snapshot chunk is malformed (its rows overrun it)');
  };
  const rows: SnapshotRow[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + 8 > payload.length) fail();
    const kl = view.getUint32(at, true);
    const vl = view.getUint32(at + 4, true);
    at += 8;
    if (at + kl + vl > payload.length) fail();
    rows.push([payload.slice(at, at + kl), payload.slice(at + kl, at + kl + vl)]);
    at += kl + vl;
  }
  if (at !== payload.length) fail();
  return rows;
}

/**
 * The table items among a snapshot's rows (its other rows are index entries and
 * bookkeeping), decoded after checking each value's own CRC32C (checked-values.ts): a
 * damaged one throws ItemChecksumError.
 */
export function itemsOfRows(rows: readonly SnapshotRow[], tableId: number): Item[] {
  return encodedItemsOfRows(rows, tableId).map(decodeItem);
}

/** The same items still encoded (as they are stored), each checked as itemsOfRows does. */
export function encodedItemsOfRows(rows: readonly SnapshotRow[], tableId: number): Uint8Array[] {
  const items: Uint8Array[] = [];
  for (const [key, value] of rows) {
    if (key.length < 4 || new DataView(key.buffer, key.byteOffset, 4).getUint32(0) !== tableId) continue;
    const payload = openValue(key, value);
    if (payload === undefined) throw new ItemChecksumError(key);
    items.push(payload);
  }
  return items;
}
