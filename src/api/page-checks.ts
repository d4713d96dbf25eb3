/**
 * What Query and Scan check before they look their table up, in DynamoDB's order: the
 * members' constraints, all reported together; then which parameters the request
 * combines, its legacy conditions, AttributesToGet, the values of ExclusiveStartKey;
 * then its expressions and their placeholders. What needs the table's key schema (the
 * key condition against the keys, ExclusiveStartKey against the schema) comes after.
 */
import type { Condition, QueryInput, ScanInput } from '../api-types.js';
import {
  checkAllPlaceholdersUsed, checkKeyConditionExpression, checkLegacyConditions, conditionPaths, keyConditionTerms, parseFilter,
  parseProjection, type ConditionAst, type LegacyCondition,
} from '../expressions/index.js';
import type { AttributeValue, Item, KeyShape } from '../model/types.js';
import type { KeyCondition } from '../expressions/ast.js';
import { compareValues } from '../expressions/values.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import { validateItem } from '../model/validate.js';
import {
  CONDITIONAL_OPERATOR_VALUES, ConstraintErrors, RETURN_CONSUMED_CAPACITY_VALUES, checkExpressionParams,
  checkNoDuplicateNames, checkedConditions, conditionOperatorErrors, expressionContext, sameValue,
} from './request-checks.js';

const SELECT_VALUES = ['SPECIFIC_ATTRIBUTES', 'COUNT', 'ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES'] as const;

/** DynamoDB words most errors in an ExclusiveStartKey's values as a bad starting key, but
 *  not those about numbers and duplicates. */
const START_KEY_PLAIN_ERRORS = /contains duplicates|number set|numeric value|significant digits|number with magnitude/;

function checkStartKeyValues(key: unknown): void {
  if (key === undefined || key === null) return;
  try {
    validateItem(key);
  } catch (error) {
    if (error instanceof DynamoDBError && error.name === 'ValidationException' && !START_KEY_PLAIN_ERRORS.test(error.message)) {
      throw validationError(`The provided starting key is invalid: ${error.message}`);
    }
    throw error;
  }
}

function legacyConditions(conditions: Record<string, Condition> | undefined): void {
  if (conditions === undefined || conditions === null) return;
  checkLegacyConditions(checkedConditions(conditions) as Record<string, LegacyCondition>);
}

/** Parses the filter and projection expressions (and what `parseFirst` parses before
 *  them) with the request's placeholders, then rejects placeholders left unused. */
function checkExpressions(input: QueryInput | ScanInput, parseFirst?: (ctx: ReturnType<typeof expressionContext>) => void): void {
  const ctx = expressionContext(input, true);
  parseFirst?.(ctx);
  if (input.FilterExpression !== undefined && input.FilterExpression !== null) parseFilter(input.FilterExpression, ctx);
  if (input.ProjectionExpression !== undefined && input.ProjectionExpression !== null) parseProjection(input.ProjectionExpression, ctx);
  checkAllPlaceholdersUsed(ctx);
}

