/**
 * On-demand backups: CreateBackup, DescribeBackup, ListBackups, DeleteBackup and
 * RestoreTableFromBackup, kept in an ObjectStore (control/backup-catalog.ts).
 *
 * CreateBackup starts a consistent snapshot export of every partition at once (each
 * partition's leader fixes its snapshot at the first request), so the backup is the table
 * as of about the moment of the call, and answers CREATING once every snapshot is fixed:
 * a write acknowledged before the call is in the backup, one made after it answered is
 * not. Writes go on meanwhile. The rows are read out in the background into chunks,
 * framed on the background thread (control/backup-worker.ts); the backup is AVAILABLE
 * once every chunk and its manifest are stored. close() waits for backups being written;
 * one a crash interrupted is removed at the next open.
 *
 * RestoreTableFromBackup creates the table with the backup's schema (with the request's
 * overrides), CREATING, and answers; then the backup's items are written into it through
 * the replicated write path (unconditional puts, WRITES_IN_FLIGHT at a time, retryable
 * failures retried with backoff), which also rebuilds its local and global indexes. The
 * table turns ACTIVE once every item is written; RestoreSummary.RestoreInProgress turns
 * false once its global indexes have caught up too. A restore that close() interrupts
 * resumes at the next open (the puts are idempotent).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  BackupDescription, BackupDetails, BackupSummary, BackupType, BackupTypeFilter, CreateBackupInput, CreateBackupOutput, CreateTableInput,
  DeleteBackupInput, DeleteBackupOutput, DescribeBackupInput, DescribeBackupOutput, GlobalSecondaryIndex, ListBackupsInput,
  ListBackupsOutput, LocalSecondaryIndex, RestoreTableFromBackupInput, RestoreTableFromBackupOutput,
} from '../api-types.js';
import {
  BackupCatalog, CHUNK_BYTES, type BackedUpIndex, type BackedUpTable, type BackupManifest, type ChunkRef,
} from '../control/backup-catalog.js';
import type { RestoreRecord, TableMeta } from '../control/metadata.js';
import type { PointInTime } from '../control/point-in-time.js';
import type { BackgroundPool } from '../control/background-pool.js';
import { ContinuousBackups } from './continuous-backups.js';
import type { ObjectStore } from '../control/object-store.js';
import { DynamoDBError, fromErrorShape, validationError } from '../model/errors.js';
import { hexToHash, partitionHash } from '../model/hash.js';
import { itemSize } from '../model/item-size.js';
import { encodeItemKeyWithHash } from '../model/key-encoding.js';
import { tableNameFromArn } from '../model/tags.js';
import type { Item } from '../model/types.js';
import { extractKey } from '../model/validate.js';
import { encodeWriteOp } from '../storage/codec.js';
import type { WriteOp, WriteResult } from '../storage/operations.js';
import type { PackedSnapshotPiece } from '../storage/snapshot.js';
import { callRegion, tableArn } from './call-context.js';
import type { ControlPlane } from './control-plane.js';
import { newIndexes } from './indexes.js';
import { ACCOUNT, ConstraintErrors, isPlainObject, isRetryable } from './request-checks.js';
import { checkCreateTableInput } from './table-validation.js';
import { addCheckedTable, describe as describeTableMeta } from './tables.js';

/** ListBackups pages hold 1 to 100 backups (100 when Limit is not given). */
export const LIST_BACKUPS_MAX_LIMIT = 100;
/** DynamoDB's quota of restores running at once per account. */
export const MAX_CONCURRENT_RESTORES = 50;
/** Puts of a restore in flight at once (the group commits batch them per partition). */
const WRITES_IN_FLIGHT = 64;
/** A restore's put that fails retryably (throttled, no leader) is tried this many times,
 *  waiting RETRY_BASE_MS doubling up to RETRY_MAX_MS between tries, then the restore fails. */
const WRITE_ATTEMPTS = 12;
const RETRY_BASE_MS = 10;
const RETRY_MAX_MS = 2000;
/** How long a finished restore waits for its global indexes to catch up before it says
 *  RestoreInProgress: false anyway (they keep catching up). */
const INDEX_CATCH_UP_MS = 30_000;
const INDEX_CATCH_UP_SLICE_MS = 200;

const BACKUP_ARN_MIN = 37;
const BACKUP_ARN_MAX = 1024;
const BACKUP_ID_PATTERN = /^\d{14}-[0-9a-f]{8}$/;
const BACKUP_ARN_PATTERN = /^arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table\/([a-zA-Z0-9_.-]{3,255})\/backup\/(\d{14}-[0-9a-f]{8})$/;
const NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;
const BACKUP_TYPE_FILTERS: readonly BackupTypeFilter[] = ['USER', 'SYSTEM', 'AWS_BACKUP', 'ALL'];
/** How long a SYSTEM backup (of a deleted table) is kept. */
const SYSTEM_BACKUP_DAYS = 35;
const DAY_MS = 86_400_000;

// ---- ARNs and ids ------------------------------------------------------------------------

/** A new backup id: the creation time in ms, 14 digits, and 8 random hex digits (ids sort
 *  in creation order, as DynamoDB's do). */
export function newBackupId(createdAtMs: number, random: Uint8Array = randomBytes(4)): string {
  return `${String(createdAtMs).padStart(14, '0')}-${Buffer.from(random).toString('hex').slice(0, 8).padStart(8, '0')}`;
}

