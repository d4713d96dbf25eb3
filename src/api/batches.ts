/** BatchGetItem and BatchWriteItem. */
import type {
  BatchGetItemInput, BatchGetItemOutput, BatchWriteItemInput, BatchWriteItemOutput, ConsumedCapacity,
  KeysAndAttributes, ReturnConsumedCapacity, WriteRequest,
} from '../api-types.js';
import type { ProjectionAst } from '../expressions/ast.js';
import { checkAllPlaceholdersUsed } from '../expressions/index.js';
import { readCapacityUnits, writeCapacityUnits } from '../model/capacity.js';
import { READ, WRITE } from '../model/admission-board.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import { itemSize, validateItemSize } from '../model/item-size.js';
import type { Item } from '../model/types.js';
import {
  extractKey, KEY_SCHEMA_MISMATCH_MESSAGE, normalizeItem, validateItem, validateItemKeyAttributes,
} from '../model/validate.js';
import type { NodeRequestBody } from '../node/requests.js';
import { type TableRoute } from '../router/partition-map.js';
import type { WriteOp } from '../storage/operations.js';
import { itemCollectionMetrics, writeConsumedCapacity } from './indexes.js';
import { DataPlane } from './data-plane.js';
import {
  ConstraintErrors, RETURN_CONSUMED_CAPACITY_VALUES, TABLE_NAME_KEYS_RULE, checkConsistentRead, checkNotMixed,
  expressionContext, isPlainObject, isRetryable, isTableName, keyIdentity,
} from './request-checks.js';

/** BatchGetItem: at most 100 keys in all; BatchWriteItem: at most 25 writes in all. */
const BATCH_GET_MAX_KEYS = 100;
const BATCH_WRITE_MAX_REQUESTS = 25;
/** BatchGetItem answers at most 16 MB of items; the rest come back as UnprocessedKeys. */
const BATCH_GET_RESPONSE_BYTES = 16 * 1024 * 1024;

/** ConsumedCapacity of a batch: one entry per table, in request order. */
function batchCapacity(units: Map<string, number>, mode: ReturnConsumedCapacity | undefined): ConsumedCapacity[] | undefined {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  return [...units].map(([TableName, CapacityUnits]) => (mode === 'INDEXES'
    ? { TableName, CapacityUnits, Table: { CapacityUnits } }
    : { TableName, CapacityUnits }));
}

/** What a BatchWriteItem's writes to one table cost: the table's units and what each
 *  secondary index spent ([index id, units], from each write's apply). */
interface TableWriteUnits {
  route: TableRoute;
  table: number;
  indexes: Array<[number, number]>;
}


/** The RequestItems of a batch: present, a map, of one or more valid table names. */
function batchRequestItems(shape: ConstraintErrors, requestItems: unknown): { requestItems: Record<string, unknown>; tables: string[] } {
  if (requestItems === undefined || requestItems === null) {
    shape.missing('requestItems');
    shape.throwIfAny();
  }
  if (!isPlainObject(requestItems)) throw new DynamoDBError('SerializationException', 'Expected a map for RequestItems');
  const tables = Object.keys(requestItems);
  if (tables.length === 0) shape.add(requestItems, 'requestItems', 'Member must have length greater than or equal to 1');
  if (tables.some((t) => !isTableName(t))) shape.add(requestItems, 'requestItems', TABLE_NAME_KEYS_RULE);
  return { requestItems, tables };
}

/** One planned read of a BatchGetItem. */
interface BatchGetJob {
  table: string;
  route: TableRoute;
  key: Item;
  original: Item;
  consistent: boolean;
  projection: ProjectionAst | undefined;
}

/** One planned write of a BatchWriteItem. */
interface BatchWriteJob {
  table: string;
  route: TableRoute;
  request: WriteRequest;
  op: WriteOp;
  size: number;
}

/**
 * BatchGetItem: up to 100 keys from any tables, read from their partitions in parallel.
 * Keys that could not be read (their partition unavailable, or past the 16 MB response
 * cap) come back in UnprocessedKeys; the call fails only when the request is invalid, or
 * when no key at all could be read.
 */
