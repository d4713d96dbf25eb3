/** PutItem, UpdateItem, DeleteItem and GetItem. */
import type {
  DeleteItemInput, DeleteItemOutput, GetItemInput, GetItemOutput, PutItemInput, PutItemOutput,
  ReturnConsumedCapacity, UpdateItemInput, UpdateItemOutput,
} from '../api-types.js';
import type { UpdateAst } from '../expressions/ast.js';
import { attributeUpdatesToAst, checkAllPlaceholdersUsed, parseUpdate } from '../expressions/index.js';
import { readCapacityUnits, writeCapacityUnits } from '../model/capacity.js';
import { validationError } from '../model/errors.js';
import { itemSize, validateItemSize } from '../model/item-size.js';
import type { Item, KeyShape } from '../model/types.js';
import { checkAttributeName, extractKey, normalizeItem, validateItem, validateItemKeyAttributes } from '../model/validate.js';
import type { NodeRequestBody } from '../node/requests.js';
import { type TableRoute } from '../router/partition-map.js';
import type { WriteOp, WriteResult } from '../storage/operations.js';
import { itemCollectionMetrics } from './indexes.js';
import { DataPlane, RequestOptions } from './data-plane.js';
import {
  checkConsistentRead, checkNotMixed, checkReturnValues, checkedConditions, consumed, expressionContext,
} from './request-checks.js';

export async function putItem(plane: DataPlane, input: PutItemInput, options?: RequestOptions): Promise<PutItemOutput> {
  const route = plane.route(input?.TableName);
  if (input.Item === undefined || input.Item === null) {
    throw validationError("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null");
  }
  validateItem(input.Item);
  validateItemKeyAttributes(input.Item, route.keyShape);
  const size = validateItemSize(input.Item);
  const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const ctx = expressionContext(input, input.ConditionExpression !== undefined);
  const condition = plane.condition(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  const item = normalizeItem(input.Item);
  const op: WriteOp = { type: 'put', tableId: route.tableId, key: extractKey(item, route.keyShape), item, returnValues };
  if (condition !== undefined) op.condition = condition;
  if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
  const result = await plane.write(route, op, options);
  return writeOutput(route, result, writeCapacityUnits(size), input, op.key);
}

export async function deleteItem(plane: DataPlane, input: DeleteItemInput, options?: RequestOptions): Promise<DeleteItemOutput> {
  const route = plane.route(input?.TableName);
  const key = plane.checkKey(input.Key, route.keyShape);
  const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const ctx = expressionContext(input, input.ConditionExpression !== undefined);
  const condition = plane.condition(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  const op: WriteOp = { type: 'delete', tableId: route.tableId, key, returnValues };
  if (condition !== undefined) op.condition = condition;
  if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
  const result = await plane.write(route, op, options);
  const size = result.ok && result.attributes !== undefined ? itemSize(result.attributes) : 0;
  return writeOutput(route, result, writeCapacityUnits(size), input, key);
}

export async function updateItem(plane: DataPlane, input: UpdateItemInput, options?: RequestOptions): Promise<UpdateItemOutput> {
  const route = plane.route(input?.TableName);
  const key = plane.checkKey(input.Key, route.keyShape);
  const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
  checkNotMixed(
    { AttributeUpdates: input.AttributeUpdates, Expected: input.Expected },
    { UpdateExpression: input.UpdateExpression, ConditionExpression: input.ConditionExpression },
  );
  const ctx = expressionContext(input, input.UpdateExpression !== undefined || input.ConditionExpression !== undefined);
  let update: UpdateAst;
  if (input.UpdateExpression !== undefined) update = parseUpdate(input.UpdateExpression, ctx);
  else if (input.AttributeUpdates !== undefined) update = attributeUpdatesToAst(checkedConditions(input.AttributeUpdates));
  else update = { set: [], remove: [], add: [], delete: [] };
  const condition = plane.condition(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  checkKeyNotUpdated(update, route.keyShape);
  checkUpdatedNames(update);
  const op: WriteOp = { type: 'update', tableId: route.tableId, key, update, returnValues };
  if (condition !== undefined) op.condition = condition;
  if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
  const result = await plane.write(route, op, options);
  return writeOutput(route, result, 1, input, key);
}

function writeOutput(
  route: TableRoute, result: WriteResult, units: number,
  input: { ReturnConsumedCapacity?: ReturnConsumedCapacity; ReturnItemCollectionMetrics?: unknown }, key: Item,
): PutItemOutput {
  const output: PutItemOutput = {};
  if (result.ok && result.attributes !== undefined) output.Attributes = result.attributes;
  const capacity = consumed(route.name, units, input.ReturnConsumedCapacity);
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  const metrics = input.ReturnItemCollectionMetrics === 'SIZE' ? itemCollectionMetrics(route, key) : undefined;
  if (metrics !== undefined) output.ItemCollectionMetrics = metrics;
  return output;
}

export async function getItem(plane: DataPlane, input: GetItemInput, options?: RequestOptions): Promise<GetItemOutput> {
  const route = plane.route(input?.TableName);
  const key = plane.checkKey(input.Key, route.keyShape);
  const consistent = checkConsistentRead(input.ConsistentRead);
  checkNotMixed({ AttributesToGet: input.AttributesToGet }, { ProjectionExpression: input.ProjectionExpression });
  const ctx = expressionContext(input, input.ProjectionExpression !== undefined);
  const projection = plane.projection(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  const body: NodeRequestBody = { t: 'get', consistent, req: { tableId: route.tableId, key, ...(projection ? { projection } : {}) } };
  const result = (await plane.router.request(plane.readTarget(route, key, consistent), body, true, { onTiming: options?.onTiming })) as { item?: Item };
  const output: GetItemOutput = {};
  if (result.item !== undefined) output.Item = result.item;
  const capacity = consumed(route.name, readCapacityUnits(result.item ? itemSize(result.item) : 0, consistent), input.ReturnConsumedCapacity);
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  return output;
}

/** UpdateItem may not touch key attributes. */
function checkKeyNotUpdated(update: UpdateAst, shape: KeyShape): void {
  const touched = [
    ...update.set.map((a) => a.path), ...update.remove, ...update.add.map((a) => a.path), ...update.delete.map((a) => a.path),
  ];
  for (const path of touched) {
    const name = path[0];
    if (name === shape.hashName || name === shape.rangeName) {
      throw validationError(`One or more parameter values were invalid: Cannot update attribute ${String(name)}. This attribute is part of the key`);
    }
  }
}

/** Attribute names an update writes are at most 64 KB, like an item's. */
function checkUpdatedNames(update: UpdateAst): void {
  for (const path of [...update.set.map((a) => a.path), ...update.add.map((a) => a.path)]) {
    for (const segment of path) if (typeof segment === 'string') checkAttributeName(segment);
  }
}