export function backupArn(tableName: string, id: string): string {
  return `${tableArn(tableName)}/backup/${id}`;
}

/** The table name and backup id an ARN names, or undefined when it names no backup. */
export function parseBackupArn(arn: string): { tableName: string; id: string } | undefined {
  const match = BACKUP_ARN_PATTERN.exec(arn);
  return match === null ? undefined : { tableName: match[1]!, id: match[2]! };
}

function backupNotFound(arn: string): DynamoDBError {
  return new DynamoDBError('BackupNotFoundException', `Backup not found: ${arn}`);
}

// ---- Input checks ------------------------------------------------------------------------

export function serialization(message: string): DynamoDBError {
  return new DynamoDBError('SerializationException', message);
}

export function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

export function inputOf(input: unknown): Record<string, unknown> {
  return isPlainObject(input) ? input : {};
}

function checkString(value: unknown, member: string): void {
  if (given(value) && typeof value !== 'string') throw serialization(`Expected a string for ${member}`);
}

/** A TableName that may also be a table's ARN (CreateBackup, ListBackups). */
function checkTableNameOrArn(value: unknown, member: string, shape: ConstraintErrors, required: boolean): void {
  if (!given(value)) {
    if (required) shape.missing(member);
    return;
  }
  if (typeof value !== 'string') throw serialization(`Expected a string for ${member}`);
  if (value.startsWith('arn:')) shape.length(value, member, 1, 1024);
  else shape.tableName(value, member, required);
}

function checkBackupArnMember(value: unknown, member: string, shape: ConstraintErrors, required: boolean): void {
  if (!given(value)) {
    if (required) shape.missing(member);
    return;
  }
  checkString(value, member);
  shape.length(value, member, BACKUP_ARN_MIN, BACKUP_ARN_MAX);
}

/** The table a TableName parameter names: a name, or a table ARN of this account. */
function tableNameOf(value: string): string {
  return value.startsWith('arn:') ? tableNameFromArn(value, { region: callRegion(), account: ACCOUNT }) : value;
}

/** A ListBackups time bound: a Date (or epoch seconds, as on the wire). */
function timeBound(value: unknown, member: string): number | undefined {
  if (!given(value)) return undefined;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  throw serialization(`Expected a timestamp for ${member}`);
}

export interface CheckedListBackups {
  tableName?: string;
  limit: number;
  lowerMs?: number;
  upperMs?: number;
  exclusiveStart?: string;
  type: BackupTypeFilter;
}

/** ListBackups' input, checked as DynamoDB checks it. */
export function checkListBackupsInput(raw: unknown): CheckedListBackups {
  const input = inputOf(raw);
  const shape = new ConstraintErrors();
  checkTableNameOrArn(input.TableName, 'tableName', shape, false);
  const limit = input.Limit;
  if (given(limit)) {
    if (typeof limit !== 'number' || !Number.isInteger(limit)) throw serialization('Expected an integer for Limit');
    shape.atLeast(limit, 'limit', 1);
    if (limit > LIST_BACKUPS_MAX_LIMIT) shape.add(limit, 'limit', `Member must have value less than or equal to ${LIST_BACKUPS_MAX_LIMIT}`);
  }
  checkBackupArnMember(input.ExclusiveStartBackupArn, 'exclusiveStartBackupArn', shape, false);
  checkString(input.BackupType, 'BackupType');
  shape.enumValue(input.BackupType, 'backupType', BACKUP_TYPE_FILTERS);
  shape.throwIfAny();
  const lowerMs = timeBound(input.TimeRangeLowerBound, 'TimeRangeLowerBound');
  const upperMs = timeBound(input.TimeRangeUpperBound, 'TimeRangeUpperBound');
  if (lowerMs !== undefined && upperMs !== undefined && lowerMs > upperMs) {
    throw validationError('TimeRangeUpperBound must be greater than or equal to TimeRangeLowerBound');
  }
  let exclusiveStart: string | undefined;
  if (given(input.ExclusiveStartBackupArn)) {
    const parsed = parseBackupArn(input.ExclusiveStartBackupArn as string);
    if (parsed === undefined) throw validationError(`Invalid ExclusiveStartBackupArn: ${String(input.ExclusiveStartBackupArn)}`);
    exclusiveStart = parsed.id;
  }
  const out: CheckedListBackups = { limit: (limit as number | undefined) ?? LIST_BACKUPS_MAX_LIMIT, type: (input.BackupType as BackupTypeFilter | undefined) ?? 'USER' };
  if (given(input.TableName)) out.tableName = tableNameOf(input.TableName as string);
  if (lowerMs !== undefined) out.lowerMs = lowerMs;
  if (upperMs !== undefined) out.upperMs = upperMs;
  if (exclusiveStart !== undefined) out.exclusiveStart = exclusiveStart;
  return out;
}

/** One page of backups of the asked type, in creation order (ids sort so), after
 *  `exclusiveStart`. AWS_BACKUP ones (AWS Backup's) are never made here. */
