/**
 * The DynamoDB HTTP server, driven by the AWS SDK for JavaScript v3 (low-level client and
 * DocumentClient) over real HTTP, and by raw requests where the wire itself is the point.
 */
import http from 'node:http';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DescribeEndpointsCommand,
  ListTagsOfResourceCommand,
  UntagResourceCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBServiceException,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand as DocQueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { crc32Table } from '../../src/server/crc32.js';
import { startServer, type ShardBoxServer } from '../../src/server/http.js';
import { httpClient, openDb, rawRequest, rejection, wireRequest } from './helpers.js';

let db: ShardBox;
let server: ShardBoxServer;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const logged: string[] = [];

beforeAll(async () => {
  db = await openDb();
  server = await startServer(db, { port: 0, logError: (m) => logged.push(m) });
  client = httpClient(server.url);
  doc = DynamoDBDocumentClient.from(client);
  await client.send(new CreateTableCommand({
    TableName: 'items',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await db?.close();
});

describe('tables', () => {
  it('creates, describes, lists and deletes a table; dates arrive as Dates', async () => {
    const before = Date.now();
    const created = await client.send(new CreateTableCommand({
      TableName: 'lifecycle',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 7 },
    }));
    const description = created.TableDescription!;
    expect(description.TableName).toBe('lifecycle');
    expect(description.TableStatus).toBe('CREATING');
    expect(description.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(description.ProvisionedThroughput?.WriteCapacityUnits).toBe(7);
    expect(description.CreationDateTime).toBeInstanceOf(Date);
    expect(description.CreationDateTime!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(description.CreationDateTime!.getTime()).toBeLessThanOrEqual(Date.now() + 1000);

    const described = await client.send(new DescribeTableCommand({ TableName: 'lifecycle' }));
    expect(described.Table?.TableArn).toBe(description.TableArn);
    expect(described.Table?.CreationDateTime?.getTime()).toBe(description.CreationDateTime!.getTime());

    const listed = await client.send(new ListTablesCommand({}));
    expect(listed.TableNames).toEqual(expect.arrayContaining(['items', 'lifecycle']));
    const page = await client.send(new ListTablesCommand({ Limit: 1 }));
    expect(page.TableNames).toHaveLength(1);
    expect(page.LastEvaluatedTableName).toBe(page.TableNames![0]);

    const deleted = await client.send(new DeleteTableCommand({ TableName: 'lifecycle' }));
    expect(deleted.TableDescription?.TableName).toBe('lifecycle');
    const gone = await rejection(() => client.send(new DescribeTableCommand({ TableName: 'lifecycle' })));
    expect(gone).toBeInstanceOf(ResourceNotFoundException);
  });

  it('gives ResourceNotFoundException and ValidationException with their names, messages and HTTP 400', async () => {
    const notFound = await rejection(() => client.send(new GetItemCommand({ TableName: 'missing', Key: { pk: { S: 'a' } } })));
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound.name).toBe('ResourceNotFoundException');
    expect(notFound.message).toBe('Requested resource not found');
    expect(notFound.$metadata?.httpStatusCode).toBe(400);

    const invalid = await rejection(() => client.send(new DescribeTableCommand({ TableName: 'ab' })));
    expect(invalid).toBeInstanceOf(DynamoDBServiceException);
    expect(invalid.name).toBe('ValidationException');
    // The table operations check the name's length first, with a message of its own.
    expect(invalid.message).toBe('TableName must be at least 3 characters long and at most 255 characters long');
    expect(invalid.$metadata?.httpStatusCode).toBe(400);

    const wrongKey = await rejection(() => client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'a' } } })));
    expect(wrongKey.name).toBe('ValidationException');
    expect(wrongKey.message).toBe('The provided key element does not match the schema');
  });
});

