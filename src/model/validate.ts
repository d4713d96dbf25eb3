/**
 * Validation of DynamoDB's data model with DynamoDB's own error messages: attribute
 * values, items, keys, key schemas and table names.
 *
 * Input may come from JSON (the HTTP adapter) as well as from typed callers, so every
 * check looks at runtime types, not only at the static `AttributeValue` type.
 */
import { DynamoDBError, validationError } from './errors.js';
import { canonicalNumber, formatDecimal, parseNumber } from './number.js';
import type {
  AttributeDefinition,
  AttributeValue,
  Item,
  KeySchemaElement,
  KeyShape,
  ScalarAttributeType,
} from './types.js';

/** Deepest nesting DynamoDB stores: a top-level attribute is level 1, its M/L children level 2, … */
export const MAX_NESTING_DEPTH = 32;
export const MAX_PARTITION_KEY_BYTES = 2048;
export const MAX_SORT_KEY_BYTES = 1024;
export const MIN_TABLE_NAME_LENGTH = 3;
export const MAX_TABLE_NAME_LENGTH = 255;

const INVALID = 'One or more parameter values were invalid: ';

export const EMPTY_ATTRIBUTE_VALUE_MESSAGE =
  'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes';
export const MULTIPLE_DATATYPES_MESSAGE =
  'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes';
export const NESTING_MESSAGE =
  'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';
export const KEY_SCHEMA_MISMATCH_MESSAGE = 'The provided key element does not match the schema';
/** Attribute names (top-level and map keys at any depth) are at most 65535 UTF-8 bytes. */
export const MAX_ATTRIBUTE_NAME_BYTES = 65535;
export const ATTRIBUTE_NAME_TOO_LARGE_MESSAGE =
  '1 validation error detected: Attribute name is too large, must be less than 65536 bytes';

/**
 * Throws DynamoDB's error for an attribute name over 64 KB. DynamoDB words it the same
 * wherever the name appears (an item, a map inside an ExpressionAttributeValue, an
 * UpdateExpression path), so it is never reworded for a context.
 */
export function checkAttributeName(name: string): void {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short names cannot be too large.
  if (name.length * 3 > MAX_ATTRIBUTE_NAME_BYTES && Buffer.byteLength(name, 'utf8') > MAX_ATTRIBUTE_NAME_BYTES) {
    throw validationError(ATTRIBUTE_NAME_TOO_LARGE_MESSAGE);
  }
}

/**
 * Where a value came from. DynamoDB words errors in ExpressionAttributeValues as
 * "ExpressionAttributeValues contains invalid value: <reason> for key :v".
 */
export type ValueContext =
  | { readonly kind: 'item' }
  | { readonly kind: 'expressionAttributeValue'; readonly name: string };

const ITEM_CONTEXT: ValueContext = Object.freeze({ kind: 'item' });

const TYPE_KEYS: ReadonlySet<string> = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

export type AttributeTypeName = 'S' | 'N' | 'B' | 'BOOL' | 'NULL' | 'M' | 'L' | 'SS' | 'NS' | 'BS';

/** The type key of a value known to be valid. */
export function attributeType(av: AttributeValue): AttributeTypeName {
  // Hot path: checked in the order of how common the types are.
  if ('S' in av) return 'S';
  if ('N' in av) return 'N';
  if ('B' in av) return 'B';
  if ('M' in av) return 'M';
  if ('L' in av) return 'L';
  if ('BOOL' in av) return 'BOOL';
  if ('NULL' in av) return 'NULL';
  if ('SS' in av) return 'SS';
  if ('NS' in av) return 'NS';
  return 'BS';
}

function serializationError(message: string): DynamoDBError {
  return new DynamoDBError('SerializationException', message);
}

function fail(message: string, context: ValueContext): never {
  if (context.kind === 'expressionAttributeValue') {
    throw validationError(`ExpressionAttributeValues contains invalid value: ${message} for key ${context.name}`);
  }
  throw validationError(message);
}

/** Runs `f`, rewording its ValidationException for `context`. */
function inContext(f: () => void, context: ValueContext): void {
  if (context.kind === 'item') {
    f();
    return;
  }
  try {
    f();
  } catch (e) {
    if (e instanceof DynamoDBError && e.name === 'ValidationException') fail(e.message, context);
    throw e;
  }
}