export function pageOfBackups<T extends { id: string; tableName: string; createdAtMs: number; type: BackupType }>(
  all: readonly T[], query: CheckedListBackups,
): { page: T[]; more: boolean } {
  const matching = [...all]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .filter((b) => (query.type === 'ALL' || b.type === query.type)
      && (query.tableName === undefined || b.tableName === query.tableName)
      && (query.lowerMs === undefined || b.createdAtMs >= query.lowerMs)
      && (query.upperMs === undefined || b.createdAtMs < query.upperMs)
      && (query.exclusiveStart === undefined || b.id > query.exclusiveStart));
  return { page: matching.slice(0, query.limit), more: matching.length > query.limit };
}

export function checkCreateBackupInput(raw: unknown): { tableName: string; backupName: string } {
  const input = inputOf(raw);
  const shape = new ConstraintErrors();
  checkTableNameOrArn(input.TableName, 'tableName', shape, true);
  if (shape.notNull(input.BackupName, 'backupName')) {
    checkString(input.BackupName, 'BackupName');
    if (!NAME_PATTERN.test(input.BackupName as string)) shape.add(input.BackupName, 'backupName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+');
    shape.length(input.BackupName, 'backupName', 3, 255);
  }
  shape.throwIfAny();
  return { tableName: tableNameOf(input.TableName as string), backupName: input.BackupName as string };
}

export function checkBackupArnInput(raw: unknown): string {
  const input = inputOf(raw);
  const shape = new ConstraintErrors();
  checkBackupArnMember(input.BackupArn, 'backupArn', shape, true);
  shape.throwIfAny();
  return input.BackupArn as string;
}

/** RestoreTableFromBackup's request shape (the overrides' contents are checked when the
 *  table is built from them, as CreateTable checks its own). */
export function checkRestoreInput(raw: unknown): RestoreTableFromBackupInput {
  const input = inputOf(raw);
  const shape = new ConstraintErrors();
  if (shape.notNull(input.TargetTableName, 'targetTableName')) {
    checkString(input.TargetTableName, 'TargetTableName');
    shape.tableName(input.TargetTableName, 'targetTableName');
  }
  checkBackupArnMember(input.BackupArn, 'backupArn', shape, true);
  checkString(input.BillingModeOverride, 'BillingModeOverride');
  shape.enumValue(input.BillingModeOverride, 'billingModeOverride', ['PROVISIONED', 'PAY_PER_REQUEST']);
  const throughput = input.ProvisionedThroughputOverride;
  if (given(throughput)) {
    if (!isPlainObject(throughput)) throw serialization('Expected a structure for ProvisionedThroughputOverride');
    for (const [member, value] of [['readCapacityUnits', throughput.ReadCapacityUnits], ['writeCapacityUnits', throughput.WriteCapacityUnits]] as const) {
      if (!shape.notNull(value, `provisionedThroughputOverride.${member}`)) continue;
      if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(`Expected an integer for ProvisionedThroughputOverride.${member}`);
      shape.atLeast(value, `provisionedThroughputOverride.${member}`, 1);
    }
  }
  for (const member of ['GlobalSecondaryIndexOverride', 'LocalSecondaryIndexOverride'] as const) {
    if (given(input[member]) && !Array.isArray(input[member])) throw serialization(`Expected a list for ${member}`);
  }
  const sse = input.SSESpecificationOverride;
  if (given(sse) && !isPlainObject(sse)) throw serialization('Expected a structure for SSESpecificationOverride');
  shape.throwIfAny();
  return input as unknown as RestoreTableFromBackupInput;
}

// ---- What a backup records and shows -----------------------------------------------------

/** The source table as a backup records it. */
export function backedUpTable(meta: TableMeta): BackedUpTable {
  const projection = (p: { type: string; nonKeyAttributes?: string[] }): BackedUpIndex['projection'] => (p.type === 'INCLUDE'
    ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...(p.nonKeyAttributes ?? [])] }
    : { ProjectionType: p.type as 'ALL' | 'KEYS_ONLY' });
  const table: BackedUpTable = {
    name: meta.name,
    uuid: meta.uuid,
    createdAtMs: meta.createdAtMs,
    keySchema: meta.keySchema.map((k) => ({ ...k })),
    attributeDefinitions: meta.attributeDefinitions.map((d) => ({ ...d })),
    billingMode: meta.billingMode,
    readCapacityUnits: meta.readCapacityUnits,
    writeCapacityUnits: meta.writeCapacityUnits,
    localIndexes: (meta.localIndexes ?? []).map((l) => ({ name: l.spec.name, keySchema: l.keySchema.map((k) => ({ ...k })), projection: projection(l.spec.projection) })),
    globalIndexes: (meta.globalIndexes ?? []).filter((g) => g.status !== 'DELETING').map((g) => ({
      name: g.spec.name, keySchema: g.keySchema.map((k) => ({ ...k })), projection: projection(g.spec.projection),
      readCapacityUnits: g.readCapacityUnits, writeCapacityUnits: g.writeCapacityUnits,
    })),
  };
  if (meta.timeToLive !== undefined) table.timeToLive = { ...meta.timeToLive };
  return table;
}

export function backupDetails(m: BackupManifest): BackupDetails {
  return {
    BackupArn: backupArn(m.table.name, m.id),
    BackupName: m.name,
    BackupSizeBytes: m.sizeBytes,
    BackupStatus: m.status,
    BackupType: m.type ?? 'USER',
    BackupCreationDateTime: new Date(m.createdAtMs),
    ...(m.expiresAtMs !== undefined ? { BackupExpiryDateTime: new Date(m.expiresAtMs) } : {}),
  };
}

