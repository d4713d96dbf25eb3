/**
 * DynamoDB's JSON 1.0 wire format ↔ the embedded API's values.
 *
 * On the wire a binary value (`B`, and each member of `BS`) is a base64 string and a
 * timestamp (CreationDateTime, LastUpdateToPayPerRequestDateTime, ...) is epoch seconds
 * as a number. The embedded API uses `Uint8Array` and `Date`.
 *
 * Requests are decoded in place (the parsed JSON is ours) against each operation's input
 * shape, as DynamoDB's typed Java deserializer reads them: a member of the wrong JSON type
 * is a SerializationException with that deserializer's message (dynalite's test suite,
 * which runs against the real service, records them), booleans also come as
 * "true"/"1"/"yes" strings, binaries are decoded from base64, and a member set to JSON
 * null is absent. Members a shape does not list pass through untouched. Everything else
 * (missing members, constraints, numbers, sets) is the embedded API's to validate.
 *
 * Responses are encoded without copying or touching the API's objects, by a
 * `JSON.stringify` replacer: any `Uint8Array` becomes base64 and any `Date` epoch
 * seconds. DynamoDB's responses carry binary only in attribute values and dates only as
 * timestamps, so this is right for every operation, present and future.
 */
import { DynamoDBError } from '../model/errors.js';

/** Deepest JSON nesting a valid request can have: attribute values nest 32 levels (two
 *  JSON levels each: `{"M": {"name": ...}}`) inside a few levels of request structure. */
export const MAX_JSON_DEPTH = 100;

/** DynamoDB's message for an attribute value nested deeper than it stores. */
const NESTING_MESSAGE =
  'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit';

/** The Java package of DynamoDB's model classes, as its deserializer names them. */
const MODEL = 'com.amazonaws.dynamodb.v20120810';

// ---- Input shapes ------------------------------------------------------------------------

/**
 * One member's type, as DynamoDB's model declares it. `map` and `list` marked
 * `parameterized` are those whose element type is itself generic (BatchWriteItem's
 * table → list of writes, BatchGetItem's Keys): the deserializer fails differently there.
 */
type Shape =
  | { readonly kind: 'string' | 'boolean' | 'blob' | 'timestamp' }
  | { readonly kind: 'integer'; readonly java: 'Integer' | 'Long' }
  | { readonly kind: 'list'; readonly member: Shape; readonly parameterized?: boolean }
  | { readonly kind: 'map'; readonly value: Shape; readonly valueClass: string; readonly parameterized?: boolean }
  | { readonly kind: 'structure'; readonly name: string; readonly members: () => Readonly<Record<string, Shape>> };

const STRING: Shape = { kind: 'string' };
const BOOLEAN: Shape = { kind: 'boolean' };
const BLOB: Shape = { kind: 'blob' };
const INTEGER: Shape = { kind: 'integer', java: 'Integer' };
const LONG: Shape = { kind: 'integer', java: 'Long' };
/** Epoch seconds on the wire, a Date in the API. */
const TIMESTAMP: Shape = { kind: 'timestamp' };

function list(member: Shape, parameterized = false): Shape {
  return { kind: 'list', member, parameterized };
}

/** A map of string → `value`; `valueClass` is the value's Java class as the deserializer
 *  names it (a bare name is one of DynamoDB's model classes). */
function map(value: Shape, valueClass: string, parameterized = false): Shape {
  return { kind: 'map', value, valueClass: valueClass.includes('.') ? valueClass : `${MODEL}.${valueClass}`, parameterized };
}

function structure(name: string, members: Record<string, Shape> | (() => Record<string, Shape>)): Shape {
  return { kind: 'structure', name, members: typeof members === 'function' ? members : () => members };
}

