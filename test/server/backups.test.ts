/**
 * On-demand backups through the HTTP server, driven by the AWS SDK for JavaScript v3:
 * the SDK's own shapes and error classes (timestamps on the wire, BackupNotFoundException,
 * TableNotFoundException, TableAlreadyExistsException), and the wire's type checks.
 */
import {
  BackupNotFoundException, CreateBackupCommand, CreateTableCommand, DeleteBackupCommand, DescribeBackupCommand, DescribeTableCommand,
  GetItemCommand, ListBackupsCommand, PutItemCommand, QueryCommand, RestoreTableFromBackupCommand, TableAlreadyExistsException,
  TableNotFoundException, type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { startServer, type ShardBoxServer } from '../../src/server/http.js';
import { httpClient, openDb, rejection, wireRequest } from './helpers.js';

let db: ShardBox;
let server: ShardBoxServer;
let client: DynamoDBClient;

beforeAll(async () => {
  db = await openDb();
  server = await startServer(db, { port: 0 });
  client = httpClient(server.url);
  await client.send(new CreateTableCommand({
    TableName: 'music',
    KeySchema: [{ AttributeName: 'artist', KeyType: 'HASH' }, { AttributeName: 'song', KeyType: 'RANGE' }],
    AttributeDefinitions: [{ AttributeName: 'artist', AttributeType: 'S' }, { AttributeName: 'song', AttributeType: 'S' }, { AttributeName: 'year', AttributeType: 'N' }],
    GlobalSecondaryIndexes: [{ IndexName: 'byYear', KeySchema: [{ AttributeName: 'year', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' }, ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }],
    ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
  }));
  for (let i = 0; i < 40; i++) {
    await client.send(new PutItemCommand({ TableName: 'music', Item: { artist: { S: `a${i % 4}` }, song: { S: `s${i}` }, year: { N: String(1990 + (i % 5)) }, bytes: { B: new Uint8Array([i, 255 - i]) } } }));
  }
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await db?.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 1500; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('backups through the AWS SDK', () => {
  it('creates, describes, lists, restores and deletes a backup', async () => {
    const startedAt = new Date(Date.now() - 1000);
    const created = await client.send(new CreateBackupCommand({ TableName: 'music', BackupName: 'music-2026' }));
    const arn = created.BackupDetails!.BackupArn!;
    expect(arn).toMatch(/^arn:aws:dynamodb:local:000000000000:table\/music\/backup\/\d{14}-[0-9a-f]{8}$/);
    expect(created.BackupDetails!.BackupCreationDateTime).toBeInstanceOf(Date);
    const described = await until('AVAILABLE', async () => {
      const d = await client.send(new DescribeBackupCommand({ BackupArn: arn }));
      return d.BackupDescription?.BackupDetails?.BackupStatus === 'AVAILABLE' ? d.BackupDescription : undefined;
    });
    expect(described.SourceTableDetails).toMatchObject({ TableName: 'music', ItemCount: 40, BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } });
    expect(described.SourceTableFeatureDetails?.GlobalSecondaryIndexes?.[0]).toMatchObject({ IndexName: 'byYear', ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } });

    const listed = await client.send(new ListBackupsCommand({ TableName: 'music', TimeRangeLowerBound: startedAt, TimeRangeUpperBound: new Date(Date.now() + 60_000) }));
    expect(listed.BackupSummaries?.map((b) => b.BackupArn)).toEqual([arn]);
    expect(listed.BackupSummaries?.[0]?.BackupCreationDateTime).toBeInstanceOf(Date);
    expect((await client.send(new ListBackupsCommand({ TimeRangeUpperBound: startedAt }))).BackupSummaries).toEqual([]);

    const restored = await client.send(new RestoreTableFromBackupCommand({
      TargetTableName: 'music-restored', BackupArn: arn, BillingModeOverride: 'PAY_PER_REQUEST',
    }));
    expect(restored.TableDescription?.TableStatus).toBe('CREATING');
    const table = await until('restored', async () => {
      const t = (await client.send(new DescribeTableCommand({ TableName: 'music-restored' }))).Table;
      return t?.TableStatus === 'ACTIVE' && t.RestoreSummary?.RestoreInProgress === false ? t : undefined;
    });
    expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.RestoreSummary?.SourceBackupArn).toBe(arn);
    expect(table.RestoreSummary?.RestoreDateTime).toBeInstanceOf(Date);
    const got = await client.send(new GetItemCommand({ TableName: 'music-restored', Key: { artist: { S: 'a1' }, song: { S: 's5' } }, ConsistentRead: true }));
    expect(got.Item?.bytes?.B).toEqual(new Uint8Array([5, 250]));
    const byYear = await client.send(new QueryCommand({ TableName: 'music-restored', IndexName: 'byYear', KeyConditionExpression: '#y = :y', ExpressionAttributeNames: { '#y': 'year' }, ExpressionAttributeValues: { ':y': { N: '1992' } } }));
    expect(byYear.Count).toBe(8);

    await expect(client.send(new RestoreTableFromBackupCommand({ TargetTableName: 'music-restored', BackupArn: arn }))).rejects.toBeInstanceOf(TableAlreadyExistsException);
    const deleted = await client.send(new DeleteBackupCommand({ BackupArn: arn }));
    expect(deleted.BackupDescription?.BackupDetails?.BackupStatus).toBe('DELETED');
    const missing = await rejection(() => client.send(new DescribeBackupCommand({ BackupArn: arn })));
    expect(missing).toBeInstanceOf(BackupNotFoundException);
    expect((missing as Error).message).toBe(`Backup not found: ${arn}`);
  }, 120_000);

  it('answers DynamoDB\'s errors', async () => {
    const notFound = await rejection(() => client.send(new CreateBackupCommand({ TableName: 'nothing', BackupName: 'abc' })));
    expect(notFound).toBeInstanceOf(TableNotFoundException);
    const paging = await rejection(() => client.send(new ListBackupsCommand({ Limit: 0 })));
    expect((paging as Error).name).toBe('ValidationException');
    const wrongType = await wireRequest(server.url, 'ListBackups', { TimeRangeLowerBound: true });
    expect(wrongType.status).toBe(400);
    expect((wrongType.json as { __type: string }).__type).toMatch(/SerializationException$/);
    const noName = await wireRequest(server.url, 'CreateBackup', { TableName: 'music', BackupName: 7 });
    expect((noName.json as { __type: string }).__type).toMatch(/SerializationException$/);
  });
});