function isBinary(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function bytesKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** How many type keys `av` has (members set to undefined are absent, as the SDKs have
 *  them; other members are ignored, as DynamoDB's deserializer drops them), or throws
 *  DynamoDB's "empty" error. */
function typeKeyCount(av: unknown, context: ValueContext): number {
  if (av === null || typeof av !== 'object' || Array.isArray(av) || isBinary(av)) {
    fail(EMPTY_ATTRIBUTE_VALUE_MESSAGE, context);
  }
  let count = 0;
  for (const k in av as Record<string, unknown>) {
    if ((av as Record<string, unknown>)[k] !== undefined && TYPE_KEYS.has(k)) count++;
  }
  if (count === 0) fail(EMPTY_ATTRIBUTE_VALUE_MESSAGE, context);
  return count;
}

/** DynamoDB checks each member of a value (bad numbers, empty sets, ...) before it
 *  complains that there is more than one. */
function validateValue(av: unknown, depth: number, context: ValueContext): void {
  const count = typeKeyCount(av, context);
  if (depth > MAX_NESTING_DEPTH) fail(NESTING_MESSAGE, context);
  const members = av as Record<string, unknown>;
  for (const type in members) {
    const v = members[type];
    if (v !== undefined && TYPE_KEYS.has(type)) validateMember(type, v, depth, context);
  }
  if (count > 1) fail(MULTIPLE_DATATYPES_MESSAGE, context);
}

function validateMember(type: string, v: unknown, depth: number, context: ValueContext): void {
  switch (type) {
    case 'S':
      if (typeof v !== 'string') throw serializationError('Expected a string for S');
      return;
    case 'N':
      if (typeof v !== 'string') throw serializationError('Expected a string for N');
      inContext(() => parseNumber(v), context);
      return;
    case 'B':
      if (!isBinary(v)) throw serializationError('Expected a Uint8Array for B');
      return;
    case 'BOOL':
      if (typeof v !== 'boolean') throw serializationError('Expected a boolean for BOOL');
      return;
    case 'NULL':
      if (v !== true) fail(`${INVALID}Null attribute value types must have the value of true`, context);
      return;
    case 'M': {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || isBinary(v)) {
        throw serializationError('Expected a map for M');
      }
      const m = v as Record<string, unknown>;
      for (const k in m) {
        checkAttributeName(k);
        validateValue(m[k], depth + 1, context);
      }
      return;
    }
    case 'L': {
      if (!Array.isArray(v)) throw serializationError('Expected a list for L');
      for (let i = 0; i < v.length; i++) validateValue(v[i], depth + 1, context);
      return;
    }
    case 'SS': {
      if (!Array.isArray(v)) throw serializationError('Expected a list for SS');
      if (v.length === 0) fail(`${INVALID}An string set  may not be empty`, context);
      for (const s of v) if (typeof s !== 'string') throw serializationError('Expected strings in SS');
      if (new Set(v).size !== v.length) fail(`${INVALID}Input collection [${v.join(', ')}] contains duplicates.`, context);
      return;
    }
    case 'NS': {
      if (!Array.isArray(v)) throw serializationError('Expected a list for NS');
      if (v.length === 0) fail(`${INVALID}An number set  may not be empty`, context);
      const seen = new Set<string>();
      for (const n of v) {
        if (typeof n !== 'string') throw serializationError('Expected strings in NS');
        let canonical = '';
        inContext(() => {
          canonical = formatDecimal(parseNumber(n));
        }, context);
        seen.add(canonical);
      }
      // DynamoDB compares numerically ("1" and "1.0" are duplicates) and names no members.
      if (seen.size !== v.length) fail('Input collection contains duplicates', context);
      return;
    }
    case 'BS': {
      if (!Array.isArray(v)) throw serializationError('Expected a list for BS');
      if (v.length === 0) fail(`${INVALID}Binary sets should not be empty`, context);
      const seen = new Set<string>();
      for (const b of v) {
        if (!isBinary(b)) throw serializationError('Expected Uint8Arrays in BS');
        seen.add(bytesKey(b));
      }
      if (seen.size !== v.length) {
        // Sic: DynamoDB's message has no space before "of".
        fail(`${INVALID}Input collection [${v.map(base64).join(', ')}]of type BS contains duplicates.`, context);
      }
      return;
    }
  }
}

/**
 * Checks one attribute value: exactly one type key, well-typed members, valid numbers,
 * NULL true, sets non-empty without duplicates, M/L nested at most 32 levels deep.
 * `depth` is the level of `av` itself (1 for a top-level attribute).
 */
export function validateAttributeValue(av: unknown, context: ValueContext = ITEM_CONTEXT, depth = 1): asserts av is AttributeValue {
  validateValue(av, depth, context);
}

/** Checks every attribute of an item (the values; key rules are `validateItemKeyAttributes`). */
export function validateItem(item: unknown): asserts item is Item {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) throw serializationError('Expected a map for Item');
  const m = item as Record<string, unknown>;
  for (const k in m) {
    checkAttributeName(k);
    validateValue(m[k], 1, ITEM_CONTEXT);
  }
}

