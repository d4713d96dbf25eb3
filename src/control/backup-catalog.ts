/**
 * On-demand backups as objects in an ObjectStore: per backup, a manifest (what the table
 * was: its schema, indexes, billing, counts; the backup's status and times; the list of
 * chunks) and its items in chunks of about CHUNK_BYTES. Every object carries a CRC32C
 * that is checked when it is read back: a damaged backup is refused, never restored.
 *
 * Keys: `<backupId>/manifest` and `<backupId>/p<partition>-<seq>` (a chunk). A backup id is
 * `<creation ms, 14 digits>-<8 hex>`, so ids sort in creation order. The manifest is
 * written first as CREATING (so a crash mid-backup leaves something to clean up), then,
 * once every chunk is stored, as AVAILABLE. Deleting removes the manifest first, then the
 * chunks; chunks without a manifest are swept at load.
 *
 * Manifest object: `SBBKM1 <crc32c of the JSON, 8 hex>\n<JSON>`.
 * Chunk object (little endian): `SBBK` | version u32 (1) | items u32 | per item: bytes u32 |
 * item (storage codec) | CRC32C u32 of everything before it.
 */
import { crc32c } from '../checksum/crc32c.js';
import type { AttributeDefinition, Item, KeySchemaElement } from '../model/types.js';
import { decodeItem, encodeItem } from '../storage/codec.js';
import type { BillingMode } from './metadata.js';
import type { ObjectStore } from './object-store.js';

/** Items per chunk are cut at about this many encoded bytes. */
export const CHUNK_BYTES = 1024 * 1024;

const CHUNK_MAGIC = 0x4b424253; // 'SBBK' read as little-endian u32
const CHUNK_VERSION = 1;
const MANIFEST_TAG = 'SBBKM1';
const MANIFEST_NAME = 'manifest';

export type BackupState = 'CREATING' | 'AVAILABLE';

/** An index as the backup records it (DynamoDB's shapes, so a restore can feed CreateTable). */
export interface BackedUpIndex {
  name: string;
  keySchema: KeySchemaElement[];
  projection: { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };
  /** Global indexes of PROVISIONED tables. */
  readCapacityUnits?: number;
  writeCapacityUnits?: number;
}

/** The source table as it was when the backup was requested. */
export interface BackedUpTable {
  name: string;
  /** DynamoDB's TableId (a UUID). */
  uuid: string;
  createdAtMs: number;
  keySchema: KeySchemaElement[];
  attributeDefinitions: AttributeDefinition[];
  billingMode: BillingMode;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  localIndexes: BackedUpIndex[];
  globalIndexes: BackedUpIndex[];
  timeToLive?: { enabled: boolean; attributeName: string };
}

export interface ChunkRef {
  key: string;
  items: number;
  bytes: number;
  crc32c: number;
}

export interface BackupManifest {
  format: 1;
  id: string;
  name: string;
  status: BackupState;
  createdAtMs: number;
  /** Sum of the items' DynamoDB sizes, and their number (once AVAILABLE). */
  sizeBytes: number;
  itemCount: number;
  table: BackedUpTable;
  chunks: ChunkRef[];
  /** The items of a point-in-time restore, not a backup anyone made: never listed. */
  internal?: true;
  /** DynamoDB's SYSTEM backup: made when a table with point-in-time recovery was deleted,
   *  gone at `expiresAtMs` (absent: a USER backup, kept until deleted). */
  type?: 'SYSTEM';
  expiresAtMs?: number;
}

export class BackupChecksumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupChecksumError';
  }
}

export function manifestKey(id: string): string {
  return `${id}/${MANIFEST_NAME}`;
}

export function encodeManifest(manifest: BackupManifest): Uint8Array {
  const json = Buffer.from(JSON.stringify(manifest), 'utf8');
  const head = Buffer.from(`${MANIFEST_TAG} ${crc32c(json).toString(16).padStart(8, '0')}\n`, 'utf8');
  return new Uint8Array(Buffer.concat([head, json]));
}

/** The manifest, after checking its CRC32C (BackupChecksumError when it fails). */
export function decodeManifest(bytes: Uint8Array, key = 'manifest'): BackupManifest {
  const newline = bytes.indexOf(0x0a);
  const head = newline < 0 ? '' : Buffer.from(bytes.subarray(0, newline)).toString('utf8');
  const match = /^SBBKM1 ([0-9a-f]{8})$/.exec(head);
  if (match === null) throw new BackupChecksumError(`backup object ${key} is not a shardbox backup manifest`);
  const json = bytes.subarray(newline + 1);
  if (crc32c(json) !== parseInt(match[1]!, 16)) throw new BackupChecksumError(`backup manifest ${key} fails its CRC32C`);
  const manifest = JSON.parse(Buffer.from(json).toString('utf8')) as BackupManifest;
  if (manifest.format !== 1) throw new BackupChecksumError(`backup manifest ${key} has format ${String(manifest.format)}; this shardbox reads format 1`);
  return manifest;
}

export function encodeChunk(items: readonly Item[]): Uint8Array {
  return chunkOfEncodedItems(items.map(encodeItem));
}

