import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item, KeyShape } from '../../src/model/types.js';
import {
  applyUpdate,
  attributesToGetToProjection,
  attributeUpdatesToAst,
  evaluateCondition,
  expectedToCondition,
  filterToCondition,
  keyConditionsToAst,
  newContext,
  parseKeyCondition,
  parseProjection,
  project,
} from '../../src/expressions/index.js';
import { expectValidation } from './helpers.js';

const item: Item = {
  id: { S: 'u1' },
  a: { S: 'A' },
  m: { M: { x: { N: '1' }, y: { M: { z: { S: 'z' }, w: { S: 'w' } } } } },
  l: { L: [{ S: 'l0' }, { M: { k: { S: 'k1' }, j: { S: 'j1' } } }, { S: 'l2' }, { S: 'l3' }] },
};

describe('projection', () => {
  const p = (e: string, names?: Record<string, string>) => project(item, parseProjection(e, newContext(names, undefined)));

  it('keeps top-level attributes', () => {
    expect(p('id, a, nothere')).toEqual({ id: { S: 'u1' }, a: { S: 'A' } });
  });

  it('keeps the structure of nested paths', () => {
    expect(p('m.y.z')).toEqual({ m: { M: { y: { M: { z: { S: 'z' } } } } } });
    expect(p('m.x, m.y.w')).toEqual({ m: { M: { x: { N: '1' }, y: { M: { w: { S: 'w' } } } } } });
  });

  it('returns selected list elements in index order, compacted', () => {
    expect(p('l[3], l[0]')).toEqual({ l: { L: [{ S: 'l0' }, { S: 'l3' }] } });
    expect(p('l[1].k')).toEqual({ l: { L: [{ M: { k: { S: 'k1' } } }] } });
    expect(p('l[9], m.nothere, a.b')).toEqual({});
  });

  it('uses name placeholders and does not touch the item', () => {
    const before = structuredClone(item);
    const out = p('#m.#y', { '#m': 'm', '#y': 'y' });
    expect(out).toEqual({ m: { M: { y: (item.m as { M: Record<string, AttributeValue> }).M.y } } });
    ((out.m as { M: Record<string, AttributeValue> }).M.y as { M: Record<string, AttributeValue> }).M.z = { S: 'changed' };
    expect(item).toEqual(before);
  });

  it('rejects bad projections with DynamoDB messages', () => {
    const c = () => newContext(undefined, undefined);
    expectValidation(() => parseProjection('a, a.b', c()), 'Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]');
    expectValidation(() => parseProjection('a.b, a[0]', c()), 'Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]');
    expectValidation(() => parseProjection('name', c()), 'Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name');
    expectValidation(() => parseProjection('a,', c()), 'Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ","');
    expectValidation(() => parseProjection('a b', c()), 'Invalid ProjectionExpression: Syntax error; token: "b", near: "a b"');
  });
});

