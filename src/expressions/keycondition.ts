/**
 * KeyConditionExpression: partition-key equality, and at most one sort-key condition
 * (=, <, <=, >, >=, BETWEEN, begins_with), with DynamoDB's messages for other shapes.
 */
import type { AttributeValue, KeyShape, ScalarAttributeType } from '../model/types.js';
import type { IndexKeySpec } from '../model/index-spec.js';
import { validationError } from '../model/errors.js';
import type { ConditionAst, KeyCondition, Operand, RangeOperator } from './ast.js';
import type { ExpressionContext } from './context.js';
import { parseConditionWithLabel } from './parser.js';
import { typeOf } from './values.js';

interface KeyTerm {
  name: string;
  op: RangeOperator;
  values: AttributeValue[];
  /** A legacy KeyConditions operator no key condition can use (NULL, NE, IN, ...). */
  unindexable?: true;
}

const NOT_SUPPORTED = 'Query key condition not supported';
const FLIPPED: Record<string, RangeOperator> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function invalidOperator(op: string): never {
  throw validationError(`Invalid operator used in KeyConditionExpression: ${op}`);
}

function invalidCondition(message: string): never {
  throw validationError(`Invalid condition in KeyConditionExpression: ${message}`);
}

/** One condition's term: exactly one operand names a top-level attribute, the others are
 *  values. `flippable` conditions (comparisons) may name it on either side. */
function term(op: RangeOperator, operands: Operand[], out: KeyTerm[]): void {
  let name: string | undefined;
  let at = 0;
  operands.forEach((operand, i) => {
    if (operand.kind === 'path') {
      if (name !== undefined) invalidCondition('Multiple attribute names used in one condition');
      if (operand.path.length > 1) throw validationError('KeyConditionExpressions cannot have conditions on nested attributes');
      name = String(operand.path[0]);
      at = i;
    } else if (operand.kind === 'size') {
      throw validationError('KeyConditionExpressions cannot contain nested operations');
    }
  });
  if (name === undefined) invalidCondition('No key attribute specified');
  if (out.some((t) => t.name === name)) throw validationError('KeyConditionExpressions must only contain one condition per key');
  const values = operands.filter((_, i) => i !== at).map((o) => (o as { value: AttributeValue }).value);
  out.push({ name: name as string, op: at === 0 ? op : FLIPPED[op]!, values });
}

function collect(ast: ConditionAst, out: KeyTerm[]): void {
  switch (ast.kind) {
    case 'and':
      collect(ast.left, out);
      collect(ast.right, out);
      return;
    case 'or':
      return invalidOperator('OR');
    case 'not':
      return invalidOperator('NOT');
    case 'in':
      return invalidOperator('IN');
    case 'attribute_exists':
    case 'attribute_not_exists':
    case 'attribute_type':
    case 'contains':
      return invalidOperator(ast.kind);
    case 'compare':
      if (ast.op === '<>') invalidOperator('<>');
      return term(ast.op as RangeOperator, [ast.left, ast.right], out);
    case 'between':
      if (ast.operand.kind !== 'path') invalidCondition('BETWEEN operator must have the key attribute as its first operand');
      return term('BETWEEN', [ast.operand, ast.low, ast.high], out);
    case 'begins_with':
      if (ast.operand.kind !== 'path') invalidCondition('begins_with operator must have the key attribute as its first operand');
      return term('begins_with', [ast.operand, ast.prefix], out);
  }
}

/** One key attribute of an ExclusiveStartKey, with DynamoDB's messages: missing, then of
 *  another type than the key's. */
export function checkStartKeyAttribute(startKey: Record<string, AttributeValue>, name: string, type: ScalarAttributeType): void {
  const value = startKey[name];
  if (value === undefined) throw validationError('The provided starting key is invalid');
  if (typeOf(value) !== type) throw validationError('The provided key element does not match the schema');
}

/** The ExclusiveStartKey of a Query, checked along with its key condition: it has
 *  `attributeCount` attributes (the table's key, plus an index's when querying one). */
export interface StartKeyCheck { key: Record<string, AttributeValue>; attributeCount: number }

/** Checks the key terms against the table's key shape, in DynamoDB's order (the
 *  partition key, then the sort key), and builds the KeyCondition. */
