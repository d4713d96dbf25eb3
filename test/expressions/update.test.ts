import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item } from '../../src/model/types.js';
import { applyUpdate, attributeUpdatesToAst, newContext, parseUpdate, project, type UpdateAst } from '../../src/expressions/index.js';
import { expectValidation } from './helpers.js';

const key: Item = { id: { S: 'k' } };

const values: Record<string, AttributeValue> = {
  ':one': { N: '1' },
  ':two': { N: '2' },
  ':s': { S: 'str' },
  ':l': { L: [{ S: 'z' }] },
  ':empty': { L: [] },
  ':ss': { SS: ['b', 'c'] },
  ':ns': { NS: ['2', '3'] },
  ':bs': { BS: [new Uint8Array([1])] },
  ':big': { N: '99999999999999999999999999999999999999' },
  ':frac': { N: '0.1' },
  ':m': { M: {} },
  ':t': { BOOL: true },
};

function run(expression: string, item: Item | undefined, names?: Record<string, string>) {
  const ast = parseUpdate(expression, newContext(names, values));
  return applyUpdate(ast, item, key);
}

const base: Item = {
  id: { S: 'k' },
  n: { N: '5' },
  s: { S: 'old' },
  l: { L: [{ S: 'a' }, { S: 'b' }, { S: 'c' }, { S: 'd' }] },
  m: { M: { x: { N: '1' }, nest: { M: { y: { S: 'y' } } } } },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2'] },
};

function nestedMaps(levels: number): AttributeValue {
  let v: AttributeValue = { S: 'leaf' };
  for (let i = 0; i < levels; i++) v = { M: { n: v } };
  return v;
}

describe('applyUpdate limits', () => {
  const nesting = 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';

  it('refuses to nest the item deeper than 32 levels, and never touches its input', () => {
    const item: Item = { id: { S: 'k' }, m: { M: { a: { M: {} } } } };
    const deep = (levels: number) => parseUpdate('SET m.a.b = :d', newContext(undefined, { ':d': nestedMaps(levels) }));
    expect(() => applyUpdate(deep(29), item, key)).not.toThrow();
    expectValidation(() => applyUpdate(deep(30), item, key), nesting);
    expect(item).toEqual({ id: { S: 'k' }, m: { M: { a: { M: {} } } } });
    // Copying a deep attribute below another path deepens it too.
    const withDeep: Item = { id: { S: 'k' }, d: nestedMaps(31), m: { M: {} } };
    expect(() => applyUpdate(parseUpdate('SET e = d', newContext(undefined, undefined)), withDeep, key)).not.toThrow();
    expectValidation(() => applyUpdate(parseUpdate('SET m.e = d', newContext(undefined, undefined)), withDeep, key), nesting);
    // list_append builds a list one level above its elements.
    const listed: Item = { id: { S: 'k' }, l: { L: [nestedMaps(30)] } };
    expect(() => applyUpdate(parseUpdate('SET l = list_append(l, :e)', newContext(undefined, { ':e': { L: [] } })), listed, key)).not.toThrow();
    expectValidation(() => applyUpdate(parseUpdate('SET m.l = list_append(l, :e)', newContext(undefined, { ':e': { L: [] } })), { ...listed, m: { M: {} } }, key), nesting);
  });
});

