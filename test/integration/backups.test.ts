/**
 * On-demand backups on a real cluster: a table with a local and a global index is backed
 * up while writes go on, and restored to a new table. Every write acknowledged before
 * CreateBackup was called is in the restored table with its value; no write begun after
 * CreateBackup answered is. The restored table's indexes answer queries; its
 * DescribeTable carries a RestoreSummary. Backups outlive their table and a reopen of the
 * cluster; a deleted backup is gone.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import type { Item } from '../../src/model/types.js';
import { expectDynamoError, openCluster, prng, seedFromEnv } from './helpers.js';

let db: ShardBox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const SEED = seedFromEnv(20261203);
const INITIAL_ITEMS = 300;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what} (seed ${SEED})`);
    await sleep(20);
  }
}

async function createOrders(box: ShardBox, name: string): Promise<void> {
  await box.createTable({
    TableName: name,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' },
      { AttributeName: 'placed', AttributeType: 'S' }, { AttributeName: 'status', AttributeType: 'S' },
    ],
    LocalSecondaryIndexes: [{
      IndexName: 'byPlaced',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'placed', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'ALL' },
    }],
    GlobalSecondaryIndexes: [{
      IndexName: 'byStatus',
      KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['total'] },
    }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  await waitFor('table ACTIVE', 20_000, async () => ((await box.describeTable({ TableName: name })).Table.TableStatus === 'ACTIVE' ? true : undefined));
}

function order(i: number, random: () => number, prefix = 'c'): Item {
  return {
    pk: { S: `${prefix}${i % 17}` },
    sk: { N: String(i) },
    placed: { S: `2026-12-${String(1 + (i % 28)).padStart(2, '0')}T${String(i).padStart(6, '0')}` },
    status: { S: ['open', 'paid', 'shipped'][i % 3]! },
    total: { N: String(Math.floor(random() * 100_000) / 100) },
    note: { S: 'x'.repeat(Math.floor(random() * 200)) },
  };
}

/** The string (or number) an attribute holds. */
const str = (item: Item, name: string): string => { const v = item[name] as { S?: string; N?: string }; return v.S ?? v.N!; };
const keyOf = (item: Item): string => `${str(item, 'pk')}/${str(item, 'sk')}`;

