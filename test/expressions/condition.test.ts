import { describe, expect, it } from 'vitest';
import type { AttributeValue, Item } from '../../src/model/types.js';
import {
  checkAllPlaceholdersUsed,
  evaluateCondition,
  newContext,
  parseCondition,
  parseFilter,
  type ConditionAst,
} from '../../src/expressions/index.js';
import { expectValidation } from './helpers.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

const item: Item = {
  id: { S: 'u1' },
  n: { N: '10' },
  big: { N: '12345678901234567890123456789012345678' },
  s: { S: 'hello world' },
  b: { B: bytes(1, 2, 3) },
  t: { BOOL: true },
  z: { NULL: true },
  ss: { SS: ['a', 'b'] },
  ns: { NS: ['1', '2.5'] },
  bs: { BS: [bytes(1), bytes(2, 3)] },
  l: { L: [{ S: 'x' }, { N: '2' }, { M: { deep: { S: 'd' } } }] },
  m: { M: { a: { N: '1' }, b: { M: { c: { S: 'see' } } }, 'with space': { S: 'sp' } } },
};

const values: Record<string, AttributeValue> = {
  ':n10': { N: '10' },
  ':n10b': { N: '10.000' },
  ':n5': { N: '5' },
  ':n20': { N: '20' },
  ':s': { S: 'hello world' },
  ':hello': { S: 'hello' },
  ':wor': { S: 'wor' },
  ':a': { S: 'a' },
  ':x': { S: 'x' },
  ':c': { S: 'c' },
  ':one': { N: '1' },
  ':two': { N: '2' },
  ':twofive': { N: '2.50' },
  ':b12': { B: bytes(1, 2) },
  ':b23': { B: bytes(2, 3) },
  ':b9': { B: bytes(9) },
  ':bs1': { B: bytes(1) },
  ':true': { BOOL: true },
  ':null': { NULL: true },
  ':tS': { S: 'S' },
  ':tN': { S: 'N' },
  ':tSS': { S: 'SS' },
  ':tM': { S: 'M' },
  ':tL': { S: 'L' },
  ':see': { S: 'see' },
  ':d': { S: 'd' },
  ':big': { N: '12345678901234567890123456789012345678' },
  ':bigm1': { N: '12345678901234567890123456789012345677' },
  ':sm': { M: { a: { N: '1' }, b: { M: { c: { S: 'see' } } }, 'with space': { S: 'sp' } } },
  ':sl': { L: [{ S: 'x' }, { N: '2.0' }, { M: { deep: { S: 'd' } } }] },
  ':ssrev': { SS: ['b', 'a'] },
  ':three': { N: '3' },
  ':eleven': { N: '11' },
};
const names = { '#n': 'n', '#sp': 'with space', '#m': 'm', '#status': 'status', '#l': 'l' };

function ctx() {
  return newContext(names, values);
}

function check(expression: string): boolean {
  return evaluateCondition(parseCondition(expression, ctx()), item);
}

function checkOn(expression: string, target: Item | undefined): boolean {
  return evaluateCondition(parseCondition(expression, ctx()), target);
}

