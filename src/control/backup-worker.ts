/**
 * A backup's background work, on the background pool's thread (never the main thread,
 * where embedded callers' requests are routed): opens a partition's export pieces, checks
 * every item's checksum, and frames the items into one backup chunk as they are stored,
 * decoding each only to add up its size.
 */
import './background-thread.js';
import { itemSize } from '../model/item-size.js';
import { decodeItem } from '../storage/codec.js';
import { encodedItemsOfRows, unpackRows, type PackedRows } from '../storage/snapshot.js';
import { chunkOfEncodedItems } from './backup-catalog.js';

export interface BackupChunkTask {
  tableId: number;
  /** Export pieces as the leader sent them (storage/snapshot.ts packRows). */
  pieces: PackedRows[];
}

export interface BackupChunk {
  /** The chunk (backup-catalog.ts), empty when the pieces held no item. */
  bytes: Uint8Array;
  items: number;
  /** The items' sizes as DynamoDB counts them. */
  sizeBytes: number;
}

export default function backupChunk(task: BackupChunkTask): BackupChunk {
  const encoded: Uint8Array[] = [];
  let sizeBytes = 0;
  for (const piece of task.pieces) {
    for (const item of encodedItemsOfRows(unpackRows(piece.payload, piece.crc), task.tableId)) {
      sizeBytes += itemSize(decodeItem(item));
      encoded.push(item);
    }
  }
  return { bytes: encoded.length === 0 ? new Uint8Array(0) : chunkOfEncodedItems(encoded), items: encoded.length, sizeBytes };
}
