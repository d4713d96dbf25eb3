/** PutItem, UpdateItem, DeleteItem and GetItem. */
import type {
  DeleteItemInput, DeleteItemOutput, GetItemInput, GetItemOutput, PutItemInput, PutItemOutput,
  ReturnConsumedCapacity, UpdateItemInput, UpdateItemOutput,
} from '../api-types.js';
import type { ConditionAst, UpdateAst } from '../expressions/ast.js';
import {
  attributeUpdatesToAst, checkAllPlaceholdersUsed, expectedToCondition, parseCondition, parseUpdate, updatePaths, type ExpressionContext,
} from '../expressions/index.js';
import { readCapacityUnits, writeCapacityUnits } from '../model/capacity.js';
import { READ, WRITE } from '../model/admission-board.js';
import { validationError } from '../model/errors.js';
import { itemSize, validateItemSize } from '../model/item-size.js';
import type { Item, KeyShape } from '../model/types.js';
import { checkAttributeName, extractKey, normalizeItem, validateItem, validateItemKeyAttributes } from '../model/validate.js';
import type { NodeRequestBody } from '../node/requests.js';
import { type TableRoute } from '../router/partition-map.js';
import type { WriteOp, WriteResult, WriteSizes } from '../storage/operations.js';
import { checkIndexKeyTypes, itemCollectionMetrics, writeConsumedCapacity } from './indexes.js';
import { DataPlane, RequestOptions } from './data-plane.js';
import {
  CONDITIONAL_OPERATOR_VALUES, ConstraintErrors, RETURN_CONSUMED_CAPACITY_VALUES, RETURN_ITEM_COLLECTION_METRICS_VALUES,
  RETURN_VALUES, checkConsistentRead, checkExpressionParams, checkNoDuplicateNames, checkReturnValues, checkedConditions,
  checkKeyPathsScalar, conditionOperatorErrors, indexKeyAttributeNames, conditionalOperator, consumed, expressionContext,
} from './request-checks.js';

/*
 * Each operation checks its request in DynamoDB's order: the members' constraints, all
 * reported together; then the request's own rules (parameters combined, attribute values,
 * legacy conditions, expressions and their placeholders); then the table; then the key
 * against the table's schema.
 */

