/** Tables: CreateTable, DescribeTable, ListTables, DeleteTable, UpdateTable, tags, and the
 *  account-level DescribeEndpoints and DescribeLimits. */
import type {
  CreateTableInput, DeleteTableInput, DescribeEndpointsOutput, DescribeLimitsOutput, DescribeTableInput,
  ListTablesInput, ListTablesOutput, ListTagsOfResourceInput, ListTagsOfResourceOutput, TableDescription,
  TagResourceInput, UntagResourceInput, UpdateTableInput, UpdateTableOutput,
} from '../api-types.js';
import { decreasesToday, tableTags, utcDay, type TableChanges, type TableMeta } from '../control/metadata.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import {
  mergeTags, MAX_TAGS, sortTags, tableNameFromArn, TOO_MANY_TAGS_MESSAGE, validateTagKey, validateTags,
  type TagShape,
} from '../model/tags.js';
import { keyShapeFrom, validateTableName } from '../model/validate.js';
import { ControlPlane } from './control-plane.js';
import { applyGlobalIndexPlan, describeIndexes, indexKeyNames, indexSizes, newIndexes, planGlobalIndexUpdates, throughputDescription, type IndexSize } from './indexes.js';
import { ACCOUNT, ARN_PREFIX, ConstraintErrors, REGION, isPlainObject } from './request-checks.js';

/** DynamoDB's default provisioned-capacity quotas (developer guide, "Quotas"): per table
 *  40,000 read and 40,000 write units, per account and Region 80,000 of each. */
const TABLE_MAX_CAPACITY_UNITS = 40_000;
const ACCOUNT_MAX_CAPACITY_UNITS = 80_000;
/** UpdateTable rejects throughput above this as out of bounds (a ValidationException). */
const MAX_THROUGHPUT_VALUE = 1_000_000_000_000;
/** After the first 4 decreases of a UTC day, one more every hour. */
const FREE_DECREASES_PER_DAY = 4;
const DECREASE_INTERVAL_MS = 3600 * 1000;
/** ListTagsOfResource page size: DynamoDB answers all 50 tags a table may have at once. */
const TAGS_PAGE_SIZE = MAX_TAGS;
const DEFAULT_ENDPOINT_ADDRESS = 'localhost';

function describe(meta: TableMeta, nowMs = Date.now(), indexSizes: Map<string, IndexSize> = new Map()): TableDescription {
  return { ...describeTableOnly(meta, nowMs), ...describeIndexes(meta, ARN_PREFIX + meta.name, indexSizes, nowMs) };
}

function describeTableOnly(meta: TableMeta, nowMs: number): TableDescription {
  const throughput = throughputDescription(meta, nowMs);
  const description: TableDescription = {
    TableName: meta.name,
    TableStatus: meta.status,
    KeySchema: meta.keySchema,
    AttributeDefinitions: meta.attributeDefinitions,
    CreationDateTime: new Date(meta.createdAtMs),
    ProvisionedThroughput: throughput,
    // DynamoDB refreshes these about every six hours; shardbox does not count them yet.
    TableSizeBytes: 0,
    ItemCount: 0,
    TableArn: ARN_PREFIX + meta.name,
    TableId: meta.uuid,
    DeletionProtectionEnabled: false,
  };
  if (meta.billingMode === 'PAY_PER_REQUEST') {
    description.BillingModeSummary = {
      BillingMode: 'PAY_PER_REQUEST',
      LastUpdateToPayPerRequestDateTime: new Date(meta.lastUpdateToPayPerRequestMs ?? meta.createdAtMs),
    };
  } else if (meta.lastUpdateToPayPerRequestMs !== undefined) {
    // A PROVISIONED table that was PAY_PER_REQUEST once keeps its summary, as in DynamoDB.
    description.BillingModeSummary = { BillingMode: 'PROVISIONED', LastUpdateToPayPerRequestDateTime: new Date(meta.lastUpdateToPayPerRequestMs) };
  }
  return description;
}


