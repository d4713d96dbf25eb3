/** Checks and helpers every API operation shares: DynamoDB's constraint messages, expression
 *  contexts, legacy-parameter conversion, and the region and account of ARNs. */
import type { Condition, ConsumedCapacity, ReturnConsumedCapacity } from '../api-types.js';
import type { ConditionAst } from '../expressions/ast.js';
import { filterToCondition, newContext, parseFilter, type ExpressionContext } from '../expressions/index.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import type { AttributeValue, Item } from '../model/types.js';
import { normalizeAttributeValue, validateAttributeValue } from '../model/validate.js';
import type { ReturnValues } from '../storage/operations.js';

/** DynamoDB's Query/Scan page limit. */
export const PAGE_BYTES = 1024 * 1024;
/** The region and account of every ARN this store hands out. */
export const REGION = 'local';
export const ACCOUNT = '000000000000';
export const ARN_PREFIX = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/`;

export function tableNotFound(): DynamoDBError {
  return new DynamoDBError('ResourceNotFoundException', 'Requested resource not found');
}

export function consumed(table: string, units: number, mode: ReturnConsumedCapacity | undefined): ConsumedCapacity | undefined {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  return { TableName: table, CapacityUnits: units };
}

export function checkReturnValues(value: unknown, allowed: readonly ReturnValues[]): ReturnValues {
  if (value === undefined) return 'NONE';
  const all = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];
  if (typeof value !== 'string' || !all.includes(value)) {
    throw validationError(`1 validation error detected: Value '${String(value)}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]`);
  }
  if (!allowed.includes(value as ReturnValues)) {
    throw validationError(`ReturnValues can only be ${allowed.slice(1).join(' or ')} or NONE`);
  }
  return value as ReturnValues;
}

/** DynamoDB refuses to mix the legacy parameters with expressions in one request. */
export function checkNotMixed(legacy: Record<string, unknown>, modern: Record<string, unknown>): void {
  const legacyUsed = Object.keys(legacy).filter((k) => legacy[k] !== undefined);
  const modernUsed = Object.keys(modern).filter((k) => modern[k] !== undefined);
  if (legacyUsed.length > 0 && modernUsed.length > 0) {
    throw validationError(`Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${legacyUsed.join(', ')}} Expression parameters: {${modernUsed.join(', ')}}`);
  }
}

/** Placeholders only make sense with expressions. */
export function expressionContext(input: { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }, hasExpressions: boolean): ExpressionContext {
  // JSON null means absent, as in DynamoDB.
  if (input.ExpressionAttributeNames === null) input = { ...input, ExpressionAttributeNames: undefined };
  if (input.ExpressionAttributeValues === null) input = { ...input, ExpressionAttributeValues: undefined };
  if (!hasExpressions) {
    if (input.ExpressionAttributeNames !== undefined) throw validationError('ExpressionAttributeNames can only be specified when using expressions');
    if (input.ExpressionAttributeValues !== undefined) throw validationError('ExpressionAttributeValues can only be specified when using expressions');
  }
  let values: Record<string, AttributeValue> | undefined;
  if (input.ExpressionAttributeValues !== undefined) {
    // Validated and made canonical here, so the values an AST carries into the log are.
    values = {};
    for (const [name, value] of Object.entries(input.ExpressionAttributeValues)) {
      validateAttributeValue(value, { kind: 'expressionAttributeValue', name });
      values[name] = normalizeAttributeValue(value);
    }
  }
  return newContext(input.ExpressionAttributeNames, values);
}

export function checkLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw validationError(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  }
  return limit;
}

/** DynamoDB's request-shape errors ("N validation errors detected: …"), collected in
 *  DynamoDB's order and thrown together. */
export class ConstraintErrors {
  private readonly errors: string[] = [];

  add(value: unknown, member: string, rule: string): void {
    const shown = value === null || value === undefined ? 'null' : `'${valueString(value)}'`;
    this.errors.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${rule}`);
  }

  missing(member: string): void {
    this.add(null, member, 'Member must not be null');
  }

  enumValue(value: unknown, member: string, allowed: readonly string[]): void {
    if (value !== undefined && value !== null && !allowed.includes(value as string)) {
      this.add(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
    }
  }

  throwIfAny(): void {
    const n = this.errors.length;
    if (n > 0) throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`);
  }
}

export const RETURN_CONSUMED_CAPACITY_VALUES = ['INDEXES', 'TOTAL', 'NONE'] as const;
export const TABLE_NAME_KEYS_RULE = 'Map keys must satisfy constraint: [Member must have length less than or equal to 255, '
  + 'Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]';

/** How a value appears in a constraint message. */
export function valueString(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(valueString).join(', ')}]`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v !== null && typeof v === 'object') return JSON.stringify(v, binaryReplacer);
  return String(v);
}

export function isTableName(name: string): boolean {
  return name.length >= 3 && name.length <= 255 && /^[a-zA-Z0-9_.-]+$/.test(name);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The identity of a valid key: attribute names in order, numbers canonical, type-tagged. */
export function keyIdentity(key: Item): string {
  return JSON.stringify(Object.keys(key).sort().map((n) => [n, normalizeAttributeValue(key[n])]), binaryReplacer);
}

export function isRetryable(error: unknown): boolean {
  return error instanceof DynamoDBError && error.retryable;
}


/** A legacy parameter's AttributeValue (AttributeUpdates, Expected, KeyConditions), checked
 *  as an item's values are and made canonical. */
export function legacyValue(value: unknown): AttributeValue {
  validateAttributeValue(value);
  return normalizeAttributeValue(value);
}

export function legacyValues(values: unknown): AttributeValue[] | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) throw new DynamoDBError('SerializationException', 'Expected a list for AttributeValueList');
  return values.map(legacyValue);
}

/** Expected / KeyConditions with every value checked and canonical. */
export function checkedConditions<T extends { Value?: unknown; AttributeValueList?: unknown }>(conditions: Record<string, T>): Record<string, T> {
  if (!isPlainObject(conditions)) throw new DynamoDBError('SerializationException', 'Expected a map of conditions');
  const out: Record<string, T> = {};
  for (const [name, c] of Object.entries(conditions)) {
    const copy = { ...c };
    if (c.Value !== undefined) copy.Value = legacyValue(c.Value);
    if (c.AttributeValueList !== undefined) copy.AttributeValueList = legacyValues(c.AttributeValueList);
    out[name] = copy;
  }
  return out;
}

/** Legacy ConditionalOperator (with Expected, QueryFilter or ScanFilter): AND or OR. */
export function conditionalOperator(value: unknown): 'AND' | 'OR' | undefined {
  if (value === undefined || value === 'AND' || value === 'OR') return value;
  throw validationError(`1 validation error detected: Value '${String(value)}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]`);
}

/** FilterExpression, or the legacy QueryFilter / ScanFilter combined with ConditionalOperator. */
export function pageFilter(expression: string | undefined, legacy: Record<string, Condition> | undefined, operator: unknown, ctx: ExpressionContext): ConditionAst | undefined {
  const combine = conditionalOperator(operator);
  if (expression !== undefined) return parseFilter(expression, ctx);
  if (legacy !== undefined) return filterToCondition(checkedConditions(legacy) as Parameters<typeof filterToCondition>[0], combine);
  return undefined;
}


export function checkConsistentRead(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw validationError('ConsistentRead must be a boolean');
  return value;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, binaryReplacer) === JSON.stringify(b, binaryReplacer);
}

export function binaryReplacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}