describe('key conditions', () => {
  const shape: KeyShape = { hashName: 'id', hashType: 'S', rangeName: 'sk', rangeType: 'N' };
  const strShape: KeyShape = { hashName: 'id', hashType: 'S', rangeName: 'sk', rangeType: 'S' };
  const values: Record<string, AttributeValue> = {
    ':id': { S: 'u1' },
    ':id2': { S: 'u2' },
    ':n1': { N: '1' },
    ':n5': { N: '5' },
    ':p': { S: 'pre' },
    ':nid': { N: '7' },
  };
  const k = (e: string, s: KeyShape = shape, names?: Record<string, string>) => parseKeyCondition(e, newContext(names, values), s);

  it('accepts hash equality alone and with each sort-key operator', () => {
    expect(k('id = :id')).toEqual({ hash: { S: 'u1' } });
    expect(k('id = :id AND sk = :n1')).toEqual({ hash: { S: 'u1' }, range: { op: '=', values: [{ N: '1' }] } });
    for (const op of ['<', '<=', '>', '>='] as const) {
      expect(k(`id = :id AND sk ${op} :n1`).range).toEqual({ op, values: [{ N: '1' }] });
    }
    expect(k('sk BETWEEN :n1 AND :n5 AND id = :id')).toEqual({ hash: { S: 'u1' }, range: { op: 'BETWEEN', values: [{ N: '1' }, { N: '5' }] } });
    expect(k('#i = :id and begins_with(#s, :p)', strShape, { '#i': 'id', '#s': 'sk' }).range).toEqual({ op: 'begins_with', values: [{ S: 'pre' }] });
    expect(k('(id = :id) AND (:n1 < sk)').range).toEqual({ op: '>', values: [{ N: '1' }] });
  });

  it('rejects wrong shapes with DynamoDB messages', () => {
    expectValidation(() => k('sk = :n1'), 'Query condition missed key schema element: id');
    expectValidation(() => k('id = :id AND price = :n1'), 'Query condition missed key schema element: sk');
    expectValidation(() => k('id < :id'), 'Query key condition not supported');
    expectValidation(() => k('id = :id AND id = :id2'), 'KeyConditionExpressions must only contain one condition per key');
    expectValidation(() => k('id = :id AND sk > :n1 AND sk < :n5'), 'KeyConditionExpressions must only contain one condition per key');
    expectValidation(() => k('size(id) = :n1'), 'KeyConditionExpressions cannot contain nested operations');
    expectValidation(() => k('id = sk'), 'Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition');
    expectValidation(() => k('id.a = :id'), 'KeyConditionExpressions cannot have conditions on nested attributes');
    expectValidation(() => k(':id = :id'), 'Invalid condition in KeyConditionExpression: No key attribute specified');
    expectValidation(() => k('id = :id AND begins_with(:p, sk)'), 'Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand');
    // The partition key's type is checked before its operator.
    expectValidation(() => k(':nid < id'), 'One or more parameter values were invalid: Condition parameter type does not match schema type');
    expectValidation(() => k('id = :id OR sk = :n1'), 'Invalid operator used in KeyConditionExpression: OR');
    expectValidation(() => k('id = :id AND NOT sk = :n1'), 'Invalid operator used in KeyConditionExpression: NOT');
    expectValidation(() => k('id IN (:id)'), 'Invalid operator used in KeyConditionExpression: IN');
    expectValidation(() => k('id = :id AND contains(sk, :n1)'), 'Invalid operator used in KeyConditionExpression: contains');
    expectValidation(() => k('id = :nid'), 'One or more parameter values were invalid: Condition parameter type does not match schema type');
    expectValidation(() => k('id = :id AND sk = :p'), 'One or more parameter values were invalid: Condition parameter type does not match schema type');
    expectValidation(() => k('id = :id AND sk BETWEEN :n5 AND :n1'), /^Invalid KeyConditionExpression: The BETWEEN operator requires upper bound/);
    expectValidation(() => k('id = '), 'Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "="');
  });

  it('converts legacy KeyConditions', () => {
    expect(keyConditionsToAst({ id: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'u1' }] }, sk: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }, { N: '2' }] } }, shape)).toEqual({
      hash: { S: 'u1' },
      range: { op: 'BETWEEN', values: [{ N: '1' }, { N: '2' }] },
    });
    expectValidation(() => keyConditionsToAst({ sk: { ComparisonOperator: 'EQ', AttributeValueList: [{ N: '1' }] } }, shape), 'Query condition missed key schema element: id');
    expectValidation(() => keyConditionsToAst({ id: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'u1' }] }, sk: { ComparisonOperator: 'NE', AttributeValueList: [{ N: '1' }] } }, shape), 'Attempted conditional constraint is not an indexable operation');
    expectValidation(() => keyConditionsToAst({ id: { ComparisonOperator: 'EQ', AttributeValueList: [] } }, shape), 'One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator');
  });
});

