/**
 * Placeholders of one request: ExpressionAttributeNames (`#n`) and ExpressionAttributeValues
 * (`:v`), and which of them the request's expressions used. One context is shared by all
 * the expressions of a request, then `checkAllPlaceholdersUsed` rejects leftovers.
 */
import type { AttributeValue } from '../model/types.js';
import { validationError } from '../model/errors.js';

export interface ExpressionContext {
  names?: Record<string, string>;
  values?: Record<string, AttributeValue>;
  usedNames: Set<string>;
  usedValues: Set<string>;
}

const NAME_KEY = /^#[A-Za-z0-9_]+$/;
const VALUE_KEY = /^:[A-Za-z0-9_]+$/;

/**
 * A fresh context. Rejects, as DynamoDB does, empty maps and keys that are not
 * placeholders (`#name` / `:value`).
 */
export function newContext(
  names?: Record<string, string> | undefined,
  values?: Record<string, AttributeValue> | undefined,
): ExpressionContext {
  if (names !== undefined) {
    const keys = Object.keys(names);
    if (keys.length === 0) throw validationError('ExpressionAttributeNames must not be empty');
    for (const k of keys) {
      if (!NAME_KEY.test(k)) throw validationError(`ExpressionAttributeNames contains invalid key: Syntax error; key: "${k}"`);
      if (typeof names[k] !== 'string' || names[k] === '') {
        throw validationError(`ExpressionAttributeNames contains invalid value: Empty attribute name; for key: "${k}"`);
      }
    }
  }
  if (values !== undefined) {
    const keys = Object.keys(values);
    if (keys.length === 0) throw validationError('ExpressionAttributeValues must not be empty');
    for (const k of keys) {
      if (!VALUE_KEY.test(k)) throw validationError(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
    }
  }
  const ctx: ExpressionContext = { usedNames: new Set(), usedValues: new Set() };
  if (names !== undefined) ctx.names = names;
  if (values !== undefined) ctx.values = values;
  return ctx;
}

/** Throws DynamoDB's "unused" errors for placeholders no expression of the request used. */
export function checkAllPlaceholdersUsed(ctx: ExpressionContext): void {
  if (ctx.names) {
    const unused = Object.keys(ctx.names).filter((k) => !ctx.usedNames.has(k));
    if (unused.length > 0) {
      throw validationError(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${unused.join(', ')}}`);
    }
  }
  if (ctx.values) {
    const unused = Object.keys(ctx.values).filter((k) => !ctx.usedValues.has(k));
    if (unused.length > 0) {
      throw validationError(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${unused.join(', ')}}`);
    }
  }
}
