/**
 * Converters from DynamoDB's legacy request parameters (AttributeUpdates, Expected,
 * KeyConditions, AttributesToGet) to the expression ASTs, so that one evaluator serves
 * both. Legacy parameters name top-level attributes literally: no placeholders, no
 * reserved-word check, no nesting.
 */
import type { AttributeValue, KeyShape } from '../model/types.js';
import { validationError } from '../model/errors.js';
import type { ConditionAst, KeyCondition, Operand, ProjectionAst, RangeOperator, UpdateAst } from './ast.js';
import { buildKeyCondition, type KeyTerm, type StartKeyCheck } from './keycondition.js';
import { compareValues, typeOf } from './values.js';

export interface AttributeValueUpdate {
  Action?: 'PUT' | 'DELETE' | 'ADD';
  Value?: AttributeValue;
}

export type ComparisonOperator =
  | 'EQ' | 'NE' | 'IN' | 'LE' | 'LT' | 'GE' | 'GT' | 'BETWEEN'
  | 'NOT_NULL' | 'NULL' | 'CONTAINS' | 'NOT_CONTAINS' | 'BEGINS_WITH';

export interface ExpectedAttributeValue {
  Value?: AttributeValue;
  Exists?: boolean;
  ComparisonOperator?: ComparisonOperator;
  AttributeValueList?: AttributeValue[];
}

export interface LegacyCondition {
  ComparisonOperator: ComparisonOperator;
  AttributeValueList?: AttributeValue[];
}

const invalid = (m: string): Error => validationError(`One or more parameter values were invalid: ${m}`);

const SET_TAGS = new Set(['SS', 'NS', 'BS']);

/** Legacy `AttributeUpdates` (what YCSB's DynamoDB binding sends) as an UpdateAst. */
export function attributeUpdatesToAst(attributeUpdates: Record<string, AttributeValueUpdate>): UpdateAst {
  const ast: UpdateAst = { set: [], remove: [], add: [], delete: [], legacy: true };
  for (const name of Object.keys(attributeUpdates)) {
    const u = attributeUpdates[name]!;
    const action = u.Action ?? 'PUT';
    const value = u.Value;
    const path = [name];
    if (action === 'DELETE') {
      if (value === undefined) {
        ast.remove.push(path);
      } else {
        const t = typeOf(value);
        if (!SET_TAGS.has(t)) throw invalid(`DELETE action with value is not supported for the type ${t}`);
        ast.delete.push({ path, value });
      }
      continue;
    }
    if (value === undefined) throw invalid('Only DELETE action is allowed when no attribute value is specified');
    if (action === 'PUT') {
      ast.set.push({ path, value: { kind: 'value', value } });
    } else if (action === 'ADD') {
      const t = typeOf(value);
      if (t === 'N' || SET_TAGS.has(t)) {
        ast.add.push({ path, value });
      } else if (t === 'L') {
        // Legacy ADD appends to a list (or creates it).
        ast.set.push({
          path,
          value: {
            kind: 'list_append',
            left: { kind: 'if_not_exists', path, fallback: { kind: 'value', value: { L: [] } } },
            right: { kind: 'value', value },
          },
        });
      } else {
        throw invalid(`ADD action is not supported for the type ${t}`);
      }
    } else {
      throw validationError(
        `1 validation error detected: Value '${String(action)}' at 'attributeUpdates.${name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]`,
      );
    }
  }
  return ast;
}

const ARITY: Record<ComparisonOperator, [number, number]> = {
  EQ: [1, 1], NE: [1, 1], LE: [1, 1], LT: [1, 1], GE: [1, 1], GT: [1, 1],
  NOT_NULL: [0, 0], NULL: [0, 0], CONTAINS: [1, 1], NOT_CONTAINS: [1, 1], BEGINS_WITH: [1, 1],
  IN: [1, Infinity], BETWEEN: [2, 2],
};

function checkArgs(op: ComparisonOperator, args: AttributeValue[]): void {
  const arity = Object.prototype.hasOwnProperty.call(ARITY, op) ? ARITY[op] : undefined;
  if (arity === undefined) {
    throw validationError(
      `1 validation error detected: Value '${String(op)}' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]`,
    );
  }
  if (args.length < arity[0] || args.length > arity[1]) {
    throw invalid(`Invalid number of argument(s) for the ${op} ComparisonOperator`);
  }
  if (args.some((a) => typeOf(a) !== typeOf(args[0]!))) throw invalid('AttributeValues inside AttributeValueList must be of same type');
  const scalarOnly = ['LE', 'LT', 'GE', 'GT', 'CONTAINS', 'NOT_CONTAINS', 'BETWEEN', 'IN'].includes(op);
  for (const a of args) {
    const t = typeOf(a);
    if ((scalarOnly && !['S', 'N', 'B'].includes(t)) || (op === 'BEGINS_WITH' && t !== 'S' && t !== 'B')) {
      throw invalid(`ComparisonOperator ${op} is not valid for ${t} AttributeValue type`);
    }
  }
  if (op === 'BETWEEN' && compareValues(args[0]!, args[1]!) === 1) {
    throw validationError('The BETWEEN condition was provided a range where the lower bound is greater than the upper bound');
  }
}

/** Checks the operators and arguments of legacy conditions (KeyConditions, QueryFilter,
 *  ScanFilter) without a table: DynamoDB does so before it looks the table up. */
export function checkLegacyConditions(conditions: Record<string, LegacyCondition>): void {
  for (const name of Object.keys(conditions)) {
    const c = conditions[name]!;
    checkArgs(c.ComparisonOperator, c.AttributeValueList ?? []);
  }
}