describe('legacy converters', () => {
  const key: Item = { id: { S: 'k' } };

  it('AttributeUpdates as YCSB sends them (PUT per field)', () => {
    const ast = attributeUpdatesToAst({ field0: { Action: 'PUT', Value: { S: 'v0' } }, field1: { Value: { S: 'v1' } } });
    const { item: out, updatedPaths } = applyUpdate(ast, { id: { S: 'k' }, field0: { S: 'old' } }, key);
    expect(out).toEqual({ id: { S: 'k' }, field0: { S: 'v0' }, field1: { S: 'v1' } });
    expect(updatedPaths).toEqual([['field0'], ['field1']]);
  });

  it('AttributeUpdates DELETE and ADD', () => {
    const ast = attributeUpdatesToAst({
      gone: { Action: 'DELETE' },
      tags: { Action: 'DELETE', Value: { SS: ['a'] } },
      n: { Action: 'ADD', Value: { N: '2' } },
      list: { Action: 'ADD', Value: { L: [{ S: 'y' }] } },
      fresh: { Action: 'ADD', Value: { L: [{ S: 'f' }] } },
    });
    const { item: out } = applyUpdate(ast, { id: { S: 'k' }, gone: { S: 'x' }, tags: { SS: ['a', 'b'] }, n: { N: '1' }, list: { L: [{ S: 'x' }] } }, key);
    expect(out).toEqual({ id: { S: 'k' }, tags: { SS: ['b'] }, n: { N: '3' }, list: { L: [{ S: 'x' }, { S: 'y' }] }, fresh: { L: [{ S: 'f' }] } });
    expectValidation(() => attributeUpdatesToAst({ a: { Action: 'PUT' } }), 'One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified');
    expectValidation(() => attributeUpdatesToAst({ a: { Action: 'ADD', Value: { S: 'x' } } }), /ADD action is not supported for the type S/);
  });

  it('Expected (Exists / Value / ComparisonOperator, AND / OR)', () => {
    const it1: Item = { a: { S: 'x' }, n: { N: '5' } };
    const c1 = expectedToCondition({ a: { Value: { S: 'x' } }, b: { Exists: false } })!;
    expect(evaluateCondition(c1, it1)).toBe(true);
    const c2 = expectedToCondition({ a: { Exists: true, Value: { S: 'y' } }, n: { ComparisonOperator: 'GT', AttributeValueList: [{ N: '4' }] } }, 'OR')!;
    expect(evaluateCondition(c2, it1)).toBe(true);
    const c3 = expectedToCondition({ a: { Exists: true, Value: { S: 'y' } }, n: { ComparisonOperator: 'GT', AttributeValueList: [{ N: '4' }] } })!;
    expect(evaluateCondition(c3, it1)).toBe(false);
    const table: Array<[Parameters<typeof expectedToCondition>[0], boolean]> = [
      [{ n: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }, { N: '5' }] } }, true],
      [{ n: { ComparisonOperator: 'IN', AttributeValueList: [{ N: '1' }, { N: '5' }] } }, true],
      [{ a: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [{ S: 'x' }] } }, true],
      [{ a: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ S: 'x' }] } }, true],
      [{ a: { ComparisonOperator: 'NOT_CONTAINS', AttributeValueList: [{ S: 'x' }] } }, false],
      [{ z: { ComparisonOperator: 'NULL' } }, true],
      [{ a: { ComparisonOperator: 'NOT_NULL' } }, true],
      [{ a: { ComparisonOperator: 'NE', AttributeValueList: [{ S: 'x' }] } }, false],
      [{ n: { ComparisonOperator: 'LE', AttributeValueList: [{ N: '5.0' }] } }, true],
    ];
    for (const [e, want] of table) expect(evaluateCondition(expectedToCondition(e)!, it1)).toBe(want);
    expect(expectedToCondition({})).toBeUndefined();
    expectValidation(() => expectedToCondition({ a: { Exists: false, Value: { S: 'x' } } }), 'One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: a');
    expectValidation(() => expectedToCondition({ a: { Exists: true } }), 'One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a');
    // DynamoDB's wording when Exists is absent, and for an operator given no value (dynalite's tests).
    expectValidation(() => expectedToCondition({ a: {} }), 'One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: a');
    expectValidation(() => expectedToCondition({ a: { ComparisonOperator: 'LT' } }), 'One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: LT for Attribute: a');
    expect(expectedToCondition({ a: { ComparisonOperator: 'NOT_NULL' } })).toEqual({ kind: 'attribute_exists', path: ['a'] });
    expectValidation(() => expectedToCondition({ a: { ComparisonOperator: 'BETWEEN', AttributeValueList: [{ N: '1' }] } }), 'One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator');
    expectValidation(() => expectedToCondition({ a: { ComparisonOperator: 'LT', AttributeValueList: [{ SS: ['x'] }] } }), 'One or more parameter values were invalid: ComparisonOperator LT is not valid for SS AttributeValue type');
  });

  it('QueryFilter / ScanFilter', () => {
    const c = filterToCondition({ n: { ComparisonOperator: 'GE', AttributeValueList: [{ N: '5' }] } })!;
    expect(evaluateCondition(c, { n: { N: '5' } })).toBe(true);
  });

  it('AttributesToGet', () => {
    expect(attributesToGetToProjection(['a', 'status'])).toEqual([['a'], ['status']]);
    expectValidation(() => attributesToGetToProjection(['a', 'a']), /Duplicate value in attribute name: a/);
  });
});
