/**
 * DynamoDB's JSON 1.0 wire format ↔ the embedded API's values.
 *
 * On the wire a binary value (`B`, and each member of `BS`) is a base64 string and a
 * timestamp (CreationDateTime, LastUpdateToPayPerRequestDateTime, ...) is epoch seconds
 * as a number. The embedded API uses `Uint8Array` and `Date`.
 *
 * Requests are decoded in place (the parsed JSON is ours): every AttributeValue position
 * of every operation is visited and its binaries decoded, with the SerializationException
 * DynamoDB's JSON deserializer gives for a value of the wrong JSON type or bad base64
 * (messages as DynamoDB sends them; dynalite's test suite, which runs against the real
 * service, records them). Everything else (missing fields, empty values, numbers, sets)
 * is the embedded API's to validate.
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

/** AttributeValue decoding stops descending here; the API rejects anything deeper than
 *  32 levels with NESTING_MESSAGE before it looks further. */
const MAX_VALUE_DEPTH = 40;

function serialization(message: string): DynamoDBError {
  return new DynamoDBError('SerializationException', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The Java class DynamoDB's deserializer names for a JSON number. */
function javaNumberClass(n: number): string {
  if (Number.isInteger(n)) {
    if (n >= -32768 && n <= 32767) return 'java.lang.Short';
    if (n >= -2147483648 && n <= 2147483647) return 'java.lang.Integer';
    if (Number.isSafeInteger(n)) return 'java.lang.Long';
  }
  return 'java.lang.Double';
}

/** DynamoDB's "can not be converted" message for a JSON scalar of the wrong type. */
function scalarMismatch(value: unknown, article: 'a' | 'an', type: string): DynamoDBError {
  if (typeof value === 'boolean') return serialization(`class java.lang.Boolean can not be converted to ${article} ${type}`);
  if (typeof value === 'number') return serialization(`class ${javaNumberClass(value)} can not be converted to ${article} ${type}`);
  if (typeof value === 'string') return serialization(`'${value}' can not be converted to ${article} ${type}`);
  if (Array.isArray(value)) return serialization('Start of list found where not expected');
  return serialization('Start of structure or map found where not expected.');
}

const BASE64_CHAR = /^[A-Za-z0-9+/]$/;

/**
 * Strict base64, as DynamoDB decodes it: length a multiple of 4, only the base64
 * alphabet, `=` only as one or two trailing pads, and no stray bits in the last
 * character before the padding.
 */
export function decodeBase64(s: string): Uint8Array {
  if (s.length % 4 !== 0) {
    throw serialization(`'${s}' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: ${s.length}`);
  }
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const body = s.length - pad;
  for (let i = 0; i < body; i++) {
    const c = s[i];
    if (!BASE64_CHAR.test(c)) {
      throw serialization(`'${s}' can not be converted to a Blob: Invalid Base64 character: '${c}'`);
    }
  }
  const bytes = Buffer.from(s, 'base64');
  if (bytes.toString('base64') !== s) {
    // Sic: DynamoDB's message says "dectected".
    throw serialization(`'${s}' can not be converted to a Blob: Invalid last non-pad Base64 character dectected`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeBlob(value: unknown): Uint8Array {
  if (typeof value === 'string') return decodeBase64(value);
  if (typeof value === 'boolean' || typeof value === 'number') {
    throw serialization(`class ${typeof value === 'boolean' ? 'java.lang.Boolean' : javaNumberClass(value)} can not be converted to a Blob`);
  }
  if (Array.isArray(value)) throw serialization('Start of list found where not expected');
  throw serialization('Start of structure or map found where not expected.');
}

function checkString(value: unknown): void {
  if (typeof value !== 'string') throw scalarMismatch(value, 'an', 'String');
}

const TRUE_STRINGS = new Set(['TRUE', '1', 'YES']);
const FALSE_STRINGS = new Set(['FALSE', '0', 'NO']);

/** BOOL and NULL: DynamoDB's deserializer also takes "true"/"false"/"1"/"0"/"yes"/"no"
 *  strings, and lets doubles through (which the API then rejects). */
function decodeBoolean(value: unknown): unknown {
  if (typeof value === 'boolean' || (typeof value === 'number' && !Number.isInteger(value))) return value;
  if (typeof value === 'string') {
    const upper = value.toUpperCase();
    if (TRUE_STRINGS.has(upper)) return true;
    if (FALSE_STRINGS.has(upper)) return false;
  }
  throw scalarMismatch(value, 'an', 'Boolean');
}

function checkList(value: unknown): asserts value is unknown[] {
  if (Array.isArray(value)) return;
  if (isObject(value)) throw serialization('Start of structure or map found where not expected.');
  throw serialization('Expected list or null');
}

function checkMap(value: unknown): asserts value is Record<string, unknown> {
  if (isObject(value)) return;
  if (Array.isArray(value)) throw serialization('Start of list found where not expected');
  throw serialization('Expected map or null');
}

function checkStructure(value: unknown): asserts value is Record<string, unknown> {
  if (isObject(value)) return;
  if (Array.isArray(value)) throw serialization('Start of list found where not expected');
  throw serialization('Expected null');
}

/** Decodes one AttributeValue in place. A member whose value is JSON `null` is absent,
 *  as DynamoDB's deserializer has it, and is removed. */
function decodeValue(av: unknown, depth: number): void {
  if (av === null) return;
  checkStructure(av);
  if (depth > MAX_VALUE_DEPTH) return;
  for (const type of Object.keys(av)) {
    const v = av[type];
    if (v === null) {
      delete av[type];
      continue;
    }
    switch (type) {
      case 'S':
      case 'N':
        checkString(v);
        break;
      case 'B':
        av.B = decodeBlob(v);
        break;
      case 'BOOL':
        av.BOOL = decodeBoolean(v);
        break;
      case 'NULL':
        av.NULL = decodeBoolean(v);
        break;
      case 'SS':
      case 'NS':
        checkList(v);
        for (const member of v) if (member !== null) checkString(member);
        break;
      case 'BS':
        checkList(v);
        for (let i = 0; i < v.length; i++) if (v[i] !== null) v[i] = decodeBlob(v[i]);
        break;
      case 'L':
        checkList(v);
        for (const member of v) decodeValue(member, depth + 1);
        break;
      case 'M':
        checkMap(v);
        for (const name of Object.keys(v)) decodeValue(v[name], depth + 1);
        break;
      default:
        // Unknown members are dropped by DynamoDB's deserializer; the API ignores them.
        break;
    }
  }
}

/** A map of attribute name → AttributeValue (Item, Key, ExpressionAttributeValues, ...). */
function decodeValueMap(map: unknown): void {
  if (map === null) return;
  checkMap(map);
  for (const name of Object.keys(map)) decodeValue(map[name], 1);
}

function decodeValueList(list: unknown): void {
  if (list === null) return;
  checkList(list);
  for (const av of list) decodeValue(av, 1);
}

/** Expected: name → { Value, AttributeValueList, ... }; AttributeUpdates: name → { Value,
 *  Action }; KeyConditions/QueryFilter/ScanFilter: name → { AttributeValueList, ... }. */
function decodeConditionMap(map: unknown): void {
  if (map === null) return;
  checkMap(map);
  for (const name of Object.keys(map)) {
    const entry = map[name];
    if (entry === null) continue;
    checkStructure(entry);
    dropNullFields(entry);
    if ('Value' in entry) decodeValue(entry.Value, 1);
    if ('AttributeValueList' in entry) decodeValueList(entry.AttributeValueList);
  }
}

function decodeKeyList(list: unknown): void {
  if (list === null) return;
  checkList(list);
  for (const key of list) decodeValueMap(key);
}

function decodeStructure(s: unknown): void {
  if (s === null) return;
  checkStructure(s);
  decodeFields(s);
}

function decodeStructureList(list: unknown): void {
  if (list === null) return;
  checkList(list);
  for (const s of list) decodeStructure(s);
}

/**
 * The fields of a request structure that hold attribute values, by name. Nested request
 * structures are entered only through the fields that hold them (RequestItems,
 * PutRequest, TransactItems' Put, ...), never by guessing: a `Tags` entry also has a
 * `Key`, and a table may be named `Item`.
 */
function decodeFields(s: Record<string, unknown>): void {
  for (const field of Object.keys(s)) {
    const v = s[field];
    if (v === null) {
      // DynamoDB's deserializer reads a structure field set to JSON null as absent.
      delete s[field];
      continue;
    }
    switch (field) {
      case 'Item':
      case 'Key':
      case 'ExclusiveStartKey':
      case 'ExpressionAttributeValues':
        decodeValueMap(v);
        break;
      case 'Keys':
        decodeKeyList(v);
        break;
      case 'Expected':
      case 'AttributeUpdates':
      case 'KeyConditions':
      case 'QueryFilter':
      case 'ScanFilter':
        decodeConditionMap(v);
        break;
      case 'Parameters': // ExecuteStatement and its batch/transaction forms
        decodeValueList(v);
        break;
      case 'RequestItems': {
        // BatchGetItem: table → { Keys, ... }; BatchWriteItem: table → [{ PutRequest | DeleteRequest }].
        if (v === null) break;
        checkMap(v);
        for (const table of Object.keys(v)) {
          const entry = v[table];
          if (Array.isArray(entry)) decodeStructureList(entry);
          else decodeStructure(entry);
        }
        break;
      }
      case 'PutRequest':
      case 'DeleteRequest':
      case 'ConditionCheck':
      case 'Put':
      case 'Delete':
      case 'Update':
      case 'Get':
        decodeStructure(v);
        break;
      case 'TransactItems':
      case 'TransactStatements':
      case 'Statements':
        decodeStructureList(v);
        break;
      case 'ExpressionAttributeNames':
        break;
      default:
        // Any other structure (ProvisionedThroughput, Tags' entries, KeySchema's, ...)
        // holds no attribute values; only its null fields go.
        dropNullsBelow(v);
        break;
    }
  }
}

function dropNullFields(s: Record<string, unknown>): void {
  for (const field of Object.keys(s)) if (s[field] === null) delete s[field];
}

/** Removes null fields from the structures in `v` (lists of structures, nested
 *  structures), without reading any field as an attribute value. */
function dropNullsBelow(v: unknown): void {
  if (Array.isArray(v)) {
    for (const element of v) dropNullsBelow(element);
  } else if (isObject(v)) {
    dropNullFields(v);
    for (const field of Object.keys(v)) dropNullsBelow(v[field]);
  }
}

/** Decodes a parsed request body in place: base64 → Uint8Array at every AttributeValue
 *  position. Throws DynamoDB's SerializationException for values of the wrong JSON type. */
export function decodeRequest(body: Record<string, unknown>): void {
  decodeFields(body);
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