// Members resolved lazily: an AttributeValue holds AttributeValues.
const ATTRIBUTE_VALUE: Shape = structure('AttributeValue', () => ({
  S: STRING, N: STRING, B: BLOB, BOOL: BOOLEAN, NULL: BOOLEAN,
  SS: list(STRING), NS: list(STRING), BS: list(BLOB),
  L: list(ATTRIBUTE_VALUE), M: ATTRIBUTE_MAP,
}));
const ATTRIBUTE_MAP = map(ATTRIBUTE_VALUE, 'AttributeValue');
const NAMES = map(STRING, 'java.lang.String');
const EXPECTED = map(structure('ExpectedAttributeValue', {
  Value: ATTRIBUTE_VALUE, Exists: BOOLEAN, ComparisonOperator: STRING, AttributeValueList: list(ATTRIBUTE_VALUE),
}), 'ExpectedAttributeValue');
const CONDITIONS = map(structure('Condition', {
  ComparisonOperator: STRING, AttributeValueList: list(ATTRIBUTE_VALUE),
}), 'Condition');
const ATTRIBUTE_UPDATES = map(structure('AttributeValueUpdate', { Value: ATTRIBUTE_VALUE, Action: STRING }), 'AttributeValueUpdate');
const KEY_SCHEMA = list(structure('KeySchemaElement', { AttributeName: STRING, KeyType: STRING }));
const ATTRIBUTE_DEFINITIONS = list(structure('AttributeDefinition', { AttributeName: STRING, AttributeType: STRING }));
const THROUGHPUT = structure('ProvisionedThroughput', { ReadCapacityUnits: LONG, WriteCapacityUnits: LONG });
const ON_DEMAND_THROUGHPUT = structure('OnDemandThroughput', { MaxReadRequestUnits: LONG, MaxWriteRequestUnits: LONG });
const PROJECTION = structure('Projection', { ProjectionType: STRING, NonKeyAttributes: list(STRING) });
const STREAM_SPECIFICATION = structure('StreamSpecification', { StreamEnabled: BOOLEAN, StreamViewType: STRING });
const SSE_SPECIFICATION = structure('SSESpecification', { Enabled: BOOLEAN, SSEType: STRING, KMSMasterKeyId: STRING });
const TAGS = list(structure('Tag', { Key: STRING, Value: STRING }));
const LOCAL_INDEXES = list(structure('LocalSecondaryIndex', { IndexName: STRING, KeySchema: KEY_SCHEMA, Projection: PROJECTION }));
const GLOBAL_INDEXES = list(structure('GlobalSecondaryIndex', {
  IndexName: STRING, KeySchema: KEY_SCHEMA, Projection: PROJECTION, ProvisionedThroughput: THROUGHPUT, OnDemandThroughput: ON_DEMAND_THROUGHPUT,
}));
const GLOBAL_INDEX_UPDATES = list(structure('GlobalSecondaryIndexUpdate', {
  Update: structure('UpdateGlobalSecondaryIndexAction', { IndexName: STRING, ProvisionedThroughput: THROUGHPUT, OnDemandThroughput: ON_DEMAND_THROUGHPUT }),
  Create: structure('CreateGlobalSecondaryIndexAction', {
    IndexName: STRING, KeySchema: KEY_SCHEMA, Projection: PROJECTION, ProvisionedThroughput: THROUGHPUT, OnDemandThroughput: ON_DEMAND_THROUGHPUT,
  }),
  Delete: structure('DeleteGlobalSecondaryIndexAction', { IndexName: STRING }),
}));

/** Members every conditional write has. */
const CONDITIONAL_WRITE = {
  TableName: STRING, Expected: EXPECTED, ConditionalOperator: STRING, ReturnValues: STRING,
  ReturnConsumedCapacity: STRING, ReturnItemCollectionMetrics: STRING, ConditionExpression: STRING,
  ExpressionAttributeNames: NAMES, ExpressionAttributeValues: ATTRIBUTE_MAP, ReturnValuesOnConditionCheckFailure: STRING,
};
const PUT = { ...CONDITIONAL_WRITE, Item: ATTRIBUTE_MAP };
const DELETE = { ...CONDITIONAL_WRITE, Key: ATTRIBUTE_MAP };
const UPDATE = { ...CONDITIONAL_WRITE, Key: ATTRIBUTE_MAP, AttributeUpdates: ATTRIBUTE_UPDATES, UpdateExpression: STRING };
const GET = {
  TableName: STRING, Key: ATTRIBUTE_MAP, AttributesToGet: list(STRING), ConsistentRead: BOOLEAN,
  ReturnConsumedCapacity: STRING, ProjectionExpression: STRING, ExpressionAttributeNames: NAMES,
};
const READ_PAGE = {
  TableName: STRING, IndexName: STRING, Select: STRING, AttributesToGet: list(STRING), Limit: INTEGER,
  ConsistentRead: BOOLEAN, ConditionalOperator: STRING, ExclusiveStartKey: ATTRIBUTE_MAP, ReturnConsumedCapacity: STRING,
  ProjectionExpression: STRING, FilterExpression: STRING, ExpressionAttributeNames: NAMES, ExpressionAttributeValues: ATTRIBUTE_MAP,
};
const TABLE_NAME_ONLY = { TableName: STRING };
const PARAMETERS = list(ATTRIBUTE_VALUE);

/** Each operation's input members. An operation not listed only has its null members
 *  dropped. */
