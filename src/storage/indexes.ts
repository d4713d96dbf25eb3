/**
 * Secondary indexes in the storage room: what an index is to a replica, where its entries
 * live in the items B-tree, how apply maintains them, and the outbox that carries a
 * partition's changes to its global indexes.
 *
 * Entry keys. An index has an id from the table-id space, so its entries have a key space
 * of their own in the same B-tree, ordered like items:
 *   indexId (u32) | hash (u64) | enc(index hash values) | enc(index range values)
 *   | DynamoDB's 3-byte order prefix of the table key | enc(table key values that are
 *   not index key attributes)
 * The hash of a one-attribute index hash key is `partitionHash(value)`, as for a table: a
 * local index (whose hash key is the table's) then sorts its entries inside the hash range
 * of the partition that holds their items, and a Query over it is one range scan. A
 * multi-attribute hash key hashes the concatenation of its encoded values. The table key
 * at the end makes entries unique (many items may share an index key).
 *
 * Local indexes (LSI) are maintained in the apply transaction of the item, on every
 * replica. Global indexes (GSI) live in tables of their own, in other partitions: apply
 * appends one outbox record per write that changed an item's image in some GSI, keyed by
 * (group, log index) in a reserved key space of the same B-tree, so the outbox is
 * replicated state (every replica derives the same records, any new leader has them). The
 * control plane's propagator reads it from the leader, writes the index entries, then
 * trims it with a replicated trim entry.
 *
 * Index configuration can change at a log index (UpdateTable adds or removes a GSI): a
 * replicated index-config entry writes the group's index list into a reserved config row,
 * so every replica starts and stops recording at the same entry.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { AttributeValue, Item, KeyShape, ScalarAttributeType } from '../model/types.js';
import type { IndexKeySpec, IndexSpec } from '../model/index-spec.js';
import { encodeKeyComponent, hashPrefix } from '../model/key-encoding.js';
import { dynamoKeyOrderPrefix, partitionHash } from '../model/hash.js';
import { writeCapacityUnits } from '../model/capacity.js';
import { itemSize } from '../model/item-size.js';
import { concatBytes, decodeItem, encodeItem, prefixEnd } from './codec.js';

export type { IndexKeyAttribute, IndexKeySpec, IndexProjection, IndexSpec, ProjectionType } from '../model/index-spec.js';

/** What a base partition's replicas maintain. */
export interface GroupIndexes {
  local: IndexSpec[];
  global: IndexSpec[];
}

/** A partition of a global index's own table: what its entries are. */
export interface GlobalIndexTable {
  spec: IndexSpec;
  /** The base table's key shape (the tail of every entry key). */
  tableShape: KeyShape;
}

/** Reserved table ids (never allocated: ids count up from 1). */
export const OUTBOX_SPACE_ID = 0xffff_ffff;
export const INDEX_CONFIG_SPACE_ID = 0xffff_fffe;
export const ITEM_COLLECTION_SPACE_ID = 0xffff_fffd;

// ---- entry keys and images ---------------------------------------------------------------

function hasType(v: AttributeValue | undefined, type: ScalarAttributeType): v is AttributeValue {
  return v !== undefined && type in v;
}

/** Whether an item has every key attribute of the index, with the declared type (an item
 *  without them is not in the index: indexes are sparse). */
export function inIndex(item: Item, key: IndexKeySpec): boolean {
  for (const a of key.hash) if (!hasType(item[a.name], a.type)) return false;
  for (const a of key.range) if (!hasType(item[a.name], a.type)) return false;
  return true;
}

/** DynamoDB's error for an item whose index key attribute has another type than the
 *  index declares (an absent one is fine: indexes are sparse); undefined when none. */
export function indexKeyTypeError(indexes: GroupIndexes, item: Item): string | undefined {
  for (const spec of [...indexes.local, ...indexes.global]) {
    for (const a of [...spec.key.hash, ...spec.key.range]) {
      const v = item[a.name];
      if (v !== undefined && !(a.type in v)) {
        return `One or more parameter values were invalid: Type mismatch for Index Key ${a.name} Expected: ${a.type} Actual: ${Object.keys(v)[0]} IndexName: ${spec.name}`;
      }
    }
  }
  return undefined;
}

/** The partition hash of an entry whose index hash values are `values`. */
export function indexHash(values: AttributeValue[]): bigint {
  if (values.length === 1) return partitionHash(values[0]);
  let bytes: Uint8Array = new Uint8Array(0);
  for (const v of values) bytes = concatBytes(bytes, encodeKeyComponent(v));
  return partitionHash({ B: bytes });
}

