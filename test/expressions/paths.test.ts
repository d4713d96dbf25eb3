/**
 * The document paths an expression reads or writes, and the rule that no path reaches
 * inside a key attribute of the table or of its indexes.
 */
import { describe, expect, it } from 'vitest';
import { conditionPaths, newContext, parseFilter, parseUpdate, updatePaths } from '../../src/expressions/index.js';
import { checkKeyPathsScalar } from '../../src/api/request-checks.js';
import { expectValidation } from './helpers.js';

const ctx = () => newContext({ '#d': 'd' }, { ':v': { N: '1' }, ':l': { L: [] }, ':ss': { SS: ['x'] } });

describe('document paths of expressions', () => {
  it('lists what a condition reads, in the order written', () => {
    const ast = parseFilter('a.b = :v AND (size(c[1]) > :v OR NOT attribute_exists(#d.e)) AND begins_with(f, g)', ctx());
    expect(conditionPaths(ast)).toEqual([['a', 'b'], ['c', 1], ['d', 'e'], ['f'], ['g']]);
  });

  it('lists what an update writes and reads', () => {
    const ast = parseUpdate('SET a = if_not_exists(b.c, :v), l = list_append(l, :l), n = n + :v REMOVE r[0] ADD s :v DELETE t :ss', ctx());
    expect(updatePaths(ast)).toEqual([['a'], ['b', 'c'], ['l'], ['l'], ['n'], ['n'], ['r', 0], ['s'], ['t']]);
  });
});

describe('key attributes are scalars', () => {
  const shape = { hashName: 'a', hashType: 'S' as const, rangeName: 'b', rangeType: 'S' as const };
  const scalars = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: ";

  it('refuses a path inside a table key, then inside an index key; whole attributes are fine', () => {
    expect(() => checkKeyPathsScalar([['a'], ['b'], ['d'], ['x', 'y']], shape, ['d'])).not.toThrow();
    expectValidation(() => checkKeyPathsScalar([['d', 1], ['b', 'x']], shape, ['d']), `${scalars}Key: b`);
    expectValidation(() => checkKeyPathsScalar([['d', 1]], shape, ['c', 'd']), `${scalars}IndexKey: d`);
  });
});
