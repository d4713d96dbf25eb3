/**
 * KeyConditionExpression: partition-key equality, and at most one sort-key condition
 * (=, <, <=, >, >=, BETWEEN, begins_with), with DynamoDB's messages for other shapes.
 */
import type { AttributeValue, KeyShape } from '../model/types.js';
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

/** The key terms of a parsed KeyConditionExpression, or DynamoDB's error for a shape no
 *  key condition can have (OR, NOT, functions other than begins_with, ...). */
export function keyConditionTerms(ast: ConditionAst): KeyTerm[] {
  const terms: KeyTerm[] = [];
  collect(ast, terms);
  return terms;
}

export function parseKeyConditionExpression(expression: string, ctx: ExpressionContext, shape: KeyShape): KeyCondition {
  const terms = keyConditionTerms(parseConditionWithLabel(expression, ctx, 'KeyConditionExpression'));
  return buildKeyCondition(
    terms,
    shape,
    'Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key',
  );
}

export type { KeyTerm };
