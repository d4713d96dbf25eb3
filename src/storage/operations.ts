/**
 * What a storage node is asked to do for one partition, as plain data (it crosses rings
 * msgpack-encoded, and a write is the payload of a log entry). The api builds these after
 * validating and parsing; the node applies writes at commit time, deterministically, and
 * serves reads from its B-tree.
 */
import type { AttributeValue, Item } from '../model/types.js';
import type { ConditionAst, KeyCondition, ProjectionAst, UpdateAst } from '../expressions/ast.js';
import type { ErrorShape } from '../model/errors.js';
import type { ItemChecksumError } from './checked-values.js';

export type ReturnValues = 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';

interface WriteBase {
  tableId: number;
  /** The key attributes of the item, and nothing else. */
  key: Item;
  /** Evaluated against the item as it is when the entry is applied. */
  condition?: ConditionAst;
  returnValues: ReturnValues;
  /** ReturnValuesOnConditionCheckFailure = ALL_OLD. */
  returnOldOnConditionFailure?: boolean;
  /** The result carries the sizes DynamoDB charges the write by (ReturnConsumedCapacity). */
  measureSizes?: boolean;
  /** The item's B-tree key (`encodeItemKey`), computed once by the api, which hashed the
   *  partition key to route the write anyway; replicas then need not hash it again. */
  itemKey?: Uint8Array;
}

export interface PutOp extends WriteBase { type: 'put'; item: Item }
export interface DeleteOp extends WriteBase { type: 'delete' }
export interface UpdateOp extends WriteBase { type: 'update'; update: UpdateAst }
export type WriteOp = PutOp | DeleteOp | UpdateOp;

/** The outcome of applying one write, identical on every replica. */
export type WriteResult =
  /** `indexUnits`: the write units each secondary index spent, as [index id, units]
   *  (absent when the table has no index the write touched). `collectionBytes`: on a
   *  table with local indexes, the size of the item's collection after the write. */
  | { ok: true; attributes?: Item; sizes?: WriteSizes; indexUnits?: Array<[number, number]>; collectionBytes?: number }
  /** `sizes` (measured writes): a failed condition still costs the larger of the item's
   *  size before and the write's, at least one unit. */
  | { ok: false; error: ErrorShape; sizes?: WriteSizes };

/** A group whose apply stopped at entry `index`: applying it met a stored value that
 *  failed its checksum. Nothing of that entry was applied; the group's applied index is
 *  `index - 1`, and its later entries of the batch were not applied either. */
export interface ApplyDamage {
  group: number;
  index: number;
  error: ItemChecksumError;
}

/** Results of an apply batch, parallel to its groups and their entries (undefined for
 *  entries that answer nothing). A group in `damaged` has results only for the entries
 *  before the one it stopped at. */
export type ApplyBatchResults = Array<Array<WriteResult | undefined>> & { damaged?: ApplyDamage[] };

/** With `measureSizes`: bytes of the item before the write (0 if there was none) and,
 *  for an update, after it (a put's new item the api sized already). */
export interface WriteSizes { oldItemBytes: number; newItemBytes?: number }

export interface GetRequest {
  tableId: number;
  key: Item;
  projection?: ProjectionAst;
}

export interface GetResult { item?: Item }

export interface QueryRequest {
  tableId: number;
  keyCondition: KeyCondition;
  forward: boolean;
  /** Most items to evaluate (DynamoDB's Limit: counted before the filter). */
  limit?: number;
  exclusiveStartKey?: Item;
  filter?: ConditionAst;
  projection?: ProjectionAst;
  /** Select: COUNT returns no items. */
  countOnly?: boolean;
  /** Query an index (its id) instead of the table: `keyCondition.hash` is the index's
   *  (first) hash value and `keyCondition.range` a condition on its range key. */
  indexId?: number;
  /** A multi-attribute index key: every hash value, and equality on the first range
   *  values (`keyCondition.range` then applies to the next range attribute). */
  indexHashValues?: AttributeValue[];
  indexRangeEquals?: AttributeValue[];
  /** A local index: read each entry's item from the table (attributes not projected). */
  fetchBase?: boolean;
}

export interface ScanRequest {
  tableId: number;
  /** Only items whose partition-key hash h satisfies hashLo <= h <= hashHi (64-bit, as
   *  16 hex digits so that it survives msgpack): the Segment's slice of this partition. */
  hashLo: string;
  hashHi: string;
  limit?: number;
  /** Stop once the items read reach this many bytes (default and most: 1 MB). A Scan that
   *  continues into the next partition passes what is left of its 1 MB page. */
  maxBytes?: number;
  exclusiveStartKey?: Item;
  filter?: ConditionAst;
  projection?: ProjectionAst;
  countOnly?: boolean;
  /** Scan an index (its id) instead of the table. */
  indexId?: number;
  fetchBase?: boolean;
}

export interface PageResult {
  items: Item[];
  count: number;
  scannedCount: number;
  /** Set when the page stopped early (Limit or 1 MB): the key of the last item evaluated. */
  lastEvaluatedKey?: Item;
  /** The key of the last item evaluated, whether or not the page stopped early: a Scan
   *  that ends its page at a partition's end continues from it. */
  lastKey?: Item;
  /** Bytes of items read (before the filter), for capacity accounting. */
  bytesRead: number;
  /** A local index read with fetchBase: 4 KB blocks of the table items it fetched (each
   *  item's size rounded up on its own, as DynamoDB charges a fetch). */
  fetchedBlocks?: number;
}

/** An outbox record (indexes.ts) as a leader hands it to the propagator. */
export interface OutboxRecord {
  index: number;
  data: Uint8Array;
  /** When the leader applied the entry (its trace clock, ms), when it knows. */
  appliedAtMs?: number;
}

export type { AttributeValue };
