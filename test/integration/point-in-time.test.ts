/**
 * Point-in-time recovery on real threads: a table's items as of a chosen moment, rebuilt
 * from the archive (a base snapshot and the WAL after it, cut at the clock marks), in a
 * new table; and DynamoDB's errors around it. Across partition splits: a split does not
 * move the restorable window (DynamoDB's splits are invisible to its users), a restore to
 * a moment before a split rebuilds the parent as it was, one after it rebuilds each child
 * from the parent's archive up to the split and the child's own log after it, and a scrub
 * compares a child that has no archived snapshot of its own by that same chain.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Item, ShardBox } from '../../src/index.js';
import { createHashTable, expectDynamoError, openCluster, seedFromEnv, waitFor } from './helpers.js';

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

async function restoredAt(cluster: ShardBox, source: string, target: string, atMs: number): Promise<Map<string, string>> {
  await untilRestorable(cluster, source, atMs);
  await cluster.restoreTableToPointInTime({ SourceTableName: source, TargetTableName: target, RestoreDateTime: new Date(atMs) });
  await untilActive(cluster, target);
  return scanAll(cluster, target);
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

  it('deleting a table with point-in-time recovery leaves a SYSTEM backup of it, kept 35 days, that restores it', async () => {
    db = await openCluster({ archive: { intervalMs: 0, scrubEveryMs: 0 }, seed: seedFromEnv(20261208) });
    const cluster = db;
    await createHashTable(cluster, 'doomed');
    await createHashTable(cluster, 'plain');
    await cluster.updateContinuousBackups({ TableName: 'doomed', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    const items = new Map<string, string>();
    for (let i = 0; i < 60; i++) {
      await cluster.putItem({ TableName: 'doomed', Item: { id: { S: `k${i}` }, v: { S: `v${i}` } } });
      items.set(`k${i}`, `v${i}`);
    }
    await cluster.putItem({ TableName: 'plain', Item: { id: { S: 'x' }, v: { S: 'y' } } });
    const deletedAt = Date.now();
    expect((await cluster.deleteTable({ TableName: 'doomed' })).TableDescription.TableStatus).toBe('DELETING');
    await cluster.deleteTable({ TableName: 'plain' });
    await waitFor('doomed gone', 30_000, async () => (await cluster.listTables({})).TableNames.includes('doomed') ? undefined : true);

    // Only the table that had recovery on leaves one, and only SYSTEM (or ALL) lists it.
    expect((await cluster.listBackups({})).BackupSummaries).toEqual([]);
    const { BackupSummaries } = await cluster.listBackups({ BackupType: 'SYSTEM' });
    expect(BackupSummaries).toHaveLength(1);
    const summary = BackupSummaries[0];
    expect(summary).toMatchObject({ TableName: 'doomed', BackupName: 'doomed$DeletedTableBackup', BackupType: 'SYSTEM', BackupStatus: 'AVAILABLE' });
    expect(summary.BackupCreationDateTime.getTime()).toBeGreaterThanOrEqual(deletedAt);
    expect(summary.BackupExpiryDateTime!.getTime() - summary.BackupCreationDateTime.getTime()).toBe(35 * 86_400_000);
    expect((await cluster.listBackups({ BackupType: 'ALL' })).BackupSummaries).toEqual(BackupSummaries);
    const described = await cluster.describeBackup({ BackupArn: summary.BackupArn });
    expect(described.BackupDescription.BackupDetails).toMatchObject({ BackupType: 'SYSTEM', BackupExpiryDateTime: summary.BackupExpiryDateTime });
    expect(described.BackupDescription.SourceTableDetails.ItemCount).toBe(60);

    // The deleted table, restored under its own name, as it was just before the deletion.
    await cluster.restoreTableFromBackup({ BackupArn: summary.BackupArn, TargetTableName: 'doomed' });
    await untilActive(cluster, 'doomed');
    expect(await scanAll(cluster, 'doomed')).toEqual(items);

    // 35 days on, it is gone.
    const later = Date.now() + 35 * 86_400_000 + 1;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect((await cluster.listBackups({ BackupType: 'SYSTEM' })).BackupSummaries).toEqual([]);
    } finally {
      clock.mockRestore();
    }
    await expectDynamoError(cluster.describeBackup({ BackupArn: summary.BackupArn }), 'BackupNotFoundException');
  }, 60_000);

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

describe('point-in-time recovery across splits', () => {
  it('restores moments before, between and after two splits, with and without the children\'s own snapshots, and scrubs the children', async () => {
    const seed = seedFromEnv(20261205);
    db = await openCluster({ partitions: 2, archive: { intervalMs: 0, scrubEveryMs: 0 }, admission: false, seed });
    const cluster = db;
    await createHashTable(cluster, 'ledger');
    const on = await cluster.updateContinuousBackups({ TableName: 'ledger', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    const earliest = on.ContinuousBackupsDescription.PointInTimeRecoveryDescription.EarliestRestorableDateTime!.getTime();

    const live = new Map<string, string>();
    const put = async (id: string, v: string): Promise<void> => {
      await cluster.putItem({ TableName: 'ledger', Item: { id: { S: id }, v: { S: v } } });
      live.set(id, v);
    };
    const del = async (id: string): Promise<void> => {
      await cluster.deleteItem({ TableName: 'ledger', Key: { id: { S: id } } });
      live.delete(id);
    };
    // A moment whose state is known: the writes before it ended 600 ms earlier, the next
    // begin 600 ms later (clock marks are 200 ms apart, later on a busy machine).
    const moments: Array<{ name: string; atMs: number; items: Map<string, string> }> = [];
    const moment = async (name: string): Promise<void> => {
      await sleep(600);
      moments.push({ name, atMs: Date.now(), items: new Map(live) });
      await sleep(600);
    };

    for (let i = 0; i < 80; i++) await put(`k${i}`, 'v1');
    await moment('before any split');
    for (let i = 0; i < 40; i++) await put(`k${i}`, 'v2');
    for (let i = 40; i < 50; i++) await del(`k${i}`);
    await moment('just before the first split');

    const group = (await cluster.replicaStatus('ledger'))[0].partition.group;
    const first = await cluster.splitPartition('ledger', group);
    await moment('after the first split, before any write to the children');
    for (let i = 0; i < 80; i += 2) await put(`k${i}`, 'v3');
    for (let i = 0; i < 40; i++) await put(`n${i}`, 'v3');
    await moment('after writes to the children');

    const second = await cluster.splitPartition('ledger', first.children[1]);
    for (let i = 1; i < 80; i += 2) await put(`k${i}`, 'v4');
    for (let i = 0; i < 20; i++) await del(`n${i}`);
    await moment('after the second split and writes to its children');

    const described = (await cluster.describeContinuousBackups({ TableName: 'ledger' })).ContinuousBackupsDescription.PointInTimeRecoveryDescription;
    expect(described.EarliestRestorableDateTime!.getTime(), 'a split does not move the earliest restorable time').toBe(earliest);

    for (const [i, m] of moments.entries()) {
      expect(await restoredAt(cluster, 'ledger', `withSnapshots${i}`, m.atMs), `${m.name} (seed ${seed})`).toEqual(m.items);
    }

    // The children's own base snapshots gone (as after a split resumed by an open, which
    // takes none): restores and scrub rebuild them through their parents' archives.
    const store = cluster.archive.store!;
    const snapshotsOf = async (group: number): Promise<string[]> => (await store.list('snap/')).filter((k) => k.split('/')[2] === String(group));
    for (const child of [...first.children, ...second.children]) {
      for (const key of await snapshotsOf(child)) await store.delete(key);
    }
    for (const [i, m] of moments.entries()) {
      expect(await restoredAt(cluster, 'ledger', `throughParents${i}`, m.atMs), `${m.name}, through the parents (seed ${seed})`).toEqual(m.items);
    }
    const scrub = await cluster.scrub({ table: 'ledger' });
    expect(scrub.skipped, `seed ${seed}`).toEqual([]);
    expect(scrub.mismatches, `seed ${seed}`).toEqual([]);
    expect(scrub.compared).toBe(3 * 4);
    // The scrub archived a snapshot of each child it rebuilt through its parent.
    for (const child of [first.children[0], ...second.children]) {
      expect((await snapshotsOf(child)).some((k) => k.endsWith('.json')), `group ${child}'s snapshot`).toBe(true);
    }
    expect(await restoredAt(cluster, 'ledger', 'latest', Date.now())).toEqual(live);
  }, 180_000);

  it('rebuilds a split child of a table with local and global indexes through its parent, as its replicas hold it', async () => {
    const seed = seedFromEnv(20261206);
    db = await openCluster({ partitions: 1, archive: { intervalMs: 0, scrubEveryMs: 0 }, admission: false, seed });
    const cluster = db;
    await cluster.createTable({
      TableName: 'indexed',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'l', AttributeType: 'S' }, { AttributeName: 'g', AttributeType: 'S' },
      ],
      LocalSecondaryIndexes: [{ IndexName: 'byL', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'l', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
      GlobalSecondaryIndexes: [{ IndexName: 'byG', KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }], Projection: { ProjectionType: 'KEYS_ONLY' } }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    await cluster.updateContinuousBackups({ TableName: 'indexed', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
    const put = (i: number, v: string) => cluster.putItem({
      TableName: 'indexed', Item: { pk: { S: `p${i % 16}` }, sk: { S: `s${i}` }, l: { S: `${v}${i}` }, g: { S: `g${i % 5}` }, v: { S: v } },
    });
    for (let i = 0; i < 120; i++) await put(i, 'a');
    const group = (await cluster.replicaStatus('indexed'))[0].partition.group;
    const { children } = await cluster.splitPartition('indexed', group);
    for (let i = 0; i < 120; i += 3) await put(i, 'b');
    for (let i = 1; i < 120; i += 7) await cluster.deleteItem({ TableName: 'indexed', Key: { pk: { S: `p${i % 16}` }, sk: { S: `s${i}` } } });

    const store = cluster.archive.store!;
    for (const key of await store.list('snap/')) if (children.map(String).includes(key.split('/')[2])) await store.delete(key);
    const scrub = await cluster.scrub({ table: 'indexed' });
    expect(scrub.skipped, `seed ${seed}`).toEqual([]);
    expect(scrub.mismatches, `seed ${seed}`).toEqual([]);
    expect(scrub.compared).toBe(3 * 2);
  }, 120_000);
});
