/**
 * KeyConditionExpression: partition-key equality, and at most one sort-key condition
 * (=, <, <=, >, >=, BETWEEN, begins_with), with DynamoDB's messages for other shapes.
 */
import type { AttributeValue, KeyShape } from '../model/types.js';
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
}

const NOT_SUPPORTED = 'Query key condition not supported';
const FLIPPED: Record<string, RangeOperator> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function invalidOperator(op: string): never {
  throw validationError(`Invalid operator used in KeyConditionExpression: ${op}`);
}

function keyName(op: Operand): string | undefined {
  return op.kind === 'path' && op.path.length === 1 && typeof op.path[0] === 'string' ? op.path[0] : undefined;
}

function valueOf(op: Operand): AttributeValue {
  if (op.kind !== 'value') throw validationError(NOT_SUPPORTED);
  return op.value;
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
    case 'compare': {
      if (ast.op === '<>') invalidOperator('<>');
      if (ast.left.kind === 'size' || ast.right.kind === 'size') invalidOperator('size');
      let name = keyName(ast.left);
      if (name !== undefined) {
        out.push({ name, op: ast.op as RangeOperator, values: [valueOf(ast.right)] });
        return;
      }
      name = keyName(ast.right);
      if (name !== undefined) {
        out.push({ name, op: FLIPPED[ast.op]!, values: [valueOf(ast.left)] });
        return;
      }
      throw validationError(NOT_SUPPORTED);
    }
    case 'between': {
      const name = keyName(ast.operand);
      if (name === undefined) throw validationError(NOT_SUPPORTED);
      out.push({ name, op: 'BETWEEN', values: [valueOf(ast.low), valueOf(ast.high)] });
      return;
    }
    case 'begins_with': {
      const name = keyName(ast.operand);
      if (name === undefined) throw validationError(NOT_SUPPORTED);
      out.push({ name, op: 'begins_with', values: [valueOf(ast.prefix)] });
      return;
    }
  }
}

/** Checks the key terms against the table's key shape and builds the KeyCondition. */
export function buildKeyCondition(terms: KeyTerm[], shape: KeyShape, onePerKeyMessage: string): KeyCondition {
  const seen = new Set<string>();
  for (const t of terms) {
    if (seen.has(t.name)) throw validationError(onePerKeyMessage);
    seen.add(t.name);
  }
  const hash = terms.find((t) => t.name === shape.hashName);
  if (hash === undefined) throw validationError(`Query condition missed key schema element: ${shape.hashName}`);
  const range = shape.rangeName === undefined ? undefined : terms.find((t) => t.name === shape.rangeName);
  if (terms.some((t) => t !== hash && t !== range)) {
    if (shape.rangeName !== undefined && range === undefined) {
      throw validationError(`Query condition missed key schema element: ${shape.rangeName}`);
    }
    throw validationError(NOT_SUPPORTED);
  }
  if (hash.op !== '=') throw validationError(NOT_SUPPORTED);
  const mismatch = 'One or more parameter values were invalid: Condition parameter type does not match schema type';
  if (typeOf(hash.values[0]!) !== shape.hashType) throw validationError(mismatch);
  const result: KeyCondition = { hash: hash.values[0]! };
  if (range !== undefined) {
    for (const v of range.values) if (typeOf(v) !== shape.rangeType) throw validationError(mismatch);
    if (range.op === 'begins_with' && shape.rangeType === 'N') {
      throw validationError('Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N');
    }
    result.range = { op: range.op, values: range.values };
  }
  return result;
}

export function parseKeyConditionExpression(expression: string, ctx: ExpressionContext, shape: KeyShape): KeyCondition {
  const ast = parseConditionWithLabel(expression, ctx, 'KeyConditionExpression');
  const terms: KeyTerm[] = [];
  collect(ast, terms);
  return buildKeyCondition(
    terms,
    shape,
    'Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key',
  );
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