/** One legacy condition on a top-level attribute as a ConditionAst. */
export function legacyConditionToAst(name: string, op: ComparisonOperator, args: AttributeValue[]): ConditionAst {
  checkArgs(op, args);
  const path = [name];
  const attr: Operand = { kind: 'path', path };
  const v = (i: number): Operand => ({ kind: 'value', value: args[i]! });
  const cmp = (o: '=' | '<>' | '<' | '<=' | '>' | '>='): ConditionAst => ({ kind: 'compare', op: o, left: attr, right: v(0) });
  switch (op) {
    case 'EQ': return cmp('=');
    case 'NE': return cmp('<>');
    case 'LT': return cmp('<');
    case 'LE': return cmp('<=');
    case 'GT': return cmp('>');
    case 'GE': return cmp('>=');
    case 'NULL': return { kind: 'attribute_not_exists', path };
    case 'NOT_NULL': return { kind: 'attribute_exists', path };
    case 'CONTAINS': return { kind: 'contains', operand: attr, needle: v(0) };
    case 'NOT_CONTAINS': return { kind: 'not', operand: { kind: 'contains', operand: attr, needle: v(0) } };
    case 'BEGINS_WITH': return { kind: 'begins_with', operand: attr, prefix: v(0) };
    case 'IN': return { kind: 'in', operand: attr, list: args.map((_, i) => v(i)) };
    case 'BETWEEN': return { kind: 'between', operand: attr, low: v(0), high: v(1) };
  }
}

function combine(conds: ConditionAst[], operator: 'AND' | 'OR'): ConditionAst | undefined {
  let acc: ConditionAst | undefined;
  for (const c of conds) {
    acc = acc === undefined ? c : { kind: operator === 'AND' ? 'and' : 'or', left: acc, right: c };
  }
  return acc;
}

/** Legacy `Expected` (with `ConditionalOperator`, default AND) as a ConditionAst; undefined when empty. */
export function expectedToCondition(
  expected: Record<string, ExpectedAttributeValue>,
  conditionalOperator: 'AND' | 'OR' = 'AND',
): ConditionAst | undefined {
  const conds: ConditionAst[] = [];
  for (const name of Object.keys(expected)) {
    const e = expected[name]!;
    if (e.Value !== undefined && e.AttributeValueList !== undefined) {
      throw invalid(`Value and AttributeValueList cannot be used together for Attribute: ${name}`);
    }
    if (e.ComparisonOperator !== undefined) {
      if (e.Exists !== undefined) throw invalid(`Exists and ComparisonOperator cannot be used together for Attribute: ${name}`);
      if (e.Value === undefined && e.AttributeValueList === undefined && e.ComparisonOperator !== 'NULL' && e.ComparisonOperator !== 'NOT_NULL') {
        throw invalid(`Value or AttributeValueList must be used with ComparisonOperator: ${String(e.ComparisonOperator)} for Attribute: ${name}`);
      }
      const args = e.AttributeValueList ?? (e.Value !== undefined ? [e.Value] : []);
      conds.push(legacyConditionToAst(name, e.ComparisonOperator, args));
    } else if (e.AttributeValueList !== undefined) {
      throw invalid(`AttributeValueList can only be used with a ComparisonOperator for Attribute: ${name}`);
    } else if (e.Exists === false) {
      if (e.Value !== undefined) throw invalid(`Value cannot be used when Exists is false for Attribute: ${name}`);
      conds.push({ kind: 'attribute_not_exists', path: [name] });
    } else {
      if (e.Value === undefined) throw invalid(`Value must be provided when Exists is ${e.Exists === undefined ? 'null' : 'true'} for Attribute: ${name}`);
      conds.push({ kind: 'compare', op: '=', left: { kind: 'path', path: [name] }, right: { kind: 'value', value: e.Value } });
    }
  }
  return combine(conds, conditionalOperator);
}

/** Legacy `QueryFilter` / `ScanFilter` as a ConditionAst; undefined when empty. */
export function filterToCondition(
  filter: Record<string, LegacyCondition>,
  conditionalOperator: 'AND' | 'OR' = 'AND',
): ConditionAst | undefined {
  const conds = Object.keys(filter).map((name) => {
    const c = filter[name]!;
    return legacyConditionToAst(name, c.ComparisonOperator, c.AttributeValueList ?? []);
  });
  return combine(conds, conditionalOperator);
}

const KEY_OPS: Partial<Record<ComparisonOperator, RangeOperator>> = {
  EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=', BETWEEN: 'BETWEEN', BEGINS_WITH: 'begins_with',
};

/** Legacy `KeyConditions` of a Query as a KeyCondition. */
export function keyConditionsToAst(keyConditions: Record<string, LegacyCondition>, shape: KeyShape, startKey?: StartKeyCheck): KeyCondition {
  const names = Object.keys(keyConditions);
  if (names.length > 2) throw validationError('Conditions can be of length 1 or 2 only');
  const terms: KeyTerm[] = [];
  for (const name of names) {
    const c = keyConditions[name]!;
    const args = c.AttributeValueList ?? [];
    checkArgs(c.ComparisonOperator, args);
    const op = KEY_OPS[c.ComparisonOperator];
    terms.push(op === undefined ? { name, op: '=', values: args, unindexable: true } : { name, op, values: args });
  }
  return buildKeyCondition(terms, shape, startKey);
}

/** Legacy `AttributesToGet` as a projection of top-level attributes. */
export function attributesToGetToProjection(attributesToGet: string[]): ProjectionAst {
  const seen = new Set<string>();
  for (const n of attributesToGet) {
    if (seen.has(n)) throw invalid(`Duplicate value in attribute name: ${n}`);
    seen.add(n);
  }
  return attributesToGet.map((n) => [n]);
}