describe('items', () => {
  it('puts, gets, updates and deletes with expressions and ReturnValues (low-level client)', async () => {
    const key = { pk: { S: 'crud' }, sk: { N: '1' } };
    const first = await client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, name: { S: 'first' }, count: { N: '1' } }, ReturnValues: 'ALL_OLD' }));
    expect(first.Attributes).toBeUndefined();
    const second = await client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, name: { S: 'second' }, count: { N: '1' } }, ReturnValues: 'ALL_OLD' }));
    expect(second.Attributes?.name).toEqual({ S: 'first' });

    const got = await client.send(new GetItemCommand({ TableName: 'items', Key: key, ConsistentRead: true, ProjectionExpression: '#n', ExpressionAttributeNames: { '#n': 'name' } }));
    expect(got.Item).toEqual({ name: { S: 'second' } });

    const updated = await client.send(new UpdateItemCommand({
      TableName: 'items',
      Key: key,
      UpdateExpression: 'SET #c = #c + :inc, tags = :tags REMOVE #n',
      ConditionExpression: 'attribute_exists(pk) AND #c = :one',
      ExpressionAttributeNames: { '#c': 'count', '#n': 'name' },
      ExpressionAttributeValues: { ':inc': { N: '41' }, ':one': { N: '1' }, ':tags': { SS: ['a', 'b'] } },
      ReturnValues: 'UPDATED_NEW',
    }));
    expect(updated.Attributes).toEqual({ count: { N: '42' }, tags: { SS: ['a', 'b'] } });

    const allNew = await client.send(new UpdateItemCommand({
      TableName: 'items', Key: key, UpdateExpression: 'ADD #c :one', ExpressionAttributeNames: { '#c': 'count' },
      ExpressionAttributeValues: { ':one': { N: '1' } }, ReturnValues: 'ALL_NEW',
    }));
    expect(allNew.Attributes).toEqual({ ...key, count: { N: '43' }, tags: { SS: ['a', 'b'] } });

    const deleted = await client.send(new DeleteItemCommand({ TableName: 'items', Key: key, ReturnValues: 'ALL_OLD', ConditionExpression: '#c > :n', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':n': { N: '40' } } }));
    expect(deleted.Attributes?.count).toEqual({ N: '43' });
    const after = await client.send(new GetItemCommand({ TableName: 'items', Key: key, ConsistentRead: true }));
    expect(after.Item).toBeUndefined();
  });

  it('does the same through DynamoDBDocumentClient', async () => {
    const key = { pk: 'doc', sk: 7 };
    await doc.send(new PutCommand({ TableName: 'items', Item: { ...key, profile: { city: 'Oslo', visits: [1, 2, 3] }, flags: new Set(['x', 'y']) } }));
    const got = await doc.send(new GetCommand({ TableName: 'items', Key: key, ConsistentRead: true }));
    expect(got.Item).toEqual({ ...key, profile: { city: 'Oslo', visits: [1, 2, 3] }, flags: new Set(['x', 'y']) });
    const updated = await doc.send(new UpdateCommand({
      TableName: 'items', Key: key, UpdateExpression: 'SET profile.city = :c, profile.visits[3] = :v',
      ExpressionAttributeValues: { ':c': 'Bergen', ':v': 4 }, ReturnValues: 'UPDATED_OLD',
    }));
    expect(updated.Attributes).toEqual({ profile: { city: 'Oslo' } });
    const page = await doc.send(new DocQueryCommand({ TableName: 'items', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'doc' }, ConsistentRead: true }));
    expect(page.Items).toEqual([{ ...key, profile: { city: 'Bergen', visits: [1, 2, 3, 4] }, flags: new Set(['x', 'y']) }]);
    await doc.send(new DeleteCommand({ TableName: 'items', Key: key }));
    expect((await doc.send(new GetCommand({ TableName: 'items', Key: key, ConsistentRead: true }))).Item).toBeUndefined();
  });

  it('fails a condition with ConditionalCheckFailedException, changing nothing, with the old item on request', async () => {
    const key = { pk: { S: 'cond' }, sk: { N: '1' } };
    await client.send(new PutItemCommand({ TableName: 'items', Item: { ...key, v: { N: '1' } } }));
    const error = await rejection(() => client.send(new PutItemCommand({
      TableName: 'items', Item: { ...key, v: { N: '2' } }, ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    })));
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error.message).toBe('The conditional request failed');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect((error as unknown as ConditionalCheckFailedException).Item).toEqual({ ...key, v: { N: '1' } });
    const docError = await rejection(() => doc.send(new UpdateCommand({ TableName: 'items', Key: { pk: 'cond', sk: 1 }, UpdateExpression: 'SET v = :v', ConditionExpression: 'v = :old', ExpressionAttributeValues: { ':v': 3, ':old': 99 } })));
    expect(docError).toBeInstanceOf(ConditionalCheckFailedException);
    const got = await client.send(new GetItemCommand({ TableName: 'items', Key: key, ConsistentRead: true }));
    expect(got.Item?.v).toEqual({ N: '1' });
  });

  it('round-trips binary and binary-set values, at the top level and nested in M and L', async () => {
    const all = new Uint8Array(256).map((_, i) => i);
    const item: Record<string, AttributeValue> = {
      pk: { S: 'bin' }, sk: { N: '1' },
      bytes: { B: all },
      empty: { B: new Uint8Array(0) },
      set: { BS: [new Uint8Array([0]), new Uint8Array([255, 254]), new Uint8Array([1, 2, 3, 4, 5])] },
      nested: { M: { deep: { L: [{ B: new Uint8Array([9, 8, 7]) }, { BS: [new Uint8Array([42])] }, { M: { b: { B: new Uint8Array([0xfb, 0xff]) } } }] } } },
    };
    await client.send(new PutItemCommand({ TableName: 'items', Item: item }));
    const got = await client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'bin' }, sk: { N: '1' } }, ConsistentRead: true }));
    expect(got.Item).toEqual(item);
    // Binary in conditions and expression values, too.
    await client.send(new UpdateItemCommand({
      TableName: 'items', Key: { pk: { S: 'bin' }, sk: { N: '1' } },
      UpdateExpression: 'DELETE #s :gone', ConditionExpression: 'bytes = :all AND contains(#s, :one)',
      ExpressionAttributeNames: { '#s': 'set' },
      ExpressionAttributeValues: { ':gone': { BS: [new Uint8Array([0])] }, ':all': { B: all }, ':one': { B: new Uint8Array([255, 254]) } },
    }));
    const after = await doc.send(new GetCommand({ TableName: 'items', Key: { pk: 'bin', sk: 1 }, ConsistentRead: true }));
    expect(after.Item?.set).toEqual(new Set([new Uint8Array([255, 254]), new Uint8Array([1, 2, 3, 4, 5])]));
  });

  it('round-trips 38-digit numbers exactly', async () => {
    const numbers = ['12345678901234567890123456789012345678', '-98765432109876543210987654321098765432', '1234567890123456789.0123456789012345678', '0.12345678901234567890123456789012345678'];
    for (const [i, n] of numbers.entries()) {
      await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'num' }, sk: { N: String(i) }, n: { N: n }, ns: { NS: [n, '1'] } } }));
      const got = await client.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'num' }, sk: { N: String(i) } }, ConsistentRead: true }));
      expect(got.Item?.n).toEqual({ N: n });
      expect(new Set(got.Item?.ns?.NS)).toEqual(new Set([n, '1']));
    }
  });
});