const INPUT_SHAPES: Readonly<Record<string, Readonly<Record<string, Shape>>>> = {
  CreateTable: {
    AttributeDefinitions: ATTRIBUTE_DEFINITIONS, TableName: STRING, KeySchema: KEY_SCHEMA,
    LocalSecondaryIndexes: LOCAL_INDEXES, GlobalSecondaryIndexes: GLOBAL_INDEXES, BillingMode: STRING,
    ProvisionedThroughput: THROUGHPUT, StreamSpecification: STREAM_SPECIFICATION, SSESpecification: SSE_SPECIFICATION,
    Tags: TAGS, TableClass: STRING, DeletionProtectionEnabled: BOOLEAN, OnDemandThroughput: ON_DEMAND_THROUGHPUT,
  },
  UpdateTable: {
    AttributeDefinitions: ATTRIBUTE_DEFINITIONS, TableName: STRING, BillingMode: STRING, ProvisionedThroughput: THROUGHPUT,
    GlobalSecondaryIndexUpdates: GLOBAL_INDEX_UPDATES, StreamSpecification: STREAM_SPECIFICATION,
    SSESpecification: SSE_SPECIFICATION, TableClass: STRING, DeletionProtectionEnabled: BOOLEAN, OnDemandThroughput: ON_DEMAND_THROUGHPUT,
  },
  DescribeTable: TABLE_NAME_ONLY,
  DeleteTable: TABLE_NAME_ONLY,
  DescribeTimeToLive: TABLE_NAME_ONLY,
  UpdateTimeToLive: { TableName: STRING, TimeToLiveSpecification: structure('TimeToLiveSpecification', { Enabled: BOOLEAN, AttributeName: STRING }) },
  DescribeContinuousBackups: TABLE_NAME_ONLY,
  ListTables: { ExclusiveStartTableName: STRING, Limit: INTEGER },
  PutItem: PUT,
  DeleteItem: DELETE,
  UpdateItem: UPDATE,
  GetItem: GET,
  Query: {
    ...READ_PAGE, KeyConditions: CONDITIONS, QueryFilter: CONDITIONS, ScanIndexForward: BOOLEAN, KeyConditionExpression: STRING,
  },
  Scan: { ...READ_PAGE, ScanFilter: CONDITIONS, TotalSegments: INTEGER, Segment: INTEGER },
  BatchGetItem: {
    RequestItems: map(structure('KeysAndAttributes', {
      Keys: list(map(ATTRIBUTE_VALUE, 'AttributeValue', true)), AttributesToGet: list(STRING), ConsistentRead: BOOLEAN,
      ProjectionExpression: STRING, ExpressionAttributeNames: NAMES,
    }), 'KeysAndAttributes'),
    ReturnConsumedCapacity: STRING,
  },
  BatchWriteItem: {
    RequestItems: map(list(structure('WriteRequest', {
      PutRequest: structure('PutRequest', { Item: ATTRIBUTE_MAP }),
      DeleteRequest: structure('DeleteRequest', { Key: ATTRIBUTE_MAP }),
    }), true), `java.util.List<${MODEL}.WriteRequest>`),
    ReturnConsumedCapacity: STRING, ReturnItemCollectionMetrics: STRING,
  },
  TransactWriteItems: {
    TransactItems: list(structure('TransactWriteItem', {
      ConditionCheck: structure('ConditionCheck', { ...CONDITIONAL_WRITE, Key: ATTRIBUTE_MAP }),
      Put: structure('Put', PUT), Delete: structure('Delete', DELETE), Update: structure('Update', UPDATE),
    })),
    ReturnConsumedCapacity: STRING, ReturnItemCollectionMetrics: STRING, ClientRequestToken: STRING,
  },
  TransactGetItems: {
    TransactItems: list(structure('TransactGetItem', { Get: structure('Get', { TableName: STRING, Key: ATTRIBUTE_MAP, ProjectionExpression: STRING, ExpressionAttributeNames: NAMES }) })),
    ReturnConsumedCapacity: STRING,
  },
  ExecuteStatement: { Statement: STRING, Parameters: PARAMETERS, ConsistentRead: BOOLEAN, NextToken: STRING, ReturnConsumedCapacity: STRING, Limit: INTEGER },
  BatchExecuteStatement: {
    Statements: list(structure('BatchStatementRequest', { Statement: STRING, Parameters: PARAMETERS, ConsistentRead: BOOLEAN })),
    ReturnConsumedCapacity: STRING,
  },
  ExecuteTransaction: {
    TransactStatements: list(structure('ParameterizedStatement', { Statement: STRING, Parameters: PARAMETERS })),
    ClientRequestToken: STRING, ReturnConsumedCapacity: STRING,
  },
  CreateBackup: { TableName: STRING, BackupName: STRING },
  DescribeBackup: { BackupArn: STRING },
  DeleteBackup: { BackupArn: STRING },
  ListBackups: {
    TableName: STRING, Limit: INTEGER, TimeRangeLowerBound: TIMESTAMP, TimeRangeUpperBound: TIMESTAMP,
    ExclusiveStartBackupArn: STRING, BackupType: STRING,
  },
  RestoreTableFromBackup: {
    TargetTableName: STRING, BackupArn: STRING, BillingModeOverride: STRING, GlobalSecondaryIndexOverride: GLOBAL_INDEXES,
    LocalSecondaryIndexOverride: LOCAL_INDEXES, ProvisionedThroughputOverride: THROUGHPUT,
    OnDemandThroughputOverride: ON_DEMAND_THROUGHPUT, SSESpecificationOverride: SSE_SPECIFICATION,
  },
  UpdateContinuousBackups: {
    TableName: STRING,
    PointInTimeRecoverySpecification: structure('PointInTimeRecoverySpecification', { PointInTimeRecoveryEnabled: BOOLEAN, RecoveryPeriodInDays: INTEGER }),
  },
  RestoreTableToPointInTime: {
    SourceTableArn: STRING, SourceTableName: STRING, TargetTableName: STRING, UseLatestRestorableTime: BOOLEAN, RestoreDateTime: TIMESTAMP,
    BillingModeOverride: STRING, GlobalSecondaryIndexOverride: GLOBAL_INDEXES, LocalSecondaryIndexOverride: LOCAL_INDEXES,
    ProvisionedThroughputOverride: THROUGHPUT, OnDemandThroughputOverride: ON_DEMAND_THROUGHPUT, SSESpecificationOverride: SSE_SPECIFICATION,
  },
  TagResource: { ResourceArn: STRING, Tags: TAGS },
  UntagResource: { ResourceArn: STRING, TagKeys: list(STRING) },
  ListTagsOfResource: { ResourceArn: STRING, NextToken: STRING },
};

