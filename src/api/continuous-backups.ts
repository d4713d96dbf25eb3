/**
 * Continuous backups and point-in-time recovery (UpdateContinuousBackups,
 * DescribeContinuousBackups, RestoreTableToPointInTime), on the WAL archive: enabling
 * recovery archives a base snapshot of every partition and starts the partitions' clock
 * marks (control/point-in-time.ts); a restore rebuilds every partition as of the asked
 * time on a background thread and writes the items into a new table the way a restore
 * from a backup does (backups.ts).
 */
import type {
  ContinuousBackupsDescription, DescribeContinuousBackupsInput, DescribeContinuousBackupsOutput, RestoreTableToPointInTimeInput,
  RestoreTableToPointInTimeOutput, UpdateContinuousBackupsInput, UpdateContinuousBackupsOutput,
} from '../api-types.js';
import type { TableMeta } from '../control/metadata.js';
import type { PointInTime } from '../control/point-in-time.js';
import type { BackgroundPool } from '../control/background-pool.js';
import { DynamoDBError } from '../model/errors.js';
import { tableNameFromArn } from '../model/tags.js';
import type { Item } from '../model/types.js';
import { itemsOfRows } from '../storage/snapshot.js';
import { backedUpTable, given, inputOf, serialization, type Backups, type RestoreOverrides } from './backups.js';
import { callRegion, tableArn } from './call-context.js';
import type { ControlPlane } from './control-plane.js';
import { ACCOUNT, ConstraintErrors, isPlainObject } from './request-checks.js';
import { describe as describeTableMeta } from './tables.js';

/** DynamoDB's longest recovery window, and the default. */
const MAX_RECOVERY_DAYS = 35;
const DAY_MS = 86_400_000;

/** A TableName member that may be a table's ARN. */
function tableNameMember(value: unknown, member: string, shape: ConstraintErrors): string | undefined {
  if (!shape.notNull(value, member)) return undefined;
  if (typeof value !== 'string') throw serialization(`Expected a string for ${member}`);
  if (value.startsWith('arn:')) {
    shape.length(value, member, 1, 1024);
    return tableNameFromArn(value, { region: callRegion(), account: ACCOUNT });
  }
  shape.tableName(value, member);
  return value;
}

function tableNotFound(name: string): DynamoDBError {
  return new DynamoDBError('TableNotFoundException', `Table not found: ${name}`);
}

export class ContinuousBackups {
  constructor(
    private readonly cp: ControlPlane,
    private readonly backups: Backups,
    private readonly pointInTime: PointInTime,
    private readonly background: BackgroundPool,
  ) {}

  private table(name: string): TableMeta {
    const meta = this.cp.metadata.table(name);
    if (meta === undefined || meta.status === 'DELETING') throw tableNotFound(name);
    return meta;
  }

  describe(meta: TableMeta): ContinuousBackupsDescription {
    const pitr = meta.pointInTimeRecovery;
    if (pitr?.enabled !== true) return { ContinuousBackupsStatus: 'ENABLED', PointInTimeRecoveryDescription: { PointInTimeRecoveryStatus: 'DISABLED' } };
    const { earliest, latest } = this.window(meta);
    return {
      ContinuousBackupsStatus: 'ENABLED',
      PointInTimeRecoveryDescription: {
        PointInTimeRecoveryStatus: 'ENABLED',
        RecoveryPeriodInDays: pitr.recoveryPeriodDays,
        EarliestRestorableDateTime: new Date(earliest),
        LatestRestorableDateTime: new Date(latest),
      },
    };
  }

  /** The restorable window: since recovery was enabled (and within its period), up to the
   *  last clock mark every partition has committed. */
  private window(meta: TableMeta): { earliest: number; latest: number } {
    const pitr = meta.pointInTimeRecovery!;
    const earliest = Math.max(pitr.earliestMs, Date.now() - pitr.recoveryPeriodDays * DAY_MS);
    return { earliest, latest: Math.max(earliest, this.pointInTime.latest(meta) ?? earliest) };
  }

  async describeContinuousBackups(raw: DescribeContinuousBackupsInput): Promise<DescribeContinuousBackupsOutput> {
    this.cp.checkOpen();
    const shape = new ConstraintErrors();
    const name = tableNameMember(inputOf(raw).TableName, 'tableName', shape);
    shape.throwIfAny();
    return { ContinuousBackupsDescription: this.describe(this.table(name!)) };
  }

