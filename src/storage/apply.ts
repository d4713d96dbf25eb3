/**
 * Deterministic apply of one write op, and the point read, over a minimal key-value view
 * of the items B-tree. The node's LMDB store (items.ts) and the cluster simulator's
 * in-memory store (test/sim) run this same code, so what the simulator checks is what a
 * node does.
 */
import type { Item, KeyShape } from '../model/types.js';
import { DynamoDBError, toErrorShape, type ErrorShape } from '../model/errors.js';
import { encodeItemKey } from '../model/key-encoding.js';
import { itemSize, MAX_ITEM_BYTES } from '../model/item-size.js';
import { INDEX_KEY_TYPE_MESSAGE, applyUpdate, evaluateCondition, project } from '../expressions/index.js';
import type { ConditionAst } from '../expressions/ast.js';
import { decodeItem, decodeRawWriteOp, encodeItem, type RawWriteOp } from './codec.js';
import type { GetRequest, GetResult, WriteResult, WriteSizes } from './operations.js';
import {
  applyIndexControl, decodeIndexControl, hasIndexes, indexKeyTypeError, isIndexControl, itemCollectionLimitError, maintainIndexes,
  ITEM_COLLECTION_LIMIT_BYTES, type GroupIndexes, type IndexWrites,
} from './indexes.js';

/** What apply needs of an items store: point get, put and remove by B-tree key. A node's
 *  store verifies each value's checksum on get (checked-values.ts) and throws
 *  ItemChecksumError rather than return a damaged one. */
export interface ItemKV {
  /** The value of `key` (its payload, checksum verified); it may be a volatile view,
   *  valid only until the next call on this store (apply decodes it at once). */
  get(key: Uint8Array): Uint8Array | undefined;
  put(key: Uint8Array, value: Uint8Array): void;
  remove(key: Uint8Array): void;
}

/** The partition a write is applied to: its table and key shape. */
export interface ApplyTarget {
  group: number;
  tableId: number;
  keyShape: KeyShape;
  /** The secondary indexes the group maintains (indexes.ts); an index-config entry
   *  replaces them, on the object, as it applies. */
  indexes?: GroupIndexes;
  /** Largest item collection a write may grow (tables with local indexes; default
   *  DynamoDB's 10 GB; the group record may carry a smaller one for tests). */
  itemCollectionLimitBytes?: number;
}

export interface ApplyStats {
  applyTxns: number;
  appliedEntries: number;
  /** Non-DynamoDB errors thrown by the expression evaluator while applying (a bug):
   *  turned into InternalServerError results so that every replica stays in step. */
  applyInternalErrors: number;
}

const CONDITION_FAILED_MESSAGE = 'The conditional request failed';
const UPDATE_TOO_LARGE_MESSAGE = 'Item size to update has exceeded the maximum allowed size';

function fail(error: DynamoDBError | ErrorShape): WriteResult {
  return { ok: false, error: error instanceof DynamoDBError ? toErrorShape(error) : error };
}

function conditionFailed(op: RawWriteOp, old: Item | undefined): WriteResult {
  const details = op.returnOldOnConditionFailure && old !== undefined ? { Item: old } : undefined;
  const result = fail(new DynamoDBError('ConditionalCheckFailedException', CONDITION_FAILED_MESSAGE, details));
  const sizes = oldSizes(op, old);
  return sizes === undefined ? result : { ...result, sizes };
}

function nonEmpty(item: Item | undefined): Item | undefined {
  if (item === undefined) return undefined;
  for (const _ in item) return item;
  return undefined;
}

function okResult(attributes: Item | undefined, sizes?: WriteSizes, indexUnits?: IndexWrites): WriteResult {
  const a = nonEmpty(attributes);
  const result: WriteResult = a === undefined ? { ok: true } : { ok: true, attributes: a };
  if (sizes !== undefined) result.sizes = sizes;
  if (indexUnits !== undefined && indexUnits.length > 0) result.indexUnits = [...indexUnits];
  if (indexUnits?.collectionBytes !== undefined) result.collectionBytes = indexUnits.collectionBytes;
  return result;
}

function oldSizes(op: RawWriteOp, old: Item | undefined): WriteSizes | undefined {
  return op.measureSizes ? { oldItemBytes: old === undefined ? 0 : itemSize(old) } : undefined;
}

