/**
 * The wire format: each operation's request read against its input shape, base64 decoded
 * at every AttributeValue position, with the SerializationException DynamoDB's typed
 * deserializer gives for a member of the wrong JSON type, and
 * responses encoded (binary as base64, dates as epoch seconds) without touching the
 * API's objects.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDBError } from '../../src/index.js';
import { decodeBase64, decodeRequest, encodeResponse, jsonDepthExceeds } from '../../src/server/wire.js';

const B = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);

function decoded(operation: string, request: Record<string, unknown>): Record<string, unknown> {
  decodeRequest(operation, request);
  return request;
}

function serializationMessage(operation: string, request: Record<string, unknown>): string {
  try {
    decodeRequest(operation, request);
  } catch (e) {
    expect(e).toBeInstanceOf(DynamoDBError);
    expect((e as DynamoDBError).name).toBe('SerializationException');
    return (e as DynamoDBError).message;
  }
  throw new Error('expected a SerializationException');
}

describe('decodeBase64', () => {
  it('decodes canonical base64 and refuses anything else with DynamoDB\'s messages', () => {
    expect(decodeBase64('')).toEqual(B());
    expect(decodeBase64('AQID')).toEqual(B(1, 2, 3));
    expect(decodeBase64('/w==')).toEqual(B(255));
    expect(decodeBase64('+/8=')).toEqual(B(0xfb, 0xff));
    expect(() => decodeBase64('AQI')).toThrow('Base64 encoded length is expected a multiple of 4 bytes but found: 3');
    expect(() => decodeBase64('AQ-_')).toThrow("Invalid Base64 character: '-'");
    expect(() => decodeBase64('A=QI')).toThrow('Invalid last non-pad Base64 character dectected');
    expect(() => decodeBase64('=+/=')).toThrow('Invalid last non-pad Base64 character dectected');
    expect(() => decodeBase64('AR==')).toThrow('Invalid last non-pad Base64 character dectected');
    expect(() => decodeBase64('+/+=')).toThrow('Invalid last non-pad Base64 character dectected');
    expect(() => decodeBase64('AQ =')).toThrow("Invalid Base64 character: ' '");
  });
});

describe('decodeRequest', () => {
  it('decodes B and BS everywhere an item or key can be, at any depth', () => {
    const nested = { M: { l: { L: [{ B: 'AQ==' }, { BS: ['Ag==', 'Aw=='] }, { M: { deep: { B: 'BA==' } } }] } } };
    const nestedOut = { M: { l: { L: [{ B: B(1) }, { BS: [B(2), B(3)] }, { M: { deep: { B: B(4) } } }] } } };
    expect(decoded('PutItem', { TableName: 't', Item: { k: { B: 'AQ==' }, n: nested } })).toEqual({ TableName: 't', Item: { k: { B: B(1) }, n: nestedOut } });
    expect(decoded('DeleteItem', { Key: { k: { B: '/w==' } }, ExpressionAttributeValues: { ':v': { BS: ['AQ=='] }, ':s': { S: 'AQ==' } } }))
      .toEqual({ Key: { k: { B: B(255) } }, ExpressionAttributeValues: { ':v': { BS: [B(1)] }, ':s': { S: 'AQ==' } } });
    expect(decoded('Scan', { ExclusiveStartKey: { k: { B: 'AQ==' } } })).toEqual({ ExclusiveStartKey: { k: { B: B(1) } } });
  });

  it('decodes the legacy conditions: Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter', () => {
    expect(decoded('UpdateItem', {
      Expected: { a: { Value: { B: 'AQ==' } }, b: { ComparisonOperator: 'IN', AttributeValueList: [{ B: 'Ag==' }, { S: 'x' }] }, c: { Exists: false } },
      AttributeUpdates: { d: { Action: 'PUT', Value: { BS: ['Aw=='] } }, e: { Action: 'DELETE' } },
    })).toEqual({
      Expected: { a: { Value: { B: B(1) } }, b: { ComparisonOperator: 'IN', AttributeValueList: [{ B: B(2) }, { S: 'x' }] }, c: { Exists: false } },
      AttributeUpdates: { d: { Action: 'PUT', Value: { BS: [B(3)] } }, e: { Action: 'DELETE' } },
    });
    expect(decoded('Query', {
      KeyConditions: { k: { ComparisonOperator: 'EQ', AttributeValueList: [{ B: 'BA==' }] } },
      QueryFilter: { f: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ B: 'BQ==' }] } },
    })).toEqual({
      KeyConditions: { k: { ComparisonOperator: 'EQ', AttributeValueList: [{ B: B(4) }] } },
      QueryFilter: { f: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ B: B(5) }] } },
    });
    expect(decoded('Scan', { ScanFilter: { g: { ComparisonOperator: 'NOT_NULL' } } })).toEqual({ ScanFilter: { g: { ComparisonOperator: 'NOT_NULL' } } });
  });

  it('decodes batch and transaction request items, and leaves Tags and table names alone', () => {
    expect(decoded('BatchGetItem', { RequestItems: { Item: { Keys: [{ k: { B: 'AQ==' } }], ProjectionExpression: 'k' } } }))
      .toEqual({ RequestItems: { Item: { Keys: [{ k: { B: B(1) } }], ProjectionExpression: 'k' } } });
    expect(decoded('BatchWriteItem', { RequestItems: { Key: [{ PutRequest: { Item: { k: { B: 'Ag==' } } } }, { DeleteRequest: { Key: { k: { B: 'Aw==' } } } }] } }))
      .toEqual({ RequestItems: { Key: [{ PutRequest: { Item: { k: { B: B(2) } } } }, { DeleteRequest: { Key: { k: { B: B(3) } } } }] } });
    expect(decoded('TransactWriteItems', { TransactItems: [
      { Put: { Item: { k: { B: 'AQ==' } }, ExpressionAttributeValues: { ':v': { B: 'Ag==' } } } },
      { Update: { Key: { k: { B: 'Aw==' } } } }, { Delete: { Key: { k: { B: 'BA==' } } } },
      { ConditionCheck: { Key: { k: { B: 'BQ==' } } } },
    ] })).toEqual({ TransactItems: [
      { Put: { Item: { k: { B: B(1) } }, ExpressionAttributeValues: { ':v': { B: B(2) } } } },
      { Update: { Key: { k: { B: B(3) } } } }, { Delete: { Key: { k: { B: B(4) } } } },
      { ConditionCheck: { Key: { k: { B: B(5) } } } },
    ] });
    expect(decoded('TransactGetItems', { TransactItems: [{ Get: { Key: { k: { B: 'Bg==' } } } }] }))
      .toEqual({ TransactItems: [{ Get: { Key: { k: { B: B(6) } } } }] });
    expect(decoded('TagResource', { ResourceArn: 'arn', Tags: [{ Key: 'k', Value: 'AQ==' }] })).toEqual({ ResourceArn: 'arn', Tags: [{ Key: 'k', Value: 'AQ==' }] });
    expect(decoded('ExecuteStatement', { Statement: 'SELECT', Parameters: [{ B: 'AQ==' }] })).toEqual({ Statement: 'SELECT', Parameters: [{ B: B(1) }] });
  });

  it('gives DynamoDB\'s SerializationException for a member of the wrong JSON type, by the member\'s type', () => {
    // String members and attribute value strings
    expect(serializationMessage('PutItem', { TableName: true })).toBe('TRUE_VALUE cannot be converted to String');
    expect(serializationMessage('PutItem', { Item: { a: { S: 5 } } })).toBe('NUMBER_VALUE cannot be converted to String');
    expect(serializationMessage('PutItem', { Item: { a: { N: 1.5 } } })).toBe('DECIMAL_VALUE cannot be converted to String');
    expect(serializationMessage('PutItem', { Item: { a: { S: [] } } })).toBe('Unrecognized collection type class java.lang.String');
    expect(serializationMessage('PutItem', { Item: { a: { S: {} } } })).toBe('Start of structure or map found where not expected');
    // Booleans, integers, blobs
    expect(serializationMessage('GetItem', { ConsistentRead: 'maybe' })).toBe('Unexpected token received from parser');
    expect(serializationMessage('GetItem', { ConsistentRead: 34.5 })).toBe('DECIMAL_VALUE cannot be converted to Boolean');
    expect(serializationMessage('Query', { Limit: '23' })).toBe('STRING_VALUE cannot be converted to Integer');
    expect(serializationMessage('CreateTable', { ProvisionedThroughput: { ReadCapacityUnits: false } })).toBe('FALSE_VALUE cannot be converted to Long');
    expect(serializationMessage('Scan', { Segment: [] })).toBe('Unrecognized collection type class java.lang.Integer');
    expect(serializationMessage('PutItem', { Item: { a: { B: -40000 } } })).toBe('only base-64-encoded strings are convertible to bytes');
    expect(serializationMessage('PutItem', { Item: { a: { BS: [[]] } } })).toBe('Unrecognized collection type class java.nio.ByteBuffer');
    expect(serializationMessage('DeleteItem', { ExpressionAttributeValues: { ':v': { BS: ['AQ==', 'AQ'] } } }))
      .toBe('Base64 encoded length is expected a multiple of 4 bytes but found: 2');
    // Lists, maps, structures: a structure in a map or list says "value", in a field "field"
    expect(serializationMessage('PutItem', { Item: { a: { L: 'x' } } })).toBe('Unexpected field type');
    expect(serializationMessage('PutItem', { Item: { a: { L: {} } } })).toBe('Start of structure or map found where not expected');
    expect(serializationMessage('PutItem', { Item: 3 })).toBe('Unexpected field type');
    expect(serializationMessage('PutItem', { Item: [] }))
      .toBe('Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>');
    expect(serializationMessage('GetItem', { ExpressionAttributeNames: [] }))
      .toBe('Unrecognized collection type java.util.Map<java.lang.String, java.lang.String>');
    expect(serializationMessage('PutItem', { Item: { a: 'x' } })).toBe('Unexpected value type in payload');
    expect(serializationMessage('PutItem', { Item: { a: [] } })).toBe('Unrecognized collection type class com.amazonaws.dynamodb.v20120810.AttributeValue');
    expect(serializationMessage('PutItem', { Expected: { a: { Value: 5 } } })).toBe('Unexpected field type');
    expect(serializationMessage('CreateTable', { ProvisionedThroughput: [] }))
      .toBe('Unrecognized collection type class com.amazonaws.dynamodb.v20120810.ProvisionedThroughput');
    expect(serializationMessage('CreateTable', { KeySchema: [true] })).toBe('Unexpected value type in payload');
    // The generic collections of the batch operations
    expect(serializationMessage('BatchWriteItem', { RequestItems: 'x' })).toBe('Unexpected field type');
    expect(serializationMessage('BatchWriteItem', { RequestItems: { t: 'x' } })).toMatch(/^class sun\.reflect\.generics\.reflectiveObjects\.ParameterizedTypeImpl cannot be cast/);
    expect(serializationMessage('BatchWriteItem', { RequestItems: [] }))
      .toBe('Unrecognized collection type java.util.Map<java.lang.String, java.util.List<com.amazonaws.dynamodb.v20120810.WriteRequest>>');
    expect(serializationMessage('BatchGetItem', { RequestItems: { t: { Keys: [5] } } })).toMatch(/^class sun\.reflect/);
    expect(serializationMessage('BatchGetItem', { RequestItems: { t: { Keys: {} } } })).toBe('Start of structure or map found where not expected');
  });

  it('leaves members an operation does not have, and operations it does not know, as they are', () => {
    expect(decoded('GetItem', { Item: { a: { B: 'not base64' } }, Other: 5 })).toEqual({ Item: { a: { B: 'not base64' } }, Other: 5 });
    expect(decoded('NoSuchOperation', { Key: 5, Gone: null })).toEqual({ Key: 5 });
  });

  it('takes JSON null as absent and DynamoDB\'s boolean strings as booleans', () => {
    expect(decoded('PutItem', { Item: { a: { S: 'x', B: null }, b: { BOOL: 'true' }, c: { NULL: 'YES' }, d: { BOOL: '0' } } }))
      .toEqual({ Item: { a: { S: 'x' }, b: { BOOL: true }, c: { NULL: true }, d: { BOOL: false } } });
  });
});

describe('encodeResponse', () => {
  it('writes binary as base64 and dates as epoch seconds, leaving the input as it was', () => {
    const created = new Date(1_700_000_000_123);
    const response = { Table: { CreationDateTime: created, Nested: { When: created } }, Item: { b: { B: B(1, 2, 3) }, bs: { BS: [B(255), B()] }, m: { M: { x: { B: B(0) } } } } };
    expect(JSON.parse(encodeResponse(response))).toEqual({
      Table: { CreationDateTime: 1_700_000_000.123, Nested: { When: 1_700_000_000.123 } },
      Item: { b: { B: 'AQID' }, bs: { BS: ['/w==', ''] }, m: { M: { x: { B: 'AA==' } } } },
    });
    expect(response.Table.CreationDateTime).toBe(created);
    expect(response.Item.b.B).toEqual(B(1, 2, 3));
    // A Buffer (a Uint8Array subclass with its own toJSON) is binary too.
    expect(encodeResponse({ B: Buffer.from([1]) })).toBe('{"B":"AQ=="}');
  });
});

describe('jsonDepthExceeds', () => {
  it('measures nesting outside strings', () => {
    expect(jsonDepthExceeds('{"a":[{"b":1}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[\\"[[[["}', 1)).toBe(false);
    expect(jsonDepthExceeds('[]'.repeat(1000), 1)).toBe(false);
  });
});
