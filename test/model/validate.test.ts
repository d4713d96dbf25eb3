import { describe, expect, it } from 'vitest';
import { DynamoDBError } from '../../src/model/errors.js';
import {
  checkAttributeName,
  checkNestingAt,
  extractKey,
  keyShapeFrom,
  normalizeItem,
  validateAttributeValue,
  validateItem,
  validateItemKeyAttributes,
  validateKey,
  validateTableName,
  valueHeight,
} from '../../src/model/validate.js';
import { checkArnAuthorized, mergeTags, tableNameFromArn, validateTagKey, validateTags } from '../../src/model/tags.js';
import type { AttributeValue, KeyShape } from '../../src/model/types.js';

function messageOf(f: () => unknown, name = 'ValidationException'): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DynamoDBError);
    expect((e as DynamoDBError).name).toBe(name);
    return (e as DynamoDBError).message;
  }
  throw new Error('expected an error');
}

const INVALID = 'One or more parameter values were invalid: ';
const b = (...xs: number[]): Uint8Array => new Uint8Array(xs);

function nested(depth: number): AttributeValue {
  let v: AttributeValue = { S: 'leaf' };
  for (let i = 0; i < depth; i++) v = i % 2 ? { M: { n: v } } : { L: [v] };
  return v;
}

describe('validateAttributeValue', () => {
  it.each([
    [{}, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
    [{ a: '' }, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
    [{ M: { a: {} } }, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
    [{ L: [{}] }, 'Supplied AttributeValue is empty, must contain exactly one of the supported datatypes'],
    [{ S: 'a', N: '1' }, 'Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes'],
    [{ NULL: false }, `${INVALID}Null attribute value types must have the value of true`],
    [{ SS: [] }, `${INVALID}An string set  may not be empty`],
    [{ NS: [] }, `${INVALID}An number set  may not be empty`],
    [{ BS: [] }, `${INVALID}Binary sets should not be empty`],
    [{ SS: ['a', 'a'] }, `${INVALID}Input collection [a, a] contains duplicates.`],
    [{ BS: [b(0x62), b(0x62)] }, `${INVALID}Input collection [Yg==, Yg==]of type BS contains duplicates.`],
    [{ NS: ['1', '1'] }, 'Input collection contains duplicates'],
    [{ NS: ['1', '1.0'] }, 'Input collection contains duplicates'],
    [{ NS: ['1', 'b'] }, 'The parameter cannot be converted to a numeric value: b'],
    [{ NS: ['1', ''] }, 'The parameter cannot be converted to a numeric value'],
    [{ N: 'b' }, 'The parameter cannot be converted to a numeric value: b'],
    [{ N: '123456789012345678901234567890123456789' }, 'Attempting to store more than 38 significant digits in a Number'],
    [{ N: '1e126' }, 'Number overflow. Attempting to store a number with magnitude larger than supported range'],
    [{ N: '-1e-131' }, 'Number underflow. Attempting to store a number with magnitude smaller than supported range'],
    [{ M: { x: { L: [{ NS: ['x'] }] } } }, 'The parameter cannot be converted to a numeric value: x'],
    [nested(32), 'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit'],
  ])('%j', (av, message) => {
    expect(messageOf(() => validateAttributeValue(av))).toBe(message);
  });

  it('accepts valid values, empty strings and binaries, and 32 levels', () => {
    for (const av of [{ S: '' }, { B: b() }, { N: '-1.5e3' }, { BOOL: false }, { NULL: true }, { M: {} }, { L: [] },
      { SS: ['', 'a'] }, { NS: ['1', '2', '1.5'] }, { BS: [b(1), b(1, 0)] }, nested(31), { S: 'x', N: undefined }] as unknown[]) {
      expect(() => validateAttributeValue(av), JSON.stringify(av)).not.toThrow();
    }
  });

  it('words errors in ExpressionAttributeValues like DynamoDB', () => {
    const ctx = { kind: 'expressionAttributeValue', name: ':b' } as const;
    expect(messageOf(() => validateAttributeValue({ SS: [] }, ctx))).toBe(
      `ExpressionAttributeValues contains invalid value: ${INVALID}An string set  may not be empty for key :b`);
    expect(messageOf(() => validateAttributeValue({ N: '1e-200' }, ctx))).toBe(
      'ExpressionAttributeValues contains invalid value: Number underflow. Attempting to store a number with magnitude smaller than supported range for key :b');
    expect(messageOf(() => validateAttributeValue({}, ctx))).toBe(
      'ExpressionAttributeValues contains invalid value: Supplied AttributeValue is empty, must contain exactly one of the supported datatypes for key :b');
  });

  it('rejects wrongly typed members as SerializationException', () => {
    messageOf(() => validateAttributeValue({ N: 123 }), 'SerializationException');
    messageOf(() => validateAttributeValue({ B: 'AQI=' }), 'SerializationException');
    messageOf(() => validateItem([]), 'SerializationException');
  });
});

describe('normalizeItem', () => {
  it('makes numbers canonical everywhere and copies containers', () => {
    const item = { a: { N: '1.0' }, s: { NS: ['01', '-0', '1.5e1'] }, m: { M: { x: { L: [{ N: '1e2' }, { S: '1.0' }] } } } };
    const out = normalizeItem(item);
    expect(out).toEqual({ a: { N: '1' }, s: { NS: ['1', '0', '15'] }, m: { M: { x: { L: [{ N: '100' }, { S: '1.0' }] } } } });
    expect(item.a.N).toBe('1.0');
    expect(out.m).not.toBe(item.m);
  });
});

describe('keyShapeFrom', () => {
  it('resolves hash and range keys', () => {
    expect(keyShapeFrom([{ AttributeName: 'id', KeyType: 'HASH' }], [{ AttributeName: 'id', AttributeType: 'S' }]))
      .toEqual({ hashName: 'id', hashType: 'S' });
    expect(keyShapeFrom(
      [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      [{ AttributeName: 'sk', AttributeType: 'N' }, { AttributeName: 'pk', AttributeType: 'B' }],
    )).toEqual({ hashName: 'pk', hashType: 'B', rangeName: 'sk', rangeType: 'N' });
  });

  it.each([
    [[{ AttributeName: 'a', KeyType: 'RANGE' }], [{ AttributeName: 'a', AttributeType: 'S' }],
      'Invalid KeySchema: The first KeySchemaElement is not a HASH key type'],
    [[{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'a', KeyType: 'RANGE' }], [{ AttributeName: 'a', AttributeType: 'S' }],
      'Both the Hash Key and the Range Key element in the KeySchema have the same name'],
    [[{ AttributeName: 'a', KeyType: 'HASH' }, { AttributeName: 'b', KeyType: 'HASH' }], [{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'b', AttributeType: 'S' }],
      'Invalid KeySchema: The second KeySchemaElement is not a RANGE key type'],
    [[{ AttributeName: 'a', KeyType: 'HASH' }], [{ AttributeName: 'b', AttributeType: 'S' }],
      `${INVALID}Some index key attributes are not defined in AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]`],
    [[{ AttributeName: 'a', KeyType: 'HASH' }], [{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'b', AttributeType: 'S' }],
      `${INVALID}Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions`],
    [[], [{ AttributeName: 'a', AttributeType: 'S' }],
      "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length greater than or equal to 1"],
    [[{ AttributeName: 'a', KeyType: 'HASH' }], [{ AttributeName: 'a', AttributeType: 'X' }],
      "1 validation error detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"],
  ])('rejects %j / %j', (ks, defs, message) => {
    expect(messageOf(() => keyShapeFrom(ks as never, defs as never))).toBe(message);
  });

  it('allows definitions used by indexes only when given', () => {
    const ks = [{ AttributeName: 'a', KeyType: 'HASH' }] as const;
    const defs = [{ AttributeName: 'a', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'N' }] as const;
    expect(keyShapeFrom([...ks], [...defs], ['g'])).toEqual({ hashName: 'a', hashType: 'S' });
  });
});

describe('keys', () => {
  const hashOnly: KeyShape = { hashName: 'id', hashType: 'S' };
  const composite: KeyShape = { hashName: 'pk', hashType: 'S', rangeName: 'sk', rangeType: 'N' };
  const binary: KeyShape = { hashName: 'pk', hashType: 'B', rangeName: 'sk', rangeType: 'S' };

  it('validateKey accepts matching keys', () => {
    expect(() => validateKey({ id: { S: 'x' } }, hashOnly)).not.toThrow();
    expect(() => validateKey({ pk: { S: 'x' }, sk: { N: '1.0' } }, composite)).not.toThrow();
    expect(() => validateKey({ id: { S: 'é'.repeat(1024) } }, hashOnly)).not.toThrow(); // 2048 bytes
  });

  it.each([
    [{}, hashOnly],
    [{ b: { S: 'a' } }, hashOnly],
    [{ id: { N: '1' } }, hashOnly],
    [{ id: { B: b(1) } }, hashOnly],
    [{ id: { SS: ['a'] } }, hashOnly],
    [{ id: { S: 'a' }, x: { S: 'b' } }, hashOnly],
    [{ pk: { S: 'a' } }, composite],
    [{ pk: { S: 'a' }, sk: { S: '1' } }, composite],
    [{ pk: { S: 'a' }, x: { N: '1' } }, composite],
  ])('validateKey rejects %j', (key, shape) => {
    expect(messageOf(() => validateKey(key as never, shape))).toBe('The provided key element does not match the schema');
  });

  it('validateKey: empty values and sizes', () => {
    // A Key's empty value is worded "were invalid:", an item's "are not valid." (dynalite's suite, run against DynamoDB).
    expect(messageOf(() => validateKey({ id: { S: '' } }, hashOnly))).toBe(
      `${INVALID}The AttributeValue for a key attribute cannot contain an empty string value. Key: id`);
    expect(messageOf(() => validateKey({ pk: { B: b() }, sk: { S: 'a' } }, binary))).toBe(
      `${INVALID}The AttributeValue for a key attribute cannot contain an empty binary value. Key: pk`);
    expect(messageOf(() => validateKey({ id: { S: 'a'.repeat(2049) } }, hashOnly))).toBe(
      `${INVALID}Size of hashkey has exceeded the maximum size limit of2048 bytes`);
    expect(messageOf(() => validateKey({ id: { S: 'é'.repeat(1025) } }, hashOnly))).toBe(
      `${INVALID}Size of hashkey has exceeded the maximum size limit of2048 bytes`);
    expect(messageOf(() => validateKey({ pk: { B: new Uint8Array(2049) }, sk: { S: 'a' } }, binary))).toBe(
      `${INVALID}Size of hashkey has exceeded the maximum size limit of2048 bytes`);
    expect(messageOf(() => validateKey({ pk: { S: 'a' }, sk: { S: 'a'.repeat(1025) } }, { ...composite, rangeType: 'S' }))).toBe(
      `${INVALID}Aggregated size of all range keys has exceeded the size limit of 1024 bytes`);
    expect(() => validateKey({ pk: { S: 'a' }, sk: { S: 'a'.repeat(1024) } }, { ...composite, rangeType: 'S' })).not.toThrow();
    expect(messageOf(() => validateKey({ pk: { S: 'a' }, sk: { N: 'x' } }, composite))).toBe(
      'The parameter cannot be converted to a numeric value: x');
  });

  it('validateItemKeyAttributes', () => {
    expect(() => validateItemKeyAttributes({ id: { S: 'a' }, other: { N: '1' } }, hashOnly)).not.toThrow();
    expect(messageOf(() => validateItemKeyAttributes({ other: { S: 'a' } }, hashOnly))).toBe(`${INVALID}Missing the key id in the item`);
    expect(messageOf(() => validateItemKeyAttributes({ id: { N: '1' } }, hashOnly))).toBe(`${INVALID}Type mismatch for key id expected: S actual: N`);
    expect(messageOf(() => validateItemKeyAttributes({ pk: { S: 'a' }, sk: { M: {} } }, composite))).toBe(`${INVALID}Type mismatch for key sk expected: N actual: M`);
    expect(messageOf(() => validateItemKeyAttributes({ pk: { S: 'a' } }, composite))).toBe(`${INVALID}Missing the key sk in the item`);
    expect(messageOf(() => validateItemKeyAttributes({ id: { S: '' } }, hashOnly))).toBe(
      'One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id');
  });

  it('extractKey', () => {
    const item = { pk: { S: 'a' }, sk: { N: '1' }, x: { S: 'y' } };
    expect(extractKey(item, composite)).toEqual({ pk: { S: 'a' }, sk: { N: '1' } });
    expect(extractKey({ id: { S: 'q' }, z: { BOOL: true } }, hashOnly)).toEqual({ id: { S: 'q' } });
  });
});

describe('validateTableName', () => {
  it('accepts valid names', () => {
    for (const n of ['abc', 'My-Table_1.x', 'a'.repeat(255)]) expect(() => validateTableName(n)).not.toThrow();
  });
  it.each([
    ['ab', "1 validation error detected: Value 'ab' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"],
    ['a;b c', "1 validation error detected: Value 'a;b c' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"],
    ['a;', "2 validation errors detected: Value 'a;' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value 'a;' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3"],
    ['a'.repeat(256), `1 validation error detected: Value '${'a'.repeat(256)}' at 'tableName' failed to satisfy constraint: Member must have length less than or equal to 255`],
    [undefined, "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"],
  ])('rejects %j', (name, message) => {
    expect(messageOf(() => validateTableName(name))).toBe(message);
  });
});

describe('attribute names', () => {
  const tooLarge = '1 validation error detected: Attribute name is too large, must be less than 65536 bytes';

  it('allow 65535 UTF-8 bytes, at the top level and in maps at any depth', () => {
    expect(() => validateItem({ ['a'.repeat(65535)]: { S: 'x' } })).not.toThrow();
    expect(messageOf(() => validateItem({ ['a'.repeat(65536)]: { S: 'x' } }))).toBe(tooLarge);
    expect(messageOf(() => validateItem({ a: { L: [{ M: { ['é'.repeat(32768)]: { N: '1' } } }] } }))).toBe(tooLarge);
    expect(() => checkAttributeName('é'.repeat(32767))).not.toThrow();
    expect(messageOf(() => checkAttributeName('€'.repeat(21846)))).toBe(tooLarge); // 65538 bytes
  });

  it('word the error the same inside ExpressionAttributeValues', () => {
    const ctx = { kind: 'expressionAttributeValue', name: ':v' } as const;
    expect(messageOf(() => validateAttributeValue({ M: { ['a'.repeat(65536)]: { S: 'x' } } }, ctx))).toBe(tooLarge);
  });
});

describe('nesting of what an update writes', () => {
  it('measures heights and checks the level a value reaches below a path', () => {
    expect(valueHeight({ S: 'x' })).toBe(1);
    expect(valueHeight({ M: {} })).toBe(1);
    expect(valueHeight({ L: [{ S: 'x' }, { M: { a: { L: [] } } }] })).toBe(3);
    expect(valueHeight(nested(31))).toBe(32);
    expect(() => checkNestingAt(1, nested(31))).not.toThrow();
    expect(messageOf(() => checkNestingAt(1, nested(32)))).toBe(
      'Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit');
    expect(() => checkNestingAt(3, nested(29))).not.toThrow();
    expect(() => checkNestingAt(3, nested(30))).toThrow();
    expect(() => checkNestingAt(32, { S: 'x' })).not.toThrow();
    expect(() => checkNestingAt(33, { S: 'x' })).toThrow();
  });
});

describe('tags', () => {
  it('accept letters of any script, digits, spaces and + - = . _ : / @', () => {
    expect(() => validateTags([{ Key: 'ключ café 表 1', Value: 'a+b-c=d.e_f:g/h@i' }, { Key: 'k', Value: '' }])).not.toThrow();
    expect(() => validateTags([{ Key: 'k'.repeat(128), Value: '表'.repeat(256) }])).not.toThrow();
  });

  it.each([
    [[{ Key: 'k'.repeat(129), Value: 'v' }], `The Tag Key provided is invalid, Key: ${'k'.repeat(129)}`],
    [[{ Key: 'a*b', Value: 'v' }], 'The Tag Key provided is invalid, Key: a*b'],
    [[{ Key: 'k', Value: '表'.repeat(257) }], `The Tag Value provided is invalid, Value: ${'表'.repeat(257)}`],
    [[{ Key: 'k', Value: 'a;b' }], 'The Tag Value provided is invalid, Value: a;b'],
    [[{ Key: 'aws:x', Value: 'v' }], 'Tag Key cannot be prefixed with aws:, Key: aws:x'],
    [[{ Key: 'd', Value: '1' }, { Key: 'd', Value: '1' }], 'Duplicate Tag Keys provided as input: Duplicate Tag Key found d'],
  ])('reject %j', (tags, message) => {
    expect(messageOf(() => validateTags(tags))).toBe(message);
  });

  it('count the merged set against the 50-tag limit', () => {
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(mergeTags(fifty, [{ Key: 'k0', Value: 'new' }]).find((t) => t.Key === 'k0')).toEqual({ Key: 'k0', Value: 'new' });
    expect(messageOf(() => mergeTags(fifty, [{ Key: 'k50', Value: 'v' }]))).toBe('Number of Tags exceed the current limit for the provided ResourceArn');
    expect(mergeTags([], [{ Key: 'b', Value: '' }, { Key: 'a', Value: '' }]).map((t) => t.Key)).toEqual(['a', 'b']);
    expect(messageOf(() => validateTagKey(''))).toBe('The Tag Key provided is invalid, Key: ');
  });

  it('refuse a missing ARN, and one that is no ARN at all as IAM does', () => {
    expect(messageOf(() => checkArnAuthorized(undefined, 'TagResource', '000000000000'))).toBe('Invalid TableArn');
    for (const [arn, resource] of [['', '*'], ['abcd', 'abcd'], ['a:b:c:d:e:f', 'a:b:c:d:e:f'], ['a:b:c:d:e/f', 'a:b:c:d:e/f']]) {
      expect(messageOf(() => checkArnAuthorized(arn, 'UntagResource', '000000000000'), 'AccessDeniedException')).toBe(
        `User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:UntagResource on resource: ${resource}`);
    }
    expect(() => checkArnAuthorized('a:b:c:d:e:f/g', 'TagResource', '000000000000')).not.toThrow();
  });

  it('read the table name from a table ARN of this store only', () => {
    const scope = { region: 'local', account: '000000000000' };
    expect(tableNameFromArn('arn:aws:dynamodb:local:000000000000:table/My.Table-1', scope)).toBe('My.Table-1');
    // What does not start with arn: is invalid as a whole (what dynalite recorded from DynamoDB).
    expect(messageOf(() => tableNameFromArn('a:b:c:d:e:f/g', scope))).toBe('Invalid TableArn: Invalid ResourceArn provided as input a:b:c:d:e:f/g');
    expect(messageOf(() => tableNameFromArn('arn:aws:sqs:local:000000000000:queue', scope))).toBe(
      'One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: arn:aws:sqs:local:000000000000:queue');
    expect(messageOf(() => tableNameFromArn('arn:aws:dynamodb:local:000000000000:backup/x', scope))).toMatch(/only table or stream is accepted/);
    expect(messageOf(() => tableNameFromArn('arn:aws:dynamodb:local:000000000000:table/t1/stream/2020', scope))).toMatch(/no streams/);
    expect(messageOf(() => tableNameFromArn('arn:aws:dynamodb:local:111111111111:table/abc', scope))).toBe(
      'Invalid TableArn: Invalid ResourceArn provided as input arn:aws:dynamodb:local:111111111111:table/abc');
    expect(messageOf(() => tableNameFromArn('arn:aws:dynamodb:local:000000000000:table/a;b', scope))).toMatch(/^Invalid TableArn/);
  });
});