/** `indexId | hash | enc(hash values)`: the key prefix of every entry with these index
 *  hash values (a Query's range). */
export function indexHashPrefix(indexId: number, hashValues: AttributeValue[]): Uint8Array {
  let out = hashPrefix(indexId, indexHash(hashValues));
  for (const v of hashValues) out = concatBytes(out, encodeKeyComponent(v));
  return out;
}

/** The table key attributes that are not already part of the index key, in key order. */
function tableKeyTail(key: IndexKeySpec, table: KeyShape): string[] {
  const used = new Set([...key.hash, ...key.range].map((a) => a.name));
  const tail: string[] = [];
  if (!used.has(table.hashName)) tail.push(table.hashName);
  if (table.rangeName !== undefined && !used.has(table.rangeName)) tail.push(table.rangeName);
  return tail;
}

/** The B-tree key of an item's entry in an index, or undefined when the item is not in
 *  it. `item` needs the index and table key attributes only. */
export function indexEntryKey(spec: IndexSpec, table: KeyShape, item: Item): Uint8Array | undefined {
  if (!inIndex(item, spec.key)) return undefined;
  const parts: Uint8Array[] = [indexHashPrefix(spec.id, spec.key.hash.map((a) => item[a.name]!))];
  for (const a of spec.key.range) parts.push(encodeKeyComponent(item[a.name]!));
  // Entries that share an index key are in DynamoDB's order of their table keys.
  parts.push(dynamoKeyOrderPrefix(item[table.hashName]!, table.rangeName === undefined ? undefined : item[table.rangeName]));
  for (const name of tableKeyTail(spec.key, table)) parts.push(encodeKeyComponent(item[name]!));
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Names of the table's and the index's key attributes. */
export function indexKeyNames(spec: IndexSpec, table: KeyShape): string[] {
  const names = [table.hashName];
  if (table.rangeName !== undefined) names.push(table.rangeName);
  for (const a of [...spec.key.hash, ...spec.key.range]) if (!names.includes(a.name)) names.push(a.name);
  return names;
}

/** The key attributes of an entry (table and index keys): an index's LastEvaluatedKey. */
export function indexEntryKeyOf(spec: IndexSpec, table: KeyShape, item: Item): Item {
  const out: Item = {};
  for (const name of indexKeyNames(spec, table)) if (item[name] !== undefined) out[name] = item[name];
  return out;
}

/** Whether the index holds attribute `name` of its items. */
export function projects(spec: IndexSpec, table: KeyShape, name: string): boolean {
  if (spec.projection.type === 'ALL') return true;
  if (indexKeyNames(spec, table).includes(name)) return true;
  return spec.projection.type === 'INCLUDE' && (spec.projection.nonKeyAttributes ?? []).includes(name);
}

/** What the index stores of an item: its projection (keys of table and index always). */
export function projectForIndex(spec: IndexSpec, table: KeyShape, item: Item): Item {
  if (spec.projection.type === 'ALL') return item;
  const out: Item = {};
  for (const name in item) if (projects(spec, table, name)) out[name] = item[name];
  return out;
}

// ---- maintenance in apply ----------------------------------------------------------------

/** What apply needs of the items store (apply.ts ItemKV). */
interface KV {
  get(key: Uint8Array): Uint8Array | undefined;
  put(key: Uint8Array, value: Uint8Array): void;
  remove(key: Uint8Array): void;
}

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

/** One GSI's change in an outbox record: the entry to delete (the old image's keys) and
 *  the entry to put (the new projected image); either may be absent. */
export interface GlobalIndexChange {
  indexId: number;
  oldKeys?: Item;
  newImage?: Item;
}

/** The outbox key of `group`'s record for log entry `index`. */
export function outboxKey(group: number, index: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(0, OUTBOX_SPACE_ID);
  view.setUint32(4, group);
  view.setUint32(8, Math.floor(index / 0x1_0000_0000));
  view.setUint32(12, index >>> 0);
  return out;
}

export function outboxIndexOf(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return view.getUint32(8) * 0x1_0000_0000 + view.getUint32(12);
}

export function encodeOutboxRecord(changes: GlobalIndexChange[]): Uint8Array {
  // Items in the stored item format (deterministic bytes on every replica).
  return packr.pack(changes.map((c) => [c.indexId, c.oldKeys === undefined ? null : encodeItem(c.oldKeys), c.newImage === undefined ? null : encodeItem(c.newImage)]));
}

export function decodeOutboxRecord(bytes: Uint8Array): GlobalIndexChange[] {
  const rows = unpackr.unpack(bytes) as Array<[number, Uint8Array | null, Uint8Array | null]>;
  return rows.map(([indexId, oldKeys, newImage]) => ({
    indexId,
    ...(oldKeys !== null ? { oldKeys: decodeItem(oldKeys) } : {}),
    ...(newImage !== null ? { newImage: decodeItem(newImage) } : {}),
  }));
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.compare(a, b) === 0;
}

/** Write units an index spends on one entry change, DynamoDB's way: a put of the new
 *  entry and a delete of the old one when the index key changed, one of them when the
 *  item enters or leaves the index, and one put when only projected attributes changed;
 *  each rounded up to 1 KB units on its own. */
function indexWriteUnits(oldImage: Item | undefined, newImage: Item | undefined, sameKey: boolean): number {
  if (oldImage !== undefined && newImage !== undefined && sameKey) return writeCapacityUnits(itemSize(newImage));
  return (oldImage !== undefined ? writeCapacityUnits(itemSize(oldImage)) : 0) + (newImage !== undefined ? writeCapacityUnits(itemSize(newImage)) : 0);
}

/**
 * Brings the indexes of `group` in line with a write that turned `old` into `next` (either
 * may be absent): LSI entries are replaced here, GSI changes go into the outbox record of
 * log entry `logIndex`, and the item collection's size row follows (when the table has a
 * local index). Deterministic: the same on every replica. Returns the write units each
 * index spent, as [index id, units] (for ReturnConsumedCapacity), and the collection's size.
 */
export function maintainIndexes(
  kv: KV,
  group: number,
  table: KeyShape,
  indexes: GroupIndexes,
  logIndex: number,
  old: Item | undefined,
  next: Item | undefined,
): IndexWrites {
  const units: IndexWrites = [];
  if (indexes.local.length > 0) units.collectionBytes = updateItemCollection(kv, table, indexes, old, next);
  for (const spec of indexes.local) {
    const oldKey = old === undefined ? undefined : indexEntryKey(spec, table, old);
    const newKey = next === undefined ? undefined : indexEntryKey(spec, table, next);
    if (oldKey === undefined && newKey === undefined) continue;
    const sameKey = sameBytes(oldKey, newKey);
    if (oldKey !== undefined && !sameKey) kv.remove(oldKey);
    const newImage = newKey !== undefined ? projectForIndex(spec, table, next!) : undefined;
    if (newKey !== undefined) kv.put(newKey, encodeItem(newImage!));
    units.push([spec.id, indexWriteUnits(oldKey !== undefined ? projectForIndex(spec, table, old!) : undefined, newImage, sameKey)]);
  }
  if (indexes.global.length === 0) return units;
  const changes: GlobalIndexChange[] = [];
  for (const spec of indexes.global) {
    const oldIn = old !== undefined && inIndex(old, spec.key);
    const newIn = next !== undefined && inIndex(next, spec.key);
    if (!oldIn && !newIn) continue;
    const oldImage = oldIn ? projectForIndex(spec, table, old!) : undefined;
    const newImage = newIn ? projectForIndex(spec, table, next!) : undefined;
    if (oldImage !== undefined && newImage !== undefined && sameBytes(encodeItem(oldImage), encodeItem(newImage))) continue;
    const sameKey = oldIn && newIn && sameBytes(indexEntryKey(spec, table, old!), indexEntryKey(spec, table, next!));
    units.push([spec.id, indexWriteUnits(oldImage, newImage, sameKey)]);
    changes.push({
      indexId: spec.id,
      ...(oldIn ? { oldKeys: indexEntryKeyOf(spec, table, old!) } : {}),
      ...(newImage !== undefined ? { newImage } : {}),
    });
  }
  if (changes.length > 0) kv.put(outboxKey(group, logIndex), encodeOutboxRecord(changes));
  return units;
}

/** The write units each index spent, as [index id, units], and, for a table with local
 *  indexes, the size of the written item's collection after the write (bytes). */
export type IndexWrites = Array<[number, number]> & { collectionBytes?: number };

// ---- item collections --------------------------------------------------------------------

/**
 * Item collections. On a table with local indexes, DynamoDB limits each item collection
 * (the items of one partition-key value and their local-index entries) to 10 GB, and
 * reports its size on writes (ReturnItemCollectionMetrics). Each collection's size is a
 * row of a reserved key space, kept by apply in the item's transaction from each write's
 * delta, so every replica holds the same rows:
 *   ITEM_COLLECTION_SPACE_ID (u32) | first local index id (u32) | hash (u64) | enc(pk value)
 * Local indexes are declared at CreateTable and never change, so the first one's id names
 * the table's collections; the hash after it orders the rows like the items, so a
 * partition's rows are one key interval (`itemCollectionInterval`).
 * Sizes count as DynamoDB's storage does: each item and each index entry weighs its
 * attributes (itemSize) plus 100 bytes of overhead.
 */
export const ITEM_COLLECTION_LIMIT_BYTES = 10 * 1024 * 1024 * 1024;
const COLLECTION_ENTRY_OVERHEAD_BYTES = 100;
/** DynamoDB's message (API reference, ItemCollectionSizeLimitExceededException). */
export const ITEM_COLLECTION_TOO_LARGE_MESSAGE = 'The total size of an item collection has exceeded the maximum limit of 10 gigabytes.';

/** `ITEM_COLLECTION_SPACE_ID | first local index id | hash` (the hash part only when given). */
function collectionPrefix(indexes: GroupIndexes, hash?: bigint): Uint8Array {
  const out = new Uint8Array(hash === undefined ? 8 : 16);
  const view = new DataView(out.buffer);
  view.setUint32(0, ITEM_COLLECTION_SPACE_ID);
  view.setUint32(4, indexes.local[0].id);
  if (hash !== undefined) view.setBigUint64(8, hash);
  return out;
}

/** The size row's key of the collection of partition-key value `pkValue`. */
export function itemCollectionKey(indexes: GroupIndexes, pkValue: AttributeValue): Uint8Array {
  return concatBytes(collectionPrefix(indexes, partitionHash(pkValue)), encodeKeyComponent(pkValue));
}

/** [lo, hi) of the size rows of collections whose partition hash is in [h0, h1]. */
export function itemCollectionInterval(indexes: GroupIndexes, h0: bigint, h1: bigint): { lo: Uint8Array; hi: Uint8Array } {
  const lo = collectionPrefix(indexes, h0);
  const hi = h1 === 0xffff_ffff_ffff_ffffn ? prefixEnd(collectionPrefix(indexes))! : collectionPrefix(indexes, h1 + 1n);
  return { lo, hi };
}

/** What an item adds to its collection: itself and its entry in each local index it is
 *  in, each with DynamoDB's 100 bytes of overhead. */
export function collectionBytesOf(table: KeyShape, indexes: GroupIndexes, item: Item | undefined): number {
  if (item === undefined) return 0;
  let bytes = itemSize(item) + COLLECTION_ENTRY_OVERHEAD_BYTES;
  for (const spec of indexes.local) {
    if (inIndex(item, spec.key)) bytes += itemSize(projectForIndex(spec, table, item)) + COLLECTION_ENTRY_OVERHEAD_BYTES;
  }
  return bytes;
}

/** The size of a collection as its row says (0: no row, an empty collection). */
export function readItemCollectionBytes(kv: Pick<KV, 'get'>, indexes: GroupIndexes, pkValue: AttributeValue): number {
  const bytes = kv.get(itemCollectionKey(indexes, pkValue));
  return bytes === undefined ? 0 : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(0);
}

/** The partition-key value of a write that turned `old` into `next`. */
function pkValueOf(table: KeyShape, old: Item | undefined, next: Item | undefined): AttributeValue | undefined {
  return (next ?? old)?.[table.hashName];
}

/**
 * DynamoDB's limit, checked before a write that turns `old` into `next` is applied: a
 * write that grows a collection past `limitBytes` is refused (one that shrinks it, or
 * keeps its size, is allowed even above the limit). Returns the error message, or
 * undefined.
 */
export function itemCollectionLimitError(
  kv: Pick<KV, 'get'>, table: KeyShape, indexes: GroupIndexes, old: Item | undefined, next: Item | undefined, limitBytes: number,
): string | undefined {
  if (indexes.local.length === 0) return undefined;
  const delta = collectionBytesOf(table, indexes, next) - collectionBytesOf(table, indexes, old);
  if (delta <= 0) return undefined;
  const pk = pkValueOf(table, old, next);
  if (pk === undefined) return undefined;
  return readItemCollectionBytes(kv, indexes, pk) + delta > limitBytes ? ITEM_COLLECTION_TOO_LARGE_MESSAGE : undefined;
}

/** Moves a collection's size row by the write's delta; an empty collection has no row.
 *  Returns the size after the write. */
function updateItemCollection(kv: KV, table: KeyShape, indexes: GroupIndexes, old: Item | undefined, next: Item | undefined): number | undefined {
  const pk = pkValueOf(table, old, next);
  if (pk === undefined) return undefined;
  const key = itemCollectionKey(indexes, pk);
  const stored = kv.get(key);
  const before = stored === undefined ? 0 : new DataView(stored.buffer, stored.byteOffset, stored.byteLength).getFloat64(0);
  // Clamped: rows that predate tracking (a collection written before it existed) never go negative.
  const after = Math.max(0, before + collectionBytesOf(table, indexes, next) - collectionBytesOf(table, indexes, old));
  if (after === before && stored !== undefined) return after;
  if (after === 0) {
    if (stored !== undefined) kv.remove(key);
  } else {
    const row = new Uint8Array(8);
    new DataView(row.buffer).setFloat64(0, after);
    kv.put(key, row);
  }
  return after;
}

// ---- index-config and trim entries -------------------------------------------------------

/** First byte of an index-control log entry (write ops start with their format version,
 *  2; membership entries with their own marker). */
export const INDEX_CONTROL_MARKER = 0xd1;

export type IndexControl =
  /** From this entry on, the group maintains these indexes. */
  | { t: 'config'; indexes: GroupIndexes }
  /** The propagator has applied every outbox record up to `upTo`: drop them. */
  | { t: 'trim'; upTo: number };

export function encodeIndexControl(control: IndexControl): Uint8Array {
  const body = packr.pack(control);
  const out = new Uint8Array(1 + body.length);
  out[0] = INDEX_CONTROL_MARKER;
  out.set(body, 1);
  return out;
}

export function isIndexControl(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === INDEX_CONTROL_MARKER;
}

export function decodeIndexControl(data: Uint8Array): IndexControl {
  return unpackr.unpack(data.subarray(1)) as IndexControl;
}

/** The config row of a group: its index list as last set by a config entry, and how far
 *  its outbox was trimmed. */
export interface IndexConfigRow {
  indexes: GroupIndexes;
  trimmedTo: number;
}

export function indexConfigKey(group: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, INDEX_CONFIG_SPACE_ID);
  view.setUint32(4, group);
  return out;
}

