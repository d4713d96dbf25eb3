/**
 * The stores a YCSB client thread can drive, behind YCSB's DB interface (read, update,
 * insert, scan). Requests have the shapes of YCSB's DynamoDB binding: GetItem with
 * ConsistentRead and AttributesToGet, UpdateItem with AttributeUpdates (PUT per field),
 * PutItem, Scan with ExclusiveStartKey and Limit. So `shardbox` and `dynamodb` do the same
 * work; `lmdb` does only the storage work (ENGINE_DESCRIPTIONS says what it leaves out);
 * `noop` does none, so it measures the harness and the machine alone.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ShardBoxClient, type RequestOptions, type RouterPort } from '../../src/index.js';
import type { OpTrace } from './stages.js';
import type { AttributeValue, Item, KeyShape } from '../../src/model/types.js';
import { encodeItemKey } from '../../src/model/key-encoding.js';
import { decodeItem, encodeItem } from '../../src/storage/codec.js';
import type { Outcome } from './results.js';

export { ENGINE_DESCRIPTIONS, ENGINE_NAMES, type EngineName } from './results.js';

/** The YCSB table's key attribute (YCSB's `dynamodb.primaryKey`). */
export const KEY_ATTRIBUTE = 'id';

/** What a client thread needs to reach its engine; plain data, sent once in workerData. */
export type EngineConnection =
  | { engine: 'shardbox'; ports: RouterPort[] }
  | { engine: 'lmdb'; path: string; durability: 'sync' | 'async' }
  | { engine: 'dynamodb'; endpoint: string; region: string }
  | { engine: 'noop' };

/** YCSB's DB interface, asynchronous. Each call resolves to the operation's outcome;
 *  nothing throws for a failed operation. */
export interface YcsbEngine {
  /** `trace`, where given, receives the request's stages if the engine has them (shardbox). */
  read(table: string, key: string, fields: string[] | undefined, consistent: boolean, trace?: OpTrace): Promise<Outcome>;
  update(table: string, key: string, values: Record<string, string>, trace?: OpTrace): Promise<Outcome>;
  insert(table: string, key: string, values: Record<string, string>, trace?: OpTrace): Promise<Outcome>;
  scan(table: string, startKey: string, count: number, fields: string[] | undefined): Promise<Outcome>;
  /** Blocks the thread until a reply may have come (true) or timeoutMs passed (false), if
   *  the engine can tell (shardbox's router doorbell); engines without it leave it out. */
  waitForReplies?(timeoutMs: number): boolean;
  close(): Promise<void>;
}

/** Maps a DynamoDB-shaped error (ours or the AWS SDK's) to an outcome, so throttles and
 *  timeouts are counted as such, never folded into ERROR. */
export function outcomeOf(error: unknown): Outcome {
  const name = (error as { name?: unknown })?.name;
  switch (name) {
    case 'ProvisionedThroughputExceededException':
    case 'ThrottlingException':
    case 'RequestLimitExceeded':
      return 'THROTTLED';
    case 'ServiceUnavailable':
    case 'ECONNREFUSED':
      return 'SERVICE_UNAVAILABLE';
    case 'TimeoutError':
    case 'RequestTimeout':
      return 'TIMEOUT';
    case 'InternalServerError':
      // Our router's "outcome unknown" answer is a timed-out attempt.
      return /unknown/.test(String((error as Error).message)) ? 'TIMEOUT' : 'ERROR';
    default:
      return 'ERROR';
  }
}

function keyOf(key: string): Item {
  return { [KEY_ATTRIBUTE]: { S: key } };
}

function itemOf(key: string, values: Record<string, string>): Item {
  const item: Item = { [KEY_ATTRIBUTE]: { S: key } };
  for (const name in values) item[name] = { S: values[name] };
  return item;
}

function attributeUpdatesOf(values: Record<string, string>): Record<string, { Value: AttributeValue; Action: 'PUT' }> {
  const updates: Record<string, { Value: AttributeValue; Action: 'PUT' }> = {};
  for (const name in values) updates[name] = { Value: { S: values[name] }, Action: 'PUT' };
  return updates;
}

/** Runs a request and maps its end to an outcome. */
async function outcome(request: Promise<unknown>, found?: (response: unknown) => boolean): Promise<Outcome> {
  try {
    const response = await request;
    return found === undefined || found(response) ? 'OK' : 'NOT_FOUND';
  } catch (error) {
    return outcomeOf(error);
  }
}

const hasItem = (response: unknown): boolean => (response as { Item?: unknown }).Item !== undefined;

/** Scan the way YCSB's DynamoDB binding does: pages from startKey until count items came
 *  back or the table ended. */