/** Height of a valid value: 1 for a scalar or set, 1 + the tallest child for M and L. */
export function valueHeight(av: AttributeValue): number {
  if ('M' in av) {
    let h = 0;
    for (const k in av.M) h = Math.max(h, valueHeight(av.M[k]));
    return h + 1;
  }
  if ('L' in av) {
    let h = 0;
    for (const v of av.L) h = Math.max(h, valueHeight(v));
    return h + 1;
  }
  return 1;
}

/**
 * Throws DynamoDB's nesting error when `value`, written at a document path of `pathLength`
 * elements (1 for a top-level attribute), would nest deeper than 32 levels.
 */
export function checkNestingAt(pathLength: number, value: AttributeValue): void {
  if (pathLength - 1 + valueHeight(value) > MAX_NESTING_DEPTH) throw validationError(NESTING_MESSAGE);
}

function normalizeValue(av: AttributeValue): AttributeValue {
  if ('N' in av) {
    const c = canonicalNumber(av.N);
    return c === av.N ? av : { N: c };
  }
  if ('M' in av) return { M: normalizeItem(av.M) };
  if ('L' in av) return { L: av.L.map(normalizeValue) };
  if ('NS' in av) return { NS: av.NS.map(canonicalNumber) };
  if ('SS' in av) return { SS: av.SS.slice() };
  if ('BS' in av) return { BS: av.BS.slice() };
  return av;
}

/**
 * A copy of a validated item with every number (N, NS, nested) in canonical form, so stored
 * data is canonical. Scalars other than N are shared with the input, not copied.
 */
export function normalizeItem(item: Item): Item {
  const out: Item = {};
  for (const k in item) out[k] = normalizeValue(item[k]);
  return out;
}

/** A copy of one validated value with canonical numbers. */
export function normalizeAttributeValue(av: AttributeValue): AttributeValue {
  return normalizeValue(av);
}

function constraint(value: string, member: string, rule: string): string {
  return `Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`;
}

function constraintErrors(errors: string[]): DynamoDBError {
  return validationError(`${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`);
}

/**
 * Resolves and checks a CreateTable KeySchema against its AttributeDefinitions.
 * `indexKeyNames` are the key attributes of the table's secondary indexes: definitions
 * may name them, and must name nothing else.
 */