/** The constraints of a conditional write, `member` its Item or Key, reported together. */
function checkWriteConstraints(input: PutItemInput | DeleteItemInput | UpdateItemInput, member: 'item' | 'key', value: unknown): void {
  const errors = new ConstraintErrors();
  errors.enumValue(input.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
  errors.tableName(input.TableName);
  errors.notNull(value, member);
  errors.enumValue(input.ConditionalOperator, 'conditionalOperator', CONDITIONAL_OPERATOR_VALUES);
  conditionOperatorErrors(errors, input.Expected, 'expected', false);
  errors.enumValue(input.ReturnValues, 'returnValues', RETURN_VALUES);
  errors.enumValue(input.ReturnItemCollectionMetrics, 'returnItemCollectionMetrics', RETURN_ITEM_COLLECTION_METRICS_VALUES);
  errors.throwIfAny();
}

/** The condition of a PutItem or DeleteItem: Expected, or ConditionExpression with its
 *  placeholders, all used. */
function writeCondition(input: PutItemInput | DeleteItemInput): ConditionAst | undefined {
  const expected = legacyCondition(input);
  const ctx = expressionContext(input, input.ConditionExpression !== undefined);
  const condition = expected ?? parsedCondition(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  return condition;
}

/** Sends a checked write with its condition. */
function conditionalWrite(
  plane: DataPlane, route: TableRoute, op: WriteOp, condition: ConditionAst | undefined,
  input: PutItemInput | DeleteItemInput | UpdateItemInput, options: RequestOptions | undefined, estimatedUnits: number,
): Promise<WriteResult> {
  if (condition !== undefined) op.condition = condition;
  if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
  // DynamoDB charges a write by the larger of the item before and after it: only the node
  // knows the one before.
  // With admission on, always: the bucket is charged what ConsumedCapacity would say.
  if (plane.chargesCapacity || input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES') op.measureSizes = true;
  return plane.write(route, op, options, estimatedUnits);
}

export async function putItem(plane: DataPlane, input: PutItemInput, options?: RequestOptions): Promise<PutItemOutput> {
  checkWriteConstraints(input, 'item', input.Item);
  checkExpressionParams(input, ['ConditionExpression'], ['Expected']);
  validateItem(input.Item);
  const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const size = validateItemSize(input.Item);
  const condition = writeCondition(input);

  const route = plane.route(input.TableName);
  validateItemKeyAttributes(input.Item, route.keyShape);
  const item = normalizeItem(input.Item);
  const op: WriteOp = { type: 'put', tableId: route.tableId, key: extractKey(item, route.keyShape), item, returnValues };
  const estimated = writeCapacityUnits(size);
  const result = await conditionalWrite(plane, route, op, condition, input, options, estimated);
  return writeOutput(plane, route, result, estimated, writeCapacityUnits(Math.max(size, chargedSizes(result).oldItemBytes)), input, op.key);
}

export async function deleteItem(plane: DataPlane, input: DeleteItemInput, options?: RequestOptions): Promise<DeleteItemOutput> {
  checkWriteConstraints(input, 'key', input.Key);
  checkExpressionParams(input, ['ConditionExpression'], ['Expected']);
  validateItem(input.Key);
  const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
  const condition = writeCondition(input);

  const route = plane.route(input.TableName);
  const key = plane.checkKey(input.Key, route.keyShape);
  const op: WriteOp = { type: 'delete', tableId: route.tableId, key, returnValues };
  const result = await conditionalWrite(plane, route, op, condition, input, options, 1);
  return writeOutput(plane, route, result, 1, writeCapacityUnits(chargedSizes(result).oldItemBytes), input, key);
}

export async function updateItem(plane: DataPlane, input: UpdateItemInput, options?: RequestOptions): Promise<UpdateItemOutput> {
  checkWriteConstraints(input, 'key', input.Key);
  checkExpressionParams(input, ['UpdateExpression', 'ConditionExpression'], ['AttributeUpdates', 'Expected']);
  validateItem(input.Key);
  const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
  let update: UpdateAst | undefined;
  if (input.AttributeUpdates !== undefined && input.AttributeUpdates !== null) {
    update = attributeUpdatesToAst(checkedConditions(input.AttributeUpdates));
  }
  const expected = legacyCondition(input);
  const ctx = expressionContext(input, input.UpdateExpression !== undefined || input.ConditionExpression !== undefined);
  if (input.UpdateExpression !== undefined) update = parseUpdate(input.UpdateExpression, ctx);
  const condition = expected ?? parsedCondition(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  update ??= { set: [], remove: [], add: [], delete: [] };
  checkUpdatedNames(update);

  const route = plane.route(input.TableName);
  const key = plane.checkKey(input.Key, route.keyShape);
  checkKeyNotUpdated(update, route.keyShape);
  checkIndexKeyTypes(update, route);
  checkKeyPathsScalar(updatePaths(update), route.keyShape, indexKeyAttributeNames(route));
  const op: WriteOp = { type: 'update', tableId: route.tableId, key, update, returnValues };
  const result = await conditionalWrite(plane, route, op, condition, input, options, 1);
  const sizes = chargedSizes(result);
  return writeOutput(plane, route, result, 1, writeCapacityUnits(Math.max(sizes.oldItemBytes, sizes.newItemBytes ?? 0)), input, key);
}

/** The item sizes a measured write reports (none, when capacity was not asked for). */
function chargedSizes(result: WriteResult): WriteSizes {
  return (result.ok ? result.sizes : undefined) ?? { oldItemBytes: 0 };
}

/** A write's legacy Expected as a condition, checked. */
function legacyCondition(input: PutItemInput | DeleteItemInput | UpdateItemInput): ConditionAst | undefined {
  if (input.Expected === undefined || input.Expected === null) return undefined;
  return expectedToCondition(checkedConditions(input.Expected) as Parameters<typeof expectedToCondition>[0], conditionalOperator(input.ConditionalOperator));
}

function parsedCondition(input: { ConditionExpression?: string }, ctx: ExpressionContext): ConditionAst | undefined {
  return input.ConditionExpression === undefined ? undefined : parseCondition(input.ConditionExpression, ctx);
}

/** A write's output; its table's bucket is charged what its ConsumedCapacity says
 *  (`units`), beyond the `estimated` units it was admitted on. */
function writeOutput(
  plane: DataPlane, route: TableRoute, result: WriteResult, estimated: number, units: number,
  input: { ReturnConsumedCapacity?: ReturnConsumedCapacity; ReturnItemCollectionMetrics?: unknown }, key: Item,
): PutItemOutput {
  const localIndexUnits = result.ok ? plane.chargeIndexes(route, result.indexUnits) : 0;
  plane.settle(route, WRITE, estimated, units + localIndexUnits);
  const output: PutItemOutput = {};
  if (result.ok && result.attributes !== undefined) output.Attributes = result.attributes;
  const capacity = result.ok && result.indexUnits !== undefined
    ? writeConsumedCapacity(route, units, result.indexUnits, input.ReturnConsumedCapacity)
    : consumed(route.name, units, input.ReturnConsumedCapacity);
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  const metrics = input.ReturnItemCollectionMetrics === 'SIZE' && result.ok ? itemCollectionMetrics(route, key, result.collectionBytes) : undefined;
  if (metrics !== undefined) output.ItemCollectionMetrics = metrics;
  return output;
}

export async function getItem(plane: DataPlane, input: GetItemInput, options?: RequestOptions): Promise<GetItemOutput> {
  const errors = new ConstraintErrors();
  errors.enumValue(input.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
  errors.length(input.AttributesToGet, 'attributesToGet', 1, 255);
  errors.tableName(input.TableName);
  errors.notNull(input.Key, 'key');
  errors.throwIfAny();
  checkExpressionParams(input, ['ProjectionExpression'], ['AttributesToGet']);
  validateItem(input.Key);
  checkNoDuplicateNames(input.AttributesToGet);
  const consistent = checkConsistentRead(input.ConsistentRead);
  const ctx = expressionContext(input, input.ProjectionExpression !== undefined);
  const projection = plane.projection(input, ctx);
  checkAllPlaceholdersUsed(ctx);

  const route = plane.route(input.TableName);
  const key = plane.checkKey(input.Key, route.keyShape);
  if (projection !== undefined) checkKeyPathsScalar(projection, route.keyShape, indexKeyAttributeNames(route));
  const body: NodeRequestBody = { t: 'get', consistent, req: { tableId: route.tableId, key, ...(projection ? { projection } : {}) } };
  const result = (await plane.read(route, consistent, plane.readTarget(route, key, consistent, body), body, { onTiming: options?.onTiming })) as { item?: Item };
  const output: GetItemOutput = {};
  if (result.item !== undefined) output.Item = result.item;
  const units = readCapacityUnits(result.item ? itemSize(result.item) : 0, consistent);
  plane.settle(route, READ, consistent ? 1 : 0.5, units);
  const capacity = consumed(route.name, units, input.ReturnConsumedCapacity);
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