/** A chunk of items already encoded (encodeItem's bytes, as storage keeps them). */
export function chunkOfEncodedItems(encoded: readonly Uint8Array[]): Uint8Array {
  const size = 12 + encoded.reduce((n, e) => n + 4 + e.length, 0) + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, CHUNK_MAGIC, true);
  view.setUint32(4, CHUNK_VERSION, true);
  view.setUint32(8, encoded.length, true);
  let at = 12;
  for (const e of encoded) {
    view.setUint32(at, e.length, true);
    out.set(e, at + 4);
    at += 4 + e.length;
  }
  view.setUint32(at, crc32c(out, 0, at), true);
  return out;
}

/** The items of a chunk, after checking its CRC32C (and, given, the one its manifest
 *  recorded): BackupChecksumError on any mismatch or malformed chunk. */
export function decodeChunk(bytes: Uint8Array, expectedCrc?: number, key = 'chunk'): Item[] {
  const fail = (why: string): never => {
    throw new BackupChecksumError(`backup chunk ${key} ${why}`);
  };
  if (bytes.length < 16) fail('is too short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 4;
  const crc = view.getUint32(end, true);
  if (crc32c(bytes, 0, end) !== crc) fail('fails its CRC32C');
  if (expectedCrc !== undefined && crc !== expectedCrc) fail('is not the chunk its manifest lists (CRC32C differs)');
  if (view.getUint32(0, true) !== CHUNK_MAGIC || view.getUint32(4, true) !== CHUNK_VERSION) fail('is not a shardbox backup chunk of version 1');
  const count = view.getUint32(8, true);
  const items: Item[] = [];
  let at = 12;
  for (let i = 0; i < count; i++) {
    if (at + 4 > end) fail('is malformed (its items overrun it)');
    const length = view.getUint32(at, true);
    if (at + 4 + length > end) fail('is malformed (its items overrun it)');
    items.push(decodeItem(bytes.subarray(at + 4, at + 4 + length)));
    at += 4 + length;
  }
  if (at !== end) fail('is malformed (bytes after its items)');
  return items;
}

/** The backups kept in one ObjectStore. */
export class BackupCatalog {
  constructor(readonly store: ObjectStore) {}

  /**
   * Every backup's manifest. Backups left CREATING (the process stopped while one was
   * being written: its snapshot cannot be resumed) and chunks without a manifest are
   * removed; their ids come back in `removed`. A manifest that fails its checksum is
   * reported in `damaged` and left in place.
   */
  async load(): Promise<{ manifests: BackupManifest[]; removed: string[]; damaged: string[] }> {
    const keys = await this.store.list('');
    const byId = new Map<string, string[]>();
    for (const key of keys) {
      const id = key.split('/')[0]!;
      let list = byId.get(id);
      if (list === undefined) byId.set(id, list = []);
      list.push(key);
    }
    const manifests: BackupManifest[] = [];
    const removed: string[] = [];
    const damaged: string[] = [];
    for (const [id, idKeys] of byId) {
      const bytes = idKeys.includes(manifestKey(id)) ? await this.store.get(manifestKey(id)) : undefined;
      if (bytes === undefined) {
        for (const key of idKeys) await this.store.delete(key);
        removed.push(id);
        continue;
      }
      let manifest: BackupManifest;
      try {
        manifest = decodeManifest(bytes, manifestKey(id));
      } catch (error) {
        if (!(error instanceof BackupChecksumError) && !(error instanceof SyntaxError)) throw error;
        damaged.push(id);
        continue;
      }
      if (manifest.status !== 'AVAILABLE') {
        await this.remove(id);
        removed.push(id);
        continue;
      }
      manifests.push(manifest);
    }
    manifests.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { manifests, removed, damaged };
  }

  async putManifest(manifest: BackupManifest): Promise<void> {
    await this.store.put(manifestKey(manifest.id), encodeManifest(manifest));
  }

  /** Stores items as chunk `<id>/p<partition>-<seq>`. */
  async writeChunk(id: string, partition: number, seq: number, items: readonly Item[]): Promise<ChunkRef> {
    return this.writeChunkBytes(id, partition, seq, encodeChunk(items), items.length);
  }

  /** Stores a chunk encoded already (encodeChunk, chunkOfEncodedItems) of `items` items. */
  async writeChunkBytes(id: string, partition: number, seq: number, bytes: Uint8Array, items: number): Promise<ChunkRef> {
    const key = `${id}/p${String(partition).padStart(4, '0')}-${String(seq).padStart(6, '0')}`;
    await this.store.put(key, bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { key, items, bytes: bytes.length, crc32c: view.getUint32(bytes.length - 4, true) };
  }

  async readChunk(ref: ChunkRef): Promise<Item[]> {
    const bytes = await this.store.get(ref.key);
    if (bytes === undefined) throw new BackupChecksumError(`backup chunk ${ref.key} is missing`);
    return decodeChunk(bytes, ref.crc32c, ref.key);
  }

  /** Removes a backup: its manifest first (it is gone from then on), then its chunks. */
  async remove(id: string): Promise<void> {
    await this.store.delete(manifestKey(id));
    for (const key of await this.store.list(`${id}/`)) await this.store.delete(key);
  }
}