export function keyShapeFrom(
  keySchema: readonly KeySchemaElement[],
  attributeDefinitions: readonly AttributeDefinition[],
  indexKeyNames: Iterable<string> = [],
): KeyShape {
  const errors: string[] = [];
  if (!Array.isArray(keySchema)) {
    errors.push("Value null at 'keySchema' failed to satisfy constraint: Member must not be null");
  } else {
    if (keySchema.length < 1) errors.push(constraint('[]', 'keySchema', 'Member must have length greater than or equal to 1'));
    if (keySchema.length > 2) errors.push(constraint(`[${keySchema.map(describeKeyElement).join(', ')}]`, 'keySchema', 'Member must have length less than or equal to 2'));
    keySchema.forEach((k, i) => {
      const name = k?.AttributeName;
      if (typeof name !== 'string') {
        errors.push(`Value null at 'keySchema.${i + 1}.member.attributeName' failed to satisfy constraint: Member must not be null`);
      } else if (name.length < 1 || name.length > 255) {
        errors.push(constraint(name, `keySchema.${i + 1}.member.attributeName`,
          name.length < 1 ? 'Member must have length greater than or equal to 1' : 'Member must have length less than or equal to 255'));
      }
      if (k?.KeyType !== 'HASH' && k?.KeyType !== 'RANGE') {
        errors.push(k?.KeyType == null
          ? `Value null at 'keySchema.${i + 1}.member.keyType' failed to satisfy constraint: Member must not be null`
          : constraint(String(k.KeyType), `keySchema.${i + 1}.member.keyType`, 'Member must satisfy enum value set: [HASH, RANGE]'));
      }
    });
  }
  if (!Array.isArray(attributeDefinitions)) {
    errors.push("Value null at 'attributeDefinitions' failed to satisfy constraint: Member must not be null");
  } else {
    attributeDefinitions.forEach((d, i) => {
      if (typeof d?.AttributeName !== 'string') {
        errors.push(`Value null at 'attributeDefinitions.${i + 1}.member.attributeName' failed to satisfy constraint: Member must not be null`);
      }
      if (d?.AttributeType !== 'S' && d?.AttributeType !== 'N' && d?.AttributeType !== 'B') {
        errors.push(d?.AttributeType == null
          ? `Value null at 'attributeDefinitions.${i + 1}.member.attributeType' failed to satisfy constraint: Member must not be null`
          : constraint(String(d.AttributeType), `attributeDefinitions.${i + 1}.member.attributeType`, 'Member must satisfy enum value set: [B, N, S]'));
      }
    });
  }
  if (errors.length > 0) throw constraintErrors(errors);

  const [hash, range] = keySchema;
  if (hash.KeyType !== 'HASH') throw validationError('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (range !== undefined && range.AttributeName === hash.AttributeName) {
    throw validationError('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  }
  if (range !== undefined && range.KeyType !== 'RANGE') {
    throw validationError('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
  }

  const types = new Map<string, ScalarAttributeType>();
  for (const d of attributeDefinitions) {
    if (types.has(d.AttributeName)) throw validationError(`${INVALID}Duplicate AttributeName in AttributeDefinitions: ${d.AttributeName}`);
    types.set(d.AttributeName, d.AttributeType);
  }
  const defined = `AttributeDefinitions: [${attributeDefinitions.map((d) => d.AttributeName).join(', ')}]`;
  for (const k of keySchema) {
    if (!types.has(k.AttributeName)) {
      throw validationError(`${INVALID}Some index key attributes are not defined in AttributeDefinitions. Keys: [${keySchema.map((e) => e.AttributeName).join(', ')}], ${defined}`);
    }
  }
  const used = new Set<string>(keySchema.map((k) => k.AttributeName));
  let hasIndexes = false;
  for (const n of indexKeyNames) {
    hasIndexes = true;
    used.add(n);
  }
  if (types.size !== used.size || [...types.keys()].some((n) => !used.has(n))) {
    if (!hasIndexes) {
      throw validationError(`${INVALID}Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions`);
    }
    throw validationError(`${INVALID}Some AttributeDefinitions are not used. ${defined}, keys used: [${[...used].join(', ')}]`);
  }

  const shape: KeyShape = { hashName: hash.AttributeName, hashType: types.get(hash.AttributeName) as ScalarAttributeType };
  if (range !== undefined) {
    shape.rangeName = range.AttributeName;
    shape.rangeType = types.get(range.AttributeName) as ScalarAttributeType;
  }
  return shape;
}

function describeKeyElement(k: KeySchemaElement): string {
  return `KeySchemaElement(attributeName=${k?.AttributeName}, keyType=${k?.KeyType})`;
}

/** UTF-8 length of `s` without allocating. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function keyValueOfType(av: AttributeValue, type: ScalarAttributeType): boolean {
  switch (type) {
    case 'S': return 'S' in av && typeof av.S === 'string';
    case 'N': return 'N' in av && typeof av.N === 'string';
    case 'B': return 'B' in av && isBinary(av.B);
  }
}

/** Empty-value and size rules of one key attribute whose type is already right. */
function checkKeyValue(name: string, av: AttributeValue, isHash: boolean, inItem: boolean): void {
  // DynamoDB words an empty key value differently in an item being written and in a Key.
  const emptyPrefix = inItem ? 'One or more parameter values are not valid. ' : INVALID;
  let bytes: number;
  if ('S' in av) {
    if (av.S.length === 0) {
      throw validationError(`${emptyPrefix}The AttributeValue for a key attribute cannot contain an empty string value. Key: ${name}`);
    }
    // A UTF-16 unit takes at most 3 UTF-8 bytes: short strings cannot exceed either limit.
    bytes = av.S.length * 3 <= MAX_SORT_KEY_BYTES ? 0 : utf8Length(av.S);
  } else if ('B' in av) {
    if (av.B.length === 0) {
      throw validationError(`${emptyPrefix}The AttributeValue for a key attribute cannot contain an empty binary value. Key: ${name}`);
    }
    bytes = av.B.length;
  } else {
    return; // numbers are bounded by their 38 digits
  }
  if (isHash && bytes > MAX_PARTITION_KEY_BYTES) {
    // Sic: DynamoDB's message has no space between "of" and "2048".
    throw validationError(`${INVALID}Size of hashkey has exceeded the maximum size limit of${MAX_PARTITION_KEY_BYTES} bytes`);
  }
  if (!isHash && bytes > MAX_SORT_KEY_BYTES) {
    throw validationError(`${INVALID}Aggregated size of all range keys has exceeded the size limit of ${MAX_SORT_KEY_BYTES} bytes`);
  }
}

/**
 * Checks a request's `Key` (GetItem, DeleteItem, UpdateItem, ExclusiveStartKey): its values
 * are valid, it has exactly the key attributes of `shape` with the right types, no key value
 * is empty, and the partition/sort keys fit in 2048/1024 bytes.
 */
export function validateKey(key: Item, shape: KeyShape): void {
  if (key === null || typeof key !== 'object' || Array.isArray(key)) throw serializationError('Expected a map for Key');
  let count = 0;
  for (const k in key) {
    validateValue(key[k], 1, ITEM_CONTEXT);
    count++;
  }
  const expected = shape.rangeName === undefined ? 1 : 2;
  const h = key[shape.hashName];
  const r = shape.rangeName === undefined ? undefined : key[shape.rangeName];
  if (count !== expected || h === undefined || !keyValueOfType(h, shape.hashType)) {
    throw validationError(KEY_SCHEMA_MISMATCH_MESSAGE);
  }
  if (shape.rangeName !== undefined && (r === undefined || !keyValueOfType(r, shape.rangeType as ScalarAttributeType))) {
    throw validationError(KEY_SCHEMA_MISMATCH_MESSAGE);
  }
  checkKeyValue(shape.hashName, h, true, false);
  if (r !== undefined) checkKeyValue(shape.rangeName as string, r, false, false);
}

/**
 * Checks the key attributes of an item being written (PutItem, BatchWriteItem put,
 * TransactWriteItems put): present, of the schema's types, non-empty and within size.
 * The item's values themselves are checked by `validateItem`.
 */
export function validateItemKeyAttributes(item: Item, shape: KeyShape): void {
  checkItemKeyAttribute(item, shape.hashName, shape.hashType, true);
  if (shape.rangeName !== undefined) checkItemKeyAttribute(item, shape.rangeName, shape.rangeType as ScalarAttributeType, false);
}

function checkItemKeyAttribute(item: Item, name: string, type: ScalarAttributeType, isHash: boolean): void {
  const av = item[name];
  if (av === undefined) throw validationError(`${INVALID}Missing the key ${name} in the item`);
  if (!keyValueOfType(av, type)) {
    throw validationError(`${INVALID}Type mismatch for key ${name} expected: ${type} actual: ${attributeType(av)}`);
  }
  checkKeyValue(name, av, isHash, true);
}

/** The key attributes of a (validated) item, as a new map sharing the values. */
export function extractKey(item: Item, shape: KeyShape): Item {
  const key: Item = { [shape.hashName]: item[shape.hashName] };
  if (shape.rangeName !== undefined) key[shape.rangeName] = item[shape.rangeName];
  return key;
}

/** Whether `name` is one of the table's key attributes. */
export function isKeyAttribute(name: string, shape: KeyShape): boolean {
  return name === shape.hashName || name === shape.rangeName;
}

const TABLE_NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;

/**
 * Checks a table name: 3 to 255 characters of [a-zA-Z0-9_.-], with DynamoDB's
 * "N validation error(s) detected: …" wording. `member` is the request member named in
 * the message ('tableName' by default).
 */
export function validateTableName(name: unknown, member = 'tableName'): asserts name is string {
  if (name === undefined || name === null) {
    throw constraintErrors([`Value null at '${member}' failed to satisfy constraint: Member must not be null`]);
  }
  if (typeof name !== 'string') throw serializationError(`Expected a string for ${member}`);
  const errors: string[] = [];
  if (!TABLE_NAME_PATTERN.test(name)) {
    errors.push(constraint(name, member, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+'));
  }
  if (name.length < MIN_TABLE_NAME_LENGTH) {
    errors.push(constraint(name, member, `Member must have length greater than or equal to ${MIN_TABLE_NAME_LENGTH}`));
  }
  if (name.length > MAX_TABLE_NAME_LENGTH) {
    errors.push(constraint(name, member, `Member must have length less than or equal to ${MAX_TABLE_NAME_LENGTH}`));
  }
  if (errors.length > 0) throw constraintErrors(errors);
}