/** DynamoDB's item collection limit, checked before a write that turns `old` into `next`. */
function collectionTooLarge(kv: ItemKV, target: ApplyTarget, indexes: GroupIndexes | undefined, old: Item | undefined, next: Item | undefined): WriteResult | undefined {
  if (indexes === undefined || indexes.local.length === 0) return undefined;
  const message = itemCollectionLimitError(kv, target.keyShape, indexes, old, next, target.itemCollectionLimitBytes ?? ITEM_COLLECTION_LIMIT_BYTES);
  return message === undefined ? undefined : fail(new DynamoDBError('ItemCollectionSizeLimitExceededException', message));
}

export function readItem(kv: ItemKV, key: Uint8Array): Item | undefined {
  const bytes = kv.get(key);
  return bytes === undefined ? undefined : decodeItem(bytes);
}

/**
 * Applies one log entry's data at `logIndex`: a write op, or an index-control entry
 * (indexes.ts), which answers nothing.
 *
 * All or nothing against damage: the entry's writes are staged and reach `kv` only once
 * the entry has made every read it makes. When a read meets a damaged value (`kv.get`
 * throws ItemChecksumError), the error goes to the caller and nothing of the entry was
 * written, so the group's state is exactly that before the entry (its apply stops there;
 * see ItemStore.applyBatch). One LMDB transaction holds every group of a batch, so
 * aborting it is no way to undo one entry.
 */
export function applyEntry(kv: ItemKV, target: ApplyTarget, data: Uint8Array, logIndex: number, stats: ApplyStats): WriteResult | undefined {
  const staged = new StagedWrites(kv);
  if (isIndexControl(data)) {
    const indexes = applyIndexControl(staged, target.group, logIndex, decodeIndexControl(data), target.indexes);
    staged.commit();
    target.indexes = indexes;
    return undefined;
  }
  const result = applyWriteOp(staged, target, decodeRawWriteOp(data), stats, logIndex);
  staged.commit();
  return result;
}

/**
 * Writes held back until their entry is done reading. A read sees the entry's own staged
 * writes first (index maintenance reads a collection row after writing the item), then
 * the store. An entry writes a handful of keys, so a list beats a map.
 */
class StagedWrites implements ItemKV {
  private readonly keys: Uint8Array[] = [];
  /** undefined: a remove. */
  private readonly values: Array<Uint8Array | undefined> = [];

  constructor(private readonly base: ItemKV) {}

  get(key: Uint8Array): Uint8Array | undefined {
    for (let i = this.keys.length - 1; i >= 0; i--) if (sameKey(this.keys[i], key)) return this.values[i];
    return this.base.get(key);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.keys.push(key);
    this.values.push(value);
  }

  remove(key: Uint8Array): void {
    this.keys.push(key);
    this.values.push(undefined);
  }

