/** Checks and helpers every API operation shares: DynamoDB's constraint messages, expression
 *  contexts, legacy-parameter conversion, and the region and account of ARNs. */
import type { Condition, ConsumedCapacity, ReturnConsumedCapacity } from '../api-types.js';
import type { ConditionAst } from '../expressions/ast.js';
import { checkPlaceholderKeys, filterToCondition, newContext, parseFilter, type ExpressionContext } from '../expressions/index.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import type { AttributeValue, Item, KeyShape } from '../model/types.js';
import type { Path } from '../expressions/ast.js';
import type { RouteIndex, TableRoute } from '../router/partition-map.js';
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
  if (mode === 'TOTAL') return { TableName: table, CapacityUnits: units };
  // INDEXES also breaks the total down: what the table itself consumed.
  if (mode === 'INDEXES') return { TableName: table, CapacityUnits: units, Table: { CapacityUnits: units } };
  return undefined;
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

/**
 * DynamoDB's checks of which parameters a request combines, before anything else of its
 * expressions: no legacy parameter beside an expression (a Query's KeyConditions goes
 * with a FilterExpression when there is no KeyConditionExpression), and placeholders
 * only with the expressions that could use them. `expressions` and `legacy` are the
 * request's members of each kind, in DynamoDB's order.
 */
export function checkExpressionParams(input: object, expressions: readonly string[], legacy: readonly string[]): void {
  const members = input as Record<string, unknown>;
  const present = (name: string): boolean => members[name] !== undefined && members[name] !== null;
  const used = expressions.filter(present);
  if (used.length > 0) {
    const keyConditionsAlone = present('KeyConditions') && !present('KeyConditionExpression');
    const mixed = legacy.filter((name) => present(name) && !(keyConditionsAlone && name === 'KeyConditions'));
    if (mixed.length > 0) {
      throw validationError(`Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${mixed.join(', ')}} Expression parameters: {${used.join(', ')}}`);
    }
  }
  if (present('ExpressionAttributeNames') && used.length === 0) {
    throw validationError('ExpressionAttributeNames can only be specified when using expressions');
  }
  const valueExpressions = expressions.filter((name) => name !== 'ProjectionExpression');
  if (valueExpressions.length > 0 && present('ExpressionAttributeValues') && !valueExpressions.some(present)) {
    throw validationError(`ExpressionAttributeValues can only be specified when using expressions: ${valueExpressions.join(' and ')} ${valueExpressions.length > 1 ? 'are' : 'is'} null`);
  }
}

/** Placeholders only make sense with expressions. The maps' keys are checked before the
 *  values' contents, as DynamoDB does. */
export function expressionContext(input: { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }, hasExpressions: boolean): ExpressionContext {
  // JSON null means absent, as in DynamoDB.
  if (input.ExpressionAttributeNames === null) input = { ...input, ExpressionAttributeNames: undefined };
  if (input.ExpressionAttributeValues === null) input = { ...input, ExpressionAttributeValues: undefined };
  if (!hasExpressions) {
    if (input.ExpressionAttributeNames !== undefined) throw validationError('ExpressionAttributeNames can only be specified when using expressions');
    if (input.ExpressionAttributeValues !== undefined) throw validationError('ExpressionAttributeValues can only be specified when using expressions');
  }
  checkPlaceholderKeys(input.ExpressionAttributeNames, input.ExpressionAttributeValues);
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
 *  DynamoDB's order and thrown together; DynamoDB lists at most ten. */
export class ConstraintErrors {
  private readonly errors: string[] = [];

  add(value: unknown, member: string, rule: string): void {
    if (this.errors.length >= MAX_CONSTRAINT_ERRORS) return;
    const shown = value === null || value === undefined ? 'null' : `'${valueString(value)}'`;
    this.errors.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${rule}`);
  }

  missing(member: string): void {
    this.add(null, member, 'Member must not be null');
  }

  /** A required member: whether it is there (a missing one is recorded). */
  notNull(value: unknown, member: string): boolean {
    if (value !== undefined && value !== null) return true;
    this.missing(member);
    return false;
  }

  enumValue(value: unknown, member: string, allowed: readonly string[]): void {
    if (value !== undefined && value !== null && !allowed.includes(value as string)) {
      this.add(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
    }
  }

  /** A list's, map's or string's length (a map's is its number of entries). */
  length(value: unknown, member: string, min: number | undefined, max: number | undefined): void {
    if (value === undefined || value === null) return;
    const n = typeof value === 'string' || Array.isArray(value) ? value.length : typeof value === 'object' ? Object.keys(value).length : undefined;
    if (n === undefined) return;
    if (min !== undefined && n < min) this.add(value, member, `Member must have length greater than or equal to ${min}`);
    if (max !== undefined && n > max) this.add(value, member, `Member must have length less than or equal to ${max}`);
  }

  /** A number's lower bound. */
  atLeast(value: unknown, member: string, min: number): void {
    if (typeof value === 'number' && value < min) this.add(value, member, `Member must have value greater than or equal to ${min}`);
  }

  /** A table (or index) name: `required` for TableName, not for IndexName. */
  tableName(value: unknown, member = 'tableName', required = true): void {
    if (value === undefined || value === null) {
      if (required) this.missing(member);
      return;
    }
    if (typeof value !== 'string') return;
    if (!/^[a-zA-Z0-9_.-]+$/.test(value)) this.add(value, member, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+');
    this.length(value, member, 3, 255);
  }

  throwIfAny(): void {
    const n = this.errors.length;
    if (n > 0) throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`);
  }
}

