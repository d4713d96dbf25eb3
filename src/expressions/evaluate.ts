/**
 * Evaluation of ConditionExpression / FilterExpression ASTs against an item, with
 * DynamoDB's semantics: a missing attribute makes a comparison false (except `<>`,
 * which is true when the two sides are not equal, missing included), values of
 * different types are never equal nor ordered, ordering exists only for N, S and B.
 */
import type { AttributeValue, Item } from '../model/types.js';
import type { ConditionAst, Operand } from './ast.js';
import {
  compareValues,
  containsBytes,
  getPath,
  setContains,
  sizeOf,
  startsWithBytes,
  typeOf,
  valuesEqual,
} from './values.js';

function resolve(op: Operand, item: Item | undefined): AttributeValue | undefined {
  switch (op.kind) {
    case 'value':
      return op.value;
    case 'path':
      return getPath(item, op.path);
    case 'size': {
      const v = getPath(item, op.path);
      if (v === undefined) return undefined;
      const n = sizeOf(v);
      return n === undefined ? undefined : { N: String(n) };
    }
  }
}

function compare(op: string, a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (op === '<>') return a === undefined || b === undefined || !valuesEqual(a, b);
  if (a === undefined || b === undefined) return false;
  if (op === '=') return valuesEqual(a, b);
  const c = compareValues(a, b);
  if (c === undefined) return false;
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    default:
      return false;
  }
}

function contains(haystack: AttributeValue | undefined, needle: AttributeValue | undefined): boolean {
  if (haystack === undefined || needle === undefined) return false;
  const h = haystack as Record<string, any>;
  const n = needle as Record<string, any>;
  switch (typeOf(haystack)) {
    case 'S':
      return n.S !== undefined && (h.S as string).includes(n.S);
    case 'B':
      return n.B !== undefined && containsBytes(h.B, n.B);
    case 'SS':
    case 'NS':
    case 'BS':
      return setContains(haystack, needle);
    case 'L':
      return (h.L as AttributeValue[]).some((e) => valuesEqual(e, needle));
    default:
      return false;
  }
}

function beginsWith(value: AttributeValue | undefined, prefix: AttributeValue | undefined): boolean {
  if (value === undefined || prefix === undefined) return false;
  const v = value as Record<string, any>;
  const p = prefix as Record<string, any>;
  if (v.S !== undefined && p.S !== undefined) return (v.S as string).startsWith(p.S);
  if (v.B !== undefined && p.B !== undefined) return startsWithBytes(v.B, p.B);
  return false;
}

/** Whether `item` (undefined: no item) satisfies the condition. Pure and deterministic. */
export function evaluateCondition(ast: ConditionAst, item: Item | undefined): boolean {
  switch (ast.kind) {
    case 'and':
      return evaluateCondition(ast.left, item) && evaluateCondition(ast.right, item);
    case 'or':
      return evaluateCondition(ast.left, item) || evaluateCondition(ast.right, item);
    case 'not':
      return !evaluateCondition(ast.operand, item);
    case 'compare':
      return compare(ast.op, resolve(ast.left, item), resolve(ast.right, item));
    case 'between': {
      const v = resolve(ast.operand, item);
      const lo = resolve(ast.low, item);
      const hi = resolve(ast.high, item);
      if (v === undefined || lo === undefined || hi === undefined) return false;
      const a = compareValues(v, lo);
      const b = compareValues(v, hi);
      return a !== undefined && b !== undefined && a >= 0 && b <= 0;
    }
    case 'in': {
      const v = resolve(ast.operand, item);
      if (v === undefined) return false;
      for (const o of ast.list) {
        const w = resolve(o, item);
        if (w !== undefined && valuesEqual(v, w)) return true;
      }
      return false;
    }
    case 'attribute_exists':
      return getPath(item, ast.path) !== undefined;
    case 'attribute_not_exists':
      return getPath(item, ast.path) === undefined;
    case 'attribute_type': {
      const v = getPath(item, ast.path);
      const t = resolve(ast.type, item) as { S?: string } | undefined;
      return v !== undefined && t?.S !== undefined && typeOf(v) === t.S;
    }
    case 'begins_with':
      return beginsWith(resolve(ast.operand, item), resolve(ast.prefix, item));
    case 'contains':
      return contains(resolve(ast.operand, item), resolve(ast.needle, item));
  }
}
