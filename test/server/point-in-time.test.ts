/**
 * Point-in-time recovery through the HTTP server, driven by the AWS SDK for JavaScript
 * v3: its shapes (timestamps as Dates) and error classes.
 */
import {
  CreateTableCommand, DeleteTableCommand, DescribeContinuousBackupsCommand, DescribeTableCommand, GetItemCommand, ListBackupsCommand,
  PointInTimeRecoveryUnavailableException, PutItemCommand, RestoreTableToPointInTimeCommand, UpdateContinuousBackupsCommand, type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardBox } from '../../src/index.js';
import { startServer, type ShardBoxServer } from '../../src/server/http.js';
import { httpClient, rejection } from './helpers.js';

let db: ShardBox;
let server: ShardBoxServer;
let client: DynamoDBClient;

beforeAll(async () => {
  db = await ShardBox.open({ durability: 'async', archive: { intervalMs: 0, scrubEveryMs: 0 } });
  server = await startServer(db, { port: 0 });
  client = httpClient(server.url);
  await client.send(new CreateTableCommand({
    TableName: 'ledger', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
  }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await db?.close();
});

describe('point-in-time recovery through the AWS SDK', () => {
  it('enables recovery, describes its window, and restores to the latest restorable time', async () => {
    const refused = await rejection(() => client.send(new RestoreTableToPointInTimeCommand({ SourceTableName: 'ledger', TargetTableName: 'copy', UseLatestRestorableTime: true })));
    expect(refused).toBeInstanceOf(PointInTimeRecoveryUnavailableException);
    const on = await client.send(new UpdateContinuousBackupsCommand({ TableName: 'ledger', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 7 } }));
    expect(on.ContinuousBackupsDescription).toMatchObject({ ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'ENABLED', RecoveryPeriodInDays: 7 } });
    expect(on.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.EarliestRestorableDateTime).toBeInstanceOf(Date);
    await client.send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'entry-1' }, amount: { N: '42' } } }));
    const written = Date.now();
    for (;;) {
      const d = await client.send(new DescribeContinuousBackupsCommand({ TableName: 'ledger' }));
      if (d.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.LatestRestorableDateTime!.getTime() >= written) break;
      await sleep(50);
    }
    const restored = await client.send(new RestoreTableToPointInTimeCommand({ SourceTableName: 'ledger', TargetTableName: 'copy', UseLatestRestorableTime: true }));
    expect(restored.TableDescription!.RestoreSummary!.RestoreDateTime).toBeInstanceOf(Date);
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'copy' }));
      if (Table!.TableStatus === 'ACTIVE') break;
      await sleep(50);
    }
    const { Item } = await client.send(new GetItemCommand({ TableName: 'copy', Key: { id: { S: 'entry-1' } }, ConsistentRead: true }));
    expect(Item).toEqual({ id: { S: 'entry-1' }, amount: { N: '42' } });

    // Deleted, the table leaves its SYSTEM backup.
    await client.send(new DeleteTableCommand({ TableName: 'ledger' }));
    const { BackupSummaries } = await client.send(new ListBackupsCommand({ BackupType: 'SYSTEM' }));
    expect(BackupSummaries).toHaveLength(1);
    expect(BackupSummaries![0]).toMatchObject({ TableName: 'ledger', BackupName: 'ledger$DeletedTableBackup', BackupType: 'SYSTEM', BackupStatus: 'AVAILABLE' });
    expect(BackupSummaries![0].BackupExpiryDateTime).toBeInstanceOf(Date);
  }, 60_000);
});