describe('applyUpdate', () => {
  it('SET literal, path copy, arithmetic', () => {
    const { item, updatedPaths } = run('SET a = :s, b = n, c = n + :one, d = :two - n', base);
    expect(item.a).toEqual({ S: 'str' });
    expect(item.b).toEqual({ N: '5' });
    expect(item.c).toEqual({ N: '6' });
    expect(item.d).toEqual({ N: '-3' });
    expect(updatedPaths).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('reads every right-hand side from the old item', () => {
    const { item } = run('SET n = n + :one, s2 = n', base);
    expect(item.n).toEqual({ N: '6' });
    expect(item.s2).toEqual({ N: '5' });
  });

  it('never mutates its inputs', () => {
    const before = structuredClone(base);
    const ast = parseUpdate('SET m.x = :two, l[0] = :s REMOVE s ADD ss :ss', newContext(undefined, values));
    const astBefore = structuredClone(ast);
    const { item } = applyUpdate(ast, base, key);
    expect(base).toEqual(before);
    expect(ast).toEqual(astBefore);
    (item.ss as { SS: string[] }).SS.push('zzz');
    expect(base).toEqual(before);
  });

  it('starts a missing item from its key', () => {
    const { item } = run('SET a = :s ADD c :one', undefined);
    expect(item).toEqual({ id: { S: 'k' }, a: { S: 'str' }, c: { N: '1' } });
  });

  it('does exact 38-digit arithmetic', () => {
    const it38: Item = { id: key.id!, n: { N: '99999999999999999999999999999999999998' }, f: { N: '0.2' } };
    expect(run('SET n = n + :one', it38).item.n).toEqual({ N: '99999999999999999999999999999999999999' });
    expect(run('SET f = f + :frac', it38).item.f).toEqual({ N: '0.3' });
    expectValidation(() => run('SET n = n + :big', it38), /Number overflow/);
    expectValidation(() => run('ADD n :big', it38), /Number overflow/);
  });

  it('if_not_exists and list_append', () => {
    const r = run('SET a = if_not_exists(a, :one), n = if_not_exists(n, :one), l = list_append(l, :l), k = list_append(:l, if_not_exists(k, :empty))', base);
    expect(r.item.a).toEqual({ N: '1' });
    expect(r.item.n).toEqual({ N: '5' });
    expect((r.item.l as { L: AttributeValue[] }).L.map((v) => (v as { S: string }).S)).toEqual(['a', 'b', 'c', 'd', 'z']);
    expect(r.item.k).toEqual({ L: [{ S: 'z' }] });
    expect(run('SET c = if_not_exists(c, :one) + :two', base).item.c).toEqual({ N: '3' });
  });

  it('SET on nested paths and list indexes', () => {
    const r = run('SET m.x = :two, m.nest.z = :s, l[1] = :s, l[10] = :t', base);
    expect(r.item.m).toEqual({ M: { x: { N: '2' }, nest: { M: { y: { S: 'y' }, z: { S: 'str' } } } } });
    expect(r.item.l).toEqual({ L: [{ S: 'a' }, { S: 'str' }, { S: 'c' }, { S: 'd' }, { BOOL: true }] });
    // An index past the end appends; the reported path is the one written (DynamoDB
    // projects UPDATED_NEW on the paths of the expression).
    expect(r.updatedPaths).toContainEqual(['l', 10]);
  });

  it('appends elements written past the end of a list in index order, SET and ADD alike', () => {
    // DynamoDB's own example (dynalite's updateItem test): the result does not depend on
    // the order of the actions, only on the indexes.
    const item: Item = { id: { S: 'k' }, b: { M: { a: { N: '1' }, b: { N: '2' }, c: { N: '3' } } }, c: { L: [{ N: '1' }, { N: '3' }] } };
    const ast = parseUpdate('set b.c=((c[1])+(b.a)),b.a = id,c[1] = id, c[4] = b.a - b.b, c[2] = b.c add c[8] :b, c[6] :a',
      newContext(undefined, { ':a': { N: '2' }, ':b': { SS: ['a'] } }));
    const r = applyUpdate(ast, item, key);
    expect(r.item.c).toEqual({ L: [{ N: '1' }, { S: 'k' }, { N: '3' }, { N: '-1' }, { N: '2' }, { SS: ['a'] }] });
    expect(project(r.item, r.updatedPaths)).toEqual({ b: { M: { a: { S: 'k' }, c: { N: '4' } } }, c: { L: [{ S: 'k' }, { N: '3' }, { N: '2' }] } });
  });

  it('words type errors of legacy AttributeUpdates as DynamoDB does', () => {
    const mismatch = 'Type mismatch for attribute to update';
    const cases: Array<Parameters<typeof attributeUpdatesToAst>[0]> = [
      { ss: { Action: 'DELETE', Value: { NS: ['1'] } } }, { n: { Action: 'DELETE', Value: { NS: ['1'] } } },
      { ss: { Action: 'ADD', Value: { NS: ['1'] } } }, { ns: { Action: 'ADD', Value: { N: '1' } } },
      { s: { Action: 'ADD', Value: { L: [] } } },
    ];
    for (const updates of cases) {
      expectValidation(() => applyUpdate(attributeUpdatesToAst(updates), base, key), mismatch);
    }
    expectValidation(() => run('ADD ss :ns', base), 'An operand in the update expression has an incorrect data type');
  });

  it('refuses REMOVE and DELETE below a missing attribute or through the wrong type', () => {
    const invalid = 'The document path provided in the update expression is invalid for update';
    for (const expression of ['REMOVE nothere.a', 'REMOVE nothere[1]', 'REMOVE s.a', 'REMOVE m[0]', 'DELETE nothere.a :ss', 'DELETE s.a :ss', 'DELETE m[1] :ss', 'DELETE l.x :ss']) {
      expectValidation(() => run(expression, base), invalid);
    }
    // Below an existing map or list, a missing element is simply not there to remove.
    expect(run('REMOVE m.nothere, l[9] DELETE m.gone :ss', base).item).toEqual(base);
  });

  it('REMOVE attributes, nested attributes and list elements (indexes of the old list)', () => {
    const r = run('REMOVE s, m.nest.y, l[0], l[2], l[9], nothere', base);
    expect(r.item.s).toBeUndefined();
    expect(r.item.m).toEqual({ M: { x: { N: '1' }, nest: { M: {} } } });
    expect(r.item.l).toEqual({ L: [{ S: 'b' }, { S: 'd' }] });
  });

  it('ADD numbers and sets, DELETE from sets', () => {
    const r = run('ADD n :two, ss :ss, ns :ns, newset :bs DELETE nothere :ss', base);
    expect(r.item.n).toEqual({ N: '7' });
    expect(r.item.ss).toEqual({ SS: ['a', 'b', 'c'] });
    expect(r.item.ns).toEqual({ NS: ['1', '2', '3'] });
    expect(r.item.newset).toEqual({ BS: [new Uint8Array([1])] });
    const d = run('DELETE ss :ss, ns :ns', base);
    expect(d.item.ss).toEqual({ SS: ['a'] });
    expect(d.item.ns).toEqual({ NS: ['1'] });
    const gone = run('DELETE ss :ss', { ...base, ss: { SS: ['b'] } });
    expect(gone.item.ss).toBeUndefined();
  });

  it('combines all four clauses', () => {
    const r = run('SET a = :s REMOVE s ADD n :one DELETE ss :ss', base);
    expect(r.item.a).toEqual({ S: 'str' });
    expect(r.item.s).toBeUndefined();
    expect(r.item.n).toEqual({ N: '6' });
    expect(r.item.ss).toEqual({ SS: ['a'] });
    expect(r.updatedPaths).toEqual([['a'], ['n'], ['ss'], ['s']]);
  });

  it('UPDATED_OLD / UPDATED_NEW by projecting on updatedPaths', () => {
    const r = run('SET m.x = :two, n = n + :one', base);
    expect(project(base, r.updatedPaths)).toEqual({ m: { M: { x: { N: '1' } } }, n: { N: '5' } });
    expect(project(r.item, r.updatedPaths)).toEqual({ m: { M: { x: { N: '2' } } }, n: { N: '6' } });
  });

  const runtimeErrors: Array<[string, string]> = [
    ['SET a = nothere', 'The provided expression refers to an attribute that does not exist in the item'],
    ['SET a = nothere + :one', 'The provided expression refers to an attribute that does not exist in the item'],
    ['SET a = s + :one', 'An operand in the update expression has an incorrect data type'],
    ['SET a = list_append(s, :l)', 'An operand in the update expression has an incorrect data type'],
    ['ADD s :one', 'An operand in the update expression has an incorrect data type'],
    ['ADD ss :ns', 'An operand in the update expression has an incorrect data type'],
    ['DELETE ss :ns', 'An operand in the update expression has an incorrect data type'],
    ['SET nothere.a = :one', 'The document path provided in the update expression is invalid for update'],
    ['SET s.a = :one', 'The document path provided in the update expression is invalid for update'],
    ['SET s[0] = :one', 'The document path provided in the update expression is invalid for update'],
    ['SET m[0] = :one', 'The document path provided in the update expression is invalid for update'],
    ['ADD nothere.a :one', 'The document path provided in the update expression is invalid for update'],
  ];
  for (const [expr, message] of runtimeErrors) {
    it(`runtime error: ${expr}`, () => expectValidation(() => run(expr, base), message));
  }
});

describe('parseUpdate', () => {
  it('builds plain-data ASTs that survive cloning and apply the same', () => {
    const ast = parseUpdate('SET a = if_not_exists(a, :one) + :two, l = list_append(l, :l) REMOVE s ADD n :one DELETE ss :ss', newContext(undefined, values));
    const json = JSON.parse(JSON.stringify(ast)) as UpdateAst;
    expect(json).toEqual(ast);
    expect(structuredClone(ast)).toEqual(ast);
    expect(applyUpdate(json, base, key)).toEqual(applyUpdate(ast, base, key));
    expect(applyUpdate(structuredClone(ast), base, key)).toEqual(applyUpdate(ast, base, key));
  });

  it('accepts lower-case clause keywords, any order, placeholders', () => {
    const ast = parseUpdate('remove #s set #a.#b[3] = :one', newContext({ '#s': 'status', '#a': 'a', '#b': 'b' }, values));
    expect(ast.remove).toEqual([['status']]);
    expect(ast.set).toEqual([{ path: ['a', 'b', 3], value: { kind: 'value', value: { N: '1' } } }]);
  });

  const errors: Array<[string, string]> = [
    ['SET a = :one SET b = :two', 'Invalid UpdateExpression: The "SET" section can only be used once in an update expression;'],
    ['SET a = :one, a.b = :two', 'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]'],
    ['SET a = :one REMOVE a', 'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]'],
    ['SET a.b = :one REMOVE a[0]', 'Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]'],
    ['SET l[1] = :one REMOVE l[1].x', 'Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [l, [1]], path two: [l, [1], x]'],
    ['SET status = :one', 'Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status'],
    ['SET a = :nope', 'Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope'],
    ['SET #nope = :one', 'Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #nope'],
    ['SET a = foo(b)', 'Invalid UpdateExpression: Invalid function name; function: foo'],
    ['SET a = if_not_exists(:one, :two)', 'Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists'],
    ['SET a = list_append(a)', 'Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1'],
    ['SET a = list_append(a, :s)', 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S'],
    ['SET a = a + :s', 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S'],
    ['ADD a :s', 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING'],
    ['ADD a :l', 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST'],
    ['DELETE a :one', 'Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER'],
    ['SET a = :one + :two + :one', 'Invalid UpdateExpression: Syntax error; token: "+", near: ":two + :one"'],
    ['SET a :one', 'Invalid UpdateExpression: Syntax error; token: ":one", near: "a :one"'],
    ['SET path = VALUE 1', 'Invalid UpdateExpression: Syntax error; token: "1", near: "VALUE 1"'],
    ['ADD a b', 'Invalid UpdateExpression: Syntax error; token: "b", near: "a b"'],
    ['UPSERT a = :one', 'Invalid UpdateExpression: Syntax error; token: "UPSERT", near: "UPSERT a"'],
    // DynamoDB's examples (moto's and Scylla's tests): "near" runs from the token before to the token after.
    ['SET MyStr = myNum Mystr2 myNum2', 'Invalid UpdateExpression: Syntax error; token: "Mystr2", near: "myNum Mystr2 myNum2"'],
    ['SET _123 = :one', 'Invalid UpdateExpression: Syntax error; token: "_", near: "SET _123"'],
    ['ADD  SET #a', 'Invalid UpdateExpression: Syntax error; token: "SET", near: "ADD  SET #a"'],
    ['SET a = :one,', 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ","'],
    ['', 'Invalid UpdateExpression: The expression can not be empty;'],
  ];
  for (const [expr, message] of errors) {
    it(`rejects ${JSON.stringify(expr)}`, () => expectValidation(() => parseUpdate(expr, newContext(undefined, values)), message));
  }
});