  async updateContinuousBackups(raw: UpdateContinuousBackupsInput): Promise<UpdateContinuousBackupsOutput> {
    this.cp.checkOpen();
    const input = inputOf(raw);
    const shape = new ConstraintErrors();
    const name = tableNameMember(input.TableName, 'tableName', shape);
    const spec: unknown = input.PointInTimeRecoverySpecification;
    let enabled: boolean | undefined;
    let days: number | undefined;
    if (shape.notNull(spec, 'pointInTimeRecoverySpecification')) {
      if (!isPlainObject(spec)) throw serialization('Expected a structure for PointInTimeRecoverySpecification');
      if (shape.notNull(spec.PointInTimeRecoveryEnabled, 'pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled')) {
        if (typeof spec.PointInTimeRecoveryEnabled !== 'boolean') throw serialization('Expected a boolean for PointInTimeRecoveryEnabled');
        enabled = spec.PointInTimeRecoveryEnabled;
      }
      if (given(spec.RecoveryPeriodInDays)) {
        if (typeof spec.RecoveryPeriodInDays !== 'number' || !Number.isInteger(spec.RecoveryPeriodInDays)) throw serialization('Expected an integer for RecoveryPeriodInDays');
        days = spec.RecoveryPeriodInDays;
        shape.atLeast(days, 'pointInTimeRecoverySpecification.recoveryPeriodInDays', 1);
        if (days > MAX_RECOVERY_DAYS) shape.add(days, 'pointInTimeRecoverySpecification.recoveryPeriodInDays', `Member must have value less than or equal to ${MAX_RECOVERY_DAYS}`);
      }
    }
    shape.throwIfAny();
    const meta = this.table(name!);
    if (meta.status !== 'ACTIVE') throw new DynamoDBError('ContinuousBackupsUnavailableException', `Table is not active, try again later: ${meta.name}`);
    if (days !== undefined && enabled === false) {
      throw new DynamoDBError('ValidationException', 'RecoveryPeriodInDays can only be set when point in time recovery is being enabled');
    }
    const current = meta.pointInTimeRecovery;
    let next = current;
    if (enabled === true) {
      const recoveryPeriodDays = days ?? current?.recoveryPeriodDays ?? MAX_RECOVERY_DAYS;
      // Already on: only its period changes (its archived history stays restorable).
      const earliestMs = current?.enabled === true ? current.earliestMs : await this.pointInTime.enable(meta);
      next = { enabled: true, recoveryPeriodDays, earliestMs };
    } else if (enabled === false && current !== undefined) {
      next = { ...current, enabled: false };
    }
    const updated = next === current ? meta : this.cp.metadata.updateTable(meta.name, { pointInTimeRecovery: next });
    return { ContinuousBackupsDescription: this.describe(updated) };
  }

  async restoreTableToPointInTime(raw: RestoreTableToPointInTimeInput): Promise<RestoreTableToPointInTimeOutput> {
    this.cp.checkOpen();
    const input = inputOf(raw);
    const shape = new ConstraintErrors();
    const byName = given(input.SourceTableName) ? tableNameMember(input.SourceTableName, 'sourceTableName', shape) : undefined;
    let byArn: string | undefined;
    if (given(input.SourceTableArn)) {
      if (typeof input.SourceTableArn !== 'string') throw serialization('Expected a string for SourceTableArn');
      shape.length(input.SourceTableArn, 'sourceTableArn', 1, 1024);
      byArn = tableNameFromArn(input.SourceTableArn, { region: callRegion(), account: ACCOUNT });
    }
    if (shape.notNull(input.TargetTableName, 'targetTableName')) {
      if (typeof input.TargetTableName !== 'string') throw serialization('Expected a string for TargetTableName');
      shape.tableName(input.TargetTableName, 'targetTableName');
    }
    let atMs: number | undefined;
    if (given(input.RestoreDateTime)) {
      const t = input.RestoreDateTime;
      if (t instanceof Date && !Number.isNaN(t.getTime())) atMs = t.getTime();
      else if (typeof t === 'number' && Number.isFinite(t)) atMs = t * 1000;
      else throw serialization('Expected a timestamp for RestoreDateTime');
    }
    if (given(input.UseLatestRestorableTime) && typeof input.UseLatestRestorableTime !== 'boolean') throw serialization('Expected a boolean for UseLatestRestorableTime');
    shape.throwIfAny();
    if (byName === undefined && byArn === undefined) throw new DynamoDBError('ValidationException', 'Either SourceTableArn or SourceTableName must be specified');
    if (byName !== undefined && byArn !== undefined) throw new DynamoDBError('ValidationException', 'Only one of SourceTableArn or SourceTableName can be specified');
    const latestAsked = input.UseLatestRestorableTime === true;
    if (latestAsked && atMs !== undefined) throw new DynamoDBError('ValidationException', 'Only one of RestoreDateTime or UseLatestRestorableTime can be specified');
    if (!latestAsked && atMs === undefined) throw new DynamoDBError('ValidationException', 'Either RestoreDateTime or UseLatestRestorableTime must be specified');
    const source = this.table((byName ?? byArn)!);
    if (source.pointInTimeRecovery?.enabled !== true) {
      throw new DynamoDBError('PointInTimeRecoveryUnavailableException', `Point in time recovery is not enabled for table '${source.name}'`);
    }
    const { earliest, latest } = this.window(source);
    const at = latestAsked ? latest : atMs!;
    if (at < earliest || at > latest) {
      throw new DynamoDBError('InvalidRestoreTimeException',
        `Restore time is not within the restorable window: from ${new Date(earliest).toISOString()} to ${new Date(latest).toISOString()}`);
    }
    const target = input.TargetTableName as string;
    if (this.cp.metadata.table(target) !== undefined) {
      throw new DynamoDBError('TableAlreadyExistsException', `Table already exists: ${target}`);
    }
    // Every partition as of `at`: an archived snapshot before it, and its log up to it.
    const partitions = await this.pointInTime.partitionsAt(source, at);
    const items: Item[][] = await Promise.all(partitions.map(async (p) => {
      const last = p.entries.length > 0 ? p.entries[p.entries.length - 1].index : p.index;
      const [rebuilt] = await this.background.rebuild({ rec: p.rec, rows: p.rows, index: p.index, entries: p.entries, at: [last], splits: p.splits });
      return itemsOfRows(rebuilt.rows, source.tableId);
    }));
    const { SourceTableName: _n, SourceTableArn: _a, TargetTableName: _t, RestoreDateTime: _d, UseLatestRestorableTime: _u, ...overrides } = input;
    const meta = await this.backups.restoreFromItems(target, backedUpTable(source), overrides as RestoreOverrides, items, {
      sourceTableArn: tableArn(source.name), restoredAtMs: at,
    });
    return { TableDescription: describeTableMeta(this.cp, meta) };
  }
}
