/**
 * The wire format: base64 decoded at every AttributeValue position of every operation's
 * request, with DynamoDB's SerializationException for values of the wrong JSON type, and
 * responses encoded (binary as base64, dates as epoch seconds) without touching the
 * API's objects.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDBError } from '../../src/index.js';
import { decodeBase64, decodeRequest, encodeResponse, jsonDepthExceeds } from '../../src/server/wire.js';

const B = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);

function decoded(request: Record<string, unknown>): Record<string, unknown> {
  decodeRequest(request);
  return request;
}

function serializationMessage(request: Record<string, unknown>): string {
  try {
    decodeRequest(request);
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
    expect(() => decodeBase64('AQI')).toThrow("'AQI' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3");
    expect(() => decodeBase64('AQ-_')).toThrow("'AQ-_' can not be converted to a Blob: Invalid Base64 character: '-'");
    expect(() => decodeBase64('A=QI')).toThrow("Invalid Base64 character: '='");
    expect(() => decodeBase64('AR==')).toThrow("'AR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected");
    expect(() => decodeBase64('AQ =')).toThrow("Invalid Base64 character: ' '");
  });
});

describe('decodeRequest', () => {
  it('decodes B and BS everywhere an item or key can be, at any depth', () => {
    const nested = { M: { l: { L: [{ B: 'AQ==' }, { BS: ['Ag==', 'Aw=='] }, { M: { deep: { B: 'BA==' } } }] } } };
    const nestedOut = { M: { l: { L: [{ B: B(1) }, { BS: [B(2), B(3)] }, { M: { deep: { B: B(4) } } }] } } };
    expect(decoded({ TableName: 't', Item: { k: { B: 'AQ==' }, n: nested } })).toEqual({ TableName: 't', Item: { k: { B: B(1) }, n: nestedOut } });
    expect(decoded({ Key: { k: { B: '/w==' } }, ExpressionAttributeValues: { ':v': { BS: ['AQ=='] }, ':s': { S: 'AQ==' } } }))
      .toEqual({ Key: { k: { B: B(255) } }, ExpressionAttributeValues: { ':v': { BS: [B(1)] }, ':s': { S: 'AQ==' } } });
    expect(decoded({ ExclusiveStartKey: { k: { B: 'AQ==' } } })).toEqual({ ExclusiveStartKey: { k: { B: B(1) } } });
  });

  it('decodes the legacy conditions: Expected, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter', () => {
    expect(decoded({
      Expected: { a: { Value: { B: 'AQ==' } }, b: { ComparisonOperator: 'IN', AttributeValueList: [{ B: 'Ag==' }, { S: 'x' }] }, c: { Exists: false } },
      AttributeUpdates: { d: { Action: 'PUT', Value: { BS: ['Aw=='] } }, e: { Action: 'DELETE' } },
      KeyConditions: { k: { ComparisonOperator: 'EQ', AttributeValueList: [{ B: 'BA==' }] } },
      QueryFilter: { f: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ B: 'BQ==' }] } },
      ScanFilter: { g: { ComparisonOperator: 'NOT_NULL' } },
    })).toEqual({
      Expected: { a: { Value: { B: B(1) } }, b: { ComparisonOperator: 'IN', AttributeValueList: [{ B: B(2) }, { S: 'x' }] }, c: { Exists: false } },
      AttributeUpdates: { d: { Action: 'PUT', Value: { BS: [B(3)] } }, e: { Action: 'DELETE' } },
      KeyConditions: { k: { ComparisonOperator: 'EQ', AttributeValueList: [{ B: B(4) }] } },
      QueryFilter: { f: { ComparisonOperator: 'CONTAINS', AttributeValueList: [{ B: B(5) }] } },
      ScanFilter: { g: { ComparisonOperator: 'NOT_NULL' } },
    });
  });

  it('decodes batch and transaction request items, and leaves Tags and table names alone', () => {
    expect(decoded({ RequestItems: { Item: { Keys: [{ k: { B: 'AQ==' } }], ProjectionExpression: 'k' } } }))
      .toEqual({ RequestItems: { Item: { Keys: [{ k: { B: B(1) } }], ProjectionExpression: 'k' } } });
    expect(decoded({ RequestItems: { Key: [{ PutRequest: { Item: { k: { B: 'Ag==' } } } }, { DeleteRequest: { Key: { k: { B: 'Aw==' } } } }] } }))
      .toEqual({ RequestItems: { Key: [{ PutRequest: { Item: { k: { B: B(2) } } } }, { DeleteRequest: { Key: { k: { B: B(3) } } } }] } });
    expect(decoded({ TransactItems: [
      { Put: { Item: { k: { B: 'AQ==' } }, ExpressionAttributeValues: { ':v': { B: 'Ag==' } } } },
      { Update: { Key: { k: { B: 'Aw==' } } } }, { Delete: { Key: { k: { B: 'BA==' } } } },
      { ConditionCheck: { Key: { k: { B: 'BQ==' } } } }, { Get: { Key: { k: { B: 'Bg==' } } } },
    ] })).toEqual({ TransactItems: [
      { Put: { Item: { k: { B: B(1) } }, ExpressionAttributeValues: { ':v': { B: B(2) } } } },
      { Update: { Key: { k: { B: B(3) } } } }, { Delete: { Key: { k: { B: B(4) } } } },
      { ConditionCheck: { Key: { k: { B: B(5) } } } }, { Get: { Key: { k: { B: B(6) } } } },
    ] });
    expect(decoded({ ResourceArn: 'arn', Tags: [{ Key: 'k', Value: 'AQ==' }] })).toEqual({ ResourceArn: 'arn', Tags: [{ Key: 'k', Value: 'AQ==' }] });
    expect(decoded({ Statement: 'SELECT', Parameters: [{ B: 'AQ==' }] })).toEqual({ Statement: 'SELECT', Parameters: [{ B: B(1) }] });
  });

  it('gives DynamoDB\'s SerializationException for values of the wrong JSON type', () => {
    expect(serializationMessage({ Item: { a: { S: 5 } } })).toBe('class java.lang.Short can not be converted to an String');
    expect(serializationMessage({ Item: { a: { S: 2147483648 } } })).toBe('class java.lang.Long can not be converted to an String');
    expect(serializationMessage({ Item: { a: { N: 1.5 } } })).toBe('class java.lang.Double can not be converted to an String');
    expect(serializationMessage({ Item: { a: { S: true } } })).toBe('class java.lang.Boolean can not be converted to an String');
    expect(serializationMessage({ Item: { a: { S: {} } } })).toBe('Start of structure or map found where not expected.');
    expect(serializationMessage({ Item: { a: { S: [] } } })).toBe('Start of list found where not expected');
    expect(serializationMessage({ Item: { a: { B: -40000 } } })).toBe('class java.lang.Integer can not be converted to a Blob');
    expect(serializationMessage({ Item: { a: { BOOL: 'maybe' } } })).toBe("'maybe' can not be converted to an Boolean");
    expect(serializationMessage({ Item: { a: { L: 'x' } } })).toBe('Expected list or null');
    expect(serializationMessage({ Item: { a: { M: [] } } })).toBe('Start of list found where not expected');
    expect(serializationMessage({ Item: { a: { M: 3 } } })).toBe('Expected map or null');
    expect(serializationMessage({ Item: { a: 'x' } })).toBe('Expected null');
    expect(serializationMessage({ Item: [] })).toBe('Start of list found where not expected');
    expect(serializationMessage({ Keys: {} })).toBe('Start of structure or map found where not expected.');
    expect(serializationMessage({ ExpressionAttributeValues: { ':v': { BS: ['AQ==', 'AQ'] } } }))
      .toBe("'AQ' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 2");
  });

  it('takes JSON null as absent and DynamoDB\'s boolean strings as booleans', () => {
    expect(decoded({ Item: { a: { S: 'x', B: null }, b: { BOOL: 'true' }, c: { NULL: 'YES' }, d: { BOOL: '0' } } }))
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
