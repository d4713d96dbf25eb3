/**
 * The expressions room: DynamoDB's Condition, Filter, Update, Projection and KeyCondition
 * expressions. Parse once when a request arrives (bad input → ValidationException before
 * anything happens); evaluate the plain-data AST at apply time on every replica.
 */
import type { KeyShape } from '../model/types.js';
import type { ConditionAst, KeyCondition, Operand, Path, ProjectionAst, UpdateAst, UpdateValue } from './ast.js';
import type { ExpressionContext } from './context.js';
import { parseConditionWithLabel, parseProjectionExpression, parseUpdateExpression } from './parser.js';
import { keyConditionTerms, parseIndexKeyConditionExpression, parseKeyConditionExpression, type IndexKeyCondition, type StartKeyCheck } from './keycondition.js';
import type { IndexKeySpec } from '../model/index-spec.js';

export type * from './ast.js';
export { newContext, checkAllPlaceholdersUsed, checkPlaceholderKeys, type ExpressionContext } from './context.js';
export type { IndexKeyCondition } from './keycondition.js';
export { evaluateCondition } from './evaluate.js';
export { applyUpdate, INDEX_KEY_TYPE_MESSAGE, MISSING_ATTRIBUTE_MESSAGE, WRONG_TYPE_MESSAGE, INVALID_PATH_MESSAGE } from './update.js';
export { project } from './projection.js';
export {
  attributeUpdatesToAst,
  expectedToCondition,
  filterToCondition,
  keyConditionsToAst,
  attributesToGetToProjection,
  checkLegacyConditions,
  legacyConditionToAst,
  type AttributeValueUpdate,
  type ExpectedAttributeValue,
  type LegacyCondition,
  type ComparisonOperator,
} from './legacy.js';
export { isReservedWord, RESERVED_WORDS } from './reserved.js';
export { MAX_EXPRESSION_BYTES, MAX_OPERATORS } from './parser.js';
export { getPath, valuesEqual, compareValues } from './values.js';

/**
 * Parses a ConditionExpression (or, with `label`, a FilterExpression: only the messages
 * differ). Placeholders are substituted into the AST and marked used in `ctx`.
 */
export function parseCondition(
  expression: string,
  ctx: ExpressionContext,
  label: 'ConditionExpression' | 'FilterExpression' = 'ConditionExpression',
): ConditionAst {
  return parseConditionWithLabel(expression, ctx, label);
}

/** Parses a FilterExpression (same grammar as a ConditionExpression). */
export function parseFilter(expression: string, ctx: ExpressionContext): ConditionAst {
  return parseConditionWithLabel(expression, ctx, 'FilterExpression');
}

/** Parses an UpdateExpression: SET, REMOVE, ADD, DELETE, each at most once, paths not overlapping. */
export function parseUpdate(expression: string, ctx: ExpressionContext): UpdateAst {
  return parseUpdateExpression(expression, ctx);
}

/** Parses a ProjectionExpression into the list of document paths to keep. */
export function parseProjection(expression: string, ctx: ExpressionContext): ProjectionAst {
  return parseProjectionExpression(expression, ctx);
}

/** Parses a KeyConditionExpression on an index key of several attributes. */
export function parseIndexKeyCondition(expression: string, ctx: ExpressionContext, key: IndexKeySpec): IndexKeyCondition {
  return parseIndexKeyConditionExpression(expression, ctx, key);
}

/** Parses a KeyConditionExpression against the table's (or index's) key shape, checking
 *  an ExclusiveStartKey's attributes along with it. */
export function parseKeyCondition(expression: string, ctx: ExpressionContext, shape: KeyShape, startKey?: StartKeyCheck): KeyCondition {
  return parseKeyConditionExpression(expression, ctx, shape, startKey);
}

/** Parses a KeyConditionExpression as far as it goes without a table: its grammar, its
 *  placeholders, and the shapes no key condition can have. */
export function checkKeyConditionExpression(expression: string, ctx: ExpressionContext): ConditionAst {
  return parseConditionWithLabel(expression, ctx, 'KeyConditionExpression');
}

export { keyConditionTerms, type StartKeyCheck };

/** The operands a condition compares or tests (its sub-conditions aside). */
function conditionOperands(ast: ConditionAst): Operand[] {
  switch (ast.kind) {
    case 'compare': return [ast.left, ast.right];
    case 'between': return [ast.operand, ast.low, ast.high];
    case 'in': return [ast.operand, ...ast.list];
    case 'attribute_exists':
    case 'attribute_not_exists': return [{ kind: 'path', path: ast.path }];
    case 'attribute_type': return [{ kind: 'path', path: ast.path }, ast.type];
    case 'begins_with': return [ast.operand, ast.prefix];
    case 'contains': return [ast.operand, ast.needle];
    default: return [];
  }
}

/** Every document path a condition reads, in the order written. */
export function conditionPaths(ast: ConditionAst, out: Path[] = []): Path[] {
  if (ast.kind === 'and' || ast.kind === 'or') {
    conditionPaths(ast.left, out);
    conditionPaths(ast.right, out);
  } else if (ast.kind === 'not') {
    conditionPaths(ast.operand, out);
  } else {
    for (const operand of conditionOperands(ast)) if (operand.kind === 'path' || operand.kind === 'size') out.push(operand.path);
  }
  return out;
}

function updateValuePaths(value: UpdateValue, out: Path[]): void {
  switch (value.kind) {
    case 'path': out.push(value.path); break;
    case 'if_not_exists': out.push(value.path); updateValuePaths(value.fallback, out); break;
    case 'list_append':
    case 'plus':
    case 'minus': updateValuePaths(value.left, out); updateValuePaths(value.right, out); break;
    default: break;
  }
}

/** Every document path an update writes or reads. */
export function updatePaths(update: UpdateAst): Path[] {
  const out: Path[] = [];
  for (const action of update.set) {
    out.push(action.path);
    updateValuePaths(action.value, out);
  }
  out.push(...update.remove, ...update.add.map((a) => a.path), ...update.delete.map((a) => a.path));
  return out;
}
