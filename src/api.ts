/**
 * The embedded API. `ShardBox.open()` starts a cluster in this process: one worker thread
 * per storage node, the rings between them, the control plane and the main thread's
 * request router. Requests and responses have DynamoDB's shapes (see api-types.ts).
 *
 * Every request is validated and its expressions parsed here, before anything is sent:
 * bad input gets DynamoDB's error and changes nothing. Writes then travel as plain data to
 * their partition's leader and are evaluated when their log entry is applied.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type {
  BatchGetItemInput, BatchGetItemOutput, BatchWriteItemInput, BatchWriteItemOutput,
  Condition, ConsumedCapacity, CreateTableInput, DeleteItemInput, DeleteItemOutput, DeleteTableInput,
  DescribeEndpointsOutput, DescribeLimitsOutput, DescribeTableInput, GetItemInput, GetItemOutput,
  KeysAndAttributes, ListTablesInput, ListTablesOutput, ListTagsOfResourceInput, ListTagsOfResourceOutput, PageOutput,
  PutItemInput, PutItemOutput, QueryInput, QueryOutput, ReturnConsumedCapacity, ScanInput, ScanOutput,
  TableDescription, TagResourceInput, UntagResourceInput, UpdateItemInput, UpdateItemOutput, UpdateTableInput,
  UpdateTableOutput, WriteRequest,
} from './api-types.js';
import { decreasesToday, Metadata, tableTags, utcDay, type TableChanges, type TableMeta } from './control/metadata.js';
import { Supervisor } from './control/supervisor.js';
import { AutoAdmin } from './control/autoadmin.js';
import type { ConditionAst, ProjectionAst, UpdateAst } from './expressions/ast.js';
import {
  attributesToGetToProjection, attributeUpdatesToAst, checkAllPlaceholdersUsed, expectedToCondition, filterToCondition,
  keyConditionsToAst, newContext, parseCondition, parseFilter, parseKeyCondition, parseProjection, parseUpdate,
  type ExpressionContext,
} from './expressions/index.js';
import { readCapacityUnits, writeCapacityUnits } from './model/capacity.js';
import { DynamoDBError, fromErrorShape, validationError } from './model/errors.js';
import { HASH_SPACE, hashToHex, hexToHash, partitionHash } from './model/hash.js';
import { itemSize, validateItemSize } from './model/item-size.js';
import { encodeItemKeyWithHash } from './model/key-encoding.js';
import type { AttributeValue, Item, KeyShape } from './model/types.js';
import { mergeTags, MAX_TAGS, sortTags, tableNameFromArn, TOO_MANY_TAGS_MESSAGE, validateTagKey, validateTags, type TagShape } from './model/tags.js';
import {
  checkAttributeName, extractKey, KEY_SCHEMA_MISMATCH_MESSAGE, keyShapeFrom, normalizeAttributeValue, normalizeItem,
  validateAttributeValue, validateItem, validateItemKeyAttributes, validateKey, validateTableName,
} from './model/validate.js';
import { DEFAULT_TIMING, type NodeTiming } from './node/constants.js';
import { LinkCuts } from './node/links.js';
import type { DigestReply, NodeRequestBody } from './node/requests.js';
import type { NodeStats } from './node/storage-node.js';
import type { Durability } from './node/worker-data.js';
import type { ReplicaStatus } from './replication/types.js';
import { PartitionMapBoard, PartitionMapCache, type PartitionInfo, type TableRoute } from './router/partition-map.js';
import { DEFAULT_ROUTER_OPTIONS, Router, type RouterOptions, type Target } from './router/router.js';
import type { EncodedLatency, LatencySnapshot, RequestTiming } from './router/latency.js';
import { encodeWriteOp } from './storage/codec.js';
import type { PageResult, ReturnValues, WriteOp, WriteResult } from './storage/operations.js';
import { sdkHandler, type SdkHandler } from './server/sdk-handler.js';
import { allocateFabric, Endpoint, sendVersionOf, setSendVersion, type FabricBuffers } from './transport/fabric.js';
import { isFormatVersion, type FormatVersion } from './transport/protocol.js';

/** What `db.deploy.restartNode` measured (ms). */
export interface NodeRestart {
  node: number;
  /** False when the node still led a group or owed an answer when HAND_OVER_TIMEOUT_MS ran out. */
  handedOver: boolean;
  /** Until it led nothing and had answered every write it accepted. */
  handOverMs: number;
  /** From then until its thread ended (the main router's last answers, checkpoint, close). */
  stopMs: number;
  /** Until its store was recovered and its thread ran. */
  startMs: number;
  /** Until it held every group's log up to where the group had committed at its start. */
  catchUpMs: number;
  totalMs: number;
}

/** One end of a link that `faults.cut` can cut: a storage node's number, or a request
 *  router (`{ router: 0 }` is the main thread's; 1..options.routers are `routerPort(i)`'s). */
export type FaultEndpoint = number | { router: number };

/** A pause longer than this is surely a mistake (ms). */
const MAX_PAUSE_MS = 3_600_000;

export interface ShardBoxOptions {
  /** Storage nodes, one worker thread each. Default 3; at least 3 (a group has 3 replicas). */
  nodes?: number;
  /** Where the nodes keep their data (`<dir>/node-<i>`) and the control plane its
   *  metadata. Default: a temporary directory removed by `close()`. */
  dir?: string;
  /** 'sync' (default): a WAL record counts toward a quorum once fdatasync'd; survives power
   *  loss. 'async': no sync; survives a thread or process crash, not a power loss. */
  durability?: Durability;
  /** Partitions a new table starts with. Default 4. */
  partitions?: number;
  /** Request routers for other threads (benchmark client threads), besides the main
   *  thread's. Default 0. Each gets its own rings to every node: see `routerPort()`. */
  routers?: number;
  /** Bytes of each node→node ring (power of two). Default 4 MiB. */
  nodeRingBytes?: number;
  /** Bytes of each router↔node ring (power of two). Default 4 MiB: a 1 MB Query page
   *  must fit in one record. */
  routerRingBytes?: number;
  /** Logical time of the replication protocol (ms per tick, election, heartbeat, lease). */
  timing?: Partial<NodeTiming>;
  /** Seed of the replicas' election-timeout randomness. Default: random. */
  seed?: number;
  /** Router timeouts: per attempt and overall (ms). */
  router?: Partial<RouterOptions>;
  /** How long a replica may stay silent before the control plane replaces it with a log
   *  replica (WAL only) on a node outside the group, so writes keep a quorum that
   *  tolerates another failure; it is removed again once the replica is back and caught
   *  up (ms). Needs a node beyond a group's three (nodes >= 4). Default 1000; 0 turns
   *  log replicas off. */
  logReplicaAfterMs?: number;
  /** Ring-message format version every node and router sends at open: 1 (default) or 2
   *  (tuples, smaller). Every build reads both; change it live with
   *  `db.deploy.setFormatVersion`. */
  formatVersion?: FormatVersion;
}

interface ResolvedOptions {
  nodes: number;
  dir: string | undefined;
  durability: Durability;
  partitions: number;
  routers: number;
  nodeRingBytes: number;
  routerRingBytes: number;
  timing: NodeTiming;
  seed: number;
  router: Partial<RouterOptions>;
  logReplicaAfterMs: number;
  formatVersion: FormatVersion;
}

const MAX_NODES = 64;
const MAX_PARTITIONS = 1024;
const MAX_ROUTERS = 256;
/** DynamoDB's Query/Scan page limit. */
const PAGE_BYTES = 1024 * 1024;
/** The region and account of every ARN this store hands out. */
const REGION = 'local';
const ACCOUNT = '000000000000';
const ARN_PREFIX = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/`;
/** BatchGetItem: at most 100 keys in all; BatchWriteItem: at most 25 writes in all. */
const BATCH_GET_MAX_KEYS = 100;
const BATCH_WRITE_MAX_REQUESTS = 25;
/** BatchGetItem answers at most 16 MB of items; the rest come back as UnprocessedKeys. */
const BATCH_GET_RESPONSE_BYTES = 16 * 1024 * 1024;
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
/** Longest a planned stop waits for a node to hand its leaderships over (ms). */
const HAND_OVER_TIMEOUT_MS = 5000;
/** Longest `deploy.restartNode` waits for the restarted node to catch up (ms). */
const CATCH_UP_TIMEOUT_MS = 30_000;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`options.${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

function resolveOptions(options: ShardBoxOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const known = new Set(['nodes', 'dir', 'durability', 'partitions', 'routers', 'nodeRingBytes', 'routerRingBytes', 'timing', 'seed', 'router', 'logReplicaAfterMs', 'formatVersion']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`options.${key} is not an option of ShardBox.open (known: ${[...known].join(', ')})`);
  }
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === '')) {
    throw new TypeError('options.dir must be a non-empty string (a directory path)');
  }
  if (options.durability !== undefined && options.durability !== 'sync' && options.durability !== 'async') {
    throw new TypeError(`options.durability must be 'sync' or 'async' (got ${String(options.durability)})`);
  }
  for (const name of ['nodeRingBytes', 'routerRingBytes'] as const) {
    const value = options[name];
    if (value !== undefined && (!isPowerOfTwo(value) || value < 64 * 1024 || value > 1 << 30)) {
      throw new RangeError(`options.${name} must be a power of two from 65536 to 1073741824 (got ${String(value)})`);
    }
  }
  const timing: NodeTiming = { ...DEFAULT_TIMING };
  if (options.timing !== undefined) {
    for (const [key, value] of Object.entries(options.timing)) {
      if (!(key in DEFAULT_TIMING)) throw new TypeError(`options.timing.${key} is not a timing option`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw new RangeError(`options.timing.${key} must be a positive integer (got ${String(value)})`);
      }
      timing[key as keyof NodeTiming] = value;
    }
  }
  if (options.router !== undefined) {
    if (typeof options.router !== 'object' || options.router === null) throw new TypeError(`options.router must be an object (got ${String(options.router)})`);
    for (const [key, value] of Object.entries(options.router)) {
      if (!(key in DEFAULT_ROUTER_OPTIONS)) throw new TypeError(`options.router.${key} is not a router option (attemptTimeoutMs, deadlineMs)`);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 3_600_000) {
        throw new RangeError(`options.router.${key} must be an integer from 1 to 3600000 ms (got ${String(value)})`);
      }
    }
  }
  if (!(timing.heartbeatTicks < timing.leaseTicks && timing.leaseTicks < timing.electionTicks)) {
    throw new RangeError('options.timing must keep heartbeatTicks < leaseTicks < electionTicks (a lease must expire before anyone may be elected)');
  }
  return {
    nodes: integerOption('nodes', options.nodes, 3, 3, MAX_NODES),
    dir: options.dir,
    durability: options.durability ?? 'sync',
    partitions: integerOption('partitions', options.partitions, 4, 1, MAX_PARTITIONS),
    routers: integerOption('routers', options.routers, 0, 0, MAX_ROUTERS),
    nodeRingBytes: options.nodeRingBytes ?? 4 * 1024 * 1024,
    routerRingBytes: options.routerRingBytes ?? 4 * 1024 * 1024,
    timing,
    seed: integerOption('seed', options.seed, Math.floor(Math.random() * 0x7fffffff), 0, 0xffffffff),
    router: options.router ?? {},
    logReplicaAfterMs: integerOption('logReplicaAfterMs', options.logReplicaAfterMs, 1000, 0, 3_600_000),
    formatVersion: checkFormatVersion('options.formatVersion', options.formatVersion ?? 1),
  };
}