describe('query and scan', () => {
  const count = 25;

  beforeAll(async () => {
    await Promise.all(Array.from({ length: count }, (_, i) => client.send(new PutItemCommand({
      TableName: 'items', Item: { pk: { S: 'q' }, sk: { N: String(i) }, even: { BOOL: i % 2 === 0 } },
    }))));
  });

  it('pages a Query by Limit and LastEvaluatedKey, in both directions, with a filter', async () => {
    const seen: number[] = [];
    let start: Record<string, AttributeValue> | undefined;
    let pages = 0;
    do {
      const page = await client.send(new QueryCommand({
        TableName: 'items', KeyConditionExpression: 'pk = :pk AND sk >= :zero',
        ExpressionAttributeValues: { ':pk': { S: 'q' }, ':zero': { N: '0' } },
        Limit: 10, ExclusiveStartKey: start, ConsistentRead: true,
      }));
      seen.push(...page.Items!.map((item) => Number(item.sk.N)));
      start = page.LastEvaluatedKey;
      pages++;
      if (start !== undefined) expect(start).toEqual({ pk: { S: 'q' }, sk: { N: String(seen[seen.length - 1]) } });
    } while (start !== undefined);
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(pages).toBe(3);

    const backwards = await client.send(new QueryCommand({
      TableName: 'items', KeyConditionExpression: 'pk = :pk', FilterExpression: 'even = :t',
      ExpressionAttributeValues: { ':pk': { S: 'q' }, ':t': { BOOL: true } }, ScanIndexForward: false, ConsistentRead: true,
    }));
    expect(backwards.Items!.map((item) => Number(item.sk.N))).toEqual([24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0]);
    expect(backwards.ScannedCount).toBe(count);
  });

  it('splits a Scan by Segment/TotalSegments into disjoint parts that cover the table', async () => {
    const whole = await client.send(new ScanCommand({ TableName: 'items', ConsistentRead: true }));
    const key = (item: Record<string, AttributeValue>): string => `${item.pk.S}/${item.sk.N}`;
    const all = whole.Items!.map(key).sort();
    expect(all.filter((k) => k.startsWith('q/'))).toHaveLength(count);
    const parts: string[] = [];
    for (let segment = 0; segment < 4; segment++) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(new ScanCommand({ TableName: 'items', Segment: segment, TotalSegments: 4, Limit: 7, ExclusiveStartKey: start, ConsistentRead: true }));
        parts.push(...page.Items!.map(key));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
    }
    expect(parts.sort()).toEqual(all);
  });
});

