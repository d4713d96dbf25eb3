/**
 * Placeholders of one request: ExpressionAttributeNames (`#n`) and ExpressionAttributeValues
 * (`:v`), and which of them the request's expressions used. One context is shared by all
 * the expressions of a request, then `checkAllPlaceholdersUsed` rejects leftovers.
 */
import type { AttributeValue } from '../model/types.js';
import { validationError } from '../model/errors.js';
import { attributeValueSize } from '../model/item-size.js';

/** A placeholder (`#name`, `:value`) is at most 255 bytes, its prefix included. */
export const MAX_PLACEHOLDER_BYTES = 255;
/** All substitutions of a request (names and values, keys included) are at most 2 MB. */
export const MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024;

export interface ExpressionContext {
  names?: Record<string, string>;
  values?: Record<string, AttributeValue>;
  usedNames: Set<string>;
  usedValues: Set<string>;
}

const NAME_KEY = /^#[A-Za-z0-9_]+$/;
const VALUE_KEY = /^:[A-Za-z0-9_]+$/;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** DynamoDB checks a placeholder's length before its syntax. */
function checkPlaceholderLength(map: 'ExpressionAttributeNames' | 'ExpressionAttributeValues', key: string): void {
  if (key.length > MAX_PLACEHOLDER_BYTES / 3) {
    const bytes = byteLength(key);
    if (bytes > MAX_PLACEHOLDER_BYTES) {
      throw validationError(`${map} contains invalid key: The expression attribute map contains a key that is too long; size of key: ${bytes}`);
    }
  }
}

/**
 * A fresh context. Rejects, as DynamoDB does, empty maps and keys that are not
 * placeholders (`#name` / `:value`).
 */
export function newContext(
  names?: Record<string, string> | undefined,
  values?: Record<string, AttributeValue> | undefined,
): ExpressionContext {
  checkPlaceholderKeys(names, values);
  checkSubstitutionSize(names, values);
  const ctx: ExpressionContext = { usedNames: new Set(), usedValues: new Set() };
  if (names !== undefined) ctx.names = names;
  if (values !== undefined) ctx.values = values;
  return ctx;
}

/** The placeholder maps' own checks, before any value in them is looked at: not empty,
 *  keys that are placeholders, names not empty. */
export function checkPlaceholderKeys(names: Record<string, string> | undefined, values: Record<string, unknown> | undefined): void {
  if (names !== undefined) {
    const keys = Object.keys(names);
    if (keys.length === 0) throw validationError('ExpressionAttributeNames must not be empty');
    for (const k of keys) {
      checkPlaceholderLength('ExpressionAttributeNames', k);
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
      checkPlaceholderLength('ExpressionAttributeValues', k);
      if (!VALUE_KEY.test(k)) throw validationError(`ExpressionAttributeValues contains invalid key: Syntax error; key: "${k}"`);
    }
  }
}

/**
 * DynamoDB's 2 MB limit on all substitution variables of a request: the placeholders and
 * what they stand for (names in UTF-8 bytes, values as DynamoDB sizes them).
 */
function checkSubstitutionSize(names: Record<string, string> | undefined, values: Record<string, AttributeValue> | undefined): void {
  let nameBytes = 0;
  if (names !== undefined) for (const k in names) nameBytes += byteLength(k) + byteLength(names[k]!);
  if (nameBytes > MAX_SUBSTITUTION_BYTES) throw validationError('ExpressionAttributeNames exceeds max size');
  let valueBytes = 0;
  if (values !== undefined) for (const k in values) valueBytes += byteLength(k) + attributeValueSize(values[k]!);
  if (valueBytes > MAX_SUBSTITUTION_BYTES) throw validationError('ExpressionAttributeValues exceeds max size');
  if (nameBytes + valueBytes > MAX_SUBSTITUTION_BYTES) {
    throw validationError('Combined size of ExpressionAttributeNames and ExpressionAttributeValues exceeds max size');
  }
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
