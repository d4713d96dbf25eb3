/** Tables: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, tags, and the
 *  account-level DescribeEndpoints and DescribeLimits. */
import type {
  CreateTableInput, DeleteTableInput, DescribeEndpointsOutput, DescribeTimeToLiveInput, DescribeTimeToLiveOutput,
  UpdateTimeToLiveInput, UpdateTimeToLiveOutput, DescribeLimitsOutput, DescribeTableInput,
  ListTablesInput, ListTablesOutput, ListTagsOfResourceInput, ListTagsOfResourceOutput, TableDescription,
  TagResourceInput, UntagResourceInput, UpdateTableInput, UpdateTableOutput,
} from '../api-types.js';
import { decreasesToday, tableTags, utcDay, type NewTable, type TableChanges, type TableMeta } from '../control/metadata.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import {
  checkArnAuthorized, mergeTags, MAX_TAGS, sortTags, tableNameFromArn, TOO_MANY_TAGS_MESSAGE, validateTagKey, validateTags,
  type TagShape,
} from '../model/tags.js';
import { validateTableName } from '../model/validate.js';
import { callRegion, tableArn } from './call-context.js';
import { ControlPlane, type TableStats } from './control-plane.js';
import {
  applyGlobalIndexPlan, describeIndexes, indexSizes, newIndexes, planGlobalIndexUpdates, throughputDescription, type GlobalIndexPlan,
  type IndexSize,
} from './indexes.js';
import { ACCOUNT, ConstraintErrors, isPlainObject } from './request-checks.js';
import {
  checkCreateTableInput, checkTableNameParameter, checkThroughputMembers, checkUpdateTableIndexShape,
  globalIndexUpdates, MAX_THROUGHPUT_VALUE,
} from './table-validation.js';

/** DynamoDB's default provisioned-capacity quotas (developer guide, "Quotas"): per table
 *  40,000 read and 40,000 write units, per account and Region 80,000 of each. */
const TABLE_MAX_CAPACITY_UNITS = 40_000;
const ACCOUNT_MAX_CAPACITY_UNITS = 80_000;
/** After the first 4 decreases of a UTC day, one more every hour. */
const FREE_DECREASES_PER_DAY = 4;
const DECREASE_INTERVAL_MS = 3600 * 1000;
/** ListTagsOfResource page size: DynamoDB answers all 50 tags a table may have at once. */
const TAGS_PAGE_SIZE = MAX_TAGS;
const DEFAULT_ENDPOINT_ADDRESS = 'localhost';

/** A table as DescribeTable (and the other table operations) show it. `stats`: its
 *  counted ItemCount and TableSizeBytes (0 while none were counted); `sizes`: its indexes'. */
export function describe(cp: ControlPlane, meta: TableMeta, stats?: TableStats, nowMs = Date.now(), sizes: Map<string, IndexSize> = new Map()): TableDescription {
  const throughput = throughputDescription(meta, nowMs);
  const arn = tableArn(meta.name);
  const status = meta.status === 'ACTIVE' && cp.updating.has(meta.name) ? 'UPDATING' : meta.status;
  const description: TableDescription = {
    TableName: meta.name,
    TableStatus: status,
    KeySchema: meta.keySchema,
    AttributeDefinitions: meta.attributeDefinitions,
    CreationDateTime: new Date(meta.createdAtMs),
    ProvisionedThroughput: throughput,
    TableSizeBytes: stats?.bytes ?? 0,
    ItemCount: stats?.items ?? 0,
    TableArn: arn,
    TableId: meta.uuid,
  };
  if (meta.billingMode === 'PAY_PER_REQUEST') {
    // While CREATING, DynamoDB's summary has no time yet.
    description.BillingModeSummary = meta.status === 'CREATING'
      ? { BillingMode: 'PAY_PER_REQUEST' }
      : { BillingMode: 'PAY_PER_REQUEST', LastUpdateToPayPerRequestDateTime: new Date(meta.lastUpdateToPayPerRequestMs ?? meta.createdAtMs) };
    description.TableThroughputModeSummary = { TableThroughputMode: 'PAY_PER_REQUEST' };
  } else if (meta.lastUpdateToPayPerRequestMs !== undefined) {
    // A PROVISIONED table that was PAY_PER_REQUEST once keeps its summary, as in DynamoDB.
    description.BillingModeSummary = { BillingMode: 'PROVISIONED', LastUpdateToPayPerRequestDateTime: new Date(meta.lastUpdateToPayPerRequestMs) };
  }
  // A table being deleted no longer lists its indexes.
  if (meta.status !== 'DELETING') Object.assign(description, describeIndexes(meta, arn, sizes, nowMs));
  if (meta.restore !== undefined) {
    description.RestoreSummary = {
      ...(meta.restore.sourceBackupArn !== undefined ? { SourceBackupArn: meta.restore.sourceBackupArn } : {}),
      SourceTableArn: meta.restore.sourceTableArn,
      RestoreDateTime: new Date(meta.restore.restoredAtMs),
      RestoreInProgress: meta.restore.inProgress,
    };
  }
  return description;
}