async function scanPages(
  scanPage: (exclusiveStartKey: Item, limit: number) => Promise<{ Count?: number; LastEvaluatedKey?: Item }>,
  startKey: string,
  count: number,
): Promise<void> {
  let seen = 0;
  let start: Item | undefined = keyOf(startKey);
  while (seen < count && start !== undefined) {
    const page = await scanPage(start, count - seen);
    seen += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  }
}

function timingInto(trace: OpTrace | undefined): RequestOptions | undefined {
  return trace === undefined ? undefined : { onTiming: (timing) => { trace.timing = timing; } };
}

/** The embedded engine, through this thread's own request router and rings. */
class ShardBoxEngine implements YcsbEngine {
  constructor(private readonly client: ShardBoxClient) {}

  read(table: string, key: string, fields: string[] | undefined, consistent: boolean, trace?: OpTrace): Promise<Outcome> {
    return outcome(this.client.getItem({ TableName: table, Key: keyOf(key), ConsistentRead: consistent, AttributesToGet: fields }, timingInto(trace)), hasItem);
  }

  update(table: string, key: string, values: Record<string, string>, trace?: OpTrace): Promise<Outcome> {
    return outcome(this.client.updateItem({ TableName: table, Key: keyOf(key), AttributeUpdates: attributeUpdatesOf(values) }, timingInto(trace)));
  }

  insert(table: string, key: string, values: Record<string, string>, trace?: OpTrace): Promise<Outcome> {
    return outcome(this.client.putItem({ TableName: table, Item: itemOf(key, values) }, timingInto(trace)));
  }

  waitForReplies(timeoutMs: number): boolean {
    return this.client.waitForReplies(timeoutMs);
  }

  scan(table: string, startKey: string, count: number, fields: string[] | undefined): Promise<Outcome> {
    return outcome(scanPages((start, limit) => this.client.scan({ TableName: table, ExclusiveStartKey: start, Limit: limit, AttributesToGet: fields }), startKey, count));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** Any DynamoDB-compatible endpoint through the AWS SDK, as YCSB's binding does. */
class DynamoDbEngine implements YcsbEngine {
  constructor(private readonly client: DynamoDBClient) {}

  read(table: string, key: string, fields: string[] | undefined, consistent: boolean): Promise<Outcome> {
    return outcome(this.client.send(new GetItemCommand({ TableName: table, Key: keyOf(key), ConsistentRead: consistent, AttributesToGet: fields })), hasItem);
  }

  update(table: string, key: string, values: Record<string, string>): Promise<Outcome> {
    return outcome(this.client.send(new UpdateItemCommand({ TableName: table, Key: keyOf(key), AttributeUpdates: attributeUpdatesOf(values) })));
  }

  insert(table: string, key: string, values: Record<string, string>): Promise<Outcome> {
    return outcome(this.client.send(new PutItemCommand({ TableName: table, Item: itemOf(key, values) })));
  }

  scan(table: string, startKey: string, count: number, fields: string[] | undefined): Promise<Outcome> {
    return outcome(scanPages(
      (start, limit) => this.client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, Limit: limit, AttributesToGet: fields })) as Promise<{ Count?: number; LastEvaluatedKey?: Item }>,
      startKey,
      count,
    ));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** Raw lmdb-js: the same item and key encoding as a storage node's B-tree, but none of
 *  request validation, routing, the thread hop to a storage node, replication or the WAL;
 *  so shardbox ÷ lmdb is the measured price of all of those together. Writes are batched
 *  by lmdb-js into one transaction per turn (its group commit), synced to disk under
 *  'sync'. Reads and scans check what they return, as a binding should. */
class LmdbEngine implements YcsbEngine {
  private static readonly SHAPE: KeyShape = { hashName: KEY_ATTRIBUTE, hashType: 'S' };

  constructor(private readonly root: RootDatabase, private readonly items: Database<Uint8Array, Uint8Array>) {}

  private key(key: string): Uint8Array {
    return encodeItemKey(1, LmdbEngine.SHAPE, keyOf(key));
  }

  async read(_table: string, key: string, fields: string[] | undefined): Promise<Outcome> {
    try {
      const bytes = this.items.getBinaryFast(this.key(key));
      if (bytes === undefined) return 'NOT_FOUND';
      return isYcsbItem(decodeItem(bytes), fields) ? 'OK' : 'ERROR';
    } catch (error) {
      return outcomeOf(error);
    }
  }