// ---- Decoding ----------------------------------------------------------------------------

function serialization(message: string): DynamoDBError {
  return new DynamoDBError('SerializationException', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What the deserializer calls a JSON scalar token it cannot convert. */
function tokenName(value: boolean | number | string): string {
  if (typeof value === 'boolean') return value ? 'TRUE_VALUE' : 'FALSE_VALUE';
  if (typeof value === 'number') return Number.isInteger(value) ? 'NUMBER_VALUE' : 'DECIMAL_VALUE';
  return 'STRING_VALUE';
}

const STRUCTURE_NOT_EXPECTED = 'Start of structure or map found where not expected';
/** Sic: the Java deserializer's own message for a scalar where a generic collection is. */
const PARAMETERIZED_CAST_MESSAGE = 'class sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl cannot be cast to class '
  + 'java.lang.Class (sun.reflect.generics.reflectiveObjects.ParameterizedTypeImpl and java.lang.Class are in module '
  + "java.base of loader 'bootstrap')";

const BASE64_CHAR = /^[A-Za-z0-9+/]$/;

/**
 * Strict base64, as DynamoDB decodes it: length a multiple of 4, only the base64
 * alphabet, `=` only as one or two trailing pads, and no stray bits in the last
 * character before the padding.
 */
export function decodeBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0) throw serialization(`Base64 encoded length is expected a multiple of 4 bytes but found: ${s.length}`);
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const body = s.length - pad;
  // Sic: DynamoDB's message says "dectected". A pad before the end reads as a bad last
  // character too.
  const badLast = serialization('Invalid last non-pad Base64 character dectected');
  for (let i = 0; i < body; i++) {
    const c = s[i];
    if (c === '=') throw badLast;
    if (!BASE64_CHAR.test(c)) throw serialization(`Invalid Base64 character: '${c}'`);
  }
  const bytes = Buffer.from(s, 'base64');
  if (bytes.toString('base64') !== s) throw badLast;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const TRUE_STRINGS = new Set(['TRUE', '1', 'YES']);
const FALSE_STRINGS = new Set(['FALSE', '0', 'NO']);

/**
 * `value`, of member type `shape`, as the API takes it; throws the deserializer's
 * SerializationException when it is of the wrong JSON type. `inValue` says whether it is
 * a map's value or a list's element (not a structure's field): the deserializer words a
 * scalar where a structure should be differently there.
 */
function decodeMember(value: unknown, shape: Shape, inValue: boolean): unknown {
  if (value === null) return null;
  switch (shape.kind) {
    case 'string':
      if (typeof value === 'string') return value;
      if (Array.isArray(value)) throw serialization('Unrecognized collection type class java.lang.String');
      if (typeof value === 'object') throw serialization(STRUCTURE_NOT_EXPECTED);
      throw serialization(`${tokenName(value as boolean | number)} cannot be converted to String`);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const upper = value.toUpperCase();
        if (TRUE_STRINGS.has(upper)) return true;
        if (FALSE_STRINGS.has(upper)) return false;
        throw serialization('Unexpected token received from parser');
      }
      if (Array.isArray(value)) throw serialization('Unrecognized collection type class java.lang.Boolean');
      if (typeof value === 'object') throw serialization(STRUCTURE_NOT_EXPECTED);
      throw serialization(`${tokenName(value as number)} cannot be converted to Boolean`);
    case 'integer':
      if (typeof value === 'number') return value;
      if (Array.isArray(value)) throw serialization(`Unrecognized collection type class java.lang.${shape.java}`);
      if (typeof value === 'object') throw serialization(STRUCTURE_NOT_EXPECTED);
      throw serialization(`${tokenName(value as boolean | string)} cannot be converted to ${shape.java}`);
    case 'timestamp':
      if (typeof value === 'number') return new Date(value * 1000);
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return new Date(Number(value) * 1000);
      if (Array.isArray(value)) throw serialization('Unrecognized collection type class java.util.Date');
      if (typeof value === 'object') throw serialization(STRUCTURE_NOT_EXPECTED);
      throw serialization(`${tokenName(value as boolean | string)} cannot be converted to Date`);
    case 'blob':
      if (typeof value === 'string') return decodeBase64(value);
      if (Array.isArray(value)) throw serialization('Unrecognized collection type class java.nio.ByteBuffer');
      if (typeof value === 'object') throw serialization(STRUCTURE_NOT_EXPECTED);
      throw serialization('only base-64-encoded strings are convertible to bytes');
    case 'list':
      if (!Array.isArray(value)) {
        if (typeof value === 'object') throw serialization(STRUCTURE_NOT_EXPECTED);
        throw serialization(shape.parameterized === true ? PARAMETERIZED_CAST_MESSAGE : 'Unexpected field type');
      }
      for (let i = 0; i < value.length; i++) value[i] = decodeMember(value[i], shape.member, true);
      return value;
    case 'map':
      if (!isObject(value)) {
        if (Array.isArray(value)) throw serialization(`Unrecognized collection type java.util.Map<java.lang.String, ${shape.valueClass}>`);
        throw serialization(shape.parameterized === true ? PARAMETERIZED_CAST_MESSAGE : 'Unexpected field type');
      }
      for (const key of Object.keys(value)) value[key] = decodeMember(value[key], shape.value, true);
      return value;
    case 'structure':
      if (!isObject(value)) {
        if (Array.isArray(value)) throw serialization(`Unrecognized collection type class ${MODEL}.${shape.name}`);
        throw serialization(inValue ? 'Unexpected value type in payload' : 'Unexpected field type');
      }
      decodeStructure(value, shape.members());
      return value;
  }
}