/** The table a table-level operation names, in any status (DynamoDB describes tables that
 *  are being created or deleted). */
function anyTable(cp: ControlPlane, name: string): TableMeta {
  const meta = cp.metadata.table(name);
  if (meta === undefined) throw new DynamoDBError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
  return meta;
}

/** DynamoDB refuses to change a table that is not ACTIVE. */
function checkChangeable(cp: ControlPlane, meta: TableMeta): void {
  const doing = meta.status === 'CREATING' ? 'created' : meta.status === 'DELETING' ? 'deleted' : cp.updating.has(meta.name) ? 'updated' : undefined;
  if (doing !== undefined) {
    throw new DynamoDBError('ResourceInUseException', `Attempt to change a resource which is still in use: Table is being ${doing}: ${meta.name}`);
  }
}

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A time as DynamoDB writes it in its decrease-limit message: "Wednesday, July 25, 2018 8:48:14 PM UTC". */
function utcDateText(ms: number): string {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${WEEKDAYS[d.getUTCDay()]}, ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} `
    + `${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'} UTC`;
}

const TAGS_TOKEN_PREFIX = 'tags:';

/** ListTagsOfResource's NextToken: opaque to callers, the last key of the page inside. */
function encodeTagsToken(lastKey: string): string {
  return Buffer.from(TAGS_TOKEN_PREFIX + lastKey, 'utf8').toString('base64url');
}

function decodeTagsToken(token: unknown): string {
  const decoded = typeof token === 'string' ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!decoded.startsWith(TAGS_TOKEN_PREFIX)) {
    throw validationError(`The provided NextToken is invalid: ${String(token)}. Pass the NextToken of the previous ListTagsOfResource response, or none for the first page.`);
  }
  return decoded.slice(TAGS_TOKEN_PREFIX.length);
}

/**
 * Records a new table (CREATING) from CreateTable's checked input and its indexes, after
 * the account's capacity quotas: CreateTable's and a restore's table alike.
 */
export function addCheckedTable(
  cp: ControlPlane, name: string, checked: ReturnType<typeof checkCreateTableInput>, indexes: ReturnType<typeof newIndexes>,
  extra: Partial<Pick<NewTable, 'tags' | 'restore'>>,
): TableMeta {
  if (checked.billingMode === 'PROVISIONED') checkCapacityQuotas(cp, name, checked.readCapacityUnits, checked.writeCapacityUnits);
  cp.forgetStats(name);
  return cp.metadata.addTable({
    name,
    keySchema: checked.keySchema,
    attributeDefinitions: checked.attributeDefinitions,
    keyShape: checked.keyShape,
    billingMode: checked.billingMode,
    readCapacityUnits: checked.readCapacityUnits,
    writeCapacityUnits: checked.writeCapacityUnits,
    ...extra,
    ...indexes,
  }, cp.options.partitions, cp.options.nodes);
}