function checkFormatVersion(name: string, value: unknown): FormatVersion {
  if (!isFormatVersion(value)) throw new RangeError(`${name} must be 1 or 2 (the ring-message format versions this build reads; got ${String(value)})`);
  return value;
}

function tableNotFound(): DynamoDBError {
  return new DynamoDBError('ResourceNotFoundException', 'Requested resource not found');
}

function consumed(table: string, units: number, mode: ReturnConsumedCapacity | undefined): ConsumedCapacity | undefined {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  return { TableName: table, CapacityUnits: units };
}

function checkReturnValues(value: unknown, allowed: readonly ReturnValues[]): ReturnValues {
  if (value === undefined) return 'NONE';
  const all = ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'];
  if (typeof value !== 'string' || !all.includes(value)) {
    throw validationError(`1 validation error detected: Value '${String(value)}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]`);
  }
  if (!allowed.includes(value as ReturnValues)) {
    throw validationError(`ReturnValues can only be ${allowed.slice(1).join(' or ')} or NONE`);
  }
  return value as ReturnValues;
}

/** DynamoDB refuses to mix the legacy parameters with expressions in one request. */
function checkNotMixed(legacy: Record<string, unknown>, modern: Record<string, unknown>): void {
  const legacyUsed = Object.keys(legacy).filter((k) => legacy[k] !== undefined);
  const modernUsed = Object.keys(modern).filter((k) => modern[k] !== undefined);
  if (legacyUsed.length > 0 && modernUsed.length > 0) {
    throw validationError(`Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {${legacyUsed.join(', ')}} Expression parameters: {${modernUsed.join(', ')}}`);
  }
}

/** Placeholders only make sense with expressions. */
function expressionContext(input: { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> }, hasExpressions: boolean): ExpressionContext {
  // JSON null means absent, as in DynamoDB.
  if (input.ExpressionAttributeNames === null) input = { ...input, ExpressionAttributeNames: undefined };
  if (input.ExpressionAttributeValues === null) input = { ...input, ExpressionAttributeValues: undefined };
  if (!hasExpressions) {
    if (input.ExpressionAttributeNames !== undefined) throw validationError('ExpressionAttributeNames can only be specified when using expressions');
    if (input.ExpressionAttributeValues !== undefined) throw validationError('ExpressionAttributeValues can only be specified when using expressions');
  }
  let values: Record<string, AttributeValue> | undefined;
  if (input.ExpressionAttributeValues !== undefined) {
    // Validated and made canonical here, so the values an AST carries into the log are.
    values = {};
    for (const [name, value] of Object.entries(input.ExpressionAttributeValues)) {
      validateAttributeValue(value, { kind: 'expressionAttributeValue', name });
      values[name] = normalizeAttributeValue(value);
    }
  }
  return newContext(input.ExpressionAttributeNames, values);
}

function checkLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw validationError(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  }
  return limit;
}

function checkIndex(name: unknown): void {
  if (name !== undefined) throw validationError(`The table does not have the specified index: ${String(name)}`);
}

/** DynamoDB's request-shape errors ("N validation errors detected: …"), collected in
 *  DynamoDB's order and thrown together. */
class ConstraintErrors {
  private readonly errors: string[] = [];

  add(value: unknown, member: string, rule: string): void {
    const shown = value === null || value === undefined ? 'null' : `'${valueString(value)}'`;
    this.errors.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${rule}`);
  }

  missing(member: string): void {
    this.add(null, member, 'Member must not be null');
  }

  enumValue(value: unknown, member: string, allowed: readonly string[]): void {
    if (value !== undefined && value !== null && !allowed.includes(value as string)) {
      this.add(value, member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
    }
  }

  throwIfAny(): void {
    const n = this.errors.length;
    if (n > 0) throw validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`);
  }
}

const RETURN_CONSUMED_CAPACITY_VALUES = ['INDEXES', 'TOTAL', 'NONE'] as const;
const TABLE_NAME_KEYS_RULE = 'Map keys must satisfy constraint: [Member must have length less than or equal to 255, '
  + 'Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]';

/** How a value appears in a constraint message. */
function valueString(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(valueString).join(', ')}]`;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v !== null && typeof v === 'object') return JSON.stringify(v, binaryReplacer);
  return String(v);
}

function isTableName(name: string): boolean {
  return name.length >= 3 && name.length <= 255 && /^[a-zA-Z0-9_.-]+$/.test(name);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The identity of a valid key: attribute names in order, numbers canonical, type-tagged. */
function keyIdentity(key: Item): string {
  return JSON.stringify(Object.keys(key).sort().map((n) => [n, normalizeAttributeValue(key[n])]), binaryReplacer);
}

function isRetryable(error: unknown): boolean {
  return error instanceof DynamoDBError && error.retryable;
}

/** ConsumedCapacity of a batch: one entry per table, in request order. */
function batchCapacity(units: Map<string, number>, mode: ReturnConsumedCapacity | undefined): ConsumedCapacity[] | undefined {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  return [...units].map(([TableName, CapacityUnits]) => (mode === 'INDEXES'
    ? { TableName, CapacityUnits, Table: { CapacityUnits } }
    : { TableName, CapacityUnits }));
}

/** A legacy parameter's AttributeValue (AttributeUpdates, Expected, KeyConditions), checked
 *  as an item's values are and made canonical. */
function legacyValue(value: unknown): AttributeValue {
  validateAttributeValue(value);
  return normalizeAttributeValue(value);
}

function legacyValues(values: unknown): AttributeValue[] | undefined {
  if (values === undefined) return undefined;
  if (!Array.isArray(values)) throw new DynamoDBError('SerializationException', 'Expected a list for AttributeValueList');
  return values.map(legacyValue);
}

/** Expected / KeyConditions with every value checked and canonical. */
function checkedConditions<T extends { Value?: unknown; AttributeValueList?: unknown }>(conditions: Record<string, T>): Record<string, T> {
  if (!isPlainObject(conditions)) throw new DynamoDBError('SerializationException', 'Expected a map of conditions');
  const out: Record<string, T> = {};
  for (const [name, c] of Object.entries(conditions)) {
    const copy = { ...c };
    if (c.Value !== undefined) copy.Value = legacyValue(c.Value);
    if (c.AttributeValueList !== undefined) copy.AttributeValueList = legacyValues(c.AttributeValueList);
    out[name] = copy;
  }
  return out;
}

/** Legacy ConditionalOperator (with Expected, QueryFilter or ScanFilter): AND or OR. */
function conditionalOperator(value: unknown): 'AND' | 'OR' | undefined {
  if (value === undefined || value === 'AND' || value === 'OR') return value;
  throw validationError(`1 validation error detected: Value '${String(value)}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]`);
}

/** FilterExpression, or the legacy QueryFilter / ScanFilter combined with ConditionalOperator. */
function pageFilter(expression: string | undefined, legacy: Record<string, Condition> | undefined, operator: unknown, ctx: ExpressionContext): ConditionAst | undefined {
  const combine = conditionalOperator(operator);
  if (expression !== undefined) return parseFilter(expression, ctx);
  if (legacy !== undefined) return filterToCondition(checkedConditions(legacy) as Parameters<typeof filterToCondition>[0], combine);
  return undefined;
}

/** The RequestItems of a batch: present, a map, of one or more valid table names. */
function batchRequestItems(shape: ConstraintErrors, requestItems: unknown): { requestItems: Record<string, unknown>; tables: string[] } {
  if (requestItems === undefined || requestItems === null) {
    shape.missing('requestItems');
    shape.throwIfAny();
  }
  if (!isPlainObject(requestItems)) throw new DynamoDBError('SerializationException', 'Expected a map for RequestItems');
  const tables = Object.keys(requestItems);
  if (tables.length === 0) shape.add(requestItems, 'requestItems', 'Member must have length greater than or equal to 1');
  if (tables.some((t) => !isTableName(t))) shape.add(requestItems, 'requestItems', TABLE_NAME_KEYS_RULE);
  return { requestItems, tables };
}

/** One planned read of a BatchGetItem. */
interface BatchGetJob {
  table: string;
  route: TableRoute;
  key: Item;
  original: Item;
  consistent: boolean;
  projection: ProjectionAst | undefined;
}

/** One planned write of a BatchWriteItem. */
interface BatchWriteJob {
  table: string;
  route: TableRoute;
  request: WriteRequest;
  op: WriteOp;
  size: number;
}