async function scanAll(box: ShardBox, table: string): Promise<Map<string, Item>> {
  const out = new Map<string, Item>();
  let start: Item | undefined;
  do {
    const page = await box.scan({ TableName: table, ConsistentRead: true, ...(start !== undefined ? { ExclusiveStartKey: start } : {}) });
    for (const item of page.Items ?? []) out.set(keyOf(item), item);
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return out;
}

describe('on-demand backups', () => {
  it('backs up a table while writes go on, restores it, and keeps backups across delete and reopen', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-backups-'));
    db = await openCluster({ dir });
    const box = db;
    const random = prng(SEED);
    await createOrders(box, 'orders');
    const acknowledged = new Map<string, Item>();
    for (let i = 0; i < INITIAL_ITEMS; i += 25) {
      const batch = Array.from({ length: 25 }, (_, j) => order(i + j, random));
      await box.batchWriteItem({ RequestItems: { orders: batch.map((Item) => ({ PutRequest: { Item } })) } });
      for (const item of batch) acknowledged.set(keyOf(item), item);
    }

    // Writers keep writing new items during the backup; each write's start and end are
    // compared with the call's.
    let stop = false;
    const writes: Array<{ item: Item; startedMs: number; ackedMs: number }> = [];
    let next = 100_000;
    const writer = async (): Promise<void> => {
      while (!stop) {
        const item = order(next++, random, 'w');
        const startedMs = performance.now();
        await box.putItem({ TableName: 'orders', Item: item });
        writes.push({ item, startedMs, ackedMs: performance.now() });
      }
    };
    const writers = [writer(), writer(), writer()];
    await sleep(50);
    const calledMs = performance.now();
    const created = await box.createBackup({ TableName: 'orders', BackupName: 'before-release' });
    const answeredMs = performance.now();
    await sleep(100);
    stop = true;
    await Promise.all(writers);

    const details = created.BackupDetails;
    expect(details.BackupArn).toMatch(/^arn:aws:dynamodb:local:000000000000:table\/orders\/backup\/\d{14}-[0-9a-f]{8}$/);
    expect(details).toMatchObject({ BackupName: 'before-release', BackupType: 'USER', BackupStatus: 'CREATING' });
    const available = await waitFor('backup AVAILABLE', 30_000, async () => {
      const d = (await box.describeBackup({ BackupArn: details.BackupArn })).BackupDescription;
      return d.BackupDetails.BackupStatus === 'AVAILABLE' ? d : undefined;
    });
    const before = writes.filter((w) => w.ackedMs < calledMs);
    const after = writes.filter((w) => w.startedMs > answeredMs);
    expect(before.length, `seed ${SEED}`).toBeGreaterThan(0);
    expect(after.length, `seed ${SEED}`).toBeGreaterThan(0);
    for (const w of before) acknowledged.set(keyOf(w.item), w.item);
    expect(available.SourceTableDetails).toMatchObject({ TableName: 'orders', BillingMode: 'PAY_PER_REQUEST' });
    expect(available.SourceTableDetails.ItemCount).toBeGreaterThanOrEqual(acknowledged.size);
    expect(available.BackupDetails.BackupSizeBytes).toBeGreaterThan(0);
    expect(available.SourceTableFeatureDetails.LocalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byPlaced']);
    expect(available.SourceTableFeatureDetails.GlobalSecondaryIndexes?.[0]).toMatchObject({
      IndexName: 'byStatus', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['total'] },
    });

    // Restore: CREATING at first, ACTIVE once every item is written.
    const restored = await box.restoreTableFromBackup({ TargetTableName: 'orders-copy', BackupArn: details.BackupArn });
    expect(restored.TableDescription.TableStatus).toBe('CREATING');
    expect(restored.TableDescription.RestoreSummary).toMatchObject({ SourceBackupArn: details.BackupArn, RestoreInProgress: true });
    await expectDynamoError(box.restoreTableFromBackup({ TargetTableName: 'orders-copy', BackupArn: details.BackupArn }), 'TableAlreadyExistsException', 'Table already exists: orders-copy');
    await expectDynamoError(box.deleteBackup({ BackupArn: details.BackupArn }), 'BackupInUseException');
    const table = await waitFor('restore finished', 60_000, async () => {
      const t = (await box.describeTable({ TableName: 'orders-copy' })).Table;
      return t.TableStatus === 'ACTIVE' && t.RestoreSummary?.RestoreInProgress === false ? t : undefined;
    });
    expect(table.RestoreSummary).toMatchObject({ SourceBackupArn: details.BackupArn, SourceTableArn: 'arn:aws:dynamodb:local:000000000000:table/orders' });
    expect(table.LocalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byPlaced']);
    expect(table.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byStatus']);

    const copy = await scanAll(box, 'orders-copy');
    for (const [key, item] of acknowledged) expect(copy.get(key), `${key} (seed ${SEED})`).toEqual(item);
    for (const w of after) expect(copy.has(keyOf(w.item)), `${keyOf(w.item)} written after the backup (seed ${SEED})`).toBe(false);
    expect(copy.size).toBe(available.SourceTableDetails.ItemCount);

    // The indexes of the restored table answer as the source's did for the same items.
    const lsi = await box.query({
      TableName: 'orders-copy', IndexName: 'byPlaced', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'c3' } },
    });
    const expectedC3 = [...copy.values()].filter((i) => str(i, 'pk') === 'c3').sort((a, b) => (str(a, 'placed') < str(b, 'placed') ? -1 : 1));
    expect(lsi.Items?.map(keyOf)).toEqual(expectedC3.map(keyOf));
    const gsiItems: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await box.query({
        TableName: 'orders-copy', IndexName: 'byStatus', KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'paid' } },
        ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
      });
      gsiItems.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    const paid = [...copy.values()].filter((i) => str(i, 'status') === 'paid');
    expect(gsiItems.map(keyOf).sort()).toEqual(paid.map(keyOf).sort());
    expect(gsiItems[0]).toHaveProperty('total');
    expect(gsiItems[0]).not.toHaveProperty('note');

    // Backups outlive their table; a deleted backup is gone.
    const second = await box.createBackup({ TableName: 'orders', BackupName: 'second' });
    await waitFor('second backup AVAILABLE', 30_000, async () => ((await box.describeBackup({ BackupArn: second.BackupDetails.BackupArn })).BackupDescription.BackupDetails.BackupStatus === 'AVAILABLE' ? true : undefined));
    await box.deleteTable({ TableName: 'orders' });
    await expectDynamoError(box.createBackup({ TableName: 'orders', BackupName: 'third' }), 'TableNotFoundException', 'Table not found: orders');
    const listed = await box.listBackups({ TableName: 'orders' });
    expect(listed.BackupSummaries.map((b) => b.BackupName)).toEqual(['before-release', 'second']);
    const deleted = await box.deleteBackup({ BackupArn: details.BackupArn });
    expect(deleted.BackupDescription.BackupDetails.BackupStatus).toBe('DELETED');
    await expectDynamoError(box.describeBackup({ BackupArn: details.BackupArn }), 'BackupNotFoundException', `Backup not found: ${details.BackupArn}`);
    await expectDynamoError(box.restoreTableFromBackup({ TargetTableName: 'again', BackupArn: details.BackupArn }), 'BackupNotFoundException');

    // After a reopen, the backup is still listed and still restores.
    await box.close();
    db = await openCluster({ dir });
    const reopened = await db.listBackups({});
    expect(reopened.BackupSummaries.map((b) => [b.BackupName, b.BackupStatus, b.TableName])).toEqual([['second', 'AVAILABLE', 'orders']]);
    await db.restoreTableFromBackup({ TargetTableName: 'orders-again', BackupArn: second.BackupDetails.BackupArn, GlobalSecondaryIndexOverride: [] });
    const box2 = db;
    const again = await waitFor('second restore finished', 60_000, async () => {
      const t = (await box2.describeTable({ TableName: 'orders-again' })).Table;
      return t.TableStatus === 'ACTIVE' ? t : undefined;
    });
    expect(again.GlobalSecondaryIndexes).toBeUndefined();
    const secondCopy = await scanAll(db, 'orders-again');
    for (const [key, item] of acknowledged) expect(secondCopy.get(key), key).toEqual(item);
  }, 180_000);

  it('refuses what DynamoDB refuses', async () => {
    db = await openCluster();
    const box = db;
    await createOrders(box, 'orders');
    await expectDynamoError(box.createBackup({ TableName: 'missing', BackupName: 'abc' }), 'TableNotFoundException', 'Table not found: missing');
    await expectDynamoError(box.createBackup({ TableName: 'orders', BackupName: 'a' }), 'ValidationException');
    const arn = 'arn:aws:dynamodb:local:000000000000:table/orders/backup/01700000000000-0123abcd';
    await expectDynamoError(box.describeBackup({ BackupArn: arn }), 'BackupNotFoundException', `Backup not found: ${arn}`);
    await expectDynamoError(box.deleteBackup({ BackupArn: arn }), 'BackupNotFoundException');
    const { BackupDetails } = await box.createBackup({ TableName: 'arn:aws:dynamodb:local:000000000000:table/orders', BackupName: 'by-arn' });
    await waitFor('backup AVAILABLE', 30_000, async () => ((await box.describeBackup({ BackupArn: BackupDetails.BackupArn })).BackupDescription.BackupDetails.BackupStatus === 'AVAILABLE' ? true : undefined));
    await expectDynamoError(box.restoreTableFromBackup({ TargetTableName: 'orders', BackupArn: BackupDetails.BackupArn }), 'TableAlreadyExistsException', 'Table already exists: orders');
    await expectDynamoError(box.restoreTableFromBackup({
      TargetTableName: 'copy', BackupArn: BackupDetails.BackupArn,
      LocalSecondaryIndexOverride: [{ IndexName: 'other', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'placed', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
    }), 'ValidationException', /other is not an index of the backup/);
    expect(await box.listTables()).toEqual({ TableNames: ['orders'] });
    const empty = await box.restoreTableFromBackup({ TargetTableName: 'copy', BackupArn: BackupDetails.BackupArn });
    expect(empty.TableDescription.TableName).toBe('copy');
    await waitFor('empty restore ACTIVE', 30_000, async () => ((await box.describeTable({ TableName: 'copy' })).Table.TableStatus === 'ACTIVE' ? true : undefined));
    expect((await box.scan({ TableName: 'copy' })).Count).toBe(0);
  }, 120_000);

  it('a restore that a close interrupts resumes at the next open', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-backups-'));
    db = await openCluster({ dir });
    const random = prng(SEED + 1);
    await createOrders(db, 'orders');
    const written = new Map<string, Item>();
    for (let i = 0; i < 1500; i += 25) {
      const batch = Array.from({ length: 25 }, (_, j) => ({ ...order(i + j, random), note: { S: 'n'.repeat(1500) } }));
      await db.batchWriteItem({ RequestItems: { orders: batch.map((Item) => ({ PutRequest: { Item } })) } });
      for (const item of batch) written.set(keyOf(item), item);
    }
    const box = db;
    const { BackupDetails } = await box.createBackup({ TableName: 'orders', BackupName: 'big' });
    await waitFor('backup AVAILABLE', 60_000, async () => ((await box.describeBackup({ BackupArn: BackupDetails.BackupArn })).BackupDescription.BackupDetails.BackupStatus === 'AVAILABLE' ? true : undefined));
    await box.restoreTableFromBackup({ TargetTableName: 'orders-copy', BackupArn: BackupDetails.BackupArn });
    await box.close();

    db = await openCluster({ dir });
    const reopened = db;
    const status = (await reopened.describeTable({ TableName: 'orders-copy' })).Table;
    expect(status.RestoreSummary?.SourceBackupArn).toBe(BackupDetails.BackupArn);
    await waitFor('resumed restore finished', 90_000, async () => {
      const t = (await reopened.describeTable({ TableName: 'orders-copy' })).Table;
      return t.TableStatus === 'ACTIVE' && t.RestoreSummary?.RestoreInProgress === false ? true : undefined;
    });
    const copy = await scanAll(reopened, 'orders-copy');
    expect(copy.size).toBe(written.size);
    for (const [key, item] of written) expect(copy.get(key), `${key} (seed ${SEED + 1})`).toEqual(item);
  }, 180_000);

  it('a restore from a damaged backup is refused: the table it began is dropped and a warning says why', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-backups-'));
    db = await openCluster({ dir });
    const box = db;
    const random = prng(SEED + 2);
    await createOrders(box, 'orders');
    for (let i = 0; i < 40; i++) await box.putItem({ TableName: 'orders', Item: order(i, random) });
    const { BackupDetails } = await box.createBackup({ TableName: 'orders', BackupName: 'to-damage' });
    await waitFor('backup AVAILABLE', 30_000, async () => ((await box.describeBackup({ BackupArn: BackupDetails.BackupArn })).BackupDescription.BackupDetails.BackupStatus === 'AVAILABLE' ? true : undefined));
    const id = BackupDetails.BackupArn.split('/').pop()!;
    const chunk = readdirSync(join(dir, 'backups', id)).find((f) => f.startsWith('p'))!;
    const file = join(dir, 'backups', id, chunk);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    writeFileSync(file, bytes);
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await box.restoreTableFromBackup({ TargetTableName: 'orders-copy', BackupArn: BackupDetails.BackupArn });
      await waitFor('the damaged restore dropped', 30_000, async () => ((await box.listTables()).TableNames.includes('orders-copy') ? undefined : true));
      expect(warnings.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/restoring backup .* to table orders-copy failed; the table is dropped: backup chunk .* fails its CRC32C/);
    } finally {
      warnings.mockRestore();
    }
  }, 120_000);
});