export async function createTable(cp: ControlPlane, input: CreateTableInput): Promise<{ TableDescription: TableDescription }> {
  cp.checkOpen();
  const checked = checkCreateTableInput(isPlainObject(input) ? input as unknown as Record<string, unknown> : {});
  // Tags are checked with the rest: a table is created with all its tags or not at all.
  let tags: TagShape[] | undefined;
  if (input.Tags !== undefined && input.Tags !== null) {
    validateTags(input.Tags);
    tags = mergeTags([], input.Tags);
  }
  const indexes = newIndexes(input, checked.billingMode);
  if (cp.metadata.table(input.TableName) !== undefined) {
    throw new DynamoDBError('ResourceInUseException', `Table already exists: ${input.TableName}`);
  }
  const meta = addCheckedTable(cp, input.TableName, checked, indexes, tags !== undefined && tags.length > 0 ? { tags } : {});
  // DynamoDB answers CreateTable with the table CREATING; it turns ACTIVE a moment later
  // (options.tableStatusDelayMs; at once when 0). Item operations see only ACTIVE tables.
  await cp.createGroups(meta, false);
  await cp.afterStatusDelay(() => {
    if (cp.metadata.table(meta.name)?.status === 'CREATING') cp.metadata.setStatus(meta.name, 'ACTIVE');
  });
  return { TableDescription: describe(cp, meta) };
}

export async function describeTable(cp: ControlPlane, input: DescribeTableInput): Promise<{ Table: TableDescription }> {
  cp.checkOpen();
  checkTableNameParameter(input?.TableName);
  const meta = anyTable(cp, input.TableName);
  const active = meta.status === 'ACTIVE';
  let stats = cp.cachedStats(meta.name);
  if (active) {
    try {
      stats = await cp.tableStats(meta);
    } catch (error) {
      // A partition that cannot answer now (no leader) leaves the last count standing: the
      // description must not fail for a statistic DynamoDB itself refreshes lazily.
      if (!(error instanceof DynamoDBError)) throw error;
    }
  }
  return { Table: describe(cp, meta, stats, Date.now(), active ? await indexSizes(cp, meta) : undefined) };
}

export async function listTables(cp: ControlPlane, input: ListTablesInput = {}): Promise<ListTablesOutput> {
  cp.checkOpen();
  const shape = new ConstraintErrors();
  const start = input?.ExclusiveStartTableName ?? undefined;
  if (start !== undefined) {
    if (typeof start !== 'string') validateTableName(start, 'exclusiveStartTableName');
    if (!/^[a-zA-Z0-9_.-]+$/.test(start)) shape.add(start, 'exclusiveStartTableName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+');
    if (start.length < 3) shape.add(start, 'exclusiveStartTableName', 'Member must have length greater than or equal to 3');
    if (start.length > 255) shape.add(start, 'exclusiveStartTableName', 'Member must have length less than or equal to 255');
  }
  const limit = input?.Limit ?? 100;
  if (typeof limit !== 'number' || !Number.isInteger(limit)) throw new DynamoDBError('SerializationException', 'Expected an integer for Limit');
  if (limit < 1) shape.add(limit, 'limit', 'Member must have value greater than or equal to 1');
  if (limit > 100) shape.add(limit, 'limit', 'Member must have value less than or equal to 100');
  shape.throwIfAny();
  // Tables being created are listed; those being deleted no longer are.
  const names = cp.metadata.tables().filter((t) => t.status !== 'DELETING').map((t) => t.name);
  const after = start === undefined ? names : names.filter((name) => name > start);
  const page = after.slice(0, limit);
  const output: ListTablesOutput = { TableNames: page };
  if (after.length > limit) output.LastEvaluatedTableName = page[page.length - 1];
  return output;
}

/** `beforeDrop`: what must read the table's data once it takes no more writes and before
 *  it goes (a SYSTEM backup, for a table with point-in-time recovery). */
export async function deleteTable(
  cp: ControlPlane, input: DeleteTableInput, beforeDrop?: (meta: TableMeta) => Promise<void>,
): Promise<{ TableDescription: TableDescription }> {
  cp.checkOpen();
  checkTableNameParameter(input?.TableName);
  const meta = anyTable(cp, input.TableName);
  // "If the table is already in the DELETING state, no error is returned" (DynamoDB's API
  // reference).
  if (meta.status === 'DELETING') return { TableDescription: describe(cp, meta, cp.cachedStats(meta.name)) };
  checkChangeable(cp, meta);
  const stats = cp.cachedStats(meta.name);
  // DELETING at once (item operations stop finding it), gone a moment later.
  const deleting = cp.metadata.setStatus(meta.name, 'DELETING');
  await cp.afterStatusDelay(async () => {
    await beforeDrop?.(deleting);
    await cp.dropGroups(deleting);
  });
  return { TableDescription: describe(cp, deleting, stats) };
}

