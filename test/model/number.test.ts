import { describe, expect, it } from 'vitest';
import {
  addNumbers,
  canonicalNumber,
  compareNumbers,
  parseNumber,
  subtractNumbers,
} from '../../src/model/number.js';
import { DynamoDBError } from '../../src/model/errors.js';

const MAX = '9.9999999999999999999999999999999999999E+125';
const OVERFLOW = 'Number overflow. Attempting to store a number with magnitude larger than supported range';
const UNDERFLOW = 'Number underflow. Attempting to store a number with magnitude smaller than supported range';
const PRECISION = 'Attempting to store more than 38 significant digits in a Number';
const NOT_NUMERIC = 'The parameter cannot be converted to a numeric value';

function errorOf(f: () => unknown): DynamoDBError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DynamoDBError);
    return e as DynamoDBError;
  }
  throw new Error('expected an error');
}

describe('parseNumber', () => {
  it.each([
    ['0', 0, '', 0],
    ['-0', 0, '', 0],
    ['0e1000', 0, '', 0],
    ['000.000', 0, '', 0],
    ['1', 1, '1', 0],
    ['1.0', 1, '1', 0],
    ['01', 1, '1', 0],
    ['+3', 1, '3', 0],
    ['1e2', 1, '1', 2],
    ['100', 1, '1', 2],
    ['1.', 1, '1', 0],
    ['.123', 1, '123', -3],
    ['0001.23', 1, '123', -2],
    ['1e+5', 1, '1', 5],
    ['-17.4E37', -1, '174', 36],
    ['-7.1234', -1, '71234', -4],
    ['-.5e-3', -1, '5', -4],
    ['1e-130', 1, '1', -130],
    ['1e0000000000000000000000002', 1, '1', 2],
  ] as const)('%s', (text, sign, digits, exponent) => {
    expect(parseNumber(text)).toEqual({ sign, digits, exponent });
  });

  it.each([
    ['dog', `${NOT_NUMERIC}: dog`],
    ['', NOT_NUMERIC],
    [' 1', `${NOT_NUMERIC}:  1`],
    ['1 ', `${NOT_NUMERIC}: 1 `],
    ['NaN', `${NOT_NUMERIC}: NaN`],
    ['Infinity', `${NOT_NUMERIC}: Infinity`],
    ['-Infinity', `${NOT_NUMERIC}: -Infinity`],
    ['.', `${NOT_NUMERIC}: .`],
    ['-', `${NOT_NUMERIC}: -`],
    ['1e', `${NOT_NUMERIC}: 1e`],
    ['1e+', `${NOT_NUMERIC}: 1e+`],
    ['0x10', `${NOT_NUMERIC}: 0x10`],
    ['1_000', `${NOT_NUMERIC}: 1_000`],
    ['--1', `${NOT_NUMERIC}: --1`],
    ['123456789012345678901234567890123456789', PRECISION],
    ['-1.23456789012345678901234567890123456789', PRECISION],
    ['3.14159265358979323846264338327950288419', PRECISION],
    ['314159265358979323846264338327950288419e30', PRECISION],
    ['1e126', OVERFLOW],
    ['-1e126', OVERFLOW],
    ['11e125', OVERFLOW],
    ['1.0e100000000', OVERFLOW],
    ['1e99999999999999999999', OVERFLOW],
    ['1e-131', UNDERFLOW],
    ['-1e-131', UNDERFLOW],
    ['0.9e-130', UNDERFLOW],
    ['1e-99999999999999999999', UNDERFLOW],
  ])('rejects %j', (text, message) => {
    const e = errorOf(() => parseNumber(text));
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe(message);
  });

  it('accepts the limits and 38-digit values', () => {
    for (const t of [MAX, `-${MAX}`, '1e-130', '-1E-130', '1e125', '9.99999999e125',
      '3.1415926535897932384626433832795028841', '314159265358979323846.26433832795028841',
      '31415926535897932384626433832795028841e30', '12345678901234567890123456789012345678000000']) {
      expect(() => parseNumber(t), t).not.toThrow();
    }
  });
});

