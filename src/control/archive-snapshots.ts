/**
 * Snapshots in the archive: a partition's data as of one log index, beside its archived
 * WAL (archiver.ts), so that the archive alone can rebuild the partition as of any index
 * from a snapshot's on (scrub, point-in-time restore).
 *
 *   snap/<tableId>/<group>/<index>.snap   the rows: u32 header bytes | header JSON
 *                                          (SnapshotHeader) | chunks (u32 payload bytes |
 *                                          u32 CRC32C | payload as snapshot.ts packs rows)
 *                                          | u32 CRC32C of everything before it
 *   snap/<tableId>/<group>/<index>.json   its description, written once the rows are: a
 *                                          snapshot without one is incomplete, never used
 */
import { crc32c } from '../checksum/crc32c.js';
import { rowCount, unpackRows, type PackedSnapshotPiece, type SnapshotRow } from '../storage/snapshot.js';
import type { GroupRecord } from '../storage/wal.js';
import type { ObjectStore } from './object-store.js';

export interface ArchivedSnapshot {
  tableId: number;
  group: number;
  /** The applied index its rows reflect, and that entry's term. */
  index: number;
  term: number;
  /** When it was taken (ms since the epoch). */
  atMs: number;
  object: string;
  crc: number;
  bytes: number;
  rows: number;
}

interface SnapshotHeader {
  rec: GroupRecord;
  index: number;
  term: number;
}

export class ArchivedSnapshotError extends Error {
  constructor(readonly object: string, readonly what: string) {
    super(`archived snapshot ${object}: ${what}`);
    this.name = 'ArchivedSnapshotError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, true);
  return out;
}

function snapshotPrefix(tableId: number, group: number): string {
  return `snap/${tableId}/${group}/`;
}

/** The key of a snapshot's description (written last: it makes the snapshot usable). */
function descriptionKey(tableId: number, group: number, index: number): string {
  return `${snapshotPrefix(tableId, group)}${index}.json`;
}

/** Writes a partition snapshot (the pieces of ControlPlane.exportPieces, checked there,
 *  stored as they came: packed, with their CRC32C) to the archive. */
export async function archiveSnapshot(
  store: ObjectStore, tableId: number, pieces: AsyncIterable<PackedSnapshotPiece>, atMs: number,
): Promise<ArchivedSnapshot> {
  const parts: Uint8Array[] = [];
  let header: SnapshotHeader | undefined;
  let rows = 0;
  for await (const piece of pieces) {
    if (header === undefined) {
      header = { rec: piece.rec, index: piece.index, term: piece.term };
      const json = encoder.encode(JSON.stringify(header));
      parts.push(u32(json.length), json);
    }
    const count = rowCount(piece.payload);
    if (count === 0) continue;
    parts.push(u32(piece.payload.length), u32(piece.crc), piece.payload);
    rows += count;
  }
  if (header === undefined) throw new Error(`archive: the snapshot of table ${tableId} came with no piece`);
  const body = Buffer.concat(parts);
  const crc = crc32c(body);
  const bytes = Buffer.concat([body, u32(crc)]);
  const group = header.rec.group;
  const object = `${snapshotPrefix(tableId, group)}${header.index}.snap`;
  await store.put(object, bytes);
  const described: ArchivedSnapshot = { tableId, group, index: header.index, term: header.term, atMs, object, crc, bytes: bytes.length, rows };
  await store.put(descriptionKey(tableId, group, header.index), encoder.encode(JSON.stringify(described)));
  return described;
}

/** The complete snapshots of a partition in the archive, oldest first. */
export async function archivedSnapshots(store: ObjectStore, tableId: number, group: number): Promise<ArchivedSnapshot[]> {
  const out: ArchivedSnapshot[] = [];
  for (const key of await store.list(snapshotPrefix(tableId, group))) {
    if (!key.endsWith('.json')) continue;
    const bytes = await store.get(key);
    if (bytes !== undefined) out.push(JSON.parse(decoder.decode(bytes)) as ArchivedSnapshot);
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Removes an archived snapshot: its description first (a snapshot without one is never
 *  used), then its rows. */
export async function removeArchivedSnapshot(store: ObjectStore, snapshot: ArchivedSnapshot): Promise<void> {
  await store.delete(descriptionKey(snapshot.tableId, snapshot.group, snapshot.index));
  await store.delete(snapshot.object);
}

/** A snapshot's group record and rows, every checksum checked (ArchivedSnapshotError). */
export async function readArchivedSnapshot(store: ObjectStore, snapshot: ArchivedSnapshot): Promise<{ rec: GroupRecord; rows: SnapshotRow[] }> {
  return parseArchivedSnapshot(await readArchivedSnapshotBytes(store, snapshot), snapshot);
}

/** A snapshot's object, unopened (for a background thread to parse). */
export async function readArchivedSnapshotBytes(store: ObjectStore, snapshot: ArchivedSnapshot): Promise<Uint8Array> {
  const bytes = await store.get(snapshot.object);
  if (bytes === undefined) throw new ArchivedSnapshotError(snapshot.object, 'missing');
  return bytes;
}

/** readArchivedSnapshot's work once the object's bytes are read. */
export function parseArchivedSnapshot(bytes: Uint8Array, snapshot: ArchivedSnapshot): { rec: GroupRecord; rows: SnapshotRow[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 || crc32c(bytes, 0, bytes.length - 4) !== view.getUint32(bytes.length - 4, true) || view.getUint32(bytes.length - 4, true) !== snapshot.crc) {
    throw new ArchivedSnapshotError(snapshot.object, 'fails its CRC32C');
  }
  const headerBytes = view.getUint32(0, true);
  const header = JSON.parse(decoder.decode(bytes.subarray(4, 4 + headerBytes))) as SnapshotHeader;
  const rows: SnapshotRow[] = [];
  let at = 4 + headerBytes;
  const end = bytes.length - 4;
  while (at < end) {
    const length = view.getUint32(at, true);
    const crc = view.getUint32(at + 4, true);
    rows.push(...unpackRows(bytes.subarray(at + 8, at + 8 + length), crc));
    at += 8 + length;
  }
  return { rec: header.rec, rows };
}