  async update(_table: string, key: string, values: Record<string, string>): Promise<Outcome> {
    const k = this.key(key);
    // Read-modify-write inside one write transaction, as a storage node applies UpdateItem.
    return outcome(this.items.transaction(() => {
      const bytes = this.items.getBinaryFast(k);
      const item = bytes === undefined ? keyOf(key) : decodeItem(bytes);
      for (const name in values) item[name] = { S: values[name] };
      this.items.put(k, encodeItem(item));
    }));
  }

  insert(_table: string, key: string, values: Record<string, string>): Promise<Outcome> {
    return outcome(this.items.put(this.key(key), encodeItem(itemOf(key, values))));
  }

  /** Up to `count` records from startKey on; every one must be a whole record with the
   *  fields asked for, and fewer than `count` only when the table ended. */
  async scan(_table: string, startKey: string, count: number, fields: string[] | undefined): Promise<Outcome> {
    try {
      let n = 0;
      for (const { value } of this.items.getRange({ start: this.key(startKey), limit: count })) {
        if (!isYcsbItem(decodeItem(value), fields)) return 'ERROR';
        n++;
      }
      if (n < count && n < this.items.getCount({ start: this.key(startKey) })) return 'ERROR';
      return 'OK';
    } catch (error) {
      return outcomeOf(error);
    }
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

/** True when an item is a YCSB record: its key, and the fields asked for (all of them
 *  when none are named: at least one besides the key), as strings. */
function isYcsbItem(item: Item, fields: string[] | undefined): boolean {
  const isString = (value: AttributeValue | undefined): boolean => value !== undefined && 'S' in value;
  if (!isString(item[KEY_ATTRIBUTE])) return false;
  if (fields === undefined) return Object.keys(item).length > 1;
  return fields.every((name) => isString(item[name]));
}

/** Does nothing and answers OK at once (on the next microtask, as a settled promise does):
 *  what is left of a latency is the client thread's pacing, generating and recording,
 *  and the machine's scheduling. */
class NoopEngine implements YcsbEngine {
  read(): Promise<Outcome> {
    return Promise.resolve('OK');
  }

  update(): Promise<Outcome> {
    return Promise.resolve('OK');
  }

  insert(): Promise<Outcome> {
    return Promise.resolve('OK');
  }

  scan(): Promise<Outcome> {
    return Promise.resolve('OK');
  }

  async close(): Promise<void> {}
}

/** Opens the engine of one client thread; `index` picks this thread's router port. */
export function connectEngine(connection: EngineConnection, index: number): YcsbEngine {
  switch (connection.engine) {
    case 'shardbox': {
      const port = connection.ports[index];
      if (port === undefined) throw new Error(`client thread ${index} has no router port (${connection.ports.length} were opened)`);
      return new ShardBoxEngine(ShardBoxClient.connect(port));
    }
    case 'lmdb': {
      const root = open({ path: connection.path, noSync: connection.durability === 'async', maxDbs: 2 });
      return new LmdbEngine(root, root.openDB({ name: 'items', keyEncoding: 'binary', encoding: 'binary' }));
    }
    case 'dynamodb':
      return new DynamoDbEngine(dynamoDbClient(connection.endpoint, connection.region));
    case 'noop':
      return new NoopEngine();
  }
}

/** An AWS SDK client for an endpoint; local stand-ins accept any credentials, real
 *  DynamoDB uses the environment's (AWS_ACCESS_KEY_ID, profiles, ...). */
export function dynamoDbClient(endpoint: string, region: string): DynamoDBClient {
  const local = /^https?:\/\/(localhost|127\.|\[::1\])/.test(endpoint);
  return new DynamoDBClient({
    endpoint,
    region,
    ...(local ? { credentials: { accessKeyId: 'shardbox', secretAccessKey: 'shardbox' } } : {}),
    // Keep-alive sockets and enough of them for an open-loop client with many requests in flight.
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 }, httpsAgent: { keepAlive: true, maxSockets: 256 } },
  });
}

/** Creates YCSB's table on a DynamoDB-compatible endpoint when it is missing (YCSB
 *  itself expects it to exist), on-demand, and waits until it is ACTIVE. */
export async function ensureDynamoDbTable(endpoint: string, region: string, table: string): Promise<void> {
  const client = dynamoDbClient(endpoint, region);
  try {
    try {
      await client.send(new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: KEY_ATTRIBUTE, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: KEY_ATTRIBUTE, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
    } catch (error) {
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    for (let waited = 0; ; waited += 200) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
      if (Table?.TableStatus === 'ACTIVE') return;
      if (waited > 60_000) throw new Error(`table ${table} at ${endpoint} is still ${Table?.TableStatus} after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    client.destroy();
  }
}