describe('canonicalNumber', () => {
  it.each([
    ['1.0', '1'],
    ['01', '1'],
    ['1e2', '100'],
    ['-0', '0'],
    ['-0.000', '0'],
    ['+3', '3'],
    ['1.5E2', '150'],
    ['00042', '42'],
    ['.5', '0.5'],
    ['-0.50', '-0.5'],
    ['1.25', '1.25'],
    ['1e-5', '0.00001'],
    ['-12.340e-3', '-0.01234'],
    ['12345', '12345'],
    ['-12345', '-12345'],
    ['1E+100', '1' + '0'.repeat(100)],
    ['1e-130', '0.' + '0'.repeat(129) + '1'],
    [MAX, '99999999999999999999999999999999999999' + '0'.repeat(88)],
    ['1234567891234560000000000000000000000000', '1234567891234560000000000000000000000000'],
  ])('%s -> %s', (text, canonical) => {
    expect(canonicalNumber(text)).toBe(canonical);
    // The canonical form is a fixed point and denotes the same number.
    expect(canonicalNumber(canonical)).toBe(canonical);
    expect(compareNumbers(text, canonical)).toBe(0);
  });

  it('validates on the fast path too', () => {
    expect(() => canonicalNumber('abc')).toThrow(NOT_NUMERIC);
    expect(() => canonicalNumber('-')).toThrow(NOT_NUMERIC);
  });
});

describe('compareNumbers', () => {
  it.each([
    ['1', '2', -1],
    ['2', '1', 1],
    ['1', '1.0', 0],
    ['-0', '0', 0],
    ['-1', '0', -1],
    ['0', '1e-130', -1],
    ['-1e-130', '0', -1],
    ['-1', '-1.5', 1],
    ['-1.5', '-1', -1],
    ['1.5', '1.45', 1],
    ['1.45', '1.5', -1],
    ['10', '9.99999', 1],
    ['-10', '-9.99999', -1],
    ['1e125', '9e124', 1],
    [MAX, '1e125', 1],
    [`-${MAX}`, '-1e125', -1],
    ['12345678901234567890123456789012345678', '12345678901234567890123456789012345677', 1],
    ['1.2345678901234567890123456789012345678', '1.2345678901234567890123456789012345679', -1],
    ['0.1', '0.10000000000000000000000000000000000001', -1],
    ['100', '1e2', 0],
  ] as const)('%s vs %s', (a, b, want) => {
    expect(compareNumbers(a, b)).toBe(want);
    expect(compareNumbers(b, a)).toBe(-want || 0);
  });
});

describe('addNumbers / subtractNumbers', () => {
  it.each([
    ['1', '10000000000000000000000', '10000000000000000000001'],
    ['1', '2', '3'],
    ['-1', '1', '0'],
    ['0.1', '0.2', '0.3'],
    ['1.5', '-2.25', '-0.75'],
    ['-1e-130', '-1e-130', '-0.' + '0'.repeat(129) + '2'],
    ['99999999999999999999999999999999999998', '1', '99999999999999999999999999999999999999'],
    ['99999999999999999999999999999999999999', '1', '100000000000000000000000000000000000000'],
    ['1e125', '1e125', '2' + '0'.repeat(125)],
    ['12345678901234567890123456789012345678e10', '1e10', '12345678901234567890123456789012345679' + '0'.repeat(10)],
    ['0', '-5', '-5'],
  ])('%s + %s = %s', (a, b, sum) => {
    expect(addNumbers(a, b)).toBe(sum);
    expect(addNumbers(b, a)).toBe(sum);
    expect(subtractNumbers(sum, b)).toBe(canonicalNumber(a));
  });

  it.each([
    ['10000000000000000000000', '1', '9999999999999999999999'],
    ['1', '1', '0'],
    ['0', '1e-130', '-0.' + '0'.repeat(129) + '1'],
    ['-3', '-3.5', '0.5'],
  ])('%s - %s = %s', (a, b, diff) => {
    expect(subtractNumbers(a, b)).toBe(diff);
  });

  it.each([
    () => addNumbers('9e125', '9e125'),
    () => subtractNumbers('9e125', '-9e125'),
    () => addNumbers(MAX, '1e125'),
    () => addNumbers('1e50', '1'),
    () => subtractNumbers('1e50', '1'),
    () => addNumbers('1', '1e-50'),
    () => addNumbers('99999999999999999999999999999999999999', '0.1'),
  ])('overflows like DynamoDB (%#)', (f) => {
    const e = errorOf(f);
    expect(e.name).toBe('ValidationException');
    expect(e.message).toBe(OVERFLOW);
  });

  it('rejects invalid operands', () => {
    expect(errorOf(() => addNumbers('x', '1')).message).toBe(`${NOT_NUMERIC}: x`);
    expect(errorOf(() => subtractNumbers('1', '1e126')).message).toBe(OVERFLOW);
  });
});
