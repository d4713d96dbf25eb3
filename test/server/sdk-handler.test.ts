/**
 * The in-process SDK handler: DynamoDBClient and DynamoDBDocumentClient over
 * sdkHandler(db), with no sockets, and the shared dispatch's error handling.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand, ScanCommand as DocScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBError, type ShardBox } from '../../src/index.js';
import { dispatch, OPERATIONS } from '../../src/server/dispatch.js';
import { sdkHandler } from '../../src/server/sdk-handler.js';
import { DUMMY_CREDENTIALS, openDb, rejection } from './helpers.js';

let db: ShardBox;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  db = await openDb();
  client = new DynamoDBClient({ requestHandler: sdkHandler(db), region: 'local', credentials: DUMMY_CREDENTIALS });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await client.send(new CreateTableCommand({
    TableName: 'events',
    KeySchema: [{ AttributeName: 'feed', KeyType: 'HASH' }, { AttributeName: 'seq', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'feed', AttributeType: 'S' }, { AttributeName: 'seq', AttributeType: 'N' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
});

afterAll(async () => {
  client?.destroy();
  await db?.close();
});

describe('DynamoDBClient over sdkHandler', () => {
  it('describes and lists tables, with dates as Dates', async () => {
    const described = await client.send(new DescribeTableCommand({ TableName: 'events' }));
    expect(described.Table?.TableStatus).toBe('ACTIVE');
    expect(described.Table?.CreationDateTime).toBeInstanceOf(Date);
    expect(described.$metadata.httpStatusCode).toBe(200);
    expect(described.$metadata.requestId).toMatch(/^[0-9A-Z]{52}$/);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['events']);
  });

  it('puts the region the client signs for in ARNs', async () => {
    // The SDK signs region 'local' (DynamoDB Local's endpoint) for us-east-1.
    expect((await client.send(new DescribeTableCommand({ TableName: 'events' }))).Table?.TableArn).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/events');
    const elsewhere = new DynamoDBClient({ requestHandler: sdkHandler(db), region: 'ap-south-2', credentials: DUMMY_CREDENTIALS });
    expect((await elsewhere.send(new DescribeTableCommand({ TableName: 'events' }))).Table?.TableArn).toBe('arn:aws:dynamodb:ap-south-2:000000000000:table/events');
    elsewhere.destroy();
  });

  it('puts, updates and gets, with binary and 38-digit numbers intact', async () => {
    const item: Record<string, AttributeValue> = {
      feed: { S: 's1' }, seq: { N: '1' },
      payload: { B: new Uint8Array([0, 1, 2, 250, 255]) },
      parts: { BS: [new Uint8Array([1]), new Uint8Array([2, 3])] },
      big: { N: '99999999999999999999999999999999999999' },
      meta: { M: { raw: { B: new Uint8Array([7]) }, list: { L: [{ N: '1' }, { NULL: true }, { BOOL: false }] } } },
    };
    await client.send(new PutItemCommand({ TableName: 'events', Item: item }));
    const updated = await client.send(new UpdateItemCommand({
      TableName: 'events', Key: { feed: { S: 's1' }, seq: { N: '1' } },
      UpdateExpression: 'SET big = big - :one, note = :note', ExpressionAttributeValues: { ':one': { N: '1' }, ':note': { S: 'hi' } },
      ReturnValues: 'ALL_NEW',
    }));
    expect(updated.Attributes).toEqual({ ...item, big: { N: '99999999999999999999999999999999999998' }, note: { S: 'hi' } });
    const got = await client.send(new GetItemCommand({ TableName: 'events', Key: { feed: { S: 's1' }, seq: { N: '1' } }, ConsistentRead: true }));
    expect(got.Item).toEqual(updated.Attributes);
  });

  it('raises the SDK\'s exception classes', async () => {
    const notFound = await rejection(() => client.send(new GetItemCommand({ TableName: 'nope', Key: { feed: { S: 'x' } } })));
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound.message).toBe('Requested resource not found');
    const conditional = await rejection(() => client.send(new PutItemCommand({
      TableName: 'events', Item: { feed: { S: 's1' }, seq: { N: '1' } }, ConditionExpression: 'attribute_not_exists(feed)',
    })));
    expect(conditional).toBeInstanceOf(ConditionalCheckFailedException);
    expect(conditional.$metadata?.httpStatusCode).toBe(400);
    const invalid = await rejection(() => client.send(new QueryCommand({ TableName: 'events', KeyConditionExpression: 'seq = :s', ExpressionAttributeValues: { ':s': { N: '1' } } })));
    expect(invalid.name).toBe('ValidationException');
  });

  it('gives the SDK what it asks of a handler', () => {
    const handler = sdkHandler(db);
    expect(handler.httpHandlerConfigs()).toEqual({});
    handler.updateHttpClientConfig('requestTimeout', 1000);
    expect(handler.httpHandlerConfigs()).toEqual({ requestTimeout: 1000 });
    handler.destroy();
  });

  it('honours an abort signal that has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(() => client.send(new ListTablesCommand({}), { abortSignal: controller.signal }));
    expect(error.name).toBe('AbortError');
  });
});

describe('DynamoDBDocumentClient over sdkHandler', () => {
  it('round-trips native JavaScript values, sets and binaries', async () => {
    const item = {
      feed: 'doc', seq: 1, title: 'hello', tags: new Set(['a', 'b']), scores: new Set([1, 2.5]),
      blobs: new Set([new Uint8Array([1, 2]), new Uint8Array([3])]), raw: new Uint8Array([9, 9]),
      nested: { list: [1, 'two', { three: true }], nothing: null },
    };
    await doc.send(new PutCommand({ TableName: 'events', Item: item }));
    const got = await doc.send(new GetCommand({ TableName: 'events', Key: { feed: 'doc', seq: 1 }, ConsistentRead: true }));
    expect(got.Item).toEqual(item);
    const updated = await doc.send(new UpdateCommand({
      TableName: 'events', Key: { feed: 'doc', seq: 1 }, UpdateExpression: 'ADD tags :t REMOVE title',
      ExpressionAttributeValues: { ':t': new Set(['c']) }, ReturnValues: 'UPDATED_NEW',
    }));
    expect(updated.Attributes).toEqual({ tags: new Set(['a', 'b', 'c']) });
  });

  it('pages a query and a scan', async () => {
    for (let seq = 10; seq < 30; seq++) await doc.send(new PutCommand({ TableName: 'events', Item: { feed: 'paged', seq } }));
    const seqs: number[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new DocQueryCommand({
        TableName: 'events', KeyConditionExpression: 'feed = :s AND seq BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':s': 'paged', ':a': 12, ':b': 27 }, Limit: 5, ExclusiveStartKey: start, ConsistentRead: true,
      }));
      seqs.push(...page.Items!.map((i) => i.seq as number));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    expect(seqs).toEqual(Array.from({ length: 16 }, (_, i) => 12 + i));
    const scanned = await doc.send(new DocScanCommand({ TableName: 'events', FilterExpression: 'feed = :s', ExpressionAttributeValues: { ':s': 'paged' }, ConsistentRead: true }));
    expect(scanned.Count).toBe(20);
  });

  it('raises ConditionalCheckFailedException as the SDK class', async () => {
    const error = await rejection(() => doc.send(new PutCommand({ TableName: 'events', Item: { feed: 'doc', seq: 1 }, ConditionExpression: 'attribute_not_exists(seq)' })));
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
  });
});

describe('dispatch', () => {
  it('turns an error that is not DynamoDB\'s into InternalServerError 500 with a generic message, and logs it', async () => {
    const logged: unknown[] = [];
    const buggy = { putItem: () => Promise.reject(new TypeError('cannot read properties of undefined (secret detail)')) };
    const result = await dispatch(buggy, 'DynamoDB_20120810.PutItem', '{"TableName":"t"}', { logError: (_m, e) => logged.push(e) });
    expect(result.status).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' });
    expect(logged).toHaveLength(1);
    expect(String(logged[0])).toContain('secret detail');

    const thrower = { getItem: () => { throw new RangeError('sync bug'); } };
    const sync = await dispatch(thrower, 'DynamoDB_20120810.GetItem', '{}', { logError: () => { throw new Error('logger broke too'); } });
    expect(sync.status).toBe(500);
  });

  it('reaches the SDK as InternalServerError (after its retries) and ServiceUnavailable as 503', async () => {
    let calls = 0;
    const buggy = { listTables: () => { calls++; return Promise.reject(new Error('bug')); } };
    const sdk = new DynamoDBClient({ requestHandler: sdkHandler(buggy, { logError: () => {} }), region: 'local', credentials: DUMMY_CREDENTIALS, maxAttempts: 2 });
    const error = await rejection(() => sdk.send(new ListTablesCommand({})));
    expect(error.name).toBe('InternalServerError');
    expect(error.$metadata?.httpStatusCode).toBe(500);
    expect(calls).toBe(2);
    const closed = { listTables: () => Promise.reject(new DynamoDBError('ServiceUnavailable', 'The database is closed.')) };
    const sdk2 = new DynamoDBClient({ requestHandler: sdkHandler(closed), region: 'local', credentials: DUMMY_CREDENTIALS, maxAttempts: 1 });
    const unavailable = await rejection(() => sdk2.send(new ListTablesCommand({})));
    expect(unavailable.$metadata?.httpStatusCode).toBe(503);
    expect(unavailable.message).toBe('The database is closed.');
  });

  it('serves an operation as soon as the database has its method, and not before', async () => {
    expect(OPERATIONS.BatchGetItem.method).toBe('batchGetItem');
    const without = await dispatch({}, 'DynamoDB_20120810.BatchGetItem', '{"RequestItems":{}}');
    expect(JSON.parse(without.body).__type).toBe('com.amazon.coral.service#UnknownOperationException');
    let seen: unknown;
    const withIt = {
      batchGetItem: (input: unknown) => {
        seen = input;
        return Promise.resolve({ Responses: { t: [{ k: { B: new Uint8Array([1]) } }] }, UnprocessedKeys: {} });
      },
    };
    const served = await dispatch(withIt, 'DynamoDB_20120810.BatchGetItem', '{"RequestItems":{"t":{"Keys":[{"k":{"B":"AQ=="}}]}}}');
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body)).toEqual({ Responses: { t: [{ k: { B: 'AQ==' } }] }, UnprocessedKeys: {} });
    expect(seen).toEqual({ RequestItems: { t: { Keys: [{ k: { B: new Uint8Array([1]) } }] } } });
    // An operation whose method resolves to nothing answers with an empty body (TagResource).
    const empty = await dispatch({ tagResource: () => Promise.resolve(undefined) }, 'DynamoDB_20120810.TagResource', '{"ResourceArn":"a","Tags":[{"Key":"k","Value":"v"}]}');
    expect(empty).toEqual({ status: 200, body: '' });
  });

  it('builds requests the SDK way through HttpRequest too', async () => {
    const handler = sdkHandler(db);
    const { response } = await handler.handle(new HttpRequest({
      method: 'POST', hostname: 'localhost', path: '/', headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.ListTables' }, body: '{}',
    }));
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['x-amz-crc32'])).toBeGreaterThan(0);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({ TableNames: ['events'] });
  });
});
