import { expect } from 'vitest';
import { DynamoDBError } from '../../src/model/errors.js';

/** Asserts that `fn` throws a ValidationException with exactly (or matching) `message`. */
export function expectValidation(fn: () => unknown, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a ValidationException').toBeInstanceOf(DynamoDBError);
  const err = caught as DynamoDBError;
  expect(err.name).toBe('ValidationException');
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}