export function checkQueryRequest(input: QueryInput): void {
  const errors = new ConstraintErrors();
  errors.enumValue(input.Select, 'select', SELECT_VALUES);
  errors.tableName(input.IndexName, 'indexName', false);
  errors.enumValue(input.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
  conditionOperatorErrors(errors, input.QueryFilter, 'queryFilter', true);
  errors.tableName(input.TableName);
  errors.enumValue(input.ConditionalOperator, 'conditionalOperator', CONDITIONAL_OPERATOR_VALUES);
  errors.length(input.AttributesToGet, 'attributesToGet', 1, 255);
  errors.atLeast(input.Limit, 'limit', 1);
  conditionOperatorErrors(errors, input.KeyConditions, 'keyConditions', true);
  errors.throwIfAny();

  checkExpressionParams(input, ['ProjectionExpression', 'FilterExpression', 'KeyConditionExpression'], ['AttributesToGet', 'QueryFilter', 'ConditionalOperator', 'KeyConditions']);
  legacyConditions(input.QueryFilter);
  checkNoDuplicateNames(input.AttributesToGet);
  checkStartKeyValues(input.ExclusiveStartKey);
  const hasKeyExpression = input.KeyConditionExpression !== undefined && input.KeyConditionExpression !== null;
  if (!hasKeyExpression && (input.KeyConditions === undefined || input.KeyConditions === null)) {
    throw validationError('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
  }
  let keyAst: ConditionAst | undefined;
  checkExpressions(input, (ctx) => {
    if (hasKeyExpression) keyAst = checkKeyConditionExpression(input.KeyConditionExpression as string, ctx);
  });
  let conditionCount: number;
  if (keyAst !== undefined) conditionCount = keyConditionTerms(keyAst).length;
  else {
    legacyConditions(input.KeyConditions);
    conditionCount = Object.keys(input.KeyConditions ?? {}).length;
  }
  // A global index's key may have up to 4 hash and 4 range attributes (multi-attribute
  // keys): with an IndexName, the index's own key checks the count.
  const maxConditions = input.IndexName !== undefined && input.IndexName !== null ? MAX_INDEX_KEY_CONDITIONS : 2;
  if (conditionCount < 1 || conditionCount > maxConditions) throw validationError('Conditions can be of length 1 or 2 only');
}

/** Key attributes of a multi-attribute global index key: 4 HASH and 4 RANGE. */
const MAX_INDEX_KEY_CONDITIONS = 8;

export function checkScanRequest(input: ScanInput): void {
  const errors = new ConstraintErrors();
  errors.enumValue(input.Select, 'select', SELECT_VALUES);
  errors.tableName(input.IndexName, 'indexName', false);
  errors.atLeast(input.TotalSegments, 'totalSegments', 1);
  if (typeof input.TotalSegments === 'number' && input.TotalSegments > 1_000_000) {
    errors.add(input.TotalSegments, 'totalSegments', 'Member must have value less than or equal to 1000000');
  }
  errors.enumValue(input.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
  errors.tableName(input.TableName);
  errors.enumValue(input.ConditionalOperator, 'conditionalOperator', CONDITIONAL_OPERATOR_VALUES);
  conditionOperatorErrors(errors, input.ScanFilter, 'scanFilter', true);
  errors.atLeast(input.Segment, 'segment', 0);
  errors.atLeast(input.Limit, 'limit', 1);
  errors.length(input.AttributesToGet, 'attributesToGet', 1, 255);
  errors.throwIfAny();

  checkExpressionParams(input, ['ProjectionExpression', 'FilterExpression'], ['AttributesToGet', 'ScanFilter', 'ConditionalOperator']);
  checkNoDuplicateNames(input.AttributesToGet);
  legacyConditions(input.ScanFilter);
  checkStartKeyValues(input.ExclusiveStartKey);
  const segment = input.Segment ?? undefined;
  const total = input.TotalSegments ?? undefined;
  if (segment !== undefined && segment !== 0 && total === undefined) {
    throw validationError('The TotalSegments parameter is required but was not present in the request when Segment parameter is present');
  }
  if (total !== undefined && total !== 0) {
    if (segment === undefined) {
      throw validationError('The Segment parameter is required but was not present in the request when parameter TotalSegments is present');
    }
    if (segment >= total) {
      throw validationError(`The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${segment} is not less than TotalSegments: ${total}`);
    }
  }
  checkExpressions(input);
}

/** Once the key schema is known: a Query's filter may not name a key attribute of what it
 *  reads (DynamoDB names the filter by its kind). */
export function checkQueryFilterKeys(input: QueryInput, filter: ConditionAst | undefined, shape: KeyShape): void {
  if (filter === undefined) return;
  const heads = new Set(conditionPaths(filter).map((path) => path[0]));
  const kind = input.QueryFilter !== undefined && input.QueryFilter !== null ? 'QueryFilter' : 'Filter Expression';
  for (const keyName of [shape.hashName, shape.rangeName]) {
    if (keyName !== undefined && heads.has(keyName)) {
      throw validationError(`${kind} can only contain non-primary key attributes: Primary key attribute: ${keyName}`);
    }
  }
}

function startsWith(value: AttributeValue, prefix: AttributeValue): boolean {
  if ('S' in value && 'S' in prefix) return value.S.startsWith(prefix.S);
  if ('B' in value && 'B' in prefix) return prefix.B.length <= value.B.length && prefix.B.every((byte, i) => value.B[i] === byte);
  return false;
}

/** Whether a sort key value satisfies a key condition's range. */
function inRange(value: AttributeValue, range: NonNullable<KeyCondition['range']>): boolean {
  const [first, second] = range.values;
  const c = compareValues(value, first!);
  switch (range.op) {
    case '=': return c === 0;
    case '<': return c === -1;
    case '<=': return c === -1 || c === 0;
    case '>': return c === 1;
    case '>=': return c === 1 || c === 0;
    case 'BETWEEN': {
      const upper = compareValues(value, second!);
      return (c === 1 || c === 0) && (upper === -1 || upper === 0);
    }
    case 'begins_with': return startsWith(value, first!);
  }
}

/** A Query's ExclusiveStartKey (its schema already checked) against the key condition,
 *  with DynamoDB's messages. */
export function checkQueryStartKey(startKey: Item, keyCondition: KeyCondition, shape: KeyShape): void {
  const sameHash = sameValue(startKey[shape.hashName], keyCondition.hash);
  if (keyCondition.range === undefined || shape.rangeName === undefined) {
    if (!sameHash) throw validationError('The provided starting key is outside query boundaries based on provided conditions');
    return;
  }
  if (!inRange(startKey[shape.rangeName]!, keyCondition.range)) {
    throw validationError('The provided starting key does not match the range key predicate');
  }
  if (!sameHash) throw validationError('The query can return at most one row and cannot be restarted');
}