export async function batchGetItem(plane: DataPlane, input: BatchGetItemInput): Promise<BatchGetItemOutput> {
  const { jobs, specs } = planBatchGet(plane, input);
  const settled = await Promise.allSettled(jobs.map((job) => {
    const body: NodeRequestBody = {
      t: 'get', consistent: job.consistent,
      req: { tableId: job.route.tableId, key: job.key, ...(job.projection ? { projection: job.projection } : {}) },
    };
    return plane.read(job.route, job.consistent, plane.readTarget(job.route, job.key, job.consistent, body), body) as Promise<{ item?: Item }>;
  }));
  const output: BatchGetItemOutput = { Responses: {}, UnprocessedKeys: {} };
  const units = new Map<string, number>();
  for (const table of specs.keys()) {
    output.Responses[table] = [];
    units.set(table, 0);
  }
  const unprocessed = (job: BatchGetJob): void => {
    let entry = output.UnprocessedKeys[job.table];
    if (entry === undefined) {
      const spec = specs.get(job.table)!;
      entry = { Keys: [] };
      if (spec.ConsistentRead !== undefined) entry.ConsistentRead = spec.ConsistentRead;
      if (spec.ProjectionExpression !== undefined) entry.ProjectionExpression = spec.ProjectionExpression;
      if (spec.ExpressionAttributeNames !== undefined) entry.ExpressionAttributeNames = spec.ExpressionAttributeNames;
      if (spec.AttributesToGet !== undefined) entry.AttributesToGet = spec.AttributesToGet;
      output.UnprocessedKeys[job.table] = entry;
    }
    entry.Keys.push(job.original);
  };
  let bytes = 0;
  let full = false;
  let processed = 0;
  let retryableError: unknown;
  let otherError: unknown;
  settled.forEach((result, i) => {
    const job = jobs[i]!;
    if (result.status === 'rejected') {
      if (isRetryable(result.reason)) retryableError ??= result.reason;
      else otherError ??= result.reason;
      unprocessed(job);
      return;
    }
    const item = result.value.item;
    const size = item === undefined ? 0 : itemSize(item);
    // Keys are answered in request order until the response reaches 16 MB.
    if (full || bytes + size > BATCH_GET_RESPONSE_BYTES) {
      full = true;
      unprocessed(job);
      return;
    }
    bytes += size;
    processed++;
    if (item !== undefined) output.Responses[job.table]!.push(item);
    const read = readCapacityUnits(size, job.consistent);
    plane.settle(job.route, READ, job.consistent ? 1 : 0.5, read);
    units.set(job.table, units.get(job.table)! + read);
  });
  if (otherError !== undefined) throw otherError;
  // As DynamoDB: when not one key could be read, the call fails with the (retryable) cause.
  if (processed === 0 && retryableError !== undefined) throw retryableError;
  const capacity = batchCapacity(units, input.ReturnConsumedCapacity);
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  return output;
}

/** Checks a whole BatchGetItem in DynamoDB's order (request shape, then expressions and
 *  key values, then tables, then key schemas) before anything is read. */