function describe(meta: TableMeta, nowMs = Date.now()): TableDescription {
  const throughput: TableDescription['ProvisionedThroughput'] = {
    NumberOfDecreasesToday: decreasesToday(meta, nowMs),
    ReadCapacityUnits: meta.readCapacityUnits,
    WriteCapacityUnits: meta.writeCapacityUnits,
  };
  if (meta.lastIncreaseMs !== undefined) throughput.LastIncreaseDateTime = new Date(meta.lastIncreaseMs);
  if (meta.lastDecreaseMs !== undefined) throughput.LastDecreaseDateTime = new Date(meta.lastDecreaseMs);
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

/** What another thread needs to run its own request router: plain shared memory, handed
 *  over once (in workerData), never per request. */
export interface RouterPort {
  fabric: FabricBuffers;
  board: SharedArrayBuffer;
  endpoint: number;
  router: Partial<RouterOptions>;
}

/** Per-call options of the single-item operations (not part of DynamoDB's input). */
export interface RequestOptions {
  /** Receives where this request spent its time, stage by stage (see `latency()`), before
   *  the call resolves; not called when no node answered (throttled, timed out). */
  onTiming?: (timing: RequestTiming) => void;
}

/**
 * The data-plane operations (items), usable from any thread that has a router: the main
 * thread's `ShardBox`, or a `ShardBoxClient` in a benchmark client thread.
 */
export class ItemOperations {
  protected constructor(
    protected readonly router: Router,
    protected readonly routes: PartitionMapCache,
  ) {}

  /**
   * Where this thread's requests spent their time, stage by stage (router queue, ring
   * transit, leader wait, replication, apply or read, reply), as HdrHistogram percentiles
   * in µs per kind (reads, writes), with the slowest requests' own stages. The stages of a
   * request add up to its time in the router. `reset: true` starts a new window after the
   * snapshot; `slowest` sets how many slowest requests are kept (default 10).
   */
  latency(options: { reset?: boolean; slowest?: number } = {}): LatencySnapshot {
    const tracker = this.router.latency;
    const snapshot = tracker.snapshot();
    if (options.slowest !== undefined) tracker.setKeepSlowest(options.slowest);
    if (options.reset === true) tracker.reset();
    return snapshot;
  }

  /** The same, as histograms that cross threads (`LatencyTracker.add` merges them). */
  latencyEncoded(options: { reset?: boolean } = {}): EncodedLatency {
    const tracker = this.router.latency;
    const encoded = tracker.encode();
    if (options.reset === true) tracker.reset();
    return encoded;
  }

  protected route(tableName: unknown): TableRoute {
    validateTableName(tableName);
    const route = this.routes.table(tableName);
    if (route === undefined) throw tableNotFound();
    return route;
  }

  private readTarget(route: TableRoute, key: Item, consistent: boolean): Target {
    const partition = this.routes.partitionFor(route, partitionHash(key[route.keyShape.hashName]));
    return { mode: consistent ? 'leader' : 'any', group: partition.group, replicas: partition.replicas };
  }

  /** Hashes the partition key of a write and encodes its B-tree key into `op.itemKey`.
   *  Returns the hash. */
  private prepareWrite(route: TableRoute, op: WriteOp): bigint {
    const hash = partitionHash(op.key[route.keyShape.hashName]);
    op.itemKey = encodeItemKeyWithHash(route.tableId, hash, route.keyShape, op.key);
    return hash;
  }

  /** Routes a write to its partition's leader. The partition key is hashed once, here:
   *  the same hash goes into the item's B-tree key, carried in the log entry. */
  private async write(route: TableRoute, op: WriteOp, options: RequestOptions = {}): Promise<WriteResult> {
    const hash = this.prepareWrite(route, op);
    const partition = this.routes.partitionFor(route, hash);
    const entry = encodeWriteOp(op);
    const body: NodeRequestBody = { t: 'write', entry };
    const target: Target = { mode: 'leader', group: partition.group, replicas: partition.replicas };
    const result = (await this.router.request(target, body, false, { bytes: entry.byteLength, onTiming: options.onTiming })) as WriteResult;
    if (!result.ok) throw fromErrorShape(result.error);
    return result;
  }

  private condition(input: PutItemInput | DeleteItemInput | UpdateItemInput, ctx: ExpressionContext): ConditionAst | undefined {
    checkNotMixed({ Expected: input.Expected, ConditionalOperator: input.ConditionalOperator }, { ConditionExpression: input.ConditionExpression });
    if (input.ConditionExpression !== undefined) return parseCondition(input.ConditionExpression, ctx);
    if (input.Expected !== undefined) return expectedToCondition(checkedConditions(input.Expected) as Parameters<typeof expectedToCondition>[0], conditionalOperator(input.ConditionalOperator));
    return undefined;
  }

  /**
   * BatchGetItem: up to 100 keys from any tables, read from their partitions in parallel.
   * Keys that could not be read (their partition unavailable, or past the 16 MB response
   * cap) come back in UnprocessedKeys; the call fails only when the request is invalid, or
   * when no key at all could be read.
   */
  async batchGetItem(input: BatchGetItemInput): Promise<BatchGetItemOutput> {
    const { jobs, specs } = this.planBatchGet(input);
    const settled = await Promise.allSettled(jobs.map((job) => {
      const body: NodeRequestBody = {
        t: 'get', consistent: job.consistent,
        req: { tableId: job.route.tableId, key: job.key, ...(job.projection ? { projection: job.projection } : {}) },
      };
      return this.router.request(this.readTarget(job.route, job.key, job.consistent), body, true) as Promise<{ item?: Item }>;
    }));
    const output: BatchGetItemOutput = { Responses: {}, UnprocessedKeys: {} };
    const units = new Map<string, number>();
    for (const table of specs.keys()) {
      output.Responses[table] = [];
      units.set(table, 0);
    }
    const unprocessed = (job: BatchGetJob): void => {
      let entry = output.UnprocessedKeys[job.table];
      if (entry === undefined) {
        const spec = specs.get(job.table)!;
        entry = { Keys: [] };
        if (spec.ConsistentRead !== undefined) entry.ConsistentRead = spec.ConsistentRead;
        if (spec.ProjectionExpression !== undefined) entry.ProjectionExpression = spec.ProjectionExpression;
        if (spec.ExpressionAttributeNames !== undefined) entry.ExpressionAttributeNames = spec.ExpressionAttributeNames;
        if (spec.AttributesToGet !== undefined) entry.AttributesToGet = spec.AttributesToGet;
        output.UnprocessedKeys[job.table] = entry;
      }
      entry.Keys.push(job.original);
    };
    let bytes = 0;
    let full = false;
    let processed = 0;
    let retryableError: unknown;
    let otherError: unknown;
    settled.forEach((result, i) => {
      const job = jobs[i]!;
      if (result.status === 'rejected') {
        if (isRetryable(result.reason)) retryableError ??= result.reason;
        else otherError ??= result.reason;
        unprocessed(job);
        return;
      }
      const item = result.value.item;
      const size = item === undefined ? 0 : itemSize(item);
      // Keys are answered in request order until the response reaches 16 MB.
      if (full || bytes + size > BATCH_GET_RESPONSE_BYTES) {
        full = true;
        unprocessed(job);
        return;
      }
      bytes += size;
      processed++;
      if (item !== undefined) output.Responses[job.table]!.push(item);
      units.set(job.table, units.get(job.table)! + readCapacityUnits(size, job.consistent));
    });
    if (otherError !== undefined) throw otherError;
    // As DynamoDB: when not one key could be read, the call fails with the (retryable) cause.
    if (processed === 0 && retryableError !== undefined) throw retryableError;
    const capacity = batchCapacity(units, input.ReturnConsumedCapacity);
    if (capacity !== undefined) output.ConsumedCapacity = capacity;
    return output;
  }

  /** Checks a whole BatchGetItem in DynamoDB's order (request shape, then expressions and
   *  key values, then tables, then key schemas) before anything is read. */
  private planBatchGet(input: BatchGetItemInput): { jobs: BatchGetJob[]; specs: Map<string, KeysAndAttributes> } {
    const shape = new ConstraintErrors();
    shape.enumValue(input?.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
    const { requestItems, tables } = batchRequestItems(shape, input?.RequestItems);
    for (const table of tables) {
      const spec = requestItems[table] as Partial<KeysAndAttributes> | null;
      const member = `requestItems.${table}.member`;
      const keys = spec?.Keys as unknown;
      if (keys === undefined || keys === null) shape.missing(`${member}.keys`);
      else if (!Array.isArray(keys)) throw new DynamoDBError('SerializationException', `Expected a list for RequestItems.${table}.Keys`);
      else if (keys.length === 0) shape.add(keys, `${member}.keys`, 'Member must have length greater than or equal to 1');
      else if (keys.length > BATCH_GET_MAX_KEYS) shape.add(keys, `${member}.keys`, `Member must have length less than or equal to ${BATCH_GET_MAX_KEYS}`);
      const attributes = spec?.AttributesToGet as unknown;
      if (attributes !== undefined && attributes !== null) {
        if (!Array.isArray(attributes)) throw new DynamoDBError('SerializationException', `Expected a list for RequestItems.${table}.AttributesToGet`);
        if (attributes.length === 0) shape.add(attributes, `${member}.attributesToGet`, 'Member must have length greater than or equal to 1');
        if (attributes.length > 255) shape.add(attributes, `${member}.attributesToGet`, 'Member must have length less than or equal to 255');
      }
    }
    shape.throwIfAny();

    // Expressions, key values, duplicates and the 100-key limit, table by table.
    const specs = new Map<string, KeysAndAttributes>();
    const parsed = new Map<string, { consistent: boolean; projection: ProjectionAst | undefined; keys: Item[] }>();
    let total = 0;
    for (const table of tables) {
      const spec = requestItems[table] as KeysAndAttributes;
      checkNotMixed({ AttributesToGet: spec.AttributesToGet }, { ProjectionExpression: spec.ProjectionExpression });
      const consistent = checkConsistentRead(spec.ConsistentRead);
      const ctx = expressionContext({ ExpressionAttributeNames: spec.ExpressionAttributeNames }, spec.ProjectionExpression !== undefined);
      const projection = this.projection(spec, ctx);
      checkAllPlaceholdersUsed(ctx);
      const seen = new Set<string>();
      for (const key of spec.Keys) {
        if (!isPlainObject(key)) throw validationError('The list of keys in RequestItems for BatchGetItem may not contain null or empty values');
        validateItem(key);
        const identity = keyIdentity(key);
        if (seen.has(identity)) throw validationError('Provided list of item keys contains duplicates');
        seen.add(identity);
        if (++total > BATCH_GET_MAX_KEYS) throw validationError('Too many items requested for the BatchGetItem call');
      }
      specs.set(table, spec);
      parsed.set(table, { consistent, projection, keys: spec.Keys });
    }

    // Then the tables, then each key against its table's schema.
    const routes = new Map(tables.map((table) => [table, this.route(table)]));
    const jobs: BatchGetJob[] = [];
    for (const table of tables) {
      const route = routes.get(table)!;
      const { consistent, projection, keys } = parsed.get(table)!;
      for (const original of keys) {
        jobs.push({ table, route, key: this.checkKey(original, route.keyShape), original, consistent, projection });
      }
    }
    return { jobs, specs };
  }

  /**
   * BatchWriteItem: up to 25 puts and deletes in any tables, each sent to its partition's
   * leader in parallel. The whole request is checked first: an invalid one writes nothing.
   * Writes that fail retryably (throttled, partition unavailable) come back in
   * UnprocessedItems; every other write is applied. Puts and deletes without conditions are
   * idempotent, so sending an unprocessed write again is always safe.
   */
  async batchWriteItem(input: BatchWriteItemInput): Promise<BatchWriteItemOutput> {
    const jobs = this.planBatchWrite(input);
    const settled = await Promise.allSettled(jobs.map((job) => this.write(job.route, job.op)));
    const output: BatchWriteItemOutput = { UnprocessedItems: {} };
    const units = new Map<string, number>();
    for (const job of jobs) units.set(job.table, 0);
    let processed = 0;
    let retryableError: unknown;
    let otherError: unknown;
    settled.forEach((result, i) => {
      const job = jobs[i]!;
      if (result.status === 'rejected') {
        if (isRetryable(result.reason)) {
          retryableError ??= result.reason;
          (output.UnprocessedItems[job.table] ??= []).push(job.request);
        } else {
          otherError ??= result.reason;
        }
        return;
      }
      processed++;
      // A delete costs what the item it removed weighed (its old image, when asked for).
      const size = job.op.type === 'put' ? job.size : result.value.ok && result.value.attributes !== undefined ? itemSize(result.value.attributes) : 0;
      units.set(job.table, units.get(job.table)! + writeCapacityUnits(size));
    });
    if (otherError !== undefined) throw otherError;
    if (processed === 0 && retryableError !== undefined) throw retryableError;
    const capacity = batchCapacity(units, input.ReturnConsumedCapacity);
    if (capacity !== undefined) output.ConsumedCapacity = capacity;
    return output;
  }

  /** Checks a whole BatchWriteItem in DynamoDB's order before anything is written. */
  private planBatchWrite(input: BatchWriteItemInput): BatchWriteJob[] {
    const shape = new ConstraintErrors();
    shape.enumValue(input?.ReturnConsumedCapacity, 'returnConsumedCapacity', RETURN_CONSUMED_CAPACITY_VALUES);
    shape.enumValue(input?.ReturnItemCollectionMetrics, 'returnItemCollectionMetrics', ['SIZE', 'NONE']);
    const { requestItems, tables } = batchRequestItems(shape, input?.RequestItems);
    let badLength = false;
    for (const table of tables) {
      const list = requestItems[table];
      if (!Array.isArray(list)) throw new DynamoDBError('SerializationException', `Expected a list for RequestItems.${table}`);
      if (list.length < 1 || list.length > BATCH_WRITE_MAX_REQUESTS) badLength = true;
    }
    if (badLength) {
      shape.add(requestItems, 'requestItems',
        `Map value must satisfy constraint: [Member must have length less than or equal to ${BATCH_WRITE_MAX_REQUESTS}, Member must have length greater than or equal to 1]`);
    }
    for (const table of tables) {
      (requestItems[table] as unknown[]).forEach((request, i) => {
        const member = `requestItems.${table}.member.${i + 1}.member`;
        const r = (request ?? {}) as Partial<Record<'PutRequest' | 'DeleteRequest', Record<string, unknown> | null>>;
        if (r.DeleteRequest !== undefined && r.DeleteRequest !== null && (r.DeleteRequest.Key === undefined || r.DeleteRequest.Key === null)) {
          shape.missing(`${member}.deleteRequest.key`);
        }
        if (r.PutRequest !== undefined && r.PutRequest !== null && (r.PutRequest.Item === undefined || r.PutRequest.Item === null)) {
          shape.missing(`${member}.putRequest.item`);
        }
      });
    }
    shape.throwIfAny();

    const total = tables.reduce((n, table) => n + (requestItems[table] as unknown[]).length, 0);
    if (total > BATCH_WRITE_MAX_REQUESTS) throw validationError('Too many items requested for the BatchWriteItem call');
    // Each request is exactly one put or delete, with valid values and items within 400 KB.
    const sizes = new Map<WriteRequest, number>();
    for (const table of tables) {
      for (const request of requestItems[table] as WriteRequest[]) {
        const put = request?.PutRequest ?? undefined;
        const del = request?.DeleteRequest ?? undefined;
        if ((put === undefined) === (del === undefined)) {
          throw validationError('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
        }
        if (put !== undefined) {
          validateItem(put.Item);
          sizes.set(request, validateItemSize(put.Item));
        } else {
          validateItem(del!.Key);
        }
      }
    }

    const routes = new Map(tables.map((table) => [table, this.route(table)]));
    const jobs: BatchWriteJob[] = [];
    const wantOldSize = input.ReturnConsumedCapacity === 'TOTAL' || input.ReturnConsumedCapacity === 'INDEXES';
    for (const table of tables) {
      const route = routes.get(table)!;
      const seen = new Set<string>();
      for (const request of requestItems[table] as WriteRequest[]) {
        let op: WriteOp;
        if (request.PutRequest) {
          try {
            validateItemKeyAttributes(request.PutRequest.Item, route.keyShape);
          } catch (error) {
            // BatchWriteItem words a missing or mistyped key as a schema mismatch.
            if (error instanceof DynamoDBError && /Missing the key|Type mismatch for key/.test(error.message)) throw validationError(KEY_SCHEMA_MISMATCH_MESSAGE);
            throw error;
          }
          const item = normalizeItem(request.PutRequest.Item);
          op = { type: 'put', tableId: route.tableId, key: extractKey(item, route.keyShape), item, returnValues: 'NONE' };
        } else {
          const key = this.checkKey(request.DeleteRequest!.Key, route.keyShape);
          op = { type: 'delete', tableId: route.tableId, key, returnValues: wantOldSize ? 'ALL_OLD' : 'NONE' };
        }
        const identity = keyIdentity(op.key);
        if (seen.has(identity)) throw validationError('Provided list of item keys contains duplicates');
        seen.add(identity);
        this.prepareWrite(route, op);
        jobs.push({ table, route, request, op, size: sizes.get(request) ?? 0 });
      }
    }
    return jobs;
  }

  async putItem(input: PutItemInput, options?: RequestOptions): Promise<PutItemOutput> {
    const route = this.route(input?.TableName);
    if (input.Item === undefined || input.Item === null) {
      throw validationError("1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null");
    }
    validateItem(input.Item);
    validateItemKeyAttributes(input.Item, route.keyShape);
    const size = validateItemSize(input.Item);
    const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
    const ctx = expressionContext(input, input.ConditionExpression !== undefined);
    const condition = this.condition(input, ctx);
    checkAllPlaceholdersUsed(ctx);
    const item = normalizeItem(input.Item);
    const op: WriteOp = { type: 'put', tableId: route.tableId, key: extractKey(item, route.keyShape), item, returnValues };
    if (condition !== undefined) op.condition = condition;
    if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
    const result = await this.write(route, op, options);
    return this.writeOutput(route, result, writeCapacityUnits(size), input.ReturnConsumedCapacity);
  }

  async deleteItem(input: DeleteItemInput, options?: RequestOptions): Promise<DeleteItemOutput> {
    const route = this.route(input?.TableName);
    const key = this.checkKey(input.Key, route.keyShape);
    const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD']);
    const ctx = expressionContext(input, input.ConditionExpression !== undefined);
    const condition = this.condition(input, ctx);
    checkAllPlaceholdersUsed(ctx);
    const op: WriteOp = { type: 'delete', tableId: route.tableId, key, returnValues };
    if (condition !== undefined) op.condition = condition;
    if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
    const result = await this.write(route, op, options);
    const size = result.ok && result.attributes !== undefined ? itemSize(result.attributes) : 0;
    return this.writeOutput(route, result, writeCapacityUnits(size), input.ReturnConsumedCapacity);
  }

  async updateItem(input: UpdateItemInput, options?: RequestOptions): Promise<UpdateItemOutput> {
    const route = this.route(input?.TableName);
    const key = this.checkKey(input.Key, route.keyShape);
    const returnValues = checkReturnValues(input.ReturnValues, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW']);
    checkNotMixed(
      { AttributeUpdates: input.AttributeUpdates, Expected: input.Expected },
      { UpdateExpression: input.UpdateExpression, ConditionExpression: input.ConditionExpression },
    );
    const ctx = expressionContext(input, input.UpdateExpression !== undefined || input.ConditionExpression !== undefined);
    let update: UpdateAst;
    if (input.UpdateExpression !== undefined) update = parseUpdate(input.UpdateExpression, ctx);
    else if (input.AttributeUpdates !== undefined) update = attributeUpdatesToAst(checkedConditions(input.AttributeUpdates));
    else update = { set: [], remove: [], add: [], delete: [] };
    const condition = this.condition(input, ctx);
    checkAllPlaceholdersUsed(ctx);
    checkKeyNotUpdated(update, route.keyShape);
    checkUpdatedNames(update);
    const op: WriteOp = { type: 'update', tableId: route.tableId, key, update, returnValues };
    if (condition !== undefined) op.condition = condition;
    if (input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD') op.returnOldOnConditionFailure = true;
    const result = await this.write(route, op, options);
    return this.writeOutput(route, result, 1, input.ReturnConsumedCapacity);
  }

  private writeOutput(route: TableRoute, result: WriteResult, units: number, mode: ReturnConsumedCapacity | undefined): PutItemOutput {
    const output: PutItemOutput = {};
    if (result.ok && result.attributes !== undefined) output.Attributes = result.attributes;
    const capacity = consumed(route.name, units, mode);
    if (capacity !== undefined) output.ConsumedCapacity = capacity;
    return output;
  }

  async getItem(input: GetItemInput, options?: RequestOptions): Promise<GetItemOutput> {
    const route = this.route(input?.TableName);
    const key = this.checkKey(input.Key, route.keyShape);
    const consistent = checkConsistentRead(input.ConsistentRead);
    checkNotMixed({ AttributesToGet: input.AttributesToGet }, { ProjectionExpression: input.ProjectionExpression });
    const ctx = expressionContext(input, input.ProjectionExpression !== undefined);
    const projection = this.projection(input, ctx);
    checkAllPlaceholdersUsed(ctx);
    const body: NodeRequestBody = { t: 'get', consistent, req: { tableId: route.tableId, key, ...(projection ? { projection } : {}) } };
    const result = (await this.router.request(this.readTarget(route, key, consistent), body, true, { onTiming: options?.onTiming })) as { item?: Item };
    const output: GetItemOutput = {};
    if (result.item !== undefined) output.Item = result.item;
    const capacity = consumed(route.name, readCapacityUnits(result.item ? itemSize(result.item) : 0, consistent), input.ReturnConsumedCapacity);
    if (capacity !== undefined) output.ConsumedCapacity = capacity;
    return output;
  }

  private projection(input: { ProjectionExpression?: string; AttributesToGet?: string[] }, ctx: ExpressionContext): ProjectionAst | undefined {
    if (input.ProjectionExpression !== undefined) return parseProjection(input.ProjectionExpression, ctx);
    if (input.AttributesToGet !== undefined) return attributesToGetToProjection(input.AttributesToGet);
    return undefined;
  }

  private checkKey(key: unknown, shape: KeyShape): Item {
    if (key === undefined || key === null) {
      throw validationError("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
    }
    validateItem(key);
    validateKey(key, shape);
    return normalizeItem(key);
  }

  /**
   * Select against the projection parameters, with DynamoDB's messages (confirmed against
   * DynamoDB by moto's aws_verified tests): Query wraps them in "1 validation error
   * detected: ", Scan does not.
   */
  private select(input: QueryInput | ScanInput, operation: 'Query' | 'Scan'): boolean {
    const select = input.Select;
    if (select === undefined) return false;
    if (!['ALL_ATTRIBUTES', 'ALL_PROJECTED_ATTRIBUTES', 'SPECIFIC_ATTRIBUTES', 'COUNT'].includes(select)) {
      throw validationError(`1 validation error detected: Value '${String(select)}' at 'select' failed to satisfy constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]`);
    }
    const prefix = operation === 'Query' ? '1 validation error detected: ' : '';
    const projected = input.ProjectionExpression !== undefined ? 'ProjectionExpression' : input.AttributesToGet !== undefined ? 'AttributesToGet' : undefined;
    if (select !== 'SPECIFIC_ATTRIBUTES' && projected !== undefined) {
      throw validationError(`${prefix}Cannot specify the ${projected} when choosing to get ${select === 'COUNT' ? 'only the Count' : select}`);
    }
    if (select === 'ALL_PROJECTED_ATTRIBUTES') throw validationError(`${prefix}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName`);
    if (select === 'SPECIFIC_ATTRIBUTES' && projected === undefined) {
      throw validationError(`${prefix}Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES`);
    }
    return select === 'COUNT';
  }

  /** What Query and Scan check alike: table, index, ConsistentRead, Limit, Select. */
  private pageRequest(input: QueryInput | ScanInput, operation: 'Query' | 'Scan'): { route: TableRoute; consistent: boolean; limit: number | undefined; countOnly: boolean } {
    const route = this.route(input?.TableName);
    checkIndex(input.IndexName);
    return {
      route,
      consistent: checkConsistentRead(input.ConsistentRead),
      limit: checkLimit(input.Limit),
      countOnly: this.select(input, operation),
    };
  }

  async query(input: QueryInput): Promise<QueryOutput> {
    const { route, consistent, limit, countOnly } = this.pageRequest(input, 'Query');
    if (input.ScanIndexForward !== undefined && typeof input.ScanIndexForward !== 'boolean') {
      throw validationError('ScanIndexForward must be a boolean');
    }
    // DynamoDB names the parameters in this order, and counts KeyConditions as mixed in only
    // beside a KeyConditionExpression (dynalite's tests, run against DynamoDB).
    checkNotMixed(
      {
        AttributesToGet: input.AttributesToGet, QueryFilter: input.QueryFilter, ConditionalOperator: input.ConditionalOperator,
        KeyConditions: input.KeyConditionExpression !== undefined ? input.KeyConditions : undefined,
      },
      { ProjectionExpression: input.ProjectionExpression, FilterExpression: input.FilterExpression, KeyConditionExpression: input.KeyConditionExpression },
    );
    const ctx = expressionContext(input, input.KeyConditionExpression !== undefined || input.FilterExpression !== undefined || input.ProjectionExpression !== undefined);
    let keyCondition;
    if (input.KeyConditionExpression !== undefined) keyCondition = parseKeyCondition(input.KeyConditionExpression, ctx, route.keyShape);
    else if (input.KeyConditions !== undefined) keyCondition = keyConditionsToAst(checkedConditions(input.KeyConditions) as Parameters<typeof keyConditionsToAst>[0], route.keyShape);
    else throw validationError('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
    const filter = pageFilter(input.FilterExpression, input.QueryFilter, input.ConditionalOperator, ctx);
    const projection = this.projection(input, ctx);
    checkAllPlaceholdersUsed(ctx);
    const startKey = input.ExclusiveStartKey === undefined ? undefined : this.checkStartKey(input.ExclusiveStartKey, route.keyShape);
    if (startKey !== undefined && !sameValue(startKey[route.keyShape.hashName], keyCondition.hash)) {
      throw validationError('The provided starting key is invalid: The provided key element does not match the schema');
    }
    const hashKey = { [route.keyShape.hashName]: keyCondition.hash };
    const body: NodeRequestBody = {
      t: 'query', consistent,
      req: {
        tableId: route.tableId, keyCondition, forward: input.ScanIndexForward ?? true,
        ...(limit !== undefined ? { limit } : {}),
        ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
        ...(filter !== undefined ? { filter } : {}),
        ...(projection !== undefined ? { projection } : {}),
        ...(countOnly ? { countOnly } : {}),
      },
    };
    const page = (await this.router.request(this.readTarget(route, hashKey, consistent), body, true)) as PageResult;
    return pageOutput(route.name, page, countOnly, consistent, input.ReturnConsumedCapacity);
  }

  private checkStartKey(key: Item, shape: KeyShape): Item {
    try {
      return this.checkKey(key, shape);
    } catch (error) {
      if (error instanceof DynamoDBError) throw validationError(`The provided starting key is invalid: ${error.message}`);
      throw error;
    }
  }

  /**
   * Scan walks the partitions that intersect the segment's slice of the hash space in
   * hash order, continuing into the next partition until Limit or 1 MB is reached, so the
   * LastEvaluatedKey is always the key of a real item.
   */
  async scan(input: ScanInput): Promise<ScanOutput> {
    const { route, consistent, limit, countOnly } = this.pageRequest(input, 'Scan');
    const [hashLo, hashHi] = segmentRange(input.Segment, input.TotalSegments);
    checkNotMixed(
      { AttributesToGet: input.AttributesToGet, ScanFilter: input.ScanFilter, ConditionalOperator: input.ConditionalOperator },
      { ProjectionExpression: input.ProjectionExpression, FilterExpression: input.FilterExpression },
    );
    const ctx = expressionContext(input, input.FilterExpression !== undefined || input.ProjectionExpression !== undefined);
    const filter = pageFilter(input.FilterExpression, input.ScanFilter, input.ConditionalOperator, ctx);
    const projection = this.projection(input, ctx);
    checkAllPlaceholdersUsed(ctx);
    let startKey = input.ExclusiveStartKey === undefined ? undefined : this.checkStartKey(input.ExclusiveStartKey, route.keyShape);
    let from = hashLo;
    if (startKey !== undefined) {
      const startHash = partitionHash(startKey[route.keyShape.hashName]);
      if (startHash < hashLo || startHash > hashHi) throw validationError('The provided Exclusive start key does not map to the provided segment');
      from = startHash;
    }
    const partitions = route.partitions.filter((p) => hexToHash(p.hashEnd) >= from && hexToHash(p.hashStart) <= hashHi);
    const total: PageResult = { items: [], count: 0, scannedCount: 0, bytesRead: 0 };
    let lastKey: Item | undefined;
    for (const partition of partitions) {
      const remaining = limit === undefined ? undefined : limit - total.scannedCount;
      if ((remaining !== undefined && remaining <= 0) || total.bytesRead >= PAGE_BYTES) {
        // The page is full at a partition boundary: continue from the last item read.
        total.lastEvaluatedKey = lastKey;
        break;
      }
      const body: NodeRequestBody = {
        t: 'scan', consistent,
        req: {
          tableId: route.tableId,
          hashLo: hashToHex(from > hexToHash(partition.hashStart) ? from : hexToHash(partition.hashStart)),
          hashHi: hashToHex(hashHi),
          maxBytes: PAGE_BYTES - total.bytesRead,
          ...(remaining !== undefined ? { limit: remaining } : {}),
          ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
          ...(filter !== undefined ? { filter } : {}),
          ...(projection !== undefined ? { projection } : {}),
          ...(countOnly ? { countOnly } : {}),
        },
      };
      const target: Target = { mode: consistent ? 'leader' : 'any', group: partition.group, replicas: partition.replicas };
      const page = (await this.router.request(target, body, true)) as PageResult;
      total.items.push(...page.items);
      total.count += page.count;
      total.scannedCount += page.scannedCount;
      total.bytesRead += page.bytesRead;
      startKey = undefined;
      if (page.lastKey !== undefined) lastKey = page.lastKey;
      if (page.lastEvaluatedKey !== undefined) {
        total.lastEvaluatedKey = page.lastEvaluatedKey;
        break;
      }
    }
    return pageOutput(route.name, total, countOnly, consistent, input.ReturnConsumedCapacity);
  }
}

function checkConsistentRead(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw validationError('ConsistentRead must be a boolean');
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, binaryReplacer) === JSON.stringify(b, binaryReplacer);
}

function binaryReplacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

/** The inclusive slice of the hash space that scan segment `segment` of `total` covers. */
function segmentRange(segment: unknown, total: unknown): [bigint, bigint] {
  if (segment === undefined && total === undefined) return [0n, HASH_SPACE - 1n];
  if (total === undefined) throw validationError('The TotalSegments parameter is required but was not present in the request when Segment parameter is present');
  if (segment === undefined) throw validationError('The Segment parameter is required but was not present in the request when parameter TotalSegments is present');
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 1 || total > 1_000_000) {
    throw validationError(`1 validation error detected: Value '${String(total)}' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000`);
  }
  if (typeof segment !== 'number' || !Number.isInteger(segment) || segment < 0) {
    throw validationError(`1 validation error detected: Value '${String(segment)}' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0`);
  }
  if (segment >= total) throw validationError(`The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: ${segment} is not less than TotalSegments: ${total}`);
  const lo = (HASH_SPACE * BigInt(segment)) / BigInt(total);
  const hi = (HASH_SPACE * BigInt(segment + 1)) / BigInt(total) - 1n;
  return [lo, hi];
}

function pageOutput(table: string, page: PageResult, countOnly: boolean, consistent: boolean, mode: ReturnConsumedCapacity | undefined): PageOutput {
  const output: PageOutput = { Count: page.count, ScannedCount: page.scannedCount };
  if (!countOnly) output.Items = page.items;
  if (page.lastEvaluatedKey !== undefined) output.LastEvaluatedKey = page.lastEvaluatedKey;
  const capacity = consumed(table, readCapacityUnits(page.bytesRead, consistent), mode);
  if (capacity !== undefined) output.ConsumedCapacity = capacity;
  return output;
}

/** UpdateItem may not touch key attributes. */
function checkKeyNotUpdated(update: UpdateAst, shape: KeyShape): void {
  const touched = [
    ...update.set.map((a) => a.path), ...update.remove, ...update.add.map((a) => a.path), ...update.delete.map((a) => a.path),
  ];
  for (const path of touched) {
    const name = path[0];
    if (name === shape.hashName || name === shape.rangeName) {
      throw validationError(`One or more parameter values were invalid: Cannot update attribute ${String(name)}. This attribute is part of the key`);
    }
  }
}

/** Attribute names an update writes are at most 64 KB, like an item's. */
function checkUpdatedNames(update: UpdateAst): void {
  for (const path of [...update.set.map((a) => a.path), ...update.add.map((a) => a.path)]) {
    for (const segment of path) if (typeof segment === 'string') checkAttributeName(segment);
  }
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

/** A router in another thread (a benchmark client thread): item operations only. */
export class ShardBoxClient extends ItemOperations {
  static connect(port: RouterPort): ShardBoxClient {
    const router = new Router(new Endpoint(port.fabric, port.endpoint), port.router);
    return new ShardBoxClient(router, new PartitionMapCache(new PartitionMapBoard(port.board)));
  }

  /** Blocks this (worker) thread until a reply may have arrived or `timeoutMs` passes:
   *  for load generators that pace requests more finely than timers allow. True when a
   *  reply may have arrived: let the event loop turn so it is processed. */
  waitForReplies(timeoutMs: number): boolean {
    return this.router.waitForReplies(timeoutMs);
  }

  close(): void {
    this.router.close();
  }
}

/** How often the control plane looks at every group's leader (ms). */
const AUTOADMIN_INTERVAL_MS = 100;

export class ShardBox extends ItemOperations {
  private closed = false;
  private autoadmin: AutoAdmin | undefined;

  private constructor(
    router: Router,
    routes: PartitionMapCache,
    private readonly options: ResolvedOptions,
    readonly dir: string,
    private readonly temporary: boolean,
    private readonly fabric: FabricBuffers,
    private readonly board: PartitionMapBoard,
    private readonly metadata: Metadata,
    private readonly supervisor: Supervisor,
    private readonly links: LinkCuts,
  ) {
    super(router, routes);
  }

  static async open(options: ShardBoxOptions = {}): Promise<ShardBox> {
    const resolved = resolveOptions(options);
    const temporary = resolved.dir === undefined;
    const dir = resolved.dir ?? mkdtempSync(path.join(os.tmpdir(), 'shardbox-'));
    mkdirSync(dir, { recursive: true });
    const fabric = allocateFabric({
      nodes: resolved.nodes,
      routers: 1 + resolved.routers,
      nodeRingBytes: resolved.nodeRingBytes,
      routerRingBytes: resolved.routerRingBytes,
    }, resolved.formatVersion);
    const board = new PartitionMapBoard(PartitionMapBoard.allocate());
    let metadata: Metadata | undefined;
    let supervisor: Supervisor | undefined;
    const endpoints = resolved.nodes + 1 + resolved.routers;
    const links = new LinkCuts(LinkCuts.allocate(endpoints), endpoints);
    try {
      metadata = new Metadata(dir, board);
      metadata.checkNodeCount(resolved.nodes);
      supervisor = new Supervisor({
        dir, durability: resolved.durability, fabric, timing: resolved.timing, seed: resolved.seed, links: links.buffer,
      });
      const router = new Router(new Endpoint(fabric, resolved.nodes), resolved.router);
      supervisor.onExit = (node) => router.nodeDown(node);
      supervisor.onStart = (node) => router.nodeUp(node);
      const nodes = Array.from({ length: resolved.nodes }, (_, i) => i);
      await Promise.all(nodes.map((node) => supervisor!.start(node)));
      const db = new ShardBox(router, new PartitionMapCache(board), resolved, dir, temporary, fabric, board, metadata, supervisor, links);
      await db.recover();
      db.startAutoAdmin();
      return db;
    } catch (error) {
      await supervisor?.stopAll();
      await metadata?.close();
      if (temporary) rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Finishes what a crash interrupted (tables half created or half deleted), publishes
   *  the partition map, and waits until every partition has a serving leader. */
  private async recover(): Promise<void> {
    for (const meta of this.metadata.tables()) {
      if (meta.status === 'CREATING') await this.createGroups(meta);
      if (meta.status === 'DELETING') await this.dropGroups(meta);
    }
    this.metadata.publish();
    await Promise.all(this.metadata.tables().flatMap((meta) => meta.partitions.map((p) => this.waitServing(p))));
  }

  private startAutoAdmin(): void {
    // With three nodes no node is free to host a log replica: nothing to watch for.
    if (this.options.logReplicaAfterMs === 0 || this.options.nodes < 4) return;
    this.autoadmin = new AutoAdmin({
      metadata: this.metadata,
      control: (node, group, body) => this.control(node, group, body),
      isAlive: (node) => this.supervisor.isAlive(node),
      nodes: this.options.nodes,
      silentThresholdTicks: Math.ceil(this.options.logReplicaAfterMs / this.options.timing.tickMs),
      intervalMs: AUTOADMIN_INTERVAL_MS,
    });
    this.autoadmin.start();
  }

  /** Membership changes the control plane made (log replicas added and removed, replicas
   *  removed and added back), oldest first, for tests and tools. */
  membershipEvents(): ReadonlyArray<{ atMs: number; table: string; group: number; kind: string; node: number }> {
    return this.autoadmin?.events ?? [];
  }

  private control(node: number, group: number, body: NodeRequestBody): Promise<unknown> {
    return this.router.request({ mode: 'node', node, group }, body, true);
  }

  private async createGroups(meta: TableMeta): Promise<void> {
    await Promise.all(meta.partitions.flatMap((partition) => partition.replicas.map((node) => this.control(node, partition.group, {
      t: 'createGroup',
      campaign: node === partition.replicas[0],
      rec: {
        group: partition.group, tableId: meta.tableId, tableName: meta.name, keyShape: meta.keyShape,
        hashStart: partition.hashStart, hashEnd: partition.hashEnd, voters: partition.replicas,
      },
    }))));
    await Promise.all(meta.partitions.map((p) => this.waitServing(p)));
    this.metadata.setStatus(meta.name, 'ACTIVE');
  }

  private async dropGroups(meta: TableMeta): Promise<void> {
    await Promise.all(meta.partitions.flatMap((partition) => [...partition.replicas, ...(partition.logReplicas ?? [])]
      .map((node) => this.control(node, partition.group, { t: 'dropGroup' }))));
    this.metadata.removeTable(meta.name);
  }

  /** Resolves once the partition's leader serves (elected, old lease out, no-op applied). */
  private async waitServing(partition: PartitionInfo): Promise<void> {
    await this.router.request({ mode: 'leader', group: partition.group, replicas: partition.replicas }, { t: 'serving' }, true);
  }

  private meta(name: unknown): TableMeta {
    validateTableName(name);
    const meta = this.metadata.table(name);
    if (meta === undefined || meta.status === 'DELETING') {
      throw new DynamoDBError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
    }
    return meta;
  }

  async createTable(input: CreateTableInput): Promise<{ TableDescription: TableDescription }> {
    this.checkOpen();
    validateTableName(input?.TableName);
    const keyShape = keyShapeFrom(input.KeySchema, input.AttributeDefinitions);
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
    if (this.metadata.table(input.TableName) !== undefined) {
      throw new DynamoDBError('ResourceInUseException', `Table already exists: ${input.TableName}`);
    }
    if (billingMode === 'PROVISIONED') this.checkCapacityQuotas(input.TableName, read, write);
    const meta = this.metadata.addTable({
      name: input.TableName,
      keySchema: input.KeySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType })),
      attributeDefinitions: input.AttributeDefinitions.map((d) => ({ AttributeName: d.AttributeName, AttributeType: d.AttributeType })),
      keyShape,
      billingMode,
      readCapacityUnits: read,
      writeCapacityUnits: write,
      ...(tags !== undefined && tags.length > 0 ? { tags } : {}),
    }, this.options.partitions, this.options.nodes);
    await this.createGroups(meta);
    // DynamoDB answers CreateTable with the table CREATING; a DescribeTable after it says
    // ACTIVE (here at once: the groups exist when this resolves). Clients wait for ACTIVE.
    return { TableDescription: { ...describe(this.meta(input.TableName)), TableStatus: 'CREATING' } };
  }

  async describeTable(input: DescribeTableInput): Promise<{ Table: TableDescription }> {
    this.checkOpen();
    return { Table: describe(this.meta(input?.TableName)) };
  }

  async listTables(input: ListTablesInput = {}): Promise<ListTablesOutput> {
    this.checkOpen();
    const limit = input.Limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw validationError(`1 validation error detected: Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value ${limit < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`);
    }
    if (input.ExclusiveStartTableName !== undefined) validateTableName(input.ExclusiveStartTableName, 'exclusiveStartTableName');
    const names = this.metadata.tables().filter((t) => t.status !== 'DELETING').map((t) => t.name);
    const start = input.ExclusiveStartTableName;
    const after = start === undefined ? names : names.filter((name) => name > start);
    const page = after.slice(0, limit);
    const output: ListTablesOutput = { TableNames: page };
    if (after.length > limit) output.LastEvaluatedTableName = page[page.length - 1];
    return output;
  }

  async deleteTable(input: DeleteTableInput): Promise<{ TableDescription: TableDescription }> {
    this.checkOpen();
    const meta = this.meta(input?.TableName);
    const deleting = this.metadata.setStatus(meta.name, 'DELETING');
    await this.dropGroups(deleting);
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
  async updateTable(input: UpdateTableInput): Promise<UpdateTableOutput> {
    this.checkOpen();
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
    if (nonEmpty(input.GlobalSecondaryIndexUpdates)) unsupported('GlobalSecondaryIndexUpdates', 'tables have no secondary indexes');
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

    const meta = this.meta(input.TableName);
    if (meta.status === 'CREATING') {
      throw new DynamoDBError('ResourceInUseException', `Attempt to change a resource which is still in use: Table is being created: ${meta.name}`);
    }
    const target = input.BillingMode ?? meta.billingMode;
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
      this.checkCapacityQuotas(meta.name, read, write);
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
    const updated = Object.keys(changes).length > 0 ? this.metadata.updateTable(meta.name, changes) : meta;
    // As DynamoDB: the answer says UPDATING; a DescribeTable after it says ACTIVE.
    return { TableDescription: { ...describe(updated, now), TableStatus: 'UPDATING' } };
  }

  /** DynamoDB's default quotas on provisioned capacity: per table, and the account's sum. */
  private checkCapacityQuotas(table: string, read: number, write: number): void {
    const others = this.metadata.tables().filter((t) => t.name !== table && t.status !== 'DELETING' && t.billingMode === 'PROVISIONED');
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
  private taggedTable(arn: unknown, notFound: (arn: string) => string): TableMeta {
    const name = tableNameFromArn(arn, { region: REGION, account: ACCOUNT });
    return this.taggedTableNamed(name, arn as string, notFound);
  }

  private taggedTableNamed(name: string, arn: string, notFound: (arn: string) => string): TableMeta {
    const meta = this.metadata.table(name);
    if (meta === undefined || meta.status === 'DELETING') throw new DynamoDBError('ResourceNotFoundException', notFound(arn));
    return meta;
  }

  /** TagResource: adds or replaces tags of a table (by ARN); at most 50 tags per table. */
  async tagResource(input: TagResourceInput): Promise<Record<string, never>> {
    this.checkOpen();
    const name = tableNameFromArn(input?.ResourceArn, { region: REGION, account: ACCOUNT });
    const tags = input.Tags as unknown;
    if (tags === undefined || tags === null) throw validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
    if (!Array.isArray(tags)) throw new DynamoDBError('SerializationException', 'Expected a list for Tags');
    if (tags.length === 0) throw validationError('Atleast one Tag needs to be provided as Input.');
    validateTags(tags);
    if (tags.length > MAX_TAGS) throw validationError(TOO_MANY_TAGS_MESSAGE);
    const meta = this.taggedTableNamed(name, input.ResourceArn, (arn) => `Requested resource not found: ResourcArn: ${arn} not found`);
    this.metadata.updateTable(meta.name, { tags: mergeTags(tableTags(meta), tags) });
    return {};
  }

  /** UntagResource: removes tags of a table by key (absent keys are fine). */
  async untagResource(input: UntagResourceInput): Promise<Record<string, never>> {
    this.checkOpen();
    const name = tableNameFromArn(input?.ResourceArn, { region: REGION, account: ACCOUNT });
    const keys = input.TagKeys as unknown;
    if (keys === undefined || keys === null) throw validationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
    if (!Array.isArray(keys)) throw new DynamoDBError('SerializationException', 'Expected a list for TagKeys');
    if (keys.length === 0) throw validationError('Atleast one Tag Key needs to be provided as Input.');
    for (const key of keys) validateTagKey(key);
    if (keys.length > MAX_TAGS) throw validationError(TOO_MANY_TAGS_MESSAGE);
    const meta = this.taggedTableNamed(name, input.ResourceArn, () => 'Requested resource not found');
    const removed = new Set<string>(keys as string[]);
    const tags = tableTags(meta);
    const kept = tags.filter((t) => !removed.has(t.Key));
    if (kept.length !== tags.length) this.metadata.updateTable(meta.name, { tags: kept });
    return {};
  }

  /** ListTagsOfResource: a table's tags in key order, all 50 a table may have in one page. */
  async listTagsOfResource(input: ListTagsOfResourceInput): Promise<ListTagsOfResourceOutput> {
    this.checkOpen();
    const meta = this.taggedTable(input?.ResourceArn, (arn) => `Requested resource not found: ResourcArn: ${arn} not found`);
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
  async describeEndpoints(_input: Record<string, unknown> = {}, address = DEFAULT_ENDPOINT_ADDRESS): Promise<DescribeEndpointsOutput> {
    this.checkOpen();
    return { Endpoints: [{ Address: address, CachePeriodInMinutes: 1440 }] };
  }

  /** DescribeLimits: DynamoDB's default provisioned-capacity quotas, which UpdateTable and
   *  CreateTable enforce here. */
  async describeLimits(_input: Record<string, unknown> = {}): Promise<DescribeLimitsOutput> {
    this.checkOpen();
    return {
      AccountMaxReadCapacityUnits: ACCOUNT_MAX_CAPACITY_UNITS,
      AccountMaxWriteCapacityUnits: ACCOUNT_MAX_CAPACITY_UNITS,
      TableMaxReadCapacityUnits: TABLE_MAX_CAPACITY_UNITS,
      TableMaxWriteCapacityUnits: TABLE_MAX_CAPACITY_UNITS,
    };
  }

  /**
   * An AWS SDK v3 request handler that talks to this database in-process, with no socket:
   * `new DynamoDBClient({ requestHandler: db.sdkHandler(), region: 'local', credentials })`,
   * and `DynamoDBDocumentClient.from(client)` over it.
   */
  sdkHandler(): SdkHandler {
    return sdkHandler(this);
  }

  /** For a thread that will run its own router (`ShardBoxClient.connect(port)`), i from 1
   *  to `options.routers`. */
  routerPort(i: number): RouterPort {
    if (!Number.isInteger(i) || i < 1 || i > this.options.routers) {
      throw new RangeError(`routerPort(${i}): this cluster was opened with options.routers = ${this.options.routers}; ports are 1..${this.options.routers}`);
    }
    return { fabric: this.fabric, board: this.board.buffer, endpoint: this.options.nodes + i, router: this.options.router };
  }

  /** Replication state of every replica of a table's partitions, for tests and tools. */
  replicaStatus(tableName: string): Promise<Array<{ partition: PartitionInfo; replicas: Array<ReplicaStatus | undefined> }>> {
    return this.askReplicas<ReplicaStatus>(tableName, { t: 'status' });
  }

  /** Per replica: applied index, item count and checksum of a partition's data, to show
   *  that replicas that applied the same log hold the same data. */
  replicaDigests(tableName: string): Promise<Array<{ partition: PartitionInfo; replicas: Array<DigestReply | undefined> }>> {
    return this.askReplicas<DigestReply>(tableName, { t: 'digest' });
  }

  /** Asks every live replica of every partition of a table; undefined for a dead node. */
  private async askReplicas<T>(tableName: string, body: NodeRequestBody): Promise<Array<{ partition: PartitionInfo; replicas: Array<T | undefined> }>> {
    const meta = this.meta(tableName);
    return Promise.all(meta.partitions.map(async (partition) => ({
      partition,
      replicas: await Promise.all(partition.replicas.map((node) => this.supervisor.isAlive(node)
        ? (this.control(node, partition.group, body) as Promise<T>)
        : Promise.resolve(undefined))),
    })));
  }

  /** Counters of every live storage node: rounds, group commits, store and ring statistics. */
  async nodeStats(): Promise<Array<NodeStats | undefined>> {
    return Promise.all(Array.from({ length: this.options.nodes }, (_, node) => this.supervisor.isAlive(node)
      ? (this.control(node, 0, { t: 'stats' }) as Promise<NodeStats>)
      : Promise.resolve(undefined)));
  }

  /** Fault injection, for tests and experiments. */
  readonly faults = {
    /** Crash a storage node's thread: it exits at its next step (within a round's work),
     *  flushing, syncing and closing nothing. */
    kill: async (node: number): Promise<void> => {
      this.checkNode(node);
      await this.supervisor.kill(node);
    },
    /** Start a stopped or killed node again; it recovers from its own LMDB files. A live
     *  node is stopped on purpose first: it hands its leaderships over (`deploy.restartNode`
     *  also waits for it to catch up). */
    restart: async (node: number): Promise<void> => {
      this.checkNode(node);
      if (this.supervisor.isAlive(node)) await this.stopPlanned(node);
      await this.supervisor.start(node);
    },
    /** Flip a byte in `rate` (0..1) of the ring records node `from` sends node `to`, after
     *  their CRC32C is computed: the receiver must drop them and the protocol recover.
     *  `rate` 0 heals the link. */
    corrupt: async (from: number, to: number, rate: number, seed = 1): Promise<void> => {
      this.checkNode(from);
      this.checkNode(to);
      if (from === to) throw new RangeError('faults.corrupt: from and to must be different nodes');
      if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new RangeError(`faults.corrupt: rate must be from 0 to 1 (got ${String(rate)})`);
      await this.control(from, 0, { t: 'corruptLink', peer: to, rate, seed });
    },
    /**
     * A gray failure: node `node`'s thread stays alive but reads nothing, ticks nothing and
     * answers nothing for `ms` milliseconds (a long GC pause, a stalled machine), then
     * resumes and catches up. Takes effect between two of the node's rounds, busy or not.
     * Resolves once the pause has BEGUN (so a caller can watch the cluster react while it
     * lasts); it ends on its own `ms` later. A node that is not running cannot be paused.
     */
    pause: async (node: number, ms: number): Promise<void> => {
      this.checkNode(node, 'faults.pause: node');
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_PAUSE_MS) {
        throw new RangeError(`faults.pause: ms must be an integer from 1 to ${MAX_PAUSE_MS} (got ${String(ms)})`);
      }
      if (!(await this.supervisor.pause(node, ms))) {
        throw new RangeError(`faults.pause: node ${node} is not running (restart it first)`);
      }
    },
    /**
     * A network partition between `a` and `b` (storage nodes, or a router as
     * `{ router: i }`): everything either sends the other is lost, as packets are, until
     * healed. With `{ oneWay: true }` only what `a` sends `b` is lost (b still reaches a),
     * the paper's gray failure. Takes effect at once and lasts across node restarts.
     */
    cut: (a: FaultEndpoint, b: FaultEndpoint, options: { oneWay?: boolean } = {}): void => {
      const from = this.faultEndpoint(a, 'faults.cut: a');
      const to = this.faultEndpoint(b, 'faults.cut: b');
      if (from === to) throw new RangeError('faults.cut: a and b must be different endpoints');
      if (from >= this.options.nodes && to >= this.options.nodes) throw new RangeError('faults.cut: routers have no link to each other; one end must be a node');
      if (options === null || typeof options !== 'object') throw new TypeError('faults.cut: options must be an object');
      if (options.oneWay !== undefined && typeof options.oneWay !== 'boolean') {
        throw new TypeError(`faults.cut: options.oneWay must be a boolean (got ${String(options.oneWay)})`);
      }
      this.links.set(from, to, true);
      if (options.oneWay !== true) this.links.set(to, from, true);
    },
    /** Heals cut links: `heal()` every link, `heal(a)` every link of `a`, `heal(a, b)`
     *  both directions between `a` and `b`. */
    heal: (a?: FaultEndpoint, b?: FaultEndpoint): void => {
      if (a === undefined) {
        if (b !== undefined) throw new RangeError('faults.heal: give a when giving b');
        this.links.healAll();
        return;
      }
      const from = this.faultEndpoint(a, 'faults.heal: a');
      const others = b === undefined
        ? Array.from({ length: this.links.endpoints }, (_, i) => i).filter((i) => i !== from)
        : [this.faultEndpoint(b, 'faults.heal: b')];
      for (const other of others) {
        this.links.set(from, other, false);
        this.links.set(other, from, false);
      }
    },
    /** The links cut now, as [from, to] endpoints (routers as `{ router: i }`). */
    cuts: (): Array<[from: FaultEndpoint, to: FaultEndpoint]> => this.links.list().map(([from, to]) => [
      from < this.options.nodes ? from : { router: from - this.options.nodes },
      to < this.options.nodes ? to : { router: to - this.options.nodes },
    ]),
  };

  /** The fabric endpoint of a node number or `{ router: i }`. */
  private faultEndpoint(end: FaultEndpoint, what: string): number {
    if (typeof end === 'object' && end !== null && Object.keys(end).length === 1 && 'router' in end) {
      const { router } = end;
      if (!Number.isInteger(router) || router < 0 || router > this.options.routers) {
        throw new RangeError(`${what} must be a node from 0 to ${this.options.nodes - 1} or { router: i } with i from 0 to ${this.options.routers} (got { router: ${String(router)} })`);
      }
      return this.options.nodes + router;
    }
    if (typeof end !== 'number' || !Number.isInteger(end) || end < 0 || end >= this.options.nodes) {
      throw new RangeError(`${what} must be a node from 0 to ${this.options.nodes - 1} or { router: i } with i from 0 to ${this.options.routers} (got ${typeof end === 'object' ? JSON.stringify(end) : String(end)})`);
    }
    return end;
  }

  /**
   * Deployments: restart nodes one at a time under load without failing a request, and
   * switch the message format version nodes and routers send (read-write deployment: every
   * build reads versions 1 and 2; see transport/protocol.ts).
   */
  readonly deploy = {
    /**
     * Restarts one node the way a deployment does: its leaderships are handed over to
     * up-to-date followers (requests follow the new leaders), it stops once it leads
     * nothing and has answered every write it accepted (bounded: HAND_OVER_TIMEOUT_MS,
     * then it stops anyway and `handedOver` is false), starts from its own files, and the
     * call resolves once it has caught up with every group it hosts.
     */
    restartNode: async (node: number): Promise<NodeRestart> => {
      this.checkOpen();
      this.checkNode(node);
      const started = performance.now();
      const { handedOver, handOverMs } = this.supervisor.isAlive(node)
        ? await this.stopPlanned(node)
        : { handedOver: true, handOverMs: 0 };
      const stoppedAt = performance.now();
      await this.supervisor.start(node);
      const startedAt = performance.now();
      await this.waitCaughtUp(node);
      const done = performance.now();
      return {
        node, handedOver, handOverMs, stopMs: stoppedAt - started - handOverMs,
        startMs: startedAt - stoppedAt, catchUpMs: done - startedAt, totalMs: done - started,
      };
    },
    /**
     * Sets the ring-message format version (1 or 2) that nodes and routers send, live: each
     * switches at its next batch. Every build reads both, so any mix works (the read-write
     * deployment); upgrade by switching senders to 2, roll back by switching them to 1.
     * Default: every node and router. Routers are numbered as ports: 0 is the main thread's.
     */
    setFormatVersion: (version: FormatVersion, which: { nodes?: number[]; routers?: number[] } = {}): void => {
      this.checkOpen();
      checkFormatVersion('setFormatVersion: version', version);
      const nodes = which.nodes ?? Array.from({ length: this.options.nodes }, (_, i) => i);
      const routers = which.routers ?? Array.from({ length: 1 + this.options.routers }, (_, i) => i);
      for (const node of nodes) this.checkNode(node);
      for (const router of routers) {
        if (!Number.isInteger(router) || router < 0 || router > this.options.routers) {
          throw new RangeError(`setFormatVersion: routers are 0 (the main thread's) to ${this.options.routers} (got ${router})`);
        }
      }
      for (const node of nodes) setSendVersion(this.fabric, node, version);
      for (const router of routers) setSendVersion(this.fabric, this.options.nodes + router, version);
    },
    /** The format version each node and router sends now. */
    formatVersions: (): { nodes: FormatVersion[]; routers: FormatVersion[] } => ({
      nodes: Array.from({ length: this.options.nodes }, (_, node) => sendVersionOf(this.fabric, node)),
      routers: Array.from({ length: 1 + this.options.routers }, (_, router) => sendVersionOf(this.fabric, this.options.nodes + router)),
    }),
    /** `restartNode` for every node, in order, each after the previous one caught up. */
    rollingRestart: async (): Promise<NodeRestart[]> => {
      const restarts: NodeRestart[] = [];
      for (let node = 0; node < this.options.nodes; node++) restarts.push(await this.deploy.restartNode(node));
      return restarts;
    },
  };

  /** A planned stop: routers send the node nothing new, the node hands its leaderships
   *  over, the answers to what the main router had sent there arrive, then it stops (and
   *  answers what other routers' requests reached it in a last round). */
  private async stopPlanned(node: number): Promise<{ handedOver: boolean; handOverMs: number }> {
    const started = performance.now();
    const handedOver = await this.supervisor.handOver(node, HAND_OVER_TIMEOUT_MS);
    const handOverMs = performance.now() - started;
    const deadline = performance.now() + HAND_OVER_TIMEOUT_MS;
    while (this.router.inFlightTo(node) > 0 && performance.now() < deadline) await sleep(2);
    await this.supervisor.stop(node);
    return { handedOver, handOverMs };
  }

  /** Resolves once every group with a replica on `node` has a serving leader and that
   *  replica holds the log up to where the group had committed when the wait began. */
  private async waitCaughtUp(node: number): Promise<void> {
    const deadline = performance.now() + CATCH_UP_TIMEOUT_MS;
    const hosted = this.metadata.tables().filter((meta) => meta.status === 'ACTIVE')
      .flatMap((meta) => meta.partitions.filter((p) => p.replicas.includes(node)));
    await Promise.all(hosted.map(async (partition) => {
      let leader: number | undefined;
      while (leader === undefined) {
        await this.waitServing(partition); // answered by the leader: the router now knows it
        leader = this.router.leaderOf(partition.group);
      }
      const target = ((await this.control(leader, partition.group, { t: 'status' })) as ReplicaStatus).commit;
      for (;;) {
        const own = (await this.control(node, partition.group, { t: 'status' })) as ReplicaStatus;
        if (own.lastIndex >= target && own.applied >= target) return;
        if (performance.now() > deadline) {
          throw new DynamoDBError('ServiceUnavailable', `node ${node} did not catch up with group ${partition.group} within ${CATCH_UP_TIMEOUT_MS} ms (it applied ${own.applied} of ${target} committed); retry.`);
        }
        await sleep(10);
      }
    }));
  }

  isNodeAlive(node: number): boolean {
    return this.supervisor.isAlive(node);
  }

  get nodeCount(): number {
    return this.options.nodes;
  }

  private checkNode(node: number, what = 'node'): void {
    if (!Number.isInteger(node) || node < 0 || node >= this.options.nodes) {
      throw new RangeError(`${what} must be an integer from 0 to ${this.options.nodes - 1} (got ${node})`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new DynamoDBError('ServiceUnavailable', 'The database is closed.');
  }

  /** Stops every node thread and releases everything; a temporary directory is removed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.autoadmin?.stop();
    this.router.close();
    await this.supervisor.stopAll();
    await this.metadata.close();
    if (this.temporary) rmSync(this.dir, { recursive: true, force: true });
  }
}