describe('condition evaluation table', () => {
  const cases: Array<[string, boolean]> = [
    // comparisons
    ['n = :n10', true],
    ['n = :n10b', true], // numbers compare numerically
    ['n <> :n10', false],
    ['n <> :n5', true],
    ['n < :n20', true],
    ['n <= :n10', true],
    ['n > :n5', true],
    ['n >= :n20', false],
    ['big > :bigm1', true],
    ['big = :big', true],
    ['s = :s', true],
    ['s > :hello', true],
    ['s < :hello', false],
    ['b > :b12', true],
    ['b < :b23', true],
    ['t = :true', true],
    ['z = :null', true],
    ['ss = :ssrev', true], // sets are unordered
    ['l = :sl', true], // 2 and 2.0 are equal
    ['m = :sm', true],
    // type mismatches
    ['n = :s', false],
    ['n < :s', false],
    ['n <> :s', true],
    ['t < s', false], // a path to a BOOL has no order: the comparison fails
    // absent attributes
    ['absent = :n10', false],
    ['absent < :n10', false],
    ['absent <> :n10', true],
    // paths
    ['m.a = :one', true],
    ['m.b.c = :see', true],
    ['#m.#sp = :s', false],
    ['l[0] = :x', true],
    ['l[1] = :two', true],
    ['l[2].deep = :d', true],
    ['l[9] = :x', false],
    ['m[0] = :x', false],
    ['l.deep = :d', false],
    ['#n = :n10', true],
    // BETWEEN and IN
    ['n BETWEEN :n5 AND :n20', true],
    ['n BETWEEN :n10 AND :n10b', true],
    ['n BETWEEN :eleven AND :n20', false],
    ['s BETWEEN :a AND :x', true],
    ['absent BETWEEN :n5 AND :n20', false],
    ['n IN (:n5, :n10)', true],
    ['n IN (:n5, :n20)', false],
    ['s IN (:s)', true],
    ['absent IN (:n5)', false],
    // functions
    ['attribute_exists(id)', true],
    ['attribute_exists(absent)', false],
    ['attribute_not_exists(absent)', true],
    ['attribute_exists(m.b.c)', true],
    ['attribute_exists(l[2].deep)', true],
    ['attribute_not_exists(l[5])', true],
    ['attribute_type(s, :tS)', true],
    ['attribute_type(n, :tN)', true],
    ['attribute_type(n, :tS)', false],
    ['attribute_type(ss, :tSS)', true],
    ['attribute_type(m, :tM)', true],
    ['attribute_type(absent, :tS)', false],
    ['begins_with(s, :hello)', true],
    ['begins_with(s, :wor)', false],
    ['begins_with(b, :b12)', true],
    ['begins_with(b, :b23)', false],
    ['begins_with(s, :b12)', false],
    ['begins_with(absent, :hello)', false],
    ['contains(s, :wor)', true],
    ['contains(s, :c)', false],
    ['contains(ss, :a)', true],
    ['contains(ss, :c)', false],
    ['contains(ns, :twofive)', true],
    ['contains(ns, :three)', false],
    ['contains(bs, :bs1)', true],
    ['contains(b, :b23)', true],
    ['contains(l, :x)', true],
    ['contains(l, :two)', true],
    ['contains(l, :a)', false],
    ['contains(n, :n10)', false],
    ['contains(absent, :a)', false],
    ['size(s) = :eleven', true],
    ['size(b) = :three', true],
    ['size(ss) = :two', true],
    ['size(l) = :three', true],
    ['size(m) = :three', true],
    ['size(m.b) = :one', true],
    ['size(n) = :two', false],
    ['size(absent) < :n10', false],
    ['size(s) > size(l)', true],
    ['size(#l) BETWEEN :two AND :three', true],
    ['size(ss) IN (:one, :two)', true],
    // logic
    ['n = :n10 AND s = :s', true],
    ['n = :n10 AND s = :a', false],
    ['n = :n5 OR s = :s', true],
    ['NOT n = :n5', true],
    ['NOT (n = :n10 OR s = :s)', false],
    ['not attribute_exists(absent) and NOT contains(s, :c)', true],
    ['(n = :n10)', true],
    ['(n) = :n10', true],
    ['(size(s)) = :eleven', true],
    ['((n) = :n10) AND (s = :s)', true],
  ];
  for (const [expr, expected] of cases) {
    it(`${expr} → ${expected}`, () => {
      expect(check(expr)).toBe(expected);
    });
  }

  it('treats a absent item like an item with no attributes', () => {
    expect(checkOn('attribute_not_exists(id)', undefined)).toBe(true);
    expect(checkOn('attribute_exists(id)', undefined)).toBe(false);
    expect(checkOn('n = :n10', undefined)).toBe(false);
    expect(checkOn('n <> :n10', undefined)).toBe(true);
  });

  it('keeps keywords case-insensitive and function names exact', () => {
    expect(check('n between :n5 and :n20 or n in (:one)')).toBe(true);
    expectValidation(() => check('Attribute_Exists(n)'), 'Invalid ConditionExpression: Invalid function name; function: Attribute_Exists');
  });

  it('orders strings by UTF-8 bytes (code points), not UTF-16 units', () => {
    const it2: Item = { a: { S: '\u{1F600}' } }; // surrogate pair, U+1F600
    const c = newContext(undefined, { ':v': { S: '\uFFFD' } });
    expect(evaluateCondition(parseCondition('a > :v', c), it2)).toBe(true);
  });

  it('measures a string\'s size() in UTF-16 units, not UTF-8 bytes', () => {
    const accented: Item = { a: { S: 'ab\u00ff' }, b: { S: '\u00e9\u{1D11E}' } };
    const c = newContext(undefined, { ':three': { N: '3' } });
    expect(evaluateCondition(parseCondition('size(a) = :three AND size(b) = :three', c), accented)).toBe(true);
  });

  it('compares 38-digit numbers exactly', () => {
    const c = newContext(undefined, {
      ':a': { N: '0.00000000000000000000000000000000000001' },
      ':b': { N: '9.9999999999999999999999999999999999999E+125' },
    });
    const it2: Item = { x: { N: '0.000000000000000000000000000000000000011' }, y: { N: '99999999999999999999999999999999999999' } };
    expect(evaluateCondition(parseCondition('x > :a AND y < :b', c), it2)).toBe(true);
  });
});