function planBatchGet(plane: DataPlane, input: BatchGetItemInput): { jobs: BatchGetJob[]; specs: Map<string, KeysAndAttributes> } {
  const shape = new ConstraintErrors();
  shape.enumValue(input?.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
  const { requestItems, tables } = batchRequestItems(shape, input?.RequestItems);
  for (const table of tables) {
    const spec = requestItems[table] as Partial<KeysAndAttributes> | null;
    const member = `requestItems.${table}.member`;
    const keys = spec?.Keys as unknown;
    if (keys === undefined || keys === null) shape.missing(`${member}.keys`);
    else if (!Array.isArray(keys)) throw new DynamoDBError('SerializationException', `Expected a list for RequestItems.${table}.Keys`);
    else if (keys.length === 0) shape.add(keys, `${member}.keys`, 'Member must have length greater than or equal to 1');
    else if (keys.length > BATCH_GET_MAX_KEYS) shape.add(keys, `${member}.keys`, `Member must have length less than or equal to ${BATCH_GET_MAX_KEYS}`);
    const attributes = spec?.AttributesToGet as unknown;
    if (attributes !== undefined && attributes !== null) {
      if (!Array.isArray(attributes)) throw new DynamoDBError('SerializationException', `Expected a list for RequestItems.${table}.AttributesToGet`);
      if (attributes.length === 0) shape.add(attributes, `${member}.attributesToGet`, 'Member must have length greater than or equal to 1');
      if (attributes.length > 255) shape.add(attributes, `${member}.attributesToGet`, 'Member must have length less than or equal to 255');
    }
  }
  shape.throwIfAny();

  // Expressions, key values, duplicates and the 100-key limit, table by table.
  const specs = new Map<string, KeysAndAttributes>();
  const parsed = new Map<string, { consistent: boolean; projection: ProjectionAst | undefined; keys: Item[] }>();
  let total = 0;
  for (const table of tables) {
    const spec = requestItems[table] as KeysAndAttributes;
    checkNotMixed({ AttributesToGet: spec.AttributesToGet }, { ProjectionExpression: spec.ProjectionExpression });
    const consistent = checkConsistentRead(spec.ConsistentRead);
    const ctx = expressionContext({ ExpressionAttributeNames: spec.ExpressionAttributeNames }, spec.ProjectionExpression !== undefined);
    const projection = plane.projection(spec, ctx);
    checkAllPlaceholdersUsed(ctx);
    const seen = new Set<string>();
    for (const key of spec.Keys) {
      if (!isPlainObject(key)) throw validationError('The list of keys in RequestItems for BatchGetItem may not contain null or empty values');
      validateItem(key);
      const identity = keyIdentity(key);
      if (seen.has(identity)) throw validationError('Provided list of item keys contains duplicates');
      seen.add(identity);
      if (++total > BATCH_GET_MAX_KEYS) throw validationError('Too many items requested for the BatchGetItem call');
    }
    specs.set(table, spec);
    parsed.set(table, { consistent, projection, keys: spec.Keys });
  }

  // Then the tables, then each key against its table's schema.
  const routes = new Map(tables.map((table) => [table, plane.route(table)]));
  const jobs: BatchGetJob[] = [];
  for (const table of tables) {
    const route = routes.get(table)!;
    const { consistent, projection, keys } = parsed.get(table)!;
    for (const original of keys) {
      jobs.push({ table, route, key: plane.checkKey(original, route.keyShape), original, consistent, projection });
    }
  }
  return { jobs, specs };
}

/**
 * BatchWriteItem: up to 25 puts and deletes in any tables, each sent to its partition's
 * leader in parallel. The whole request is checked first: an invalid one writes nothing.
 * Writes that fail retryably (throttled, partition unavailable) come back in
 * UnprocessedItems; every other write is applied. Puts and deletes without conditions are
 * idempotent, so sending an unprocessed write again is always safe.
 */
export async function batchWriteItem(plane: DataPlane, input: BatchWriteItemInput): Promise<BatchWriteItemOutput> {
  const jobs = planBatchWrite(plane, input);
  const estimate = (job: BatchWriteJob): number => (job.op.type === 'put' ? writeCapacityUnits(job.size) : 1);
  const settled = await Promise.allSettled(jobs.map((job) => plane.write(job.route, job.op, {}, estimate(job))));
  const output: BatchWriteItemOutput = { UnprocessedItems: {} };
  const units = new Map<string, TableWriteUnits>();
  for (const job of jobs) if (!units.has(job.table)) units.set(job.table, { route: job.route, table: 0, indexes: [] });
  let processed = 0;
  let retryableError: unknown;
  let otherError: unknown;
  settled.forEach((result, i) => {
    const job = jobs[i]!;
    if (result.status === 'rejected') {
      if (isRetryable(result.reason)) {
        retryableError ??= result.reason;
        (output.UnprocessedItems[job.table] ??= []).push(job.request);
      } else {
        otherError ??= result.reason;
      }
      return;
    }
    processed++;
    const written = result.value;
    const metrics = input.ReturnItemCollectionMetrics === 'SIZE' && written.ok ? itemCollectionMetrics(job.route, job.op.key, written.collectionBytes) : undefined;
    if (metrics !== undefined) ((output.ItemCollectionMetrics ??= {})[job.table] ??= []).push(metrics);
    // As a single write: the larger of the item before (measured by the node) and after.
    const oldBytes = written.ok ? written.sizes?.oldItemBytes ?? 0 : 0;
    const size = Math.max(job.op.type === 'put' ? job.size : 0, oldBytes);
    const tableUnits = units.get(job.table)!;
    const writeUnits = writeCapacityUnits(size);
    const localIndexUnits = written.ok ? plane.chargeIndexes(job.route, written.indexUnits) : 0;
    plane.settle(job.route, WRITE, estimate(job), writeUnits + localIndexUnits);
    tableUnits.table += writeUnits;
    // And each index what its apply says the write cost it, as for a single write.
    if (written.ok && written.indexUnits !== undefined) tableUnits.indexes.push(...written.indexUnits);
  });
  if (otherError !== undefined) throw otherError;
  if (processed === 0 && retryableError !== undefined) throw retryableError;
  const mode = input.ReturnConsumedCapacity;
  if (mode === 'TOTAL' || mode === 'INDEXES') {
    output.ConsumedCapacity = [...units.values()].map((u) => writeConsumedCapacity(u.route, u.table, u.indexes, mode)!);
  }
  return output;
}

/** Checks a whole BatchWriteItem in DynamoDB's order before anything is written. */
function planBatchWrite(plane: DataPlane, input: BatchWriteItemInput): BatchWriteJob[] {
  const shape = new ConstraintErrors();
  shape.enumValue(input?.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
  shape.enumValue(input?.ReturnItemCollectionMetrics, 'returnItemCollectionMetrics', ['SIZE', 'NONE']);
  const { requestItems, tables } = batchRequestItems(shape, input?.RequestItems);
  let badLength = false;
  for (const table of tables) {
    const list = requestItems[table];
    if (!Array.isArray(list)) throw new DynamoDBError('SerializationException', `Expected a list for RequestItems.${table}`);
    if (list.length < 1 || list.length > BATCH_WRITE_MAX_REQUESTS) badLength = true;
  }
  if (badLength) {
    shape.add(requestItems, 'requestItems',
      `Map value must satisfy constraint: [Member must have length less than or equal to ${BATCH_WRITE_MAX_REQUESTS}, Member must have length greater than or equal to 1]`);
  }
  for (const table of tables) {
    (requestItems[table] as unknown[]).forEach((request, i) => {
      const member = `requestItems.${table}.member.${i + 1}.member`;
      const r = (request ?? {}) as Partial<Record<'PutRequest' | 'DeleteRequest', Record<string, unknown> | null>>;
      if (r.DeleteRequest !== undefined && r.DeleteRequest !== null && (r.DeleteRequest.Key === undefined || r.DeleteRequest.Key === null)) {
        shape.missing(`${member}.deleteRequest.key`);
      }
      if (r.PutRequest !== undefined && r.PutRequest !== null && (r.PutRequest.Item === undefined || r.PutRequest.Item === null)) {
        shape.missing(`${member}.putRequest.item`);
      }
    });
  }
  shape.throwIfAny();

  const total = tables.reduce((n, table) => n + (requestItems[table] as unknown[]).length, 0);
  if (total > BATCH_WRITE_MAX_REQUESTS) throw validationError('Too many items requested for the BatchWriteItem call');
  // Each request is exactly one put or delete, with valid values and items within 400 KB.
  const sizes = new Map<WriteRequest, number>();
  for (const table of tables) {
    for (const request of requestItems[table] as WriteRequest[]) {
      const put = request?.PutRequest ?? undefined;
      const del = request?.DeleteRequest ?? undefined;
      if ((put === undefined) === (del === undefined)) {
        throw validationError('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
      }
      if (put !== undefined) {
        validateItem(put.Item);
        sizes.set(request, validateItemSize(put.Item));
      } else {
        validateItem(del!.Key);
      }
    }
  }

  const routes = new Map(tables.map((table) => [table, plane.route(table)]));
  const jobs: BatchWriteJob[] = [];
  const measure = plane.chargesCapacity || input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES';
  for (const table of tables) {
    const route = routes.get(table)!;
    const seen = new Set<string>();
    for (const request of requestItems[table] as WriteRequest[]) {
      let op: WriteOp;
      if (request.PutRequest) {
        try {
          validateItemKeyAttributes(request.PutRequest.Item, route.keyShape);
        } catch (error) {
          // BatchWriteItem words a missing or mistyped key as a schema mismatch.
          if (error instanceof DynamoDBError && /Missing the key|Type mismatch for key/.test(error.message)) throw validationError(KEY_SCHEMA_MISMATCH_MESSAGE);
          throw error;
        }
        const item = normalizeItem(request.PutRequest.Item);
        op = { type: 'put', tableId: route.tableId, key: extractKey(item, route.keyShape), item, returnValues: 'NONE' };
      } else {
        const key = plane.checkKey(request.DeleteRequest!.Key, route.keyShape);
        op = { type: 'delete', tableId: route.tableId, key, returnValues: 'NONE' };
      }
      if (measure) op.measureSizes = true;
      const identity = keyIdentity(op.key);
      if (seen.has(identity)) throw validationError('Provided list of item keys contains duplicates');
      seen.add(identity);
      plane.prepareWrite(route, op);
      jobs.push({ table, route, request, op, size: sizes.get(request) ?? 0 });
    }
  }
  return jobs;
}