describe('the wire', () => {
  it('sends x-amz-crc32 (IEEE CRC-32 of the body bytes), a request id and the JSON 1.0 content type', async () => {
    // The reference value of CRC-32/IEEE: crc32("123456789") = 0xCBF43926.
    expect(crc32Table(Buffer.from('123456789'))).toBe(0xcbf43926);
    for (const [operation, body] of [['ListTables', {}], ['DescribeTable', { TableName: 'items' }], ['DescribeTable', { TableName: 'nope' }]] as const) {
      const res = await wireRequest(server.url, operation, body);
      expect(Number(res.headers['x-amz-crc32'])).toBe(crc32Table(res.body));
      expect(res.headers['content-type']).toBe('application/x-amz-json-1.0');
      expect(res.headers['content-length']).toBe(String(res.body.length));
      expect(res.headers['x-amzn-requestid']).toMatch(/^[0-9A-Z]{52}$/);
    }
  });

  it('answers timestamps as epoch seconds and binary as base64', async () => {
    await client.send(new PutItemCommand({ TableName: 'items', Item: { pk: { S: 'wire' }, sk: { N: '1' }, b: { B: new Uint8Array([1, 2, 3]) }, bs: { BS: [new Uint8Array([255])] } } }));
    const described = await wireRequest(server.url, 'DescribeTable', { TableName: 'items' });
    const created = (described.json as { Table: { CreationDateTime: unknown } }).Table.CreationDateTime;
    expect(typeof created).toBe('number');
    expect(Math.abs((created as number) * 1000 - Date.now())).toBeLessThan(10 * 60 * 1000);
    const got = await wireRequest(server.url, 'GetItem', { TableName: 'items', Key: { pk: { S: 'wire' }, sk: { N: '1' } }, ConsistentRead: true });
    expect(got.json).toEqual({ Item: { pk: { S: 'wire' }, sk: { N: '1' }, b: { B: 'AQID' }, bs: { BS: ['/w=='] } } });
  });

  it('answers malformed JSON with SerializationException and, as DynamoDB, no message', async () => {
    for (const body of ['{bad', '{"TableName": "items"', '[1,2', 'habababa']) {
      const res = await wireRequest(server.url, 'PutItem', body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ __type: 'com.amazon.coral.service#SerializationException' });
    }
  });

  it('answers bad base64 with DynamoDB\'s SerializationException messages', async () => {
    const cases: Array<[unknown, string]> = [
      ['23456', 'Base64 encoded length is expected a multiple of 4 bytes but found: 5'],
      ['=+/=', 'Invalid last non-pad Base64 character dectected'],
      ['+/+=', 'Invalid last non-pad Base64 character dectected'],
      [true, 'only base-64-encoded strings are convertible to bytes'],
      [23, 'only base-64-encoded strings are convertible to bytes'],
      [[], 'Unrecognized collection type class java.nio.ByteBuffer'],
    ];
    for (const [b, message] of cases) {
      const res = await wireRequest(server.url, 'PutItem', { TableName: 'items', Item: { pk: { S: 'b64' }, sk: { N: '1' }, m: { M: { x: { BS: ['AAAA', b] } } } } });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ __type: 'com.amazon.coral.service#SerializationException', Message: message });
    }
    const get = await wireRequest(server.url, 'GetItem', { TableName: 'items', Key: { pk: { S: 'b64' }, sk: { N: '1' } }, ConsistentRead: true });
    expect(get.json).toEqual({});
  });

  it('answers an unknown or missing target, or an operation shardbox lacks, with UnknownOperationException', async () => {
    for (const target of ['DynamoDB_20120810.NoSuchOperation', 'DynamoDB_20120810.constructor', 'DynamoDB_20120810.__proto__', 'Whatever.ListTables']) {
      const res = await rawRequest(server.url, { headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target }, body: '{}' });
      expect(res.status).toBe(400);
      // DynamoDB names the error and says nothing more.
      expect(res.json).toEqual({ __type: 'com.amazon.coral.service#UnknownOperationException' });
      expect(res.headers['content-type']).toBe('application/x-amz-json-1.0');
    }
    // Answered in application/json unless asked in DynamoDB's own JSON type.
    const none = await rawRequest(server.url, { headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.json).toEqual({ __type: 'com.amazon.coral.service#UnknownOperationException' });
    expect(none.headers['content-type']).toBe('application/json');
    const viaSdk = await rejection(() => client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'items', Item: { pk: { S: 'x' }, sk: { N: '1' } } } }] })));
    expect(viaSdk.name).toBe('UnknownOperationException');
    expect(viaSdk.$metadata?.httpStatusCode).toBe(400);
  });

  it('answers GET / like DynamoDB\'s health check, and other methods with 404', async () => {
    const health = await rawRequest(server.url, { method: 'GET' });
    expect(health.status).toBe(200);
    expect(health.text).toBe('healthy: dynamodb.us-east-1.amazonaws.com ');
    const put = await rawRequest(server.url, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(404);
  });

  it('refuses a body over the cap with 413, by Content-Length or chunked, and stays up', async () => {
    const small = await startServer(db, { port: 0, maxBodyBytes: 4096 });
    try {
      const big = JSON.stringify({ TableName: 'items', Item: { pk: { S: 'big' }, sk: { N: '1' }, pad: { S: 'x'.repeat(10_000) } } });
      const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.PutItem' };
      const declared = await rawRequest(small.url, { headers, body: big });
      expect(declared.status).toBe(413);
      expect(declared.json).toMatchObject({ __type: expect.stringMatching(/#/), message: expect.stringContaining('4096') });
      const chunked = await rawRequest(small.url, { headers, body: big, chunked: true });
      expect(chunked.status).toBe(413);
      const viaSdk = await rejection(() => httpClient(small.url).send(new PutItemCommand(JSON.parse(big))));
      expect(viaSdk.$metadata?.httpStatusCode).toBe(413);
      // Nothing was written, and a request under the cap still works.
      const fine = await wireRequest(small.url, 'GetItem', { TableName: 'items', Key: { pk: { S: 'big' }, sk: { N: '1' } }, ConsistentRead: true });
      expect(fine.status).toBe(200);
      expect(fine.json).toEqual({});
    } finally {
      await small.close();
    }
  });

  it('keeps connections alive: many requests over few sockets', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    let connections = 0;
    const onConnection = (): void => {
      connections++;
    };
    server.server.on('connection', onConnection);
    const pooled = httpClient(server.url, { requestHandler: { httpAgent: agent } });
    try {
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => pooled.send(new GetItemCommand({ TableName: 'items', Key: { pk: { S: 'ka' }, sk: { N: String(i) } } }))));
      }
      expect(connections).toBeGreaterThanOrEqual(1);
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      server.server.off('connection', onConnection);
      pooled.destroy();
      agent.destroy();
    }
  });

  it('serves 200 concurrent requests, all successfully', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
    const wide = httpClient(server.url, { requestHandler: { httpAgent: agent } });
    try {
      const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => wide.send(new PutItemCommand({
        TableName: 'items', Item: { pk: { S: 'concurrent' }, sk: { N: String(i) }, v: { S: `value-${i}` } },
      }))));
      const failures = results.filter((r) => r.status === 'rejected');
      expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
      const counted = await wide.send(new QueryCommand({ TableName: 'items', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'concurrent' } }, Select: 'COUNT', ConsistentRead: true }));
      expect(counted.Count).toBe(200);
    } finally {
      wide.destroy();
      agent.destroy();
    }
  });
});