  /** Writes what was staged to the store, in order. */
  commit(): void {
    for (let i = 0; i < this.keys.length; i++) {
      const value = this.values[i];
      if (value === undefined) this.base.remove(this.keys[i]);
      else this.base.put(this.keys[i], value);
    }
    this.keys.length = 0;
    this.values.length = 0;
  }
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Applies one write op; the result is the same on every replica that applies it to the
 *  same state. Expected failures (condition, validation) are results, not exceptions.
 *  `logIndex` keys the write's outbox record when the group has global indexes. */
export function applyWriteOp(kv: ItemKV, target: ApplyTarget, op: RawWriteOp, stats: ApplyStats, logIndex = 0): WriteResult {
  if (op.tableId !== target.tableId) {
    return fail(new DynamoDBError('InternalServerError', `write for table ${op.tableId} reached group ${target.group} of table ${target.tableId}`));
  }
  const key = op.itemKey ?? encodeItemKey(target.tableId, target.keyShape, op.key);
  const indexes = hasIndexes(target.indexes) ? target.indexes : undefined;
  switch (op.type) {
    case 'put': {
      // Fast path: no condition, no old image wanted and no index → store the leader's bytes as they are.
      const item = indexes !== undefined ? decodeItem(op.itemBytes!) : undefined;
      const typeError = item !== undefined ? indexKeyTypeError(indexes!, item) : undefined;
      if (typeError !== undefined) return fail(new DynamoDBError('ValidationException', typeError));
      const needOld = op.condition !== undefined || op.returnValues === 'ALL_OLD' || indexes !== undefined || op.measureSizes;
      const old = needOld ? readItem(kv, key) : undefined;
      if (op.condition !== undefined && !check(op.condition, old, stats)) return conditionFailed(op, old);
      const tooLarge = collectionTooLarge(kv, target, indexes, old, item);
      if (tooLarge !== undefined) return tooLarge;
      kv.put(key, op.itemBytes!);
      const indexUnits = indexes !== undefined ? maintainIndexes(kv, target.group, target.keyShape, indexes, logIndex, old, item) : undefined;
      return okResult(op.returnValues === 'ALL_OLD' ? old : undefined, oldSizes(op, old), indexUnits);
    }
    case 'delete': {
      const needOld = op.condition !== undefined || op.returnValues === 'ALL_OLD' || indexes !== undefined || op.measureSizes;
      const old = needOld ? readItem(kv, key) : undefined;
      if (op.condition !== undefined && !check(op.condition, old, stats)) return conditionFailed(op, old);
      kv.remove(key);
      const indexUnits = indexes !== undefined && old !== undefined ? maintainIndexes(kv, target.group, target.keyShape, indexes, logIndex, old, undefined) : undefined;
      return okResult(op.returnValues === 'ALL_OLD' ? old : undefined, oldSizes(op, old), indexUnits);
    }
    case 'update': {
      const old = readItem(kv, key);
      if (op.condition !== undefined && !check(op.condition, old, stats)) return conditionFailed(op, old);
      let updated: { item: Item; updatedPaths: Array<Array<string | number>> };
      try {
        updated = applyUpdate(op.update!, old, op.key);
      } catch (e) {
        if (e instanceof DynamoDBError) return fail(e);
        stats.applyInternalErrors++;
        return fail(new DynamoDBError('InternalServerError', `update failed while applying: ${(e as Error).message}`));
      }
      const item = updated.item;
      for (const k in op.key) item[k] = op.key[k];
      if (itemSize(item) > MAX_ITEM_BYTES) return fail(new DynamoDBError('ValidationException', UPDATE_TOO_LARGE_MESSAGE));
      const typeError = indexes !== undefined ? indexKeyTypeError(indexes, item) : undefined;
      if (typeError !== undefined) return fail(new DynamoDBError('ValidationException', op.update!.legacy ? typeError : INDEX_KEY_TYPE_MESSAGE));
      const tooLarge = collectionTooLarge(kv, target, indexes, old, item);
      if (tooLarge !== undefined) return tooLarge;
      kv.put(key, encodeItem(item));
      const indexUnits = indexes !== undefined ? maintainIndexes(kv, target.group, target.keyShape, indexes, logIndex, old, item) : undefined;
      const sizes = oldSizes(op, old);
      if (sizes !== undefined) sizes.newItemBytes = itemSize(item);
      switch (op.returnValues) {
        case 'ALL_OLD':
          return okResult(old, sizes, indexUnits);
        case 'ALL_NEW':
          return okResult(item, sizes, indexUnits);
        case 'UPDATED_OLD':
          return okResult(old === undefined || updated.updatedPaths.length === 0 ? undefined : project(old, updated.updatedPaths), sizes, indexUnits);
        case 'UPDATED_NEW':
          return okResult(updated.updatedPaths.length === 0 ? undefined : project(item, updated.updatedPaths), sizes, indexUnits);
        default:
          return okResult(undefined, sizes, indexUnits);
      }
    }
  }
}

function check(condition: ConditionAst, old: Item | undefined, stats: ApplyStats): boolean {
  // A condition that throws (a bug in the evaluator) must not stop the node; it fails
  // the write on every replica alike.
  try {
    return evaluateCondition(condition, old);
  } catch (e) {
    if (!(e instanceof DynamoDBError)) stats.applyInternalErrors++;
    return false;
  }
}

/** GetItem from the applied state. */
export function getItem(kv: ItemKV, target: ApplyTarget, req: GetRequest): GetResult {
  const item = readItem(kv, encodeItemKey(target.tableId, target.keyShape, req.key));
  if (item === undefined) return {};
  return { item: req.projection !== undefined ? project(item, req.projection) : item };
}