describe('precedence', () => {
  const item2 = (a: boolean, b: boolean, c: boolean): Item => ({
    a: { BOOL: a },
    b: { BOOL: b },
    c: { BOOL: c },
  });
  const v = { ':t': { BOOL: true } };

  it('parses NOT a AND b OR c as ((NOT a) AND b) OR c', () => {
    const ast = parseCondition('NOT a = :t AND b = :t OR c = :t', newContext(undefined, v));
    expect(ast.kind).toBe('or');
    const or = ast as Extract<ConditionAst, { kind: 'or' }>;
    expect(or.left.kind).toBe('and');
    expect((or.left as Extract<ConditionAst, { kind: 'and' }>).left.kind).toBe('not');
    expect(or.right.kind).toBe('compare');
    for (const a of [false, true]) {
      for (const b of [false, true]) {
        for (const c of [false, true]) {
          expect(evaluateCondition(ast, item2(a, b, c))).toBe((!a && b) || c);
        }
      }
    }
  });

  it('binds AND tighter than OR on both sides', () => {
    const ast = parseCondition('a = :t OR b = :t AND c = :t', newContext(undefined, v));
    for (const a of [false, true]) {
      for (const b of [false, true]) {
        for (const c of [false, true]) {
          expect(evaluateCondition(ast, item2(a, b, c))).toBe(a || (b && c));
        }
      }
    }
  });

  it('lets parentheses override precedence', () => {
    const ast = parseCondition('NOT (a = :t AND (b = :t OR c = :t))', newContext(undefined, v));
    for (const a of [false, true]) {
      for (const b of [false, true]) {
        for (const c of [false, true]) {
          expect(evaluateCondition(ast, item2(a, b, c))).toBe(!(a && (b || c)));
        }
      }
    }
  });

  it('binds BETWEEN ... AND before the logical AND', () => {
    const c = newContext(undefined, { ':1': { N: '1' }, ':5': { N: '5' }, ':t': { BOOL: true } });
    const ast = parseCondition('n BETWEEN :1 AND :5 AND f = :t', c);
    expect(ast.kind).toBe('and');
    expect(evaluateCondition(ast, { n: { N: '3' }, f: { BOOL: true } })).toBe(true);
    expect(evaluateCondition(ast, { n: { N: '3' }, f: { BOOL: false } })).toBe(false);
  });
});

