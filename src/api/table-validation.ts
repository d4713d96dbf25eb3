/**
 * CreateTable's and UpdateTable's request checks, in DynamoDB's order: the table name's
 * presence and length first (alone, with their own messages), then every member's shape
 * constraints together ("N validation errors detected", at most 10, in DynamoDB's member
 * order), then the rules between members (billing and throughput, key schema against
 * attribute definitions, then each index), and only after all of that, in the caller,
 * whether the table exists. Valid index specifications come out normalized.
 */
import type { AttributeDefinition, KeySchemaElement, KeyShape, ScalarAttributeType } from '../model/types.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import { validateTableName } from '../model/validate.js';
import type { BillingMode } from '../control/metadata.js';
import { ConstraintErrors, isPlainObject } from './request-checks.js';

/** A secondary index's projection, as the request gives it. */
export interface IndexProjection {
  ProjectionType: 'ALL' | 'INCLUDE' | 'KEYS_ONLY';
  /** With INCLUDE only. */
  NonKeyAttributes?: string[];
}

/** A local secondary index as declared and checked. */
export interface LocalIndexDefinition {
  IndexName: string;
  KeySchema: KeySchemaElement[];
  Projection: IndexProjection;
}

/** A global secondary index as declared and checked; ProvisionedThroughput on PROVISIONED tables only. */
export interface GlobalIndexDefinition extends LocalIndexDefinition {
  ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number };
}

const INVALID = 'One or more parameter values were invalid: ';
const NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;
/** DynamoDB reports at most this many shape errors in one message. */
/** Above this, a throughput value is "out of bounds" (a ValidationException). */
export const MAX_THROUGHPUT_VALUE = 1_000_000_000_000;
export const MAX_LOCAL_INDEXES = 5;
/** DynamoDB's default quota (it was 5 until 2018; dynalite still says 5). */
export const MAX_GLOBAL_INDEXES = 20;
const PROJECTION_TYPES = ['ALL', 'INCLUDE', 'KEYS_ONLY'] as const;

