/**
 * On-demand backups without a cluster: the backup object formats and their checksums,
 * the chunks the background thread frames from export pieces, the catalog's cleanup at
 * load, ARNs and ids, the input checks of each operation, and ListBackups' paging.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backupArn, checkBackupArnInput, checkCreateBackupInput, checkListBackupsInput, checkRestoreInput, newBackupId, pageOfBackups,
  parseBackupArn, restoredTableInput,
} from '../../src/api/backups.js';
import {
  BackupCatalog, BackupChecksumError, decodeChunk, decodeManifest, encodeChunk, encodeManifest, type BackedUpTable, type BackupManifest,
} from '../../src/control/backup-catalog.js';
import backupChunk from '../../src/control/backup-worker.js';
import { itemSize } from '../../src/model/item-size.js';
import { ItemChecksumError, sealValue } from '../../src/storage/checked-values.js';
import { encodeItem } from '../../src/storage/codec.js';
import { packRows, SnapshotChecksumError, type SnapshotRow } from '../../src/storage/snapshot.js';
import { DirectoryObjectStore } from '../../src/control/object-store.js';
import type { Item } from '../../src/model/types.js';
import { seededRandom } from '../../src/model/prng.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function thrown(run: () => unknown): { name: string; message: string } {
  try {
    run();
  } catch (e) {
    return e as { name: string; message: string };
  }
  throw new Error('expected an error, none was thrown');
}

const TABLE: BackedUpTable = {
  name: 'orders',
  uuid: '00000000-0000-4000-8000-000000000000',
  createdAtMs: 1_700_000_000_000,
  keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
  attributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'N' },
    { AttributeName: 'byDate', AttributeType: 'S' }, { AttributeName: 'status', AttributeType: 'S' },
  ],
  billingMode: 'PAY_PER_REQUEST',
  readCapacityUnits: 0,
  writeCapacityUnits: 0,
  localIndexes: [{ name: 'date', keySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'byDate', KeyType: 'RANGE' }], projection: { ProjectionType: 'ALL' } }],
  globalIndexes: [{ name: 'status', keySchema: [{ AttributeName: 'status', KeyType: 'HASH' }], projection: { ProjectionType: 'KEYS_ONLY' }, readCapacityUnits: 0, writeCapacityUnits: 0 }],
};

function manifest(id: string, status: BackupManifest['status'] = 'AVAILABLE'): BackupManifest {
  return { format: 1, id, name: 'nightly', status, createdAtMs: 1_700_000_000_000, sizeBytes: 0, itemCount: 0, table: TABLE, chunks: [] };
}

describe("a backup chunk framed from a partition's export pieces (the background thread's task)", () => {
  const TABLE_ID = 7;
  const items: Item[] = [
    { pk: { S: 'a' }, sk: { N: '1' }, blob: { B: new Uint8Array([0, 1, 255]) } },
    { pk: { S: 'b' }, sk: { N: '2' }, tags: { SS: ['x', 'y'] } },
    { pk: { S: 'c' }, sk: { N: '3' }, n: { N: '-1.5e10' } },
  ];
  const storedKey = (tableId: number, n: number): Uint8Array => {
    const key = new Uint8Array(8);
    new DataView(key.buffer).setUint32(0, tableId);
    new DataView(key.buffer).setUint32(4, n);
    return key;
  };
  const itemRow = (tableId: number, n: number, item: Item): SnapshotRow => {
    const key = storedKey(tableId, n);
    return [key, sealValue(key, encodeItem(item))];
  };
  // Rows of another table id (index entries, bookkeeping) are not items of the backup.
  const otherRow = (n: number): SnapshotRow => itemRow(TABLE_ID + 1, n, { pk: { S: 'index entry' } });

  it("holds the table's items of every piece, in order, with their count and DynamoDB size", () => {
    const pieces = [packRows([itemRow(TABLE_ID, 0, items[0]!), otherRow(0)]), packRows([]), packRows([itemRow(TABLE_ID, 1, items[1]!), itemRow(TABLE_ID, 2, items[2]!)])];
    const chunk = backupChunk({ tableId: TABLE_ID, pieces });
    expect(decodeChunk(chunk.bytes)).toEqual(items);
    expect(chunk.items).toBe(3);
    expect(chunk.sizeBytes).toBe(items.reduce((n, item) => n + itemSize(item), 0));
    expect(chunk.bytes).toEqual(encodeChunk(items));
  });

  it('is empty when the pieces hold no item of the table', () => {
    expect(backupChunk({ tableId: TABLE_ID, pieces: [packRows([otherRow(1)])] })).toEqual({ bytes: new Uint8Array(0), items: 0, sizeBytes: 0 });
  });

  it('refuses a damaged item and a damaged piece: nothing damaged is backed up', () => {
    const row = itemRow(TABLE_ID, 0, items[0]!);
    row[1][row[1].length - 1]! ^= 0x10;
    expect(() => backupChunk({ tableId: TABLE_ID, pieces: [packRows([row])] })).toThrow(ItemChecksumError);
    const piece = packRows([itemRow(TABLE_ID, 0, items[0]!)]);
    expect(() => backupChunk({ tableId: TABLE_ID, pieces: [{ payload: piece.payload, crc: piece.crc ^ 1 }] })).toThrow(SnapshotChecksumError);
  });
});

describe('backup objects', () => {
  const items: Item[] = [
    { pk: { S: 'a' }, sk: { N: '1' }, blob: { B: new Uint8Array([0, 1, 255]) }, tags: { SS: ['x', 'y'] } },
    { pk: { S: 'b' }, sk: { N: '2' }, nested: { M: { list: { L: [{ NULL: true }, { BOOL: false }] } } } },
  ];

  it('a chunk reads back as the items it was written from', () => {
    expect(decodeChunk(encodeChunk(items))).toEqual(items);
    expect(decodeChunk(encodeChunk([]))).toEqual([]);
  });

  it('any flipped byte of a chunk fails its checksum (seeded positions)', () => {
    const seed = 0x5eed;
    const random = seededRandom(seed);
    const bytes = encodeChunk(items);
    for (let i = 0; i < 50; i++) {
      const damaged = bytes.slice();
      const at = Math.floor(random() * damaged.length);
      damaged[at]! ^= 1 << Math.floor(random() * 8);
      expect(() => decodeChunk(damaged), `seed ${seed}, byte ${at}`).toThrow(BackupChecksumError);
    }
  });

  it('a chunk whose CRC32C is not the one its manifest lists is refused', () => {
    const other = encodeChunk([items[0]!]);
    const crc = new DataView(other.buffer).getUint32(other.length - 4, true);
    expect(() => decodeChunk(encodeChunk(items), crc)).toThrow(/not the chunk its manifest lists/);
  });

  it('a manifest reads back, and a damaged one fails its checksum', () => {
    const m = manifest(newBackupId(1_700_000_000_000));
    const bytes = encodeManifest(m);
    expect(decodeManifest(bytes)).toEqual(m);
    const damaged = bytes.slice();
    damaged[damaged.length - 3]! ^= 0x20;
    expect(() => decodeManifest(damaged)).toThrow(BackupChecksumError);
  });

  it('load removes backups left CREATING and chunks without a manifest', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-backups-'));
    const store = new DirectoryObjectStore(dir);
    const catalog = new BackupCatalog(store);
    const kept = manifest('01700000000000-00000001');
    const ref = await catalog.writeChunk(kept.id, 0, 0, items);
    await catalog.putManifest({ ...kept, chunks: [ref] });
    const interrupted = manifest('01700000000001-00000002', 'CREATING');
    await catalog.putManifest(interrupted);
    await catalog.writeChunk(interrupted.id, 0, 0, items);
    await catalog.writeChunk('01700000000002-00000003', 1, 0, items);
    const loaded = await catalog.load();
    expect(loaded.manifests.map((m) => m.id)).toEqual([kept.id]);
    expect(loaded.removed.sort()).toEqual([interrupted.id, '01700000000002-00000003']);
    expect(await store.list('')).toEqual([`${kept.id}/manifest`, ref.key]);
    expect(await catalog.readChunk(ref)).toEqual(items);
    await catalog.remove(kept.id);
    expect(await store.list('')).toEqual([]);
  });
});

describe('backup ARNs', () => {
  it('ids are 14 digits of creation ms and 8 hex digits, and ARNs parse back', () => {
    const id = newBackupId(1_576_616_366_715, new Uint8Array([0xb4, 0xe5, 0x8d, 0x3a]));
    expect(id).toBe('01576616366715-b4e58d3a');
    const arn = backupArn('Music.Collection', id);
    expect(arn).toBe('arn:aws:dynamodb:local:000000000000:table/Music.Collection/backup/01576616366715-b4e58d3a');
    expect(parseBackupArn(arn)).toEqual({ tableName: 'Music.Collection', id });
    expect(parseBackupArn(`${arn}x`)).toBeUndefined();
    expect(parseBackupArn('arn:aws:dynamodb:local:000000000000:table/Music/backup/1576616366715-b4e58d3a')).toBeUndefined();
  });

  it('later ids sort after earlier ones', () => {
    expect(newBackupId(999) < newBackupId(1000)).toBe(true);
    expect(newBackupId(1_700_000_000_000) < newBackupId(1_700_000_000_001)).toBe(true);
  });
});

describe('input checks', () => {
  it('CreateBackup', () => {
    expect(checkCreateBackupInput({ TableName: 'orders', BackupName: 'nightly-1' })).toEqual({ tableName: 'orders', backupName: 'nightly-1' });
    expect(checkCreateBackupInput({ TableName: 'arn:aws:dynamodb:local:000000000000:table/orders', BackupName: 'abc' }).tableName).toBe('orders');
    expect(thrown(() => checkCreateBackupInput({ TableName: 'orders' })).message)
      .toBe("1 validation error detected: Value null at 'backupName' failed to satisfy constraint: Member must not be null");
    const bad = thrown(() => checkCreateBackupInput({ TableName: 'o', BackupName: 'a b' }));
    expect(bad.name).toBe('ValidationException');
    expect(bad.message).toBe('2 validation errors detected: '
      + "Value 'o' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; "
      + "Value 'a b' at 'backupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    expect(thrown(() => checkCreateBackupInput({ TableName: 'orders', BackupName: 'ab' })).message).toMatch(/length greater than or equal to 3/);
    expect(thrown(() => checkCreateBackupInput({ TableName: 'orders', BackupName: 5 })).name).toBe('SerializationException');
    expect(thrown(() => checkCreateBackupInput({ TableName: 'arn:aws:dynamodb:elsewhere:000000000000:table/orders', BackupName: 'abc' })).name).toBe('ValidationException');
  });

  it('DescribeBackup and DeleteBackup', () => {
    expect(thrown(() => checkBackupArnInput({})).message).toBe("1 validation error detected: Value null at 'backupArn' failed to satisfy constraint: Member must not be null");
    expect(thrown(() => checkBackupArnInput({ BackupArn: 'arn:short' })).message).toMatch(/'backupArn' failed to satisfy constraint: Member must have length greater than or equal to 37/);
    expect(checkBackupArnInput({ BackupArn: backupArn('orders', newBackupId(1)) })).toMatch(/backup\/00000000000001-/);
  });

  it('ListBackups', () => {
    expect(checkListBackupsInput({})).toEqual({ limit: 100, type: 'USER' });
    expect(thrown(() => checkListBackupsInput({ Limit: 0 })).message).toMatch(/'limit' failed to satisfy constraint: Member must have value greater than or equal to 1/);
    expect(thrown(() => checkListBackupsInput({ Limit: 101 })).message).toMatch(/Member must have value less than or equal to 100/);
    expect(thrown(() => checkListBackupsInput({ Limit: 1.5 })).name).toBe('SerializationException');
    expect(thrown(() => checkListBackupsInput({ BackupType: 'DAILY' })).message)
      .toMatch(/Value 'DAILY' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: \[USER, SYSTEM, AWS_BACKUP, ALL\]/);
    expect(thrown(() => checkListBackupsInput({ TimeRangeLowerBound: new Date(2000), TimeRangeUpperBound: new Date(1000) })).name).toBe('ValidationException');
    expect(thrown(() => checkListBackupsInput({ TimeRangeLowerBound: 'yesterday' })).name).toBe('SerializationException');
    expect(thrown(() => checkListBackupsInput({ ExclusiveStartBackupArn: 'x'.repeat(40) })).message).toMatch(/Invalid ExclusiveStartBackupArn/);
    expect(checkListBackupsInput({ TimeRangeLowerBound: 1.5, TableName: 'orders' })).toMatchObject({ lowerMs: 1500, tableName: 'orders' });
  });

  it('RestoreTableFromBackup', () => {
    const arn = backupArn('orders', newBackupId(1));
    expect(thrown(() => checkRestoreInput({ BackupArn: arn })).message).toMatch(/Value null at 'targetTableName'/);
    expect(thrown(() => checkRestoreInput({ TargetTableName: 'copy', BackupArn: arn, BillingModeOverride: 'FREE' })).message).toMatch(/'billingModeOverride'.*enum value set: \[PROVISIONED, PAY_PER_REQUEST\]/);
    expect(thrown(() => checkRestoreInput({ TargetTableName: 'copy', BackupArn: arn, ProvisionedThroughputOverride: { ReadCapacityUnits: 0, WriteCapacityUnits: 1 } })).message)
      .toMatch(/'provisionedThroughputOverride.readCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1/);
    expect(thrown(() => checkRestoreInput({ TargetTableName: 'copy', BackupArn: arn, GlobalSecondaryIndexOverride: {} })).name).toBe('SerializationException');
  });

  it('the restored table is the backup\'s, with overrides', () => {
    const input = { TargetTableName: 'copy', BackupArn: 'x' };
    const all = restoredTableInput(TABLE, input);
    expect(all.BillingMode).toBe('PAY_PER_REQUEST');
    expect(all.LocalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['date']);
    expect(all.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['status']);
    expect(all.AttributeDefinitions).toHaveLength(4);
    // Without the global index, its key's definition goes too.
    const noGlobal = restoredTableInput(TABLE, { ...input, GlobalSecondaryIndexOverride: [] });
    expect(noGlobal.GlobalSecondaryIndexes).toBeUndefined();
    expect(noGlobal.AttributeDefinitions.map((d) => d.AttributeName)).toEqual(['pk', 'sk', 'byDate']);
    const provisioned = restoredTableInput(TABLE, { ...input, BillingModeOverride: 'PROVISIONED', ProvisionedThroughputOverride: { ReadCapacityUnits: 5, WriteCapacityUnits: 6 } });
    expect(provisioned.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 5, WriteCapacityUnits: 6 });
    expect(provisioned.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 5, WriteCapacityUnits: 6 });
    const provisionedSource: BackedUpTable = {
      ...TABLE, billingMode: 'PROVISIONED', readCapacityUnits: 7, writeCapacityUnits: 8,
      globalIndexes: [{ ...TABLE.globalIndexes[0]!, readCapacityUnits: 3, writeCapacityUnits: 4 }],
    };
    const kept = restoredTableInput(provisionedSource, input);
    expect(kept.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 7, WriteCapacityUnits: 8 });
    expect(kept.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 3, WriteCapacityUnits: 4 });
    const onDemand = restoredTableInput(provisionedSource, { ...input, BillingModeOverride: 'PAY_PER_REQUEST' });
    expect(onDemand.ProvisionedThroughput).toBeUndefined();
    expect(onDemand.GlobalSecondaryIndexes?.[0]?.ProvisionedThroughput).toBeUndefined();
    expect(thrown(() => restoredTableInput(TABLE, { ...input, BillingModeOverride: 'PROVISIONED' })).message).toMatch(/ProvisionedThroughputOverride must be specified/);
    expect(thrown(() => restoredTableInput(TABLE, { ...input, GlobalSecondaryIndexOverride: [{ IndexName: 'nope', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }] })).message)
      .toMatch(/nope is not an index of the backup/);
    expect(thrown(() => restoredTableInput(TABLE, { ...input, GlobalSecondaryIndexOverride: [{ IndexName: 'status', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }] })).message)
      .toMatch(/KeySchema of GlobalSecondaryIndexOverride status must be the backup's/);
    expect(thrown(() => restoredTableInput(TABLE, { ...input, SSESpecificationOverride: { Enabled: true } })).name).toBe('ValidationException');
  });
});

describe('ListBackups paging', () => {
  const rows = Array.from({ length: 7 }, (_, i) => ({ id: newBackupId(1000 + i * 10, new Uint8Array([0, 0, 0, i])), tableName: i % 2 === 0 ? 'even' : 'odd', createdAtMs: 1000 + i * 10, type: 'USER' as const }));
  // The SYSTEM backup a deleted table with point-in-time recovery left.
  const system = { id: newBackupId(1070, new Uint8Array([0, 0, 0, 7])), tableName: 'odd', createdAtMs: 1070, type: 'SYSTEM' as const };
  const shuffled = [rows[3]!, rows[0]!, system, rows[6]!, rows[1]!, rows[5]!, rows[2]!, rows[4]!];

  it('pages through every backup once, in creation order', () => {
    const seen: string[] = [];
    let start: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const { page, more } = pageOfBackups(shuffled, { limit: 3, type: 'USER', ...(start !== undefined ? { exclusiveStart: start } : {}) });
      seen.push(...page.map((r) => r.id));
      if (!more) break;
      start = page[page.length - 1]!.id;
    }
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it('filters by table, time (lower inclusive, upper exclusive) and type', () => {
    expect(pageOfBackups(shuffled, { limit: 100, type: 'ALL', tableName: 'odd' }).page.map((r) => r.createdAtMs)).toEqual([1010, 1030, 1050, 1070]);
    expect(pageOfBackups(shuffled, { limit: 100, type: 'USER', tableName: 'odd' }).page.map((r) => r.createdAtMs)).toEqual([1010, 1030, 1050]);
    expect(pageOfBackups(shuffled, { limit: 100, type: 'USER', lowerMs: 1020, upperMs: 1050 }).page.map((r) => r.createdAtMs)).toEqual([1020, 1030, 1040]);
    expect(pageOfBackups(shuffled, { limit: 100, type: 'SYSTEM' }).page).toEqual([system]);
    expect(pageOfBackups(shuffled, { limit: 100, type: 'AWS_BACKUP' }).page).toEqual([]);
    expect(pageOfBackups(shuffled, { limit: 7, type: 'USER' }).more).toBe(false);
  });
});