describe('condition parse errors', () => {
  const cases: Array<[string, string]> = [
    ['n = ', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "="'],
    ['foo', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "foo"'],
    ['n == :n10', 'Invalid ConditionExpression: Syntax error; token: "=", near: "== :n10"'],
    ['n = :n10 AND', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"'],
    ['n = :n10 :n5', 'Invalid ConditionExpression: Syntax error; token: ":n5", near: ":n10 :n5"'],
    ['n ! :n5', 'Invalid ConditionExpression: Syntax error; token: "!", near: "n ! :n5"'],
    ['(n = :n10', 'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":n10"'],
    ['n BETWEEN :n5 OR :n20', 'Invalid ConditionExpression: Syntax error; token: "OR", near: ":n5 OR :n20"'],
    ['status = :n10', 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status'],
    ['m.Size = :n10', 'Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size'],
    ['#nope = :n10', 'Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope'],
    ['n = :nope', 'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope'],
    ['foo(n)', 'Invalid ConditionExpression: Invalid function name; function: foo'],
    ['size(s)', 'Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size'],
    ['attribute_exists(n) = :true', 'Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists'],
    ['attribute_exists(n, s)', 'Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2'],
    ['attribute_exists(:n10)', 'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists'],
    ['n = n', 'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [n]'],
    ['begins_with(s, :n10)', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N'],
    ['attribute_type(s, :s)', 'Invalid ConditionExpression: Invalid attribute type name found; type: hello world, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}'],
    ['attribute_type(s, :n10)', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N'],
    ['n BETWEEN :n20 AND :n5', 'Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:20}, upper bound operand: AttributeValue: {N:5}'],
    ['n BETWEEN :n5 AND :s', 'Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {S:hello world}'],
    ['t < :true', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: BOOL'],
    ['ss >= :ssrev', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >=, operand type: SS'],
    ['n BETWEEN :null AND :n5', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: NULL'],
    ['((n = :n10))', 'Invalid ConditionExpression: The expression has redundant parentheses;'],
    ['n = :n10 AND ((m.k))  = :s', 'Invalid ConditionExpression: The expression has redundant parentheses;'],
    // The first condition with an error decides; within it, placeholders, operands, distinctness, functions.
    ['n = n AND s = :nope', 'Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [n]'],
    ['attribute_exists(:n10) AND n = n', 'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists'],
    ['n = :nope AND n = n', 'Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope'],
    ['size(size(s)) > :n5', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N'],
    ['attribute_type(s, size(s))', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N'],
    ['size(:n10) > n', 'Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N'],
    ['attribute_not_exists(size(:s))', 'Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_not_exists'],
    ['   ', 'Invalid ConditionExpression: The expression can not be empty;'],
  ];
  for (const [expr, message] of cases) {
    it(JSON.stringify(expr), () => {
      expectValidation(() => parseCondition(expr, ctx()), message);
    });
  }

  it('refuses IN with more than 100 values', () => {
    const values: Record<string, { N: string }> = {};
    for (let i = 0; i < 101; i++) values[`:v${i}`] = { N: String(i) };
    const list = (n: number) => Object.keys(values).slice(0, n).join(', ');
    expect(() => parseCondition(`n IN (${list(100)})`, newContext(undefined, values))).not.toThrow();
    expectValidation(() => parseCondition(`n IN (${list(101)})`, newContext(undefined, values)),
      'Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101');
  });

  it('reads a parenthesized path as the start of a longer path, and the size of a literal as a number', () => {
    expect(check('(m).a = :one AND (m.b).c = :see')).toBe(true);
    expect(check('(m).a = :two')).toBe(false);
    expect(check('size(:s) = :eleven')).toBe(true);
  });

  it('reports a syntax error before a semantic one', () => {
    expectValidation(() => parseCondition('status = :nope AND', ctx()), /Syntax error; token: "<EOF>"/);
  });

  it('labels FilterExpression errors', () => {
    expectValidation(() => parseFilter('a =', ctx()), 'Invalid FilterExpression: Syntax error; token: "<EOF>", near: "="');
    expectValidation(() => parseCondition('a =', ctx(), 'FilterExpression'), /^Invalid FilterExpression/);
  });

  it('rejects expressions over 4 KB', () => {
    const long = 'attribute_exists(' + 'a'.repeat(4096) + ')';
    expectValidation(
      () => parseCondition(long, newContext(undefined, undefined)),
      `Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: ${long.length}`,
    );
    const ok = 'attribute_exists(' + 'a'.repeat(4096 - 18) + ')';
    expect(ok.length).toBe(4096);
    expect(() => parseCondition(ok, newContext(undefined, undefined))).not.toThrow();
  });

  it('rejects more than 300 operators', () => {
    const terms = Array.from({ length: 151 }, (_, i) => `a${i} = :v`);
    expectValidation(
      () => parseCondition(terms.join(' AND '), newContext(undefined, { ':v': { S: 'x' } })),
      'Invalid ConditionExpression: The expression contains too many operators; operator count: 301',
    );
  });

  it('accepts deep nesting without blowing up', () => {
    const expr = '('.repeat(200) + 'a = :v' + ')'.repeat(200);
    // Redundant, but it must fail quickly and with DynamoDB's message.
    expectValidation(() => parseCondition(expr, newContext(undefined, { ':v': { S: 'x' } })), 'Invalid ConditionExpression: The expression has redundant parentheses;');
  });
});

describe('placeholders', () => {
  it('marks used placeholders and reports unused ones', () => {
    const c = newContext({ '#a': 'a', '#b': 'b' }, { ':x': { S: 'x' }, ':y': { S: 'y' } });
    parseCondition('#a = :x', c);
    expect([...c.usedNames]).toEqual(['#a']);
    expect([...c.usedValues]).toEqual([':x']);
    expectValidation(() => checkAllPlaceholdersUsed(c), 'Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}');
    parseCondition('#b = :x', c);
    expectValidation(() => checkAllPlaceholdersUsed(c), 'Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}');
    parseCondition('a = :y', c);
    expect(() => checkAllPlaceholdersUsed(c)).not.toThrow();
  });

  it('substitutes names that are reserved words or have odd characters', () => {
    expect(checkOn('#status = :n10', { status: { N: '10' } })).toBe(true);
    expect(checkOn('#m.#sp = :c', { m: { M: { 'with space': { S: 'c' } } } })).toBe(true);
  });

  it('rejects empty maps and malformed keys', () => {
    expectValidation(() => newContext({}, undefined), 'ExpressionAttributeNames must not be empty');
    expectValidation(() => newContext(undefined, {}), 'ExpressionAttributeValues must not be empty');
    expectValidation(() => newContext({ a: 'a' }, undefined), 'ExpressionAttributeNames contains invalid key: Syntax error; key: "a"');
    expectValidation(() => newContext(undefined, { v: { S: 'x' } }), 'ExpressionAttributeValues contains invalid key: Syntax error; key: "v"');
  });

  it('limits a placeholder to 255 bytes, checked before its syntax', () => {
    expect(() => newContext({ [`#${'a'.repeat(254)}`]: 'a' }, { [`:${'v'.repeat(254)}`]: { S: 'x' } })).not.toThrow();
    expectValidation(() => newContext({ [`#${'a'.repeat(255)}`]: 'a' }, undefined),
      'ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: 256');
    expectValidation(() => newContext({ [`${'-'.repeat(300)}`]: 'a' }, undefined),
      'ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: 300');
    expectValidation(() => newContext(undefined, { [`:${'é'.repeat(128)}`]: { S: 'x' } }),
      'ExpressionAttributeValues contains invalid key: The expression attribute map contains a key that is too long; size of key: 257');
  });

  it('limits all substitutions of a request to 2 MB', () => {
    const mb = 1024 * 1024;
    const names = { '#a': 'n'.repeat(mb), '#b': 'n'.repeat(mb) };
    expectValidation(() => newContext(names, undefined), 'ExpressionAttributeNames exceeds max size');
    expectValidation(() => newContext(undefined, { ':a': { S: 'v'.repeat(mb) }, ':b': { B: new Uint8Array(mb) } }), 'ExpressionAttributeValues exceeds max size');
    expectValidation(() => newContext({ '#a': 'n'.repeat(mb) }, { ':a': { S: 'v'.repeat(mb) } }),
      'Combined size of ExpressionAttributeNames and ExpressionAttributeValues exceeds max size');
    expect(() => newContext({ '#a': 'n'.repeat(mb - 10) }, { ':a': { S: 'v'.repeat(mb - 10) } })).not.toThrow();
  });
});

describe('determinism', () => {
  const exprs = [
    'NOT n = :n5 AND (s = :s OR contains(ss, :a))',
    'm.b.c = :see AND l[2].deep = :d AND size(l) BETWEEN :two AND :three',
    'n IN (:n5, :n10, :n20) AND attribute_type(ns, :tN) OR begins_with(s, :hello)',
    'contains(b, :b23) AND begins_with(b, :b12) AND b > :b12',
  ];
  it('AST survives JSON round-trip (non-binary) and structuredClone (all) and evaluates the same', () => {
    for (const e of exprs) {
      const ast = parseCondition(e, ctx());
      const cloned = structuredClone(ast);
      expect(cloned).toEqual(ast);
      expect(evaluateCondition(cloned, item)).toBe(evaluateCondition(ast, item));
      expect(evaluateCondition(cloned, undefined)).toBe(evaluateCondition(ast, undefined));
      if (!JSON.stringify(ast).includes('"B"')) {
        const viaJson = JSON.parse(JSON.stringify(ast)) as ConditionAst;
        expect(viaJson).toEqual(ast);
        expect(evaluateCondition(viaJson, item)).toBe(evaluateCondition(ast, item));
      }
    }
  });

  it('AST holds only plain data', () => {
    const plain = (x: unknown): boolean => {
      if (x === null || ['string', 'number', 'boolean'].includes(typeof x)) return true;
      if (x instanceof Uint8Array) return true;
      if (Array.isArray(x)) return x.every(plain);
      if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
        return Object.values(x as object).every((v) => v !== undefined && plain(v));
      }
      return false;
    };
    for (const e of exprs) expect(plain(parseCondition(e, ctx()))).toBe(true);
  });
});