const MAX_CONSTRAINT_ERRORS = 10;

export const RETURN_VALUES = ['ALL_NEW', 'UPDATED_OLD', 'ALL_OLD', 'NONE', 'UPDATED_NEW'] as const;
export const RETURN_ITEM_COLLECTION_METRICS_VALUES = ['SIZE', 'NONE'] as const;
export const CONDITIONAL_OPERATOR_VALUES = ['OR', 'AND'] as const;
export const COMPARISON_OPERATORS = [
  'IN', 'NULL', 'BETWEEN', 'LT', 'NOT_CONTAINS', 'EQ', 'GT', 'NOT_NULL', 'NE', 'LE', 'BEGINS_WITH', 'GE', 'CONTAINS',
] as const;

/** The ComparisonOperator of each entry of a legacy condition map (Expected,
 *  KeyConditions, QueryFilter, ScanFilter), as DynamoDB names them
 *  (`expected.<name>.member.comparisonOperator`). */
export function conditionOperatorErrors(errors: ConstraintErrors, conditions: unknown, member: string, required: boolean): void {
  if (!isPlainObject(conditions)) return;
  for (const [name, condition] of Object.entries(conditions)) {
    if (!isPlainObject(condition)) continue;
    const at = `${member}.${name}.member.comparisonOperator`;
    if (required) errors.notNull(condition.ComparisonOperator, at);
    errors.enumValue(condition.ComparisonOperator, at, COMPARISON_OPERATORS);
  }
}

/** AttributesToGet names no attribute twice. */
export function checkNoDuplicateNames(names: readonly string[] | undefined): void {
  if (names === undefined || names === null) return;
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw validationError(`One or more parameter values were invalid: Duplicate value in attribute name: ${name}`);
    seen.add(name);
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

/** Projections, filters and updates may not reach inside a key attribute, of the table
 *  (`Key: name`) or of one of its indexes (`IndexKey: name`): keys are scalars. */
export function checkKeyPathsScalar(paths: readonly Path[], shape: KeyShape, indexKeys: readonly string[] = []): void {
  const nested = (name: string): boolean => paths.some((path) => path.length > 1 && path[0] === name);
  for (const keyName of [shape.hashName, shape.rangeName]) {
    if (keyName !== undefined && nested(keyName)) {
      throw validationError(`Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: ${keyName}`);
    }
  }
  for (const keyName of indexKeys) {
    if (nested(keyName)) {
      throw validationError(`Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: ${keyName}`);
    }
  }
}

/** The key attributes of a table's indexes, in the order DynamoDB names one (dynalite's
 *  traversal: global indexes first). */
export function indexKeyAttributeNames(route: TableRoute): string[] {
  return indexesInMessageOrder(route).flatMap((i) => [...i.spec.key.hash, ...i.spec.key.range].map((a) => a.name));
}

/** A table's indexes but those being deleted, global ones first: the order DynamoDB meets
 *  them in when it names one in a message. */
export function indexesInMessageOrder(route: TableRoute): RouteIndex[] {
  const live = (route.indexes ?? []).filter((i) => i.status !== 'DELETING');
  return [...live.filter((i) => i.global), ...live.filter((i) => !i.global)];
}