describe('the operations beyond the first ten', () => {
  it('batch-writes and batch-gets binary keys and values', async () => {
    await client.send(new CreateTableCommand({
      TableName: 'blobs', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'B' }], BillingMode: 'PAY_PER_REQUEST',
    }));
    const ids = [new Uint8Array([0]), new Uint8Array([1, 2]), new Uint8Array([255, 0, 255])];
    const written = await client.send(new BatchWriteItemCommand({
      RequestItems: { blobs: ids.map((id, i) => ({ PutRequest: { Item: { id: { B: id }, v: { BS: [id, new Uint8Array([100 + i])] } } } })) },
    }));
    expect(written.UnprocessedItems ?? {}).toEqual({});
    const got = await client.send(new BatchGetItemCommand({ RequestItems: { blobs: { Keys: ids.map((id) => ({ id: { B: id } })), ConsistentRead: true } } }));
    const items = got.Responses!.blobs.map((item) => ({ id: [...item.id.B!], v: item.v.BS!.map((b) => [...b]).sort() }));
    expect(items.sort((a, b) => a.id.length - b.id.length)).toEqual(ids.map((id, i) => ({ id: [...id], v: [[...id], [100 + i]].sort() })));
  });

  it('answers TagResource and UntagResource with an empty body, as DynamoDB does', async () => {
    const arn = (await client.send(new DescribeTableCommand({ TableName: 'items' }))).Table!.TableArn!;
    const tagged = await wireRequest(server.url, 'TagResource', { ResourceArn: arn, Tags: [{ Key: 'team', Value: 'storage' }] });
    expect(tagged.status).toBe(200);
    expect(tagged.text).toBe('');
    expect(Number(tagged.headers['x-amz-crc32'])).toBe(crc32Table(Buffer.alloc(0)));
    const listed = await client.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
    expect(listed.Tags).toEqual([{ Key: 'team', Value: 'storage' }]);
    await client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['team'] }));
    expect((await client.send(new ListTagsOfResourceCommand({ ResourceArn: arn }))).Tags ?? []).toEqual([]);
  });

  it('answers DescribeEndpoints with the address the client used', async () => {
    const endpoints = await client.send(new DescribeEndpointsCommand({}));
    expect(endpoints.Endpoints?.[0]?.Address).toBe(new URL(server.url).host);
  });
});