/**
 * UpdateTable: switch BillingMode (PROVISIONED ↔ PAY_PER_REQUEST), change
 * ProvisionedThroughput, and create, update or delete global secondary indexes, with
 * DynamoDB's checks (no-op changes, per-table and account quotas, 4 decreases per UTC day
 * then one an hour, one index created or deleted at a time). The answer says UPDATING
 * with the table as it was; the change is recorded durably after
 * options.tableStatusDelayMs (at once when 0), when the table is ACTIVE again. What
 * shardbox tables do not have yet (streams, encryption settings, replicas, table classes,
 * warm or on-demand throughput, deletion protection) is refused with a ValidationException.
 */
export async function updateTable(cp: ControlPlane, input: UpdateTableInput): Promise<UpdateTableOutput> {
  cp.checkOpen();
  const raw = (isPlainObject(input) ? input : {}) as Record<string, unknown>;
  const shape = new ConstraintErrors();
  checkUpdateTableIndexShape(raw, shape, 'definitions');
  checkTableNameParameter(raw.TableName, shape);
  const throughputGiven = raw.ProvisionedThroughput ?? undefined;
  if (throughputGiven !== undefined) {
    if (!isPlainObject(throughputGiven)) throw new DynamoDBError('SerializationException', 'Expected a structure for ProvisionedThroughput');
    checkThroughputMembers(throughputGiven, 'provisionedThroughput', shape);
  }
  if (raw.BillingMode !== undefined && raw.BillingMode !== null && raw.BillingMode !== 'PROVISIONED' && raw.BillingMode !== 'PAY_PER_REQUEST') {
    shape.add(raw.BillingMode, 'billingMode', 'Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]');
  }
  checkUpdateTableIndexShape(raw, shape, 'updates');
  shape.throwIfAny();
  const throughput = throughputGiven as { ReadCapacityUnits: number; WriteCapacityUnits: number } | undefined;
  const billingMode = (raw.BillingMode ?? undefined) as UpdateTableInput['BillingMode'];

  const nonEmpty = (list: unknown): boolean => Array.isArray(list) ? list.length > 0 : list !== undefined && list !== null;
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  const actionable = given(throughput) || given(billingMode) || given(input.StreamSpecification)
    || nonEmpty(input.GlobalSecondaryIndexUpdates) || given(input.SSESpecification) || nonEmpty(input.ReplicaUpdates)
    || given(input.MultiRegionConsistency) || given(input.DeletionProtectionEnabled) || given(input.OnDemandThroughput)
    || given(input.WarmThroughput) || given(input.TableClass) || nonEmpty(input.GlobalTableWitnessUpdates);
  if (!actionable) {
    throw validationError('At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, '
      + 'SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, '
      + 'DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required');
  }
  if (billingMode === 'PROVISIONED' && throughput === undefined) {
    throw validationError('One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED');
  }
  if (throughput !== undefined) {
    for (const [name, value] of [['ReadCapacityUnits', throughput.ReadCapacityUnits], ['WriteCapacityUnits', throughput.WriteCapacityUnits]] as const) {
      if (value > MAX_THROUGHPUT_VALUE) throw validationError(`Given value ${value} for ${name} is out of bounds`);
    }
  }
  const indexUpdates = globalIndexUpdates(input.GlobalSecondaryIndexUpdates);
  const unsupported = (what: string, why: string): never => {
    throw validationError(`${what} is not supported by shardbox yet (${why}); leave it out of the UpdateTable request.`);
  };
  if (given(input.StreamSpecification) && (input.StreamSpecification as { StreamEnabled?: unknown }).StreamEnabled !== false) {
    unsupported('StreamSpecification', 'tables have no streams');
  }
  if (given(input.SSESpecification)) unsupported('SSESpecification', 'encryption at rest is not configurable');
  if (nonEmpty(input.ReplicaUpdates) || given(input.MultiRegionConsistency) || nonEmpty(input.GlobalTableWitnessUpdates)) {
    unsupported('ReplicaUpdates, MultiRegionConsistency and GlobalTableWitnessUpdates', 'there are no global tables');
  }
  if (given(input.OnDemandThroughput)) unsupported('OnDemandThroughput', 'on-demand tables have no maximum throughput setting');
  if (given(input.WarmThroughput)) unsupported('WarmThroughput', 'tables have no warm throughput setting');
  if (given(input.TableClass)) {
    if (input.TableClass !== 'STANDARD' && input.TableClass !== 'STANDARD_INFREQUENT_ACCESS') {
      throw validationError('Invalid table-class parameter provided. Please try again with a valid table-class value: [STANDARD, STANDARD_INFREQUENT_ACCESS].');
    }
    if (input.TableClass !== 'STANDARD') unsupported('TableClass STANDARD_INFREQUENT_ACCESS', 'every table is of class STANDARD');
  }
  if (given(input.DeletionProtectionEnabled) && input.DeletionProtectionEnabled !== false) {
    unsupported('DeletionProtectionEnabled true', 'tables have no deletion protection');
  }

  const meta = cp.meta(input.TableName);
  checkChangeable(cp, meta);
  const target = billingMode ?? meta.billingMode;
  for (const update of indexUpdates) {
    // What DynamoDB answers (dynalite recorded it) to index throughput out of bounds, before
    // it looks for the index.
    if (update.action === 'Update' && (update.throughput.ReadCapacityUnits > MAX_THROUGHPUT_VALUE || update.throughput.WriteCapacityUnits > MAX_THROUGHPUT_VALUE)) {
      throw validationError('This operation cannot be performed with given input values. Please contact DynamoDB service team for more info: Action Blocked: IndexUpdate');
    }
  }
  const indexPlan: GlobalIndexPlan | undefined = indexUpdates.length > 0
    ? planGlobalIndexUpdates(meta, input.GlobalSecondaryIndexUpdates!, input.AttributeDefinitions, target)
    : undefined;
  if (throughput !== undefined && target === 'PAY_PER_REQUEST') {
    throw validationError('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
  }
  if (input.StreamSpecification !== undefined && input.StreamSpecification !== null) {
    throw validationError(`Table has no stream to disable: TableName: ${meta.name}`);
  }
  const now = Date.now();
  let changes: TableChanges = {};
  if (target === 'PAY_PER_REQUEST') {
    // Switching to on-demand; asking for on-demand again is a no-op, as in DynamoDB.
    if (meta.billingMode !== 'PAY_PER_REQUEST') {
      changes = { billingMode: 'PAY_PER_REQUEST', readCapacityUnits: 0, writeCapacityUnits: 0, lastUpdateToPayPerRequestMs: now };
    }
  } else if (throughput !== undefined) {
    const read = throughput.ReadCapacityUnits;
    const write = throughput.WriteCapacityUnits;
    const switching = meta.billingMode === 'PAY_PER_REQUEST';
    if (!switching && read === meta.readCapacityUnits && write === meta.writeCapacityUnits) {
      throw validationError('The provisioned throughput for the table will not change. The requested value equals the current value. '
        + `Current ReadCapacityUnits provisioned for the table: ${meta.readCapacityUnits}. Requested ReadCapacityUnits: ${read}. `
        + `Current WriteCapacityUnits provisioned for the table: ${meta.writeCapacityUnits}. Requested WriteCapacityUnits: ${write}. `
        + 'Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.');
    }
    checkCapacityQuotas(cp, meta.name, read, write);
    const increase = switching || read > meta.readCapacityUnits || write > meta.writeCapacityUnits;
    const decrease = !switching && (read < meta.readCapacityUnits || write < meta.writeCapacityUnits);
    changes = { billingMode: 'PROVISIONED', readCapacityUnits: read, writeCapacityUnits: write };
    if (switching) changes.lastUpdateToPayPerRequestMs = meta.lastUpdateToPayPerRequestMs ?? meta.createdAtMs;
    if (increase) changes.lastIncreaseMs = now;
    if (decrease) {
      const count = decreasesToday(meta, now);
      const last = meta.lastDecreaseMs;
      if (count >= FREE_DECREASES_PER_DAY && last !== undefined && now - last < DECREASE_INTERVAL_MS) {
        throw new DynamoDBError('LimitExceededException', 'Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. '
          + `After the first ${FREE_DECREASES_PER_DAY} decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 seconds. `
          + `Number of decreases today: ${count}. Last decrease at ${utcDateText(last)}. Next decrease can be made at ${utcDateText(last + DECREASE_INTERVAL_MS)}`);
      }
      Object.assign(changes, { lastDecreaseMs: now, decreasesDay: utcDay(now), decreasesOnDay: count + 1 });
    }
  }
  if (meta.billingMode === 'PAY_PER_REQUEST' && target === 'PROVISIONED') {
    // Provisioned again: every global index needs its throughput in the same request.
    const given = new Set((indexPlan?.throughput ?? []).map((t) => t.name));
    for (const index of meta.globalIndexes ?? []) {
      if (index.status !== 'DELETING' && index.spec.name !== indexPlan?.delete && !given.has(index.spec.name)) {
        throw validationError(`One or more parameter values were invalid: ProvisionedThroughput must be specified for index: ${index.spec.name}`);
      }
    }
  }
  // Index changes take effect at once; the indexes' own statuses say what is under way.
  if (indexPlan !== undefined) applyGlobalIndexPlan(cp, meta.name, indexPlan, now);

  if (Object.keys(changes).length === 0) return { TableDescription: { ...describe(cp, cp.meta(meta.name), cp.cachedStats(meta.name), now), TableStatus: 'UPDATING' } };
  const delayed = cp.options.tableStatusDelayMs > 0;
  const apply = (): void => {
    cp.updating.delete(meta.name);
    if (cp.metadata.table(meta.name)?.status !== 'ACTIVE') return;
    // The times are those the change took effect, as DynamoDB reports them once ACTIVE.
    const doneMs = Date.now();
    const applied: TableChanges = { ...changes };
    if (delayed && applied.lastIncreaseMs !== undefined) applied.lastIncreaseMs = doneMs;
    if (delayed && applied.lastDecreaseMs !== undefined) applied.lastDecreaseMs = doneMs;
    cp.metadata.updateTable(meta.name, applied);
    // On demand, the global indexes are too (DynamoDB shows their throughput as zeros).
    if (applied.billingMode === 'PAY_PER_REQUEST') {
      for (const index of cp.metadata.table(meta.name)?.globalIndexes ?? []) {
        cp.metadata.updateGlobalIndex(meta.name, index.spec.name, { readCapacityUnits: 0, writeCapacityUnits: 0 });
      }
    }
  };
  if (!delayed) {
    apply();
    // As DynamoDB: the answer says UPDATING; a DescribeTable after it says ACTIVE.
    return { TableDescription: { ...describe(cp, cp.meta(meta.name), cp.cachedStats(meta.name), now), TableStatus: 'UPDATING' } };
  }
  // Until it completes, the table is described as it was (with the times of this change).
  const pending: TableMeta = { ...meta };
  if (changes.lastIncreaseMs !== undefined) pending.lastIncreaseMs = changes.lastIncreaseMs;
  if (changes.lastDecreaseMs !== undefined) pending.lastDecreaseMs = changes.lastDecreaseMs;
  if (changes.billingMode === 'PAY_PER_REQUEST') Object.assign(pending, { billingMode: 'PAY_PER_REQUEST', readCapacityUnits: 0, writeCapacityUnits: 0, lastUpdateToPayPerRequestMs: now });
  cp.updating.set(meta.name, apply);
  void cp.afterStatusDelay(apply);
  return { TableDescription: { ...describe(cp, pending, cp.cachedStats(meta.name), now), TableStatus: 'UPDATING' } };
}

/** DynamoDB's default quotas on provisioned capacity: per table, and the account's sum. */
export function checkCapacityQuotas(cp: ControlPlane, table: string, read: number, write: number): void {
  const others = cp.metadata.tables().filter((t) => t.name !== table && t.status !== 'DELETING' && t.billingMode === 'PROVISIONED');
  for (const [name, requested, reserved] of [
    ['ReadCapacityUnits', read, others.reduce((n, t) => n + t.readCapacityUnits, 0)],
    ['WriteCapacityUnits', write, others.reduce((n, t) => n + t.writeCapacityUnits, 0)],
  ] as const) {
    if (requested > TABLE_MAX_CAPACITY_UNITS) {
      throw new DynamoDBError('LimitExceededException', `The requested ${name}, ${requested}, is above the per table maximum for the account in ${callRegion()}. `
        + `Per table maximum: ${TABLE_MAX_CAPACITY_UNITS}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.`);
    }
    if (reserved + requested > ACCOUNT_MAX_CAPACITY_UNITS) {
      throw new DynamoDBError('LimitExceededException', `This request would have caused the ${name} limit to be exceeded for the account in ${callRegion()}. `
        + `Current ${name} reserved by the account: ${reserved}. Limit: ${ACCOUNT_MAX_CAPACITY_UNITS}. Requested: ${requested}. `
        + 'Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.');
    }
  }
}

/** The table a tagging request names by ARN (ResourceNotFoundException with `notFound`). */
function taggedTable(cp: ControlPlane, arn: string, notFound: (arn: string) => string): TableMeta {
  return taggedTableNamed(cp, tableNameFromArn(arn, arnScope()), arn, notFound);
}

function arnScope(): { region: string; account: string } {
  return { region: callRegion(), account: ACCOUNT };
}

function taggedTableNamed(cp: ControlPlane, name: string, arn: string, notFound: (arn: string) => string): TableMeta {
  const meta = cp.metadata.table(name);
  if (meta === undefined || meta.status === 'DELETING') throw new DynamoDBError('ResourceNotFoundException', notFound(arn));
  return meta;
}

/** TagResource: adds or replaces tags of a table (by ARN); at most 50 tags per table. */
export async function tagResource(cp: ControlPlane, input: TagResourceInput): Promise<Record<string, never>> {
  cp.checkOpen();
  checkArnAuthorized(input?.ResourceArn, 'TagResource', ACCOUNT);
  const tags = input.Tags as unknown;
  if (tags === undefined || tags === null) throw validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  const name = tableNameFromArn(input.ResourceArn, arnScope());
  if (!Array.isArray(tags)) throw new DynamoDBError('SerializationException', 'Expected a list for Tags');
  if (tags.length === 0) throw validationError('Atleast one Tag needs to be provided as Input.');
  validateTags(tags);
  if (tags.length > MAX_TAGS) throw validationError(TOO_MANY_TAGS_MESSAGE);
  const meta = taggedTableNamed(cp, name, input.ResourceArn, (arn) => `Requested resource not found: ResourcArn: ${arn} not found`);
  cp.metadata.updateTable(meta.name, { tags: mergeTags(tableTags(meta), tags) });
  return {};
}

/** UntagResource: removes tags of a table by key (absent keys are fine). */
export async function untagResource(cp: ControlPlane, input: UntagResourceInput): Promise<Record<string, never>> {
  cp.checkOpen();
  checkArnAuthorized(input?.ResourceArn, 'UntagResource', ACCOUNT);
  const keys = input.TagKeys as unknown;
  if (keys === undefined || keys === null) throw validationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
  const name = tableNameFromArn(input.ResourceArn, arnScope());
  if (!Array.isArray(keys)) throw new DynamoDBError('SerializationException', 'Expected a list for TagKeys');
  if (keys.length === 0) throw validationError('Atleast one Tag Key needs to be provided as Input.');
  for (const key of keys) validateTagKey(key);
  if (keys.length > MAX_TAGS) throw validationError(TOO_MANY_TAGS_MESSAGE);
  const meta = taggedTableNamed(cp, name, input.ResourceArn, () => 'Requested resource not found');
  const removed = new Set<string>(keys as string[]);
  const tags = tableTags(meta);
  const kept = tags.filter((t) => !removed.has(t.Key));
  if (kept.length !== tags.length) cp.metadata.updateTable(meta.name, { tags: kept });
  return {};
}

/** ListTagsOfResource: a table's tags in key order, all 50 a table may have in one page. */
export async function listTagsOfResource(cp: ControlPlane, input: ListTagsOfResourceInput): Promise<ListTagsOfResourceOutput> {
  cp.checkOpen();
  checkArnAuthorized(input?.ResourceArn, 'ListTagsOfResource', ACCOUNT);
  const meta = taggedTable(cp, input.ResourceArn, (arn) => `Requested resource not found: ResourcArn: ${arn} not found`);
  const tags = sortTags(tableTags(meta).map((t) => ({ Key: t.Key, Value: t.Value })));
  let start = 0;
  if (input.NextToken !== undefined && input.NextToken !== null) {
    const after = decodeTagsToken(input.NextToken);
    start = tags.findIndex((t) => t.Key > after);
    if (start < 0) start = tags.length;
  }
  const page = tags.slice(start, start + TAGS_PAGE_SIZE);
  const output: ListTagsOfResourceOutput = { Tags: page };
  if (start + page.length < tags.length) output.NextToken = encodeTagsToken(page[page.length - 1]!.Key);
  return output;
}

/** DescribeEndpoints: where to send requests (`address`: the HTTP server's host[:port]). */
export async function describeEndpoints(cp: ControlPlane, _input: Record<string, unknown> = {}, address = DEFAULT_ENDPOINT_ADDRESS): Promise<DescribeEndpointsOutput> {
  cp.checkOpen();
  return { Endpoints: [{ Address: address, CachePeriodInMinutes: 1440 }] };
}

/** DescribeLimits: DynamoDB's default provisioned-capacity quotas, which UpdateTable and
 *  CreateTable enforce here. */
export async function describeLimits(cp: ControlPlane, _input: Record<string, unknown> = {}): Promise<DescribeLimitsOutput> {
  cp.checkOpen();
  return {
    AccountMaxReadCapacityUnits: ACCOUNT_MAX_CAPACITY_UNITS,
    AccountMaxWriteCapacityUnits: ACCOUNT_MAX_CAPACITY_UNITS,
    TableMaxReadCapacityUnits: TABLE_MAX_CAPACITY_UNITS,
    TableMaxWriteCapacityUnits: TABLE_MAX_CAPACITY_UNITS,
  };
}


/** DescribeTimeToLive: the table's UpdateTimeToLive setting (DISABLED until one is made). */
export async function describeTimeToLive(cp: ControlPlane, input: DescribeTimeToLiveInput): Promise<DescribeTimeToLiveOutput> {
  cp.checkOpen();
  checkTableNameParameter(input?.TableName);
  const setting = cp.meta(input.TableName).timeToLive;
  if (setting === undefined || !setting.enabled) return { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } };
  return { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: setting.attributeName } };
}