/** A structure's fields in place: null fields go (the deserializer reads them as absent),
 *  known ones are decoded, unknown ones stay as they are. */
function decodeStructure(s: Record<string, unknown>, members: Readonly<Record<string, Shape>>): void {
  for (const field of Object.keys(s)) {
    const v = s[field];
    if (v === null) {
      delete s[field];
      continue;
    }
    const shape = Object.hasOwn(members, field) ? members[field] : undefined;
    if (shape !== undefined) s[field] = decodeMember(v, shape, false);
  }
}

/** Decodes a parsed request body of `operation` in place, as DynamoDB's deserializer reads
 *  it (see the file's comment). Throws its SerializationException for a member of the
 *  wrong JSON type. */
export function decodeRequest(operation: string, body: Record<string, unknown>): void {
  decodeStructure(body, Object.hasOwn(INPUT_SHAPES, operation) ? INPUT_SHAPES[operation] : {});
}

/**
 * Depth of the deepest `{`/`[` nesting in a JSON text, stopping early once it passes
 * `limit`: a cheap guard so a hostile 200,000-deep document never reaches recursive code.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export function nestingError(): DynamoDBError {
  return new DynamoDBError('ValidationException', NESTING_MESSAGE);
}

function wireReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
  if (raw instanceof Date) return raw.getTime() / 1000;
  return value;
}

/** A response (or error detail) as DynamoDB's JSON: binary as base64, dates as epoch
 *  seconds. Never modifies `value`. */
export function encodeResponse(value: unknown): string {
  return JSON.stringify(value, wireReplacer);
}