describe('bugs', () => {
  it('answers an exception that is not DynamoDB\'s with InternalServerError 500, logs it to stderr, and keeps serving', async () => {
    const buggy = { listTables: () => { throw new TypeError('x is undefined (internal detail)'); }, describeLimits: () => Promise.resolve({ AccountMaxReadCapacityUnits: 1 }) };
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const bugServer = await startServer(buggy, { port: 0 });
    try {
      const res = await wireRequest(bugServer.url, 'ListTables', {});
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' });
      expect(res.text).not.toContain('internal detail');
      expect(written.join('')).toContain('internal detail');
      const next = await wireRequest(bugServer.url, 'DescribeLimits', {});
      expect(next.json).toEqual({ AccountMaxReadCapacityUnits: 1 });
    } finally {
      spy.mockRestore();
      await bugServer.close();
    }
  });
});

describe('afterwards', () => {
  it('logged no internal errors', () => {
    expect(logged).toEqual([]);
  });
});

describe('signatures, regions and ARNs', () => {
  it('wants a signature of SigV4\'s form even without --auth, as DynamoDB does', async () => {
    const headers = { 'content-type': 'application/json', 'x-amz-target': 'DynamoDB_20120810.ListTables' };
    const missing = await rawRequest(server.url, { headers, body: '{}' });
    expect(missing.status).toBe(400);
    expect(missing.json).toEqual({ __type: 'com.amazon.coral.service#MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' });
    const incomplete = await rawRequest(server.url, { headers: { ...headers, authorization: 'AWS4- Signature=b Credential=a', 'x-amz-date': '20240101T000000Z' }, body: '{}' });
    expect(incomplete.json).toEqual({
      __type: 'com.amazon.coral.service#IncompleteSignatureException',
      message: "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b Credential=a",
    });
    // Any well-formed signature passes: it is not verified.
    const unverified = await wireRequest(server.url, 'ListTables', {});
    expect(unverified.status).toBe(200);
  });

  it('puts the region of the request\'s credential scope in the ARNs it answers with', async () => {
    const inRegion = httpClient(server.url, { region: 'eu-west-3' });
    try {
      const arn = (await inRegion.send(new DescribeTableCommand({ TableName: 'items' }))).Table!.TableArn!;
      expect(arn).toBe('arn:aws:dynamodb:eu-west-3:000000000000:table/items');
      // The same ARN names the table for tagging in that region, and not in another.
      await inRegion.send(new ListTagsOfResourceCommand({ ResourceArn: arn }));
      const elsewhere = await rejection(() => client.send(new ListTagsOfResourceCommand({ ResourceArn: arn })));
      expect(elsewhere.name).toBe('ValidationException');
    } finally {
      inRegion.destroy();
    }
  });

  it('relays IAM\'s AccessDeniedException with its capitalized Message', async () => {
    const res = await wireRequest(server.url, 'ListTagsOfResource', { ResourceArn: 'abcd' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      Message: 'User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: abcd',
    });
  });
});