/**
 * UpdateTimeToLive: records which attribute holds the items' expiry time (DynamoDB's
 * checks: the specification's members, enabling when already enabled or disabling when
 * already disabled). shardbox records the setting; it does not expire items yet.
 */
export async function updateTimeToLive(cp: ControlPlane, input: UpdateTimeToLiveInput): Promise<UpdateTimeToLiveOutput> {
  cp.checkOpen();
  const shape = new ConstraintErrors();
  checkTableNameParameter(input?.TableName, shape);
  const spec = input.TimeToLiveSpecification as unknown;
  if (spec !== undefined && spec !== null && !isPlainObject(spec)) throw new DynamoDBError('SerializationException', 'Expected a structure for TimeToLiveSpecification');
  if (shape.notNull(spec, 'timeToLiveSpecification')) {
    const { AttributeName: name, Enabled: enabled } = spec as Record<string, unknown>;
    if (shape.notNull(name, 'timeToLiveSpecification.attributeName')) {
      if (typeof name !== 'string') throw new DynamoDBError('SerializationException', 'Expected a string for TimeToLiveSpecification.AttributeName');
      if (name.length < 1) shape.add(name, 'timeToLiveSpecification.attributeName', 'Member must have length greater than or equal to 1');
      if (name.length > 255) shape.add(name, 'timeToLiveSpecification.attributeName', 'Member must have length less than or equal to 255');
    }
    if (shape.notNull(enabled, 'timeToLiveSpecification.enabled') && typeof enabled !== 'boolean') {
      throw new DynamoDBError('SerializationException', 'Expected a boolean for TimeToLiveSpecification.Enabled');
    }
  }
  shape.throwIfAny();
  const { AttributeName: attributeName, Enabled: enabled } = input.TimeToLiveSpecification;
  const meta = cp.meta(input.TableName);
  const current = meta.timeToLive;
  if (enabled && current?.enabled === true) throw validationError('TimeToLive is already enabled');
  if (!enabled && current?.enabled !== true) throw validationError('TimeToLive is already disabled');
  if (!enabled && current !== undefined && current.attributeName !== attributeName) {
    throw validationError(`TimeToLive is enabled on attribute ${current.attributeName}, not ${attributeName}`);
  }
  cp.metadata.updateTable(meta.name, { timeToLive: { enabled, attributeName } });
  return { TimeToLiveSpecification: { AttributeName: attributeName, Enabled: enabled } };
}