/** ProvisionedThroughput's members: both present, integers, at least 1 (DynamoDB's order). */
function checkThroughputShape(throughput: unknown, shape: ConstraintErrors): asserts throughput is { ReadCapacityUnits: number; WriteCapacityUnits: number } {
  if (!isPlainObject(throughput)) throw new DynamoDBError('SerializationException', 'Expected a structure for ProvisionedThroughput');
  for (const [member, value] of [['writeCapacityUnits', throughput.WriteCapacityUnits], ['readCapacityUnits', throughput.ReadCapacityUnits]] as const) {
    if (value === undefined || value === null) shape.missing(`provisionedThroughput.${member}`);
    else if (typeof value !== 'number' || !Number.isInteger(value)) throw new DynamoDBError('SerializationException', `Expected an integer for ProvisionedThroughput.${member[0]!.toUpperCase()}${member.slice(1)}`);
    else if (value < 1) shape.add(value, `provisionedThroughput.${member}`, 'Member must have value greater than or equal to 1');
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

export async function createTable(cp: ControlPlane, input: CreateTableInput): Promise<{ TableDescription: TableDescription }> {
  cp.checkOpen();
  validateTableName(input?.TableName);
  const keyShape = keyShapeFrom(input.KeySchema, input.AttributeDefinitions, indexKeyNames(input));
  const billingMode = input.BillingMode ?? 'PROVISIONED';
  if (billingMode !== 'PROVISIONED' && billingMode !== 'PAY_PER_REQUEST') {
    throw validationError(`1 validation error detected: Value '${String(billingMode)}' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]`);
  }
  let read = 0;
  let write = 0;
  if (billingMode === 'PROVISIONED') {
    const throughput = input.ProvisionedThroughput;
    if (throughput === undefined) throw validationError('One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED');
    for (const [name, value] of [['readCapacityUnits', throughput.ReadCapacityUnits], ['writeCapacityUnits', throughput.WriteCapacityUnits]] as const) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw validationError(`1 validation error detected: Value '${String(value)}' at 'provisionedThroughput.${name}' failed to satisfy constraint: Member must have value greater than or equal to 1`);
      }
    }
    read = throughput.ReadCapacityUnits;
    write = throughput.WriteCapacityUnits;
  } else if (input.ProvisionedThroughput !== undefined) {
    throw validationError('One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
  }
  // Tags are checked with the rest: a table is created with all its tags or not at all.
  let tags: TagShape[] | undefined;
  if (input.Tags !== undefined && input.Tags !== null) {
    validateTags(input.Tags);
    tags = mergeTags([], input.Tags);
  }
  const indexes = newIndexes(input, keyShape, billingMode);
  if (cp.metadata.table(input.TableName) !== undefined) {
    throw new DynamoDBError('ResourceInUseException', `Table already exists: ${input.TableName}`);
  }
  if (billingMode === 'PROVISIONED') checkCapacityQuotas(cp, input.TableName, read, write);
  const meta = cp.metadata.addTable({
    name: input.TableName,
    keySchema: input.KeySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
    attributeDefinitions: input.AttributeDefinitions.map((d) => ({ AttributeName: d.AttributeName, AttributeType: d.AttributeType })),
    keyShape,
    billingMode,
    readCapacityUnits: read,
    writeCapacityUnits: write,
    ...(tags !== undefined && tags.length > 0 ? { tags } : {}),
    ...indexes,
  }, cp.options.partitions, cp.options.nodes);
  await cp.createGroups(meta);
  // DynamoDB answers CreateTable with the table CREATING; a DescribeTable after it says
  // ACTIVE (here at once: the groups exist when this resolves). Clients wait for ACTIVE.
  return { TableDescription: { ...describe(cp.meta(input.TableName)), TableStatus: 'CREATING' } };
}

export async function describeTable(cp: ControlPlane, input: DescribeTableInput): Promise<{ Table: TableDescription }> {
  cp.checkOpen();
  const meta = cp.meta(input?.TableName);
  return { Table: describe(meta, Date.now(), await indexSizes(cp, meta)) };
}

export async function listTables(cp: ControlPlane, input: ListTablesInput = {}): Promise<ListTablesOutput> {
  cp.checkOpen();
  const limit = input.Limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw validationError(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`);
  }
  if (input.ExclusiveStartTableName !== undefined) validateTableName(input.ExclusiveStartTableName, 'exclusiveStartTableName');
  const names = cp.metadata.tables().filter((t) => t.status !== 'DELETING').map((t) => t.name);
  const start = input.ExclusiveStartTableName;
  const after = start === undefined ? names : names.filter((name) => name > start);
  const page = after.slice(0, limit);
  const output: ListTablesOutput = { TableNames: page };
  if (after.length > limit) output.LastEvaluatedTableName = page[page.length - 1];
  return output;
}

export async function deleteTable(cp: ControlPlane, input: DeleteTableInput): Promise<{ TableDescription: TableDescription }> {
  cp.checkOpen();
  const meta = cp.meta(input?.TableName);
  const deleting = cp.metadata.setStatus(meta.name, 'DELETING');
  await cp.dropGroups(deleting);
  return { TableDescription: describe(deleting) };
}

/**
 * UpdateTable: switch BillingMode (PROVISIONED ↔ PAY_PER_REQUEST) and change
 * ProvisionedThroughput, with DynamoDB's checks (no-op changes, per-table and account
 * quotas, 4 decreases per UTC day then one an hour). The change is recorded durably and
 * complete when this returns, so the table stays ACTIVE. What shardbox tables do not have
 * yet (secondary indexes, streams, encryption settings, replicas, table classes, warm or
 * on-demand throughput, deletion protection) is refused with a ValidationException.
 */
export async function updateTable(cp: ControlPlane, input: UpdateTableInput): Promise<UpdateTableOutput> {
  cp.checkOpen();
  validateTableName(input?.TableName);
  const shape = new ConstraintErrors();
  shape.enumValue(input.BillingMode, 'billingMode', ['PROVISIONED', 'PAY_PER_REQUEST']);
  const throughput = input.ProvisionedThroughput ?? undefined;
  if (throughput !== undefined) checkThroughputShape(throughput, shape);
  shape.throwIfAny();

  const nonEmpty = (list: unknown): boolean => Array.isArray(list) ? list.length > 0 : list !== undefined && list !== null;
  const given = (v: unknown): boolean => v !== undefined && v !== null;
  const actionable = given(throughput) || given(input.BillingMode) || given(input.StreamSpecification)
    || nonEmpty(input.GlobalSecondaryIndexUpdates) || given(input.SSESpecification) || nonEmpty(input.ReplicaUpdates)
    || given(input.MultiRegionConsistency) || given(input.DeletionProtectionEnabled) || given(input.OnDemandThroughput)
    || given(input.WarmThroughput) || given(input.TableClass) || nonEmpty(input.GlobalTableWitnessUpdates);
  if (!actionable) {
    throw validationError('At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, '
      + 'SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, '
      + 'DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required');
  }
  if (input.BillingMode === 'PROVISIONED' && throughput === undefined) {
    throw validationError('One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED');
  }
  if (throughput !== undefined) {
    for (const [name, value] of [['ReadCapacityUnits', throughput.ReadCapacityUnits], ['WriteCapacityUnits', throughput.WriteCapacityUnits]] as const) {
      if (value > MAX_THROUGHPUT_VALUE) throw validationError(`Given value ${value} for ${name} is out of bounds`);
    }
  }
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
  if (meta.status === 'CREATING') {
    throw new DynamoDBError('ResourceInUseException', `Attempt to change a resource which is still in use: Table is being created: ${meta.name}`);
  }
  const target = input.BillingMode ?? meta.billingMode;
  const indexPlan = nonEmpty(input.GlobalSecondaryIndexUpdates)
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
  if (Object.keys(changes).length > 0) cp.metadata.updateTable(meta.name, changes);
  if (indexPlan !== undefined) applyGlobalIndexPlan(cp, meta.name, indexPlan, now);
  const updated = cp.metadata.table(meta.name)!;
  // As DynamoDB: the answer says UPDATING; a DescribeTable after it says ACTIVE.
  return { TableDescription: { ...describe(updated, now), TableStatus: 'UPDATING' } };
}

/** DynamoDB's default quotas on provisioned capacity: per table, and the account's sum. */
function checkCapacityQuotas(cp: ControlPlane, table: string, read: number, write: number): void {
  const others = cp.metadata.tables().filter((t) => t.name !== table && t.status !== 'DELETING' && t.billingMode === 'PROVISIONED');
  for (const [name, requested, reserved] of [
    ['ReadCapacityUnits', read, others.reduce((n, t) => n + t.readCapacityUnits, 0)],
    ['WriteCapacityUnits', write, others.reduce((n, t) => n + t.writeCapacityUnits, 0)],
  ] as const) {
    if (requested > TABLE_MAX_CAPACITY_UNITS) {
      throw new DynamoDBError('LimitExceededException', `The requested ${name}, ${requested}, is above the per table maximum for the account in ${REGION}. `
        + `Per table maximum: ${TABLE_MAX_CAPACITY_UNITS}. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.`);
    }
    if (reserved + requested > ACCOUNT_MAX_CAPACITY_UNITS) {
      throw new DynamoDBError('LimitExceededException', `This request would have caused the ${name} limit to be exceeded for the account in ${REGION}. `
        + `Current ${name} reserved by the account: ${reserved}. Limit: ${ACCOUNT_MAX_CAPACITY_UNITS}. Requested: ${requested}. `
        + 'Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.');
    }
  }
}

/** The table a tagging request names by ARN (ResourceNotFoundException with `notFound`). */
function taggedTable(cp: ControlPlane, arn: unknown, notFound: (arn: string) => string): TableMeta {
  const name = tableNameFromArn(arn, { region: REGION, account: ACCOUNT });
  return taggedTableNamed(cp, name, arn as string, notFound);
}

function taggedTableNamed(cp: ControlPlane, name: string, arn: string, notFound: (arn: string) => string): TableMeta {
  const meta = cp.metadata.table(name);
  if (meta === undefined || meta.status === 'DELETING') throw new DynamoDBError('ResourceNotFoundException', notFound(arn));
  return meta;
}

/** TagResource: adds or replaces tags of a table (by ARN); at most 50 tags per table. */
export async function tagResource(cp: ControlPlane, input: TagResourceInput): Promise<Record<string, never>> {
  cp.checkOpen();
  const name = tableNameFromArn(input?.ResourceArn, { region: REGION, account: ACCOUNT });
  const tags = input.Tags as unknown;
  if (tags === undefined || tags === null) throw validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
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
  const name = tableNameFromArn(input?.ResourceArn, { region: REGION, account: ACCOUNT });
  const keys = input.TagKeys as unknown;
  if (keys === undefined || keys === null) throw validationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
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
  const meta = taggedTable(cp, input?.ResourceArn, (arn) => `Requested resource not found: ResourcArn: ${arn} not found`);
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