function given(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function serialization(message: string): DynamoDBError {
  return new DynamoDBError('SerializationException', message);
}

function listOrAbsent(v: unknown, member: string): unknown[] | undefined {
  if (!given(v)) return undefined;
  if (!Array.isArray(v)) throw serialization(`Expected a list for ${member}`);
  return v;
}

function structOrAbsent(v: unknown, member: string): Record<string, unknown> | undefined {
  if (!given(v)) return undefined;
  if (!isPlainObject(v)) throw serialization(`Expected a structure for ${member}`);
  return v;
}

/**
 * The TableName of the table-level operations (CreateTable, DescribeTable, DeleteTable,
 * UpdateTable, DescribeTimeToLive, UpdateTimeToLive): DynamoDB checks its presence and
 * length before anything else, each with a message of its own; its pattern is checked
 * with the other members' constraints (`patternErrors`) or, without, at once.
 */
export function checkTableNameParameter(name: unknown, patternErrors?: ConstraintErrors): asserts name is string {
  if (!given(name)) throw validationError("The parameter 'TableName' is required but was not present in the request");
  if (typeof name !== 'string') validateTableName(name);
  const text = name as string;
  if (text.length < 3 || text.length > 255) throw validationError('TableName must be at least 3 characters long and at most 255 characters long');
  if (!NAME_PATTERN.test(text)) {
    const errors = patternErrors ?? new ConstraintErrors();
    errors.add(text, 'tableName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+');
    if (patternErrors === undefined) errors.throwIfAny();
  }
}

function checkName(value: unknown, member: string, errors: ConstraintErrors): void {
  if (!errors.notNull(value, member)) return;
  if (typeof value !== 'string') throw serialization(`Expected a string for ${member}`);
  if (!NAME_PATTERN.test(value)) errors.add(value, member, 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+');
  if (value.length < 3) errors.add(value, member, 'Member must have length greater than or equal to 3');
  if (value.length > 255) errors.add(value, member, 'Member must have length less than or equal to 255');
}

function checkEnum(value: unknown, member: string, allowed: readonly string[], errors: ConstraintErrors): void {
  if (given(value) && !allowed.includes(value as string)) errors.add(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
}

/** ProvisionedThroughput's members as DynamoDB lists them: write first, then read. */
export function checkThroughputMembers(throughput: Record<string, unknown>, member: string, errors: ConstraintErrors): void {
  for (const [name, value] of [['writeCapacityUnits', throughput.WriteCapacityUnits], ['readCapacityUnits', throughput.ReadCapacityUnits]] as const) {
    const path = `${member}.${name}`;
    if (!errors.notNull(value, path)) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(`Expected an integer for ${path}`);
    if (value < 1) errors.add(value, path, 'Member must have value greater than or equal to 1');
  }
}

function keyElementText(k: unknown): string {
  const e = isPlainObject(k) ? k : {};
  return `KeySchemaElement(attributeName=${String(e.AttributeName ?? null)}, keyType=${String(e.KeyType ?? null)})`;
}

/** A table's or local index's key has one HASH and at most one RANGE attribute; a global
 *  index's up to 4 of each (multi-attribute keys). */
const MAX_KEY_ELEMENTS = 2;
const MAX_GLOBAL_INDEX_KEY_ELEMENTS = 8;

function checkKeySchemaShape(keySchema: unknown, member: string, errors: ConstraintErrors, maxElements = MAX_KEY_ELEMENTS): void {
  if (!errors.notNull(keySchema, member)) return;
  const list = listOrAbsent(keySchema, member)!;
  if (list.length < 1) errors.add('[]', member, 'Member must have length greater than or equal to 1');
  if (list.length > maxElements) errors.add(`[${list.map(keyElementText).join(', ')}]`, member, `Member must have length less than or equal to ${maxElements}`);
  list.forEach((element, i) => {
    const path = `${member}.${i + 1}.member`;
    const k = structOrAbsent(element, path) ?? {};
    if (errors.notNull(k.AttributeName, `${path}.attributeName`)) {
      if (typeof k.AttributeName !== 'string') throw serialization(`Expected a string for ${path}.attributeName`);
      if (k.AttributeName.length < 1) errors.add(k.AttributeName, `${path}.attributeName`, 'Member must have length greater than or equal to 1');
      if (k.AttributeName.length > 255) errors.add(k.AttributeName, `${path}.attributeName`, 'Member must have length less than or equal to 255');
    }
    if (errors.notNull(k.KeyType, `${path}.keyType`)) checkEnum(k.KeyType, `${path}.keyType`, ['HASH', 'RANGE'], errors);
  });
}

function checkProjectionShape(projection: unknown, member: string, errors: ConstraintErrors): void {
  if (!errors.notNull(projection, member)) return;
  const p = structOrAbsent(projection, member)!;
  checkEnum(p.ProjectionType, `${member}.projectionType`, PROJECTION_TYPES, errors);
  const nonKey = listOrAbsent(p.NonKeyAttributes, `${member}.nonKeyAttributes`);
  if (nonKey !== undefined && nonKey.length < 1) errors.add('[]', `${member}.nonKeyAttributes`, 'Member must have length greater than or equal to 1');
}

function checkIndexListShape(list: unknown, member: string, global: boolean, errors: ConstraintErrors): void {
  const indexes = listOrAbsent(list, member);
  if (indexes === undefined) return;
  indexes.forEach((entry, i) => {
    const path = `${member}.${i + 1}.member`;
    const index = structOrAbsent(entry, path) ?? {};
    checkName(index.IndexName, `${path}.indexName`, errors);
    checkKeySchemaShape(index.KeySchema, `${path}.keySchema`, errors, global ? MAX_GLOBAL_INDEX_KEY_ELEMENTS : MAX_KEY_ELEMENTS);
    checkProjectionShape(index.Projection, `${path}.projection`, errors);
    if (global) {
      const throughput = structOrAbsent(index.ProvisionedThroughput, `${path}.provisionedThroughput`);
      if (throughput !== undefined) checkThroughputMembers(throughput, `${path}.provisionedThroughput`, errors);
    }
  });
}

function checkAttributeDefinitionsShape(definitions: unknown, errors: ConstraintErrors, required: boolean): void {
  if (required ? !errors.notNull(definitions, 'attributeDefinitions') : !given(definitions)) return;
  listOrAbsent(definitions, 'attributeDefinitions')!.forEach((entry, i) => {
    const path = `attributeDefinitions.${i + 1}.member`;
    const d = structOrAbsent(entry, path) ?? {};
    if (errors.notNull(d.AttributeName, `${path}.attributeName`) && typeof d.AttributeName !== 'string') {
      throw serialization(`Expected a string for ${path}.attributeName`);
    }
    if (errors.notNull(d.AttributeType, `${path}.attributeType`)) checkEnum(d.AttributeType, `${path}.attributeType`, ['B', 'N', 'S'], errors);
  });
}

/** A CreateTable request that passed every check, normalized. */
export interface CheckedCreateTable {
  keySchema: KeySchemaElement[];
  attributeDefinitions: AttributeDefinition[];
  keyShape: KeyShape;
  billingMode: BillingMode;
  readCapacityUnits: number;
  writeCapacityUnits: number;
}

interface RawKey { AttributeName: string; KeyType: string }
interface RawIndex { IndexName: string; KeySchema: RawKey[]; Projection: { ProjectionType?: string; NonKeyAttributes?: string[] }; ProvisionedThroughput?: { ReadCapacityUnits: number; WriteCapacityUnits: number } }

/** The key rules shared by a table's and an index's KeySchema. */
function checkKeyOrder(keys: readonly RawKey[]): void {
  if (keys[1] !== undefined && keys[0]!.AttributeName === keys[1].AttributeName) {
    throw validationError('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  }
  if (keys[0]!.KeyType !== 'HASH') throw validationError('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  if (keys[1] !== undefined && keys[1].KeyType !== 'RANGE') throw validationError('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
}

function undefinedKeysMessage(keys: readonly RawKey[], definedNames: readonly string[]): string {
  return `${INVALID}Some index key attributes are not defined in AttributeDefinitions. Keys: [${keys.map((k) => k.AttributeName).join(', ')}], AttributeDefinitions: [${definedNames.join(', ')}]`;
}

function projectionOf(index: RawIndex): IndexProjection {
  const type = index.Projection.ProjectionType;
  if (!given(type)) throw validationError(`${INVALID}Unknown ProjectionType: null`);
  if (index.Projection.NonKeyAttributes !== undefined && index.Projection.NonKeyAttributes !== null && type !== 'INCLUDE') {
    throw validationError(`${INVALID}ProjectionType is ${type}, but NonKeyAttributes is specified`);
  }
  const projection: IndexProjection = { ProjectionType: type as IndexProjection['ProjectionType'] };
  if (type === 'INCLUDE') {
    const nonKey = index.Projection.NonKeyAttributes;
    if (nonKey === undefined || nonKey === null) {
      throw validationError(`${INVALID}NonKeyAttributes must be specified when ProjectionType is INCLUDE`);
    }
    projection.NonKeyAttributes = [...nonKey];
  }
  return projection;
}

function keyElements(keys: readonly RawKey[]): KeySchemaElement[] {
  return keys.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType as KeySchemaElement['KeyType'] }));
}

/**
 * LocalSecondaryIndexes and GlobalSecondaryIndexes of a CreateTable whose shape and table
 * key are valid: DynamoDB's rules in its order (per index: keys defined, key order, LSI
 * range key and leading hash key, projection, throughput against billing mode, unique
 * names; then the count limits). Returns them normalized.
 */
export function checkIndexSpecs(input: {
  KeySchema: readonly RawKey[];
  AttributeDefinitions: readonly AttributeDefinition[];
  BillingMode: BillingMode;
  LocalSecondaryIndexes?: unknown;
  GlobalSecondaryIndexes?: unknown;
}): { local: LocalIndexDefinition[]; global: GlobalIndexDefinition[] } {
  const definedNames = input.AttributeDefinitions.map((d) => d.AttributeName);
  const defined = new Set(definedNames);
  const names = new Set<string>();
  const local: LocalIndexDefinition[] = [];
  const global: GlobalIndexDefinition[] = [];
  const lsis = given(input.LocalSecondaryIndexes) ? input.LocalSecondaryIndexes as RawIndex[] : undefined;
  const gsis = given(input.GlobalSecondaryIndexes) ? input.GlobalSecondaryIndexes as RawIndex[] : undefined;

  if (lsis !== undefined) {
    if (lsis.length === 0) throw validationError(`${INVALID}List of LocalSecondaryIndexes is empty`);
    if (input.KeySchema.length !== 2) {
      throw validationError(`${INVALID}Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex`);
    }
    const tableHash = input.KeySchema[0]!.AttributeName;
    for (const index of lsis) {
      if (index.KeySchema.some((k) => !defined.has(k.AttributeName))) throw validationError(undefinedKeysMessage(index.KeySchema, definedNames));
      checkKeyOrder(index.KeySchema);
      if (index.KeySchema.length !== 2) throw validationError(`${INVALID}Index KeySchema does not have a range key for index: ${index.IndexName}`);
      const indexHash = index.KeySchema[0]!.AttributeName;
      if (indexHash !== tableHash) {
        throw validationError(`${INVALID}Index KeySchema does not have the same leading hash key as table KeySchema for index: ${index.IndexName}. index hash key: ${indexHash}, table hash key: ${tableHash}`);
      }
      const projection = projectionOf(index);
      if (names.has(index.IndexName)) throw validationError(`${INVALID}Duplicate index name: ${index.IndexName}`);
      names.add(index.IndexName);
      local.push({ IndexName: index.IndexName, KeySchema: keyElements(index.KeySchema), Projection: projection });
    }
    if (lsis.length > MAX_LOCAL_INDEXES) {
      throw validationError(`${INVALID}Number of LocalSecondaryIndexes exceeds per-table limit of ${MAX_LOCAL_INDEXES}`);
    }
  }

  if (gsis !== undefined) {
    if (gsis.length === 0) throw validationError(`${INVALID}List of GlobalSecondaryIndexes is empty`);
    for (const index of gsis) {
      const spec = checkGlobalIndex(index, defined, definedNames, input.BillingMode);
      if (names.has(index.IndexName)) throw validationError(`${INVALID}Duplicate index name: ${index.IndexName}`);
      names.add(index.IndexName);
      global.push(spec);
    }
    if (gsis.length > MAX_GLOBAL_INDEXES) {
      throw validationError(`${INVALID}GlobalSecondaryIndex count exceeds the per-table limit of ${MAX_GLOBAL_INDEXES}`);
    }
  }
  return { local, global };
}

/** One GSI definition (CreateTable's GlobalSecondaryIndexes, UpdateTable's Create). */
function checkGlobalIndex(index: RawIndex, defined: ReadonlySet<string>, definedNames: readonly string[], billingMode: BillingMode): GlobalIndexDefinition {
  if (index.KeySchema.some((k) => !defined.has(k.AttributeName))) throw validationError(undefinedKeysMessage(index.KeySchema, definedNames));
  // A multi-attribute key's order (HASH attributes, then RANGE ones) is checked with its
  // types where the index is made (indexes.ts).
  if (index.KeySchema.length <= MAX_KEY_ELEMENTS) checkKeyOrder(index.KeySchema);
  const projection = projectionOf(index);
  const throughput = given(index.ProvisionedThroughput) ? index.ProvisionedThroughput : undefined;
  if (billingMode === 'PAY_PER_REQUEST' && throughput !== undefined) {
    throw validationError(`${INVALID}ProvisionedThroughput should not be specified for index: ${index.IndexName} when BillingMode is PAY_PER_REQUEST`);
  }
  if (billingMode === 'PROVISIONED' && throughput === undefined) {
    throw validationError(`${INVALID}ProvisionedThroughput must be specified for index: ${index.IndexName}`);
  }
  for (const [name, value] of [['ReadCapacityUnits', throughput?.ReadCapacityUnits], ['WriteCapacityUnits', throughput?.WriteCapacityUnits]] as const) {
    if (value !== undefined && value > MAX_THROUGHPUT_VALUE) throw validationError(`Given value ${value} for ${name} is out of bounds`);
  }
  const spec: GlobalIndexDefinition = { IndexName: index.IndexName, KeySchema: keyElements(index.KeySchema), Projection: projection };
  if (throughput !== undefined) spec.ProvisionedThroughput = { ReadCapacityUnits: throughput.ReadCapacityUnits, WriteCapacityUnits: throughput.WriteCapacityUnits };
  return spec;
}

/** Every check CreateTable makes before it looks at existing tables. */
export function checkCreateTableInput(input: Record<string, unknown>): CheckedCreateTable {
  const shape = new ConstraintErrors();
  checkAttributeDefinitionsShape(input.AttributeDefinitions, shape, true);
  checkTableNameParameter(input.TableName, shape);
  checkEnum(input.BillingMode, 'billingMode', ['PROVISIONED', 'PAY_PER_REQUEST'], shape);
  const throughput = structOrAbsent(input.ProvisionedThroughput, 'provisionedThroughput');
  if (throughput !== undefined) checkThroughputMembers(throughput, 'provisionedThroughput', shape);
  checkKeySchemaShape(input.KeySchema, 'keySchema', shape);
  checkIndexListShape(input.LocalSecondaryIndexes, 'localSecondaryIndexes', false, shape);
  checkIndexListShape(input.GlobalSecondaryIndexes, 'globalSecondaryIndexes', true, shape);
  shape.throwIfAny();

  const billingMode = (input.BillingMode ?? 'PROVISIONED') as BillingMode;
  let read = 0;
  let write = 0;
  if (billingMode === 'PAY_PER_REQUEST') {
    if (throughput !== undefined) {
      throw validationError(`${INVALID}Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST`);
    }
  } else {
    if (throughput === undefined) {
      throw validationError(`${INVALID}ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED`);
    }
    read = throughput.ReadCapacityUnits as number;
    write = throughput.WriteCapacityUnits as number;
    if (read > MAX_THROUGHPUT_VALUE) throw validationError(`Given value ${read} for ReadCapacityUnits is out of bounds`);
    if (write > MAX_THROUGHPUT_VALUE) throw validationError(`Given value ${write} for WriteCapacityUnits is out of bounds`);
  }

  const definitions = input.AttributeDefinitions as AttributeDefinition[];
  const keys = input.KeySchema as RawKey[];
  const definedNames = definitions.map((d) => d.AttributeName);
  if (keys.length > definitions.length) throw validationError('Invalid KeySchema: Some index key attribute have no definition');
  if (keys.some((k) => !definedNames.includes(k.AttributeName))) throw validationError(undefinedKeysMessage(keys, definedNames));
  checkKeyOrder(keys);
  const hasIndexes = given(input.LocalSecondaryIndexes) || given(input.GlobalSecondaryIndexes);
  if (!hasIndexes && keys.length !== definitions.length) {
    throw validationError(`${INVALID}Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions`);
  }
  const { local, global } = checkIndexSpecs({
    KeySchema: keys, AttributeDefinitions: definitions, BillingMode: billingMode,
    LocalSecondaryIndexes: input.LocalSecondaryIndexes, GlobalSecondaryIndexes: input.GlobalSecondaryIndexes,
  });

  const types = new Map<string, ScalarAttributeType>();
  for (const d of definitions) {
    if (types.has(d.AttributeName)) throw validationError(`${INVALID}Duplicate AttributeName in AttributeDefinitions: ${d.AttributeName}`);
    types.set(d.AttributeName, d.AttributeType);
  }
  const used = new Set<string>([...keys, ...local.flatMap((i) => i.KeySchema), ...global.flatMap((i) => i.KeySchema)].map((k) => k.AttributeName));
  if (definedNames.some((n) => !used.has(n))) {
    throw validationError(`${INVALID}Some AttributeDefinitions are not used. AttributeDefinitions: [${definedNames.join(', ')}], keys used: [${[...used].join(', ')}]`);
  }

  const keyShape: KeyShape = { hashName: keys[0]!.AttributeName, hashType: types.get(keys[0]!.AttributeName)! };
  if (keys[1] !== undefined) {
    keyShape.rangeName = keys[1].AttributeName;
    keyShape.rangeType = types.get(keys[1].AttributeName)!;
  }
  return {
    keySchema: keyElements(keys),
    attributeDefinitions: definitions.map((d) => ({ AttributeName: d.AttributeName, AttributeType: d.AttributeType })),
    keyShape,
    billingMode,
    readCapacityUnits: read,
    writeCapacityUnits: write,
  };
}

/** A GlobalSecondaryIndexUpdates entry that passed its checks. */
export type GlobalIndexUpdate =
  | { action: 'Create'; index: RawIndex }
  | { action: 'Update'; indexName: string; throughput: { ReadCapacityUnits: number; WriteCapacityUnits: number } }
  | { action: 'Delete'; indexName: string };

/** The shape of UpdateTable's AttributeDefinitions and GlobalSecondaryIndexUpdates, into
 *  `errors` (DynamoDB's member order: attribute definitions first, updates after the table
 *  name and throughput). */
export function checkUpdateTableIndexShape(input: Record<string, unknown>, errors: ConstraintErrors, part: 'definitions' | 'updates'): void {
  if (part === 'definitions') {
    checkAttributeDefinitionsShape(input.AttributeDefinitions, errors, false);
    return;
  }
  const updates = listOrAbsent(input.GlobalSecondaryIndexUpdates, 'globalSecondaryIndexUpdates');
  if (updates === undefined) return;
  updates.forEach((entry, i) => {
    const path = `globalSecondaryIndexUpdates.${i + 1}.member`;
    const u = structOrAbsent(entry, path) ?? {};
    const update = structOrAbsent(u.Update, `${path}.update`);
    if (update !== undefined) {
      checkName(update.IndexName, `${path}.update.indexName`, errors);
      if (errors.notNull(update.ProvisionedThroughput, `${path}.update.provisionedThroughput`)) {
        checkThroughputMembers(structOrAbsent(update.ProvisionedThroughput, `${path}.update.provisionedThroughput`)!, `${path}.update.provisionedThroughput`, errors);
      }
    }
    const create = structOrAbsent(u.Create, `${path}.create`);
    if (create !== undefined) {
      checkProjectionShape(create.Projection, `${path}.create.projection`, errors);
      checkName(create.IndexName, `${path}.create.indexName`, errors);
      const throughput = structOrAbsent(create.ProvisionedThroughput, `${path}.create.provisionedThroughput`);
      if (throughput !== undefined) checkThroughputMembers(throughput, `${path}.create.provisionedThroughput`, errors);
      checkKeySchemaShape(create.KeySchema, `${path}.create.keySchema`, errors, MAX_GLOBAL_INDEX_KEY_ELEMENTS);
    }
    const del = structOrAbsent(u.Delete, `${path}.delete`);
    if (del !== undefined) checkName(del.IndexName, `${path}.delete.indexName`, errors);
  });
}

/** GlobalSecondaryIndexUpdates' rules that need no table: one action per entry, one entry
 *  per index. */
export function globalIndexUpdates(list: unknown): GlobalIndexUpdate[] {
  if (!Array.isArray(list)) return [];
  const names = new Set<string>();
  return list.map((entry: Record<string, Record<string, unknown> | undefined>) => {
    const { Update: update, Create: create, Delete: del } = entry;
    if (!given(update) && !given(create) && !given(del)) {
      throw validationError(`${INVALID}One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null`);
    }
    const name = (update?.IndexName ?? create?.IndexName ?? del?.IndexName) as string;
    if (names.has(name)) throw validationError(`${INVALID}Only one global secondary index update per index is allowed simultaneously. Index: ${name}`);
    names.add(name);
    if (given(update)) return { action: 'Update', indexName: name, throughput: update!.ProvisionedThroughput as { ReadCapacityUnits: number; WriteCapacityUnits: number } };
    if (given(create)) return { action: 'Create', index: create as unknown as RawIndex };
    return { action: 'Delete', indexName: name };
  });
}