export function buildKeyCondition(terms: KeyTerm[], shape: KeyShape, startKey?: StartKeyCheck): KeyCondition {
  const mismatch = 'One or more parameter values were invalid: Condition parameter type does not match schema type';
  const keys: Array<[string, ScalarAttributeType, boolean]> = [[shape.hashName, shape.hashType, true]];
  if (shape.rangeName !== undefined) keys.push([shape.rangeName, shape.rangeType as ScalarAttributeType, false]);
  // An ExclusiveStartKey is checked key attribute by key attribute along with the conditions.
  const badStartKey = 'The provided starting key is invalid';
  if (startKey !== undefined && Object.keys(startKey.key).length !== startKey.attributeCount) throw validationError(badStartKey);
  for (const [name, type, isHash] of keys) {
    if (startKey !== undefined) checkStartKeyAttribute(startKey.key, name, type);
    if (isHash && keys.length === 1 && terms.length > 1) throw validationError(NOT_SUPPORTED);
    const t = terms.find((k) => k.name === name);
    if (t === undefined) {
      if (isHash || terms.length > 1) throw validationError(`Query condition missed key schema element: ${name}`);
      continue;
    }
    if (t.unindexable) throw validationError('Attempted conditional constraint is not an indexable operation');
    if (t.values.some((v) => typeOf(v) !== type)) throw validationError(mismatch);
    if (isHash && t.op !== '=') throw validationError(NOT_SUPPORTED);
  }
  const hash = terms.find((t) => t.name === shape.hashName) as KeyTerm;
  const range = shape.rangeName === undefined ? undefined : terms.find((t) => t.name === shape.rangeName);
  if (terms.some((t) => t !== hash && t !== range)) throw validationError(NOT_SUPPORTED);
  const result: KeyCondition = { hash: hash.values[0]! };
  if (range !== undefined) {
    if (range.op === 'begins_with' && shape.rangeType === 'N') {
      throw validationError('Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N');
    }
    result.range = { op: range.op, values: range.values };
  }
  return result;
}

/** The key terms of a parsed KeyConditionExpression, or DynamoDB's error for a shape no
 *  key condition can have (OR, NOT, functions other than begins_with, ...). */
export function keyConditionTerms(ast: ConditionAst): KeyTerm[] {
  const terms: KeyTerm[] = [];
  collect(ast, terms);
  return terms;
}

export function parseKeyConditionExpression(
  expression: string, ctx: ExpressionContext, shape: KeyShape, startKey?: StartKeyCheck,
): KeyCondition {
  return buildKeyCondition(keyConditionTerms(parseConditionWithLabel(expression, ctx, 'KeyConditionExpression')), shape, startKey);
}

export type { KeyTerm };

/** A key condition on a multi-attribute index key: every hash value, equality on the
 *  first range attributes, and at most one condition on the next one. */
export interface IndexKeyCondition {
  hash: AttributeValue[];
  rangeEquals: AttributeValue[];
  range?: { op: RangeOperator; values: AttributeValue[] };
}

/**
 * KeyConditionExpression on a global index whose key has several attributes (DynamoDB's
 * multi-attribute keys): equality on every hash attribute, then range attributes from
 * left to right without gaps, each with equality except the last one given, which may
 * take any key condition.
 */
export function parseIndexKeyConditionExpression(expression: string, ctx: ExpressionContext, key: IndexKeySpec): IndexKeyCondition {
  const ast = parseConditionWithLabel(expression, ctx, 'KeyConditionExpression');
  const terms: KeyTerm[] = [];
  collect(ast, terms);
  const byName = new Map<string, KeyTerm>();
  for (const t of terms) {
    if (byName.has(t.name)) throw validationError('Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key');
    byName.set(t.name, t);
  }
  const mismatch = 'One or more parameter values were invalid: Condition parameter type does not match schema type';
  const used = new Set<string>();
  const hash: AttributeValue[] = [];
  for (const a of key.hash) {
    const t = byName.get(a.name);
    if (t === undefined) throw validationError(`Query condition missed key schema element: ${a.name}`);
    if (t.op !== '=') throw validationError(NOT_SUPPORTED);
    if (typeOf(t.values[0]!) !== a.type) throw validationError(mismatch);
    hash.push(t.values[0]!);
    used.add(a.name);
  }
  const result: IndexKeyCondition = { hash, rangeEquals: [] };
  for (const a of key.range) {
    const t = byName.get(a.name);
    if (t === undefined) break;
    for (const v of t.values) if (typeOf(v) !== a.type) throw validationError(mismatch);
    used.add(a.name);
    if (t.op === '=') {
      result.rangeEquals.push(t.values[0]!);
      continue;
    }
    if (t.op === 'begins_with' && a.type === 'N') {
      throw validationError('Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N');
    }
    result.range = { op: t.op, values: t.values };
    break;
  }
  // A condition on an attribute that is not in the key, or after a gap or an inequality.
  if (terms.some((t) => !used.has(t.name))) throw validationError(NOT_SUPPORTED);
  return result;
}