export function backupDescription(m: BackupManifest, status: BackupDetails['BackupStatus'] = m.status): BackupDescription {
  const t = m.table;
  const provisioned = t.billingMode === 'PROVISIONED';
  const features: BackupDescription['SourceTableFeatureDetails'] = {};
  if (t.localIndexes.length > 0) features.LocalSecondaryIndexes = t.localIndexes.map((l) => ({ IndexName: l.name, KeySchema: l.keySchema, Projection: l.projection }));
  if (t.globalIndexes.length > 0) {
    features.GlobalSecondaryIndexes = t.globalIndexes.map((g) => ({
      IndexName: g.name, KeySchema: g.keySchema, Projection: g.projection,
      ProvisionedThroughput: { ReadCapacityUnits: provisioned ? g.readCapacityUnits ?? 0 : 0, WriteCapacityUnits: provisioned ? g.writeCapacityUnits ?? 0 : 0 },
    }));
  }
  if (t.timeToLive?.enabled === true) features.TimeToLiveDescription = { TimeToLiveStatus: 'ENABLED', AttributeName: t.timeToLive.attributeName };
  return {
    BackupDetails: { ...backupDetails(m), BackupStatus: status },
    SourceTableDetails: {
      TableName: t.name,
      TableId: t.uuid,
      TableArn: tableArn(t.name),
      TableSizeBytes: m.sizeBytes,
      KeySchema: t.keySchema,
      TableCreationDateTime: new Date(t.createdAtMs),
      ProvisionedThroughput: { ReadCapacityUnits: t.readCapacityUnits, WriteCapacityUnits: t.writeCapacityUnits },
      ItemCount: m.itemCount,
      BillingMode: t.billingMode,
    },
    SourceTableFeatureDetails: features,
  };
}

function backupSummary(m: BackupManifest): BackupSummary {
  return {
    TableName: m.table.name,
    TableId: m.table.uuid,
    TableArn: tableArn(m.table.name),
    BackupArn: backupArn(m.table.name, m.id),
    BackupName: m.name,
    BackupCreationDateTime: new Date(m.createdAtMs),
    ...(m.expiresAtMs !== undefined ? { BackupExpiryDateTime: new Date(m.expiresAtMs) } : {}),
    BackupStatus: m.status,
    BackupType: m.type ?? 'USER',
    BackupSizeBytes: m.sizeBytes,
  };
}

/**
 * The CreateTable request that makes the restored table: the backup's schema with the
 * request's overrides. An index override must name an index of the backup with the same
 * key schema; its projection (and a global index's throughput) may differ. Attribute
 * definitions no remaining key uses are left out, as CreateTable requires.
 */