export function readIndexConfig(kv: KV, group: number): IndexConfigRow | undefined {
  const bytes = kv.get(indexConfigKey(group));
  return bytes === undefined ? undefined : (unpackr.unpack(bytes) as IndexConfigRow);
}

/** A split child's config row: the indexes its parent maintained at the split, and no
 *  outbox records at or below the split entry (those stay in the parent's outbox). */
export function writeSplitChildIndexConfig(kv: KV, parent: number, child: number, splitIndex: number, current: GroupIndexes | undefined): void {
  const indexes = readIndexConfig(kv, parent)?.indexes ?? current;
  if (indexes === undefined) return;
  kv.put(indexConfigKey(child), packr.pack({ indexes, trimmedTo: splitIndex } satisfies IndexConfigRow));
}

/**
 * Applies an index-control entry: a config entry records the group's new index list; a
 * trim removes the outbox records up to `upTo`. Returns the group's index list after it.
 */
export function applyIndexControl(kv: KV, group: number, logIndex: number, control: IndexControl, current: GroupIndexes | undefined): GroupIndexes {
  // A group that had no GSI from its start has no outbox records below its first config entry.
  const row = readIndexConfig(kv, group) ?? { indexes: current ?? { local: [], global: [] }, trimmedTo: current?.global.length ? 0 : logIndex };
  if (control.t === 'config') {
    row.indexes = control.indexes;
  } else {
    // Records exist only for writes that changed a GSI image; removing an absent key is cheap.
    for (let i = row.trimmedTo + 1; i <= control.upTo; i++) kv.remove(outboxKey(group, i));
    row.trimmedTo = Math.max(row.trimmedTo, control.upTo);
  }
  kv.put(indexConfigKey(group), packr.pack(row));
  return row.indexes;
}

export function hasIndexes(indexes: GroupIndexes | undefined): indexes is GroupIndexes {
  return indexes !== undefined && (indexes.local.length > 0 || indexes.global.length > 0);
}
