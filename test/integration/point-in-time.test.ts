/**
 * Point-in-time recovery on real threads: a table's items as of a chosen moment, rebuilt
 * from the archive (a base snapshot and the WAL after it, cut at the clock marks), in a
 * new table; and DynamoDB's errors around it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Item, ShardBox } from '../../src/index.js';
import { createHashTable, expectDynamoError, openCluster, seedFromEnv } from './helpers.js';

let db: ShardBox | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

async function scanAll(cluster: ShardBox, table: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let start: Item | undefined;
  do {
    const page = await cluster.scan({ TableName: table, ConsistentRead: true, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) });
    for (const item of page.Items ?? []) out.set(item.id.S!, item.v.S!);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

async function untilActive(cluster: ShardBox, table: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { Table } = await cluster.describeTable({ TableName: table });
    if (Table?.TableStatus === 'ACTIVE' && Table.RestoreSummary?.RestoreInProgress === false) return;
    await sleep(50);
  }
  throw new Error(`table ${table} never became ACTIVE`);
}

async function untilRestorable(cluster: ShardBox, table: string, atMs: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const d = await cluster.describeContinuousBackups({ TableName: table });
    if ((d.ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime?.getTime() ?? 0) >= atMs) return;
    await sleep(50);
  }
  throw new Error(`${table} never became restorable to ${new Date(atMs).toISOString()}`);
}

describe('point-in-time recovery', () => {
  it('restores a table as it was at a chosen moment, and at the latest restorable time', async () => {
    db = await openCluster({ archive: { intervalMs: 0, scrubEveryMs: 0 }, seed: seedFromEnv(20261209) });
    const cluster = db;
    await createHashTable(cluster, 'history');
    expect((await cluster.describeContinuousBackups({ TableName: 'history' })).ContinuousBackupsDescription)
      .toEqual({ ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } });
    await expectDynamoError(cluster.restoreTableToPointInTime({ SourceTableName: 'history', TargetTableName: 'xyz', UseLatestRestorableTime: true }),
      'PointInTimeRecoveryUnavailableException', "Point in time recovery is not enabled for table 'history'");

    const put = (id: string, v: string) => cluster.putItem({ TableName: 'history', Item: { id: { S: id }, v: { S: v } } });
    for (let i = 0; i < 60; i++) await put(`early${i}`, 'before enabling');
    const enabled = await cluster.updateContinuousBackups({ TableName: 'history', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    const described = enabled.ContinuousBackupsDescription.PointInTimeRecoveryDescription;
    expect(described.PointInTimeRecoveryStatus).toBe('ENABLED');
    expect(described.RecoveryPeriodInDays).toBe(35);
    const earliest = described.EarliestRestorableDateTime!.getTime();

    await Promise.all(Array.from({ length: 100 }, (_, i) => put(`a${i}`, 'A')));
    await sleep(600);
    const atMs = Date.now();
    await sleep(600);
    await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => put(`b${i}`, 'B')),
      ...Array.from({ length: 50 }, (_, i) => put(`a${i}`, 'A2')),
      ...Array.from({ length: 10 }, (_, i) => cluster.deleteItem({ TableName: 'history', Key: { id: { S: `a${50 + i}` } } })),
    ]);
    await untilRestorable(cluster, 'history', atMs);

    await expectDynamoError(cluster.restoreTableToPointInTime({ SourceTableName: 'history', TargetTableName: 'tooEarly', RestoreDateTime: new Date(earliest - 60_000) }),
      'InvalidRestoreTimeException');
    await expectDynamoError(cluster.restoreTableToPointInTime({ SourceTableName: 'history', TargetTableName: 'history', RestoreDateTime: new Date(atMs) }),
      'TableAlreadyExistsException', 'Table already exists: history');

    const restored = await cluster.restoreTableToPointInTime({ SourceTableName: 'history', TargetTableName: 'atT', RestoreDateTime: new Date(atMs) });
    expect(restored.TableDescription.TableStatus).toBe('CREATING');
    expect(restored.TableDescription.RestoreSummary).toMatchObject({ RestoreInProgress: true, RestoreDateTime: new Date(atMs) });
    await untilActive(cluster, 'atT');
    const then = await scanAll(cluster, 'atT');
    const expectedThen = new Map<string, string>();
    for (let i = 0; i < 60; i++) expectedThen.set(`early${i}`, 'before enabling');
    for (let i = 0; i < 100; i++) expectedThen.set(`a${i}`, 'A');
    expect(then).toEqual(expectedThen);

    const afterWrites = Date.now();
    await untilRestorable(cluster, 'history', afterWrites);
    await cluster.restoreTableToPointInTime({ SourceTableArn: restored.TableDescription.RestoreSummary!.SourceTableArn!, TargetTableName: 'latest', UseLatestRestorableTime: true });
    await untilActive(cluster, 'latest');
    expect(await scanAll(cluster, 'latest')).toEqual(await scanAll(cluster, 'history'));

    const off = await cluster.updateContinuousBackups({ TableName: 'history', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } });
    expect(off.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus).toBe('DISABLED');
  }, 120_000);

  it('checks its input as DynamoDB does, and needs the archive', async () => {
    db = await openCluster({});
    await createHashTable(db, 'tbl');
    await expectDynamoError(db.updateContinuousBackups({ TableName: 'tbl', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      'ContinuousBackupsUnavailableException');
    await expectDynamoError(db.describeContinuousBackups({ TableName: 'missing' }), 'TableNotFoundException', 'Table not found: missing');
    await db.close();
    db = await openCluster({ archive: true });
    await createHashTable(db, 'tbl');
    await expectDynamoError(db.updateContinuousBackups({ TableName: 'tbl' } as never), 'ValidationException', /pointInTimeRecoverySpecification.*Member must not be null/);
    await expectDynamoError(db.updateContinuousBackups({ TableName: 'tbl', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true, RecoveryPeriodInDays: 36 } }),
      'ValidationException', /less than or equal to 35/);
    await expectDynamoError(db.restoreTableToPointInTime({ TargetTableName: 'xyz', UseLatestRestorableTime: true }), 'ValidationException', 'Either SourceTableArn or SourceTableName must be specified');
    await expectDynamoError(db.restoreTableToPointInTime({ SourceTableName: 'tbl', TargetTableName: 'xyz' }), 'ValidationException', 'Either RestoreDateTime or UseLatestRestorableTime must be specified');
    await expectDynamoError(db.restoreTableToPointInTime({ SourceTableName: 'missing', TargetTableName: 'xyz', UseLatestRestorableTime: true }), 'TableNotFoundException');
  }, 60_000);
});