export function restoredTableInput(table: BackedUpTable, input: RestoreTableFromBackupInput): CreateTableInput {
  const billingMode = input.BillingModeOverride ?? table.billingMode;
  const throughput = input.ProvisionedThroughputOverride
    ?? (table.billingMode === 'PROVISIONED' ? { ReadCapacityUnits: table.readCapacityUnits, WriteCapacityUnits: table.writeCapacityUnits } : undefined);
  if (billingMode === 'PROVISIONED' && throughput === undefined) {
    throw validationError('One or more parameter values were invalid: ProvisionedThroughputOverride must be specified when BillingModeOverride is PROVISIONED for a backup of a PAY_PER_REQUEST table');
  }
  if (billingMode === 'PAY_PER_REQUEST' && input.ProvisionedThroughputOverride !== undefined && input.ProvisionedThroughputOverride !== null) {
    throw validationError('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
  }
  const sse = input.SSESpecificationOverride;
  if (sse !== undefined && sse !== null && sse.Enabled !== false) {
    throw validationError('SSESpecificationOverride is not supported by shardbox yet (tables are not encrypted at rest); leave it out or set Enabled: false.');
  }
  const sameKeys = (a: readonly { AttributeName: string; KeyType: string }[], b: readonly { AttributeName: string; KeyType: string }[]): boolean =>
    a.length === b.length && a.every((k, i) => k.AttributeName === b[i]?.AttributeName && k.KeyType === b[i]?.KeyType);
  const pick = <T extends LocalSecondaryIndex>(kind: string, override: T[] | undefined | null, backed: BackedUpIndex[], defaults: (b: BackedUpIndex) => T): T[] => {
    if (override === undefined || override === null) return backed.map(defaults);
    return override.map((o) => {
      const source = backed.find((b) => b.name === o?.IndexName);
      if (source === undefined) throw validationError(`One or more parameter values were invalid: ${kind} ${String(o?.IndexName)} is not an index of the backup`);
      if (!Array.isArray(o.KeySchema) || !sameKeys(o.KeySchema, source.keySchema)) {
        throw validationError(`One or more parameter values were invalid: the KeySchema of ${kind} ${source.name} must be the backup's`);
      }
      return o;
    });
  };
  const provisioned = billingMode === 'PROVISIONED';
  const gsiThroughput = (b: BackedUpIndex): GlobalSecondaryIndex['ProvisionedThroughput'] => {
    if (!provisioned) return undefined;
    // An index of a provisioned table keeps its own; one of an on-demand table had none,
    // so the table's throughput serves.
    return table.billingMode === 'PROVISIONED'
      ? { ReadCapacityUnits: b.readCapacityUnits ?? 1, WriteCapacityUnits: b.writeCapacityUnits ?? 1 }
      : throughput;
  };
  const local = pick('LocalSecondaryIndexOverride', input.LocalSecondaryIndexOverride, table.localIndexes,
    (b) => ({ IndexName: b.name, KeySchema: b.keySchema, Projection: b.projection }));
  const global = pick('GlobalSecondaryIndexOverride', input.GlobalSecondaryIndexOverride, table.globalIndexes, (b) => {
    const g: GlobalSecondaryIndex = { IndexName: b.name, KeySchema: b.keySchema, Projection: b.projection };
    const t = gsiThroughput(b);
    if (t !== undefined) g.ProvisionedThroughput = t;
    return g;
  }).map((g) => {
    if (!provisioned || (g.ProvisionedThroughput !== undefined && g.ProvisionedThroughput !== null)) return g;
    const t = gsiThroughput(table.globalIndexes.find((b) => b.name === g.IndexName)!);
    return t === undefined ? g : { ...g, ProvisionedThroughput: t };
  });
  const used = new Set([...table.keySchema, ...local.flatMap((i) => i.KeySchema), ...global.flatMap((i) => i.KeySchema)].map((k) => k.AttributeName));
  const out: CreateTableInput = {
    TableName: input.TargetTableName,
    KeySchema: table.keySchema,
    AttributeDefinitions: table.attributeDefinitions.filter((d) => used.has(d.AttributeName)),
    BillingMode: billingMode,
  };
  if (provisioned) out.ProvisionedThroughput = throughput;
  if (local.length > 0) out.LocalSecondaryIndexes = local;
  if (global.length > 0) out.GlobalSecondaryIndexes = global;
  return out;
}

// ---- The operations ----------------------------------------------------------------------

/** What a restore may change of the table it rebuilds (RestoreTableFromBackup's and
 *  RestoreTableToPointInTime's overrides). */
export type RestoreOverrides = Omit<RestoreTableFromBackupInput, 'TargetTableName' | 'BackupArn'>;

export class Backups {
  private readonly catalog: BackupCatalog;
  /** Every backup (CREATING or AVAILABLE), by id. */
  private readonly manifests = new Map<string, BackupManifest>();
  /** Backups being written, and restores running (target table → backup id). */
  private readonly creating = new Set<Promise<void>>();
  private readonly restores = new Map<string, { backupId: string; job: Promise<void> }>();
  private closing = false;

  /** Point-in-time recovery (continuous-backups.ts), when the cluster archives its WAL. */
  readonly continuous: ContinuousBackups | undefined;

  constructor(private readonly cp: ControlPlane, store: ObjectStore, private readonly background: BackgroundPool, pointInTime?: PointInTime) {
    this.continuous = pointInTime === undefined ? undefined : new ContinuousBackups(cp, this, pointInTime, background);
    this.catalog = new BackupCatalog(store);
  }

  /** Loads the catalog (removing backups a crash left CREATING) and resumes the restores
   *  a close or crash interrupted. Call after the control plane recovered. */
  async open(): Promise<void> {
    const { manifests, removed, damaged } = await this.catalog.load();
    for (const m of manifests) this.manifests.set(m.id, m);
    if (removed.length > 0) process.emitWarning(`shardbox: removed ${removed.length} backup(s) whose writing was interrupted: ${removed.join(', ')}`, 'ShardBoxBackup');
    if (damaged.length > 0) process.emitWarning(`shardbox: backup manifest(s) fail their checksum and are not listed: ${damaged.join(', ')}`, 'ShardBoxBackup');
    for (const meta of this.cp.metadata.tables()) {
      if (meta.restore?.inProgress !== true) continue;
      const internal = meta.restore.internalBackupId;
      const parsed = internal !== undefined || meta.restore.sourceBackupArn === undefined ? undefined : parseBackupArn(meta.restore.sourceBackupArn);
      const manifest = internal !== undefined ? this.manifests.get(internal) : parsed === undefined ? undefined : this.manifests.get(parsed.id);
      if (meta.status === 'ACTIVE' || manifest === undefined) {
        // Its items were all written (only the index catch-up was left), or its backup is gone.
        if (manifest === undefined && meta.status === 'CREATING') {
          process.emitWarning(`shardbox: the backup table ${meta.name} was being restored from is gone; the restored table is dropped`, 'ShardBoxBackup');
          await this.abandonRestore(meta.name);
        } else {
          this.cp.metadata.updateTable(meta.name, { restore: { ...meta.restore, inProgress: false } });
        }
        continue;
      }
      this.startRestore(meta.name, manifest);
    }
  }

  /** Waits for backups being written; stops restores (they resume at the next open). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.creating, ...[...this.restores.values()].map((r) => r.job)]);
  }

  async createBackup(raw: CreateBackupInput): Promise<CreateBackupOutput> {
    this.cp.checkOpen();
    const { tableName, backupName } = checkCreateBackupInput(raw);
    const meta = this.cp.metadata.table(tableName);
    if (meta === undefined || meta.status === 'DELETING') throw new DynamoDBError('TableNotFoundException', `Table not found: ${tableName}`);
    if (meta.status === 'CREATING') throw new DynamoDBError('TableInUseException', `Table is being created: ${tableName}`);
    const { manifest } = await this.startBackup(meta, backupName, 'USER');
    return { BackupDetails: backupDetails(manifest) };
  }

  /**
   * DynamoDB's SYSTEM backup of a table with point-in-time recovery that is being deleted
   * (DELETING: it takes no more writes), kept for 35 days so that the table can be restored
   * as it was just before: resolves once it is AVAILABLE, before the table's data goes. A
   * backup that fails is reported as a warning: the deletion goes on.
   */
  async createSystemBackup(meta: TableMeta): Promise<void> {
    try {
      const { job } = await this.startBackup(meta, `${meta.name}$DeletedTableBackup`, 'SYSTEM');
      await job;
    } catch (error) {
      process.emitWarning(`shardbox: the system backup of deleted table ${meta.name} failed: ${(error as Error).message}`, 'ShardBoxBackup');
    }
  }

  /** Starts a backup of `meta`: its manifest (CREATING) once every partition's snapshot is
   *  fixed, and the job that writes it (settled, never rejected: a failed one is removed). */
  private async startBackup(meta: TableMeta, name: string, type: BackupType): Promise<{ manifest: BackupManifest; job: Promise<void> }> {
    const tableName = meta.name;
    const createdAtMs = Date.now();
    let id = newBackupId(createdAtMs);
    while (this.manifests.has(id)) id = newBackupId(createdAtMs);
    const manifest: BackupManifest = {
      format: 1, id, name, status: 'CREATING', createdAtMs, sizeBytes: 0, itemCount: 0, table: backedUpTable(meta), chunks: [],
      ...(type === 'SYSTEM' ? { type, expiresAtMs: createdAtMs + SYSTEM_BACKUP_DAYS * DAY_MS } : {}),
    };
    // Every partition's snapshot is fixed by its first piece: ask for them all at once.
    const exports = meta.partitions.map((p) => this.cp.exportPieces(p));
    const firsts = await Promise.allSettled(exports.map((e) => e.next()));
    const failed = firsts.find((f) => f.status === 'rejected');
    if (failed !== undefined) {
      await Promise.all(exports.map((e) => e.return(undefined).catch(() => undefined)));
      throw (failed as PromiseRejectedResult).reason;
    }
    await this.catalog.putManifest(manifest);
    this.manifests.set(id, manifest);
    const pieces = firsts.map((f) => (f as PromiseFulfilledResult<IteratorResult<PackedSnapshotPiece>>).value);
    const job = this.writeBackup(manifest, meta.tableId, exports, pieces)
      .catch(async (error: unknown) => {
        process.emitWarning(`shardbox: backup ${id} of ${tableName} failed and is removed: ${(error as Error).message}`, 'ShardBoxBackup');
        this.manifests.delete(id);
        await this.catalog.remove(id).catch(() => undefined);
      })
      .finally(() => this.creating.delete(job));
    this.creating.add(job);
    return { manifest, job };
  }

  /** Reads every partition's snapshot out into chunks, then marks the backup AVAILABLE.
   *  The main thread only moves the pieces' bytes: the background thread opens them,
   *  checks and sizes the items and frames the chunks (a backup of a big table stalled the
   *  main thread, where embedded callers' requests are routed, for up to 20 ms at a time). */
  private async writeBackup(
    manifest: BackupManifest, tableId: number,
    exports: Array<AsyncGenerator<PackedSnapshotPiece>>,
    firsts: Array<IteratorResult<PackedSnapshotPiece>>,
  ): Promise<void> {
    const perPartition = await Promise.all(exports.map(async (source, partition) => {
      const chunks: ChunkRef[] = [];
      let pieces: PackedSnapshotPiece[] = [];
      let pending = 0;
      let size = 0;
      let count = 0;
      const flush = async (): Promise<void> => {
        if (pieces.length === 0) return;
        const chunk = await this.background.backupChunk({ tableId, pieces });
        pieces = [];
        pending = 0;
        if (chunk.items === 0) return;
        chunks.push(await this.catalog.writeChunkBytes(manifest.id, partition, chunks.length, chunk.bytes, chunk.items));
        size += chunk.sizeBytes;
        count += chunk.items;
      };
      let piece = firsts[partition]!;
      while (piece.done !== true) {
        pieces.push(piece.value);
        pending += piece.value.payload.length;
        if (pending >= CHUNK_BYTES) await flush();
        piece = await source.next();
      }
      await flush();
      return { chunks, size, count };
    }));
    const done: BackupManifest = {
      ...manifest,
      status: 'AVAILABLE',
      chunks: perPartition.flatMap((p) => p.chunks),
      sizeBytes: perPartition.reduce((n, p) => n + p.size, 0),
      itemCount: perPartition.reduce((n, p) => n + p.count, 0),
    };
    await this.catalog.putManifest(done);
    if (this.manifests.has(manifest.id)) this.manifests.set(manifest.id, done);
  }

  /** SYSTEM backups past their expiry are deleted (looked for whenever backups are read). */
  private async dropExpired(): Promise<void> {
    const now = Date.now();
    for (const m of [...this.manifests.values()]) {
      if (m.expiresAtMs === undefined || m.expiresAtMs > now || m.status !== 'AVAILABLE' || this.restoringFrom(m.id) !== undefined) continue;
      this.manifests.delete(m.id);
      await this.catalog.remove(m.id);
    }
  }

  /** The table a restore from backup `id` is writing, if one is running. */
  private restoringFrom(id: string): string | undefined {
    for (const [table, restore] of this.restores) if (restore.backupId === id) return table;
    return undefined;
  }

  private find(arn: string): BackupManifest {
    const parsed = parseBackupArn(arn);
    const manifest = parsed === undefined ? undefined : this.manifests.get(parsed.id);
    if (manifest === undefined || manifest.internal === true || manifest.table.name !== parsed!.tableName) throw backupNotFound(arn);
    return manifest;
  }

  async describeBackup(raw: DescribeBackupInput): Promise<DescribeBackupOutput> {
    this.cp.checkOpen();
    const arn = checkBackupArnInput(raw);
    await this.dropExpired();
    return { BackupDescription: backupDescription(this.find(arn)) };
  }

  async deleteBackup(raw: DeleteBackupInput): Promise<DeleteBackupOutput> {
    this.cp.checkOpen();
    const arn = checkBackupArnInput(raw);
    await this.dropExpired();
    const manifest = this.find(arn);
    if (manifest.status === 'CREATING') throw new DynamoDBError('BackupInUseException', `Backup is being created: ${arn}`);
    const restoring = this.restoringFrom(manifest.id);
    if (restoring !== undefined) throw new DynamoDBError('BackupInUseException', `Backup is being restored to table ${restoring}: ${arn}`);
    this.manifests.delete(manifest.id);
    await this.catalog.remove(manifest.id);
    return { BackupDescription: backupDescription(manifest, 'DELETED') };
  }

  async listBackups(raw: ListBackupsInput = {}): Promise<ListBackupsOutput> {
    this.cp.checkOpen();
    const query = checkListBackupsInput(raw);
    await this.dropExpired();
    const rows = [...this.manifests.values()].filter((m) => m.internal !== true)
      .map((m) => ({ id: m.id, tableName: m.table.name, createdAtMs: m.createdAtMs, type: m.type ?? 'USER' as const, m }));
    const { page, more } = pageOfBackups(rows, query);
    const out: ListBackupsOutput = { BackupSummaries: page.map((r) => backupSummary(r.m)) };
    if (more) out.LastEvaluatedBackupArn = backupArn(page[page.length - 1]!.tableName, page[page.length - 1]!.id);
    return out;
  }

  async restoreTableFromBackup(raw: RestoreTableFromBackupInput): Promise<RestoreTableFromBackupOutput> {
    this.cp.checkOpen();
    const input = checkRestoreInput(raw);
    await this.dropExpired();
    const manifest = this.find(input.BackupArn);
    if (manifest.status === 'CREATING') throw new DynamoDBError('BackupInUseException', `Backup is being created: ${input.BackupArn}`);
    const target = input.TargetTableName;
    this.checkRestoreTarget(target);
    const meta = await this.createRestoredTable(target, manifest.table, input, {
      sourceBackupArn: backupArn(manifest.table.name, manifest.id), sourceTableArn: tableArn(manifest.table.name), restoredAtMs: Date.now(), inProgress: true,
    });
    this.startRestore(target, manifest);
    return { TableDescription: describeTableMeta(this.cp, meta) };
  }

  /**
   * A point-in-time restore (continuous-backups.ts): `partitions`' items, kept as an
   * internal backup, are written into a new table built from `table` and the overrides,
   * as a restore from a backup is (and resumed the same way after a close).
   */
  async restoreFromItems(
    target: string, table: BackedUpTable, overrides: RestoreOverrides, partitions: Item[][], restore: { sourceTableArn: string; restoredAtMs: number },
  ): Promise<TableMeta> {
    this.checkRestoreTarget(target);
    const createdAtMs = Date.now();
    let id = newBackupId(createdAtMs);
    while (this.manifests.has(id)) id = newBackupId(createdAtMs);
    const chunks: ChunkRef[] = [];
    let sizeBytes = 0;
    let itemCount = 0;
    for (let p = 0; p < partitions.length; p++) {
      let items: Item[] = [];
      let pending = 0;
      for (const item of partitions[p]!) {
        const bytes = itemSize(item);
        items.push(item);
        pending += bytes;
        sizeBytes += bytes;
        itemCount++;
        if (pending >= CHUNK_BYTES) {
          chunks.push(await this.catalog.writeChunk(id, p, chunks.length, items));
          items = [];
          pending = 0;
        }
      }
      if (items.length > 0) chunks.push(await this.catalog.writeChunk(id, p, chunks.length, items));
    }
    const manifest: BackupManifest = {
      format: 1, id, name: `point-in-time-${target}`.slice(0, 255), status: 'AVAILABLE', createdAtMs, sizeBytes, itemCount, table, chunks, internal: true,
    };
    await this.catalog.putManifest(manifest);
    this.manifests.set(id, manifest);
    let meta: TableMeta;
    try {
      meta = await this.createRestoredTable(target, table, overrides, { ...restore, internalBackupId: id, inProgress: true });
    } catch (error) {
      this.manifests.delete(id);
      await this.catalog.remove(id).catch(() => undefined);
      throw error;
    }
    this.startRestore(target, manifest);
    return meta;
  }

  private checkRestoreTarget(target: string): void {
    const existing = this.cp.metadata.table(target);
    if (existing?.status === 'DELETING') throw new DynamoDBError('TableInUseException', `Table is being deleted: ${target}`);
    if (existing !== undefined) throw new DynamoDBError('TableAlreadyExistsException', `Table already exists: ${target}`);
    if (this.restores.size >= MAX_CONCURRENT_RESTORES) {
      throw new DynamoDBError('LimitExceededException', `Subscriber limit exceeded: Only ${MAX_CONCURRENT_RESTORES} restores can be in progress at a time in ${callRegion()}`);
    }
  }

  /** The table a restore writes into, CREATING, with its groups created. */
  private async createRestoredTable(target: string, table: BackedUpTable, overrides: RestoreOverrides, restore: RestoreRecord): Promise<TableMeta> {
    const input = { ...overrides, TargetTableName: target } as RestoreTableFromBackupInput;
    const create = restoredTableInput(table, input);
    const checked = checkCreateTableInput(create as unknown as Record<string, unknown>);
    const indexes = newIndexes(create, checked.billingMode);
    const meta = addCheckedTable(this.cp, target, checked, indexes, { restore });
    try {
      await this.cp.createGroups(meta, false);
    } catch (error) {
      // Not created: nothing of it may stay behind (a crash here is finished by recover).
      await this.abandonRestore(target).catch(() => undefined);
      throw error;
    }
    return meta;
  }

  private startRestore(table: string, manifest: BackupManifest): void {
    const job = this.restoreItems(table, manifest)
      .catch(async (error: unknown) => {
        if (this.closing || this.cp.closed) return; // resumed at the next open
        process.emitWarning(`shardbox: restoring backup ${manifest.id} to table ${table} failed; the table is dropped: ${(error as Error).message}`, 'ShardBoxBackup');
        await this.abandonRestore(table).catch(() => undefined);
      })
      .finally(async () => {
        this.restores.delete(table);
        // A point-in-time restore's items are of no use once written (or given up on).
        if (manifest.internal === true && !this.closing && !this.cp.closed) {
          this.manifests.delete(manifest.id);
          await this.catalog.remove(manifest.id).catch(() => undefined);
        }
      });
    this.restores.set(table, { backupId: manifest.id, job });
  }

  private async abandonRestore(table: string): Promise<void> {
    const meta = this.cp.metadata.table(table);
    if (meta === undefined) return;
    await this.cp.dropGroups(this.cp.metadata.setStatus(table, 'DELETING'));
  }

  /** Writes the backup's items into the restoring table, chunk by chunk, then makes it ACTIVE. */
  private async restoreItems(table: string, manifest: BackupManifest): Promise<void> {
    for (const ref of manifest.chunks) {
      if (this.closing) throw new Error('the database is closing');
      const items = await this.catalog.readChunk(ref);
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(WRITES_IN_FLIGHT, items.length) }, async () => {
        while (next < items.length && !this.closing) await this.putRestored(table, items[next++]!);
      }));
    }
    if (this.closing) throw new Error('the database is closing');
    const meta = this.cp.metadata.table(table);
    if (meta === undefined || meta.restore === undefined) return;
    this.cp.metadata.setStatus(table, 'ACTIVE');
    // In short waits, so that close() is not held up (an open finishes the summary).
    const deadline = performance.now() + INDEX_CATCH_UP_MS;
    if ((meta.globalIndexes ?? []).length > 0) {
      while (!(await this.cp.globalIndexes.waitCaughtUp(table, INDEX_CATCH_UP_SLICE_MS))) {
        if (this.closing) return;
        if (performance.now() > deadline) break;
      }
    }
    if (this.closing) return;
    const now = this.cp.metadata.table(table);
    if (now?.restore !== undefined) this.cp.metadata.updateTable(table, { restore: { ...now.restore, inProgress: false } });
  }

  /** One unconditional put to the restoring table's partition leader (idempotent, so a
   *  retried or resumed put is safe), retried with backoff while it fails retryably. */
  private async putRestored(table: string, item: Item): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const meta = this.cp.metadata.table(table);
      if (meta === undefined) throw new Error(`table ${table} is gone`);
      const hash = partitionHash(item[meta.keyShape.hashName]!);
      const partition = meta.partitions.find((p) => hexToHash(p.hashStart) <= hash && hash <= hexToHash(p.hashEnd));
      if (partition === undefined) throw new Error(`no partition of ${table} holds hash ${hash}`);
      const key = extractKey(item, meta.keyShape);
      const op: WriteOp = { type: 'put', tableId: meta.tableId, key, item, returnValues: 'NONE', itemKey: encodeItemKeyWithHash(meta.tableId, hash, meta.keyShape, key) };
      try {
        const result = await this.cp.router.request({ mode: 'leader', group: partition.group, replicas: partition.replicas }, { t: 'write', entry: encodeWriteOp(op) }, false) as WriteResult;
        if (!result.ok) throw fromErrorShape(result.error);
        return;
      } catch (error) {
        if (!isRetryable(error) || attempt >= WRITE_ATTEMPTS || this.closing) throw error;
        await sleep(Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
      }
    }
  }

  /** For tests and tools: whether a restore into `table` is running. */
  restoring(table: string): boolean {
    return this.restores.has(table);
  }
}
