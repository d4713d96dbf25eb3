/** Secondary indexes as the API sees them: definitions from CreateTable and UpdateTable,
 *  their descriptions, and which index a Query or Scan reads (with DynamoDB's rules). */
import type {
  CreateTableInput, GlobalSecondaryIndex, GlobalSecondaryIndexDescription, GlobalSecondaryIndexUpdate,
  ConsumedCapacity, ItemCollectionMetrics, LocalSecondaryIndexDescription, Projection, QueryInput, ReturnConsumedCapacity, ScanInput,
} from '../api-types.js';
import type { BillingMode, GlobalIndexMeta, NewIndex, TableMeta } from '../control/metadata.js';
import { decreasesToday, utcDay } from '../control/metadata.js';
import { DynamoDBError, validationError } from '../model/errors.js';
import type { IndexKeySpec, IndexProjection } from '../model/index-spec.js';
import type { AttributeDefinition, AttributeValue, Item, KeySchemaElement, KeyShape, ScalarAttributeType } from '../model/types.js';
import { normalizeItem, validateItem } from '../model/validate.js';
import { readCapacityUnits } from '../model/capacity.js';
import type { PartitionInfo, RouteIndex, TableRoute } from '../router/partition-map.js';
import type { Target } from '../router/router.js';
import { indexEntryKey as storageIndexEntryKey, indexEntryKeyOf, indexHash, indexKeyNames as indexKeyNamesOf, projectForIndex, projects } from '../storage/indexes.js';
import { encodeItem } from '../storage/codec.js';
import type { PageResult } from '../storage/operations.js';
import { globalIndexRouteName, indexKeyShape } from '../control/metadata.js';
import type { DataPlane } from './data-plane.js';
import type { ConditionAst, ProjectionAst, UpdateAst, UpdateValue } from '../expressions/ast.js';
import { typeOf } from '../expressions/values.js';
import { indexesInMessageOrder } from './request-checks.js';
import { checkStartKeyAttribute } from '../expressions/keycondition.js';
import type { ControlPlane } from './control-plane.js';
import { MAX_GLOBAL_INDEXES } from './table-validation.js';

/** Multi-attribute GSI keys (2025): up to 4 HASH and 4 RANGE attributes. */
const MAX_KEY_ATTRIBUTES_PER_PART = 4;

const INVALID = 'One or more parameter values were invalid: ';

function projectionOf(p: Projection | undefined): IndexProjection {
  const type = p?.ProjectionType;
  if (type !== 'ALL' && type !== 'KEYS_ONLY' && type !== 'INCLUDE') throw validationError(`${INVALID}Unknown ProjectionType: ${String(type ?? null)}`);
  if (p?.NonKeyAttributes !== undefined && type !== 'INCLUDE') throw validationError(`${INVALID}ProjectionType is ${type}, but NonKeyAttributes is specified`);
  return type === 'INCLUDE' ? { type, nonKeyAttributes: [...(p?.NonKeyAttributes ?? [])] } : { type };
}

/** An index's KeySchema as a key spec: its HASH attributes, then its RANGE ones, in order. */
function keySpecOf(keySchema: KeySchemaElement[], definitions: Map<string, ScalarAttributeType>): IndexKeySpec {
  const names = keySchema.map((k) => k.AttributeName);
  if (names.some((n) => !definitions.has(n))) {
    throw validationError(`${INVALID}Some index key attributes are not defined in AttributeDefinitions. Keys: [${names.join(', ')}], AttributeDefinitions: [${[...definitions.keys()].join(', ')}]`);
  }
  if (new Set(names).size !== names.length) throw validationError('Both the Hash Key and the Range Key element in the KeySchema have the same name');
  if (keySchema[0]?.KeyType !== 'HASH') throw validationError('Invalid KeySchema: The first KeySchemaElement is not a HASH key type');
  const hash = keySchema.filter((k) => k.KeyType === 'HASH');
  const range = keySchema.filter((k) => k.KeyType === 'RANGE');
  // HASH attributes come first, then RANGE ones: a HASH after a RANGE is out of order.
  if (keySchema.slice(hash.length).some((k) => k.KeyType !== 'RANGE')) throw validationError('Invalid KeySchema: The second KeySchemaElement is not a RANGE key type');
  if (hash.length > MAX_KEY_ATTRIBUTES_PER_PART || range.length > MAX_KEY_ATTRIBUTES_PER_PART) {
    throw validationError(`${INVALID}An index key may have at most ${MAX_KEY_ATTRIBUTES_PER_PART} HASH and ${MAX_KEY_ATTRIBUTES_PER_PART} RANGE attributes`);
  }
  const attribute = (k: KeySchemaElement) => ({ name: k.AttributeName, type: definitions.get(k.AttributeName)! });
  return { hash: hash.map(attribute), range: range.map(attribute) };
}

function definitionsOf(defs: AttributeDefinition[]): Map<string, ScalarAttributeType> {
  return new Map(defs.map((d) => [d.AttributeName, d.AttributeType as ScalarAttributeType]));
}

/** The throughput of a GSI: required on PROVISIONED tables, refused on PAY_PER_REQUEST. */
function indexThroughput(index: GlobalSecondaryIndex, billingMode: BillingMode): { read: number; write: number } {
  const t = index.ProvisionedThroughput;
  if (billingMode === 'PAY_PER_REQUEST') {
    if (t !== undefined && t !== null) throw validationError(`${INVALID}ProvisionedThroughput should not be specified for index: ${index.IndexName} when BillingMode is PAY_PER_REQUEST`);
    return { read: 0, write: 0 };
  }
  if (t === undefined || t === null) throw validationError(`${INVALID}ProvisionedThroughput must be specified for index: ${index.IndexName}`);
  return { read: t.ReadCapacityUnits, write: t.WriteCapacityUnits };
}

/** A global index definition (CreateTable's or UpdateTable's Create) as metadata wants it. */
export function newGlobalIndex(index: GlobalSecondaryIndex, definitions: AttributeDefinition[], billingMode: BillingMode): NewIndex {
  const key = keySpecOf(index.KeySchema, definitionsOf(definitions));
  const projection = projectionOf(index.Projection);
  const { read, write } = indexThroughput(index, billingMode);
  return { name: index.IndexName, keySchema: copyKeySchema(index.KeySchema), key, projection, readCapacityUnits: read, writeCapacityUnits: write };
}

function copyKeySchema(keySchema: KeySchemaElement[]): KeySchemaElement[] {
  return keySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType }));
}

/** CreateTable's index definitions. The request passed checkCreateTableInput (names,
 *  counts, LSI keys against the table's); what is checked here is only what needs the
 *  index's key spec (a multi-attribute GSI key's order and types: keySpecOf). */
export function newIndexes(input: CreateTableInput, billingMode: BillingMode): { localIndexes: NewIndex[]; globalIndexes: NewIndex[] } {
  const definitions = definitionsOf(input.AttributeDefinitions);
  const localIndexes = (input.LocalSecondaryIndexes ?? []).map((index): NewIndex => ({
    name: index.IndexName, keySchema: copyKeySchema(index.KeySchema), key: keySpecOf(index.KeySchema, definitions), projection: projectionOf(index.Projection),
  }));
  const globalIndexes = (input.GlobalSecondaryIndexes ?? []).map((index) => newGlobalIndex(index, input.AttributeDefinitions, billingMode));
  return { localIndexes, globalIndexes };
}

function projectionDescription(p: IndexProjection): Projection {
  return p.type === 'INCLUDE' ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...(p.nonKeyAttributes ?? [])] } : { ProjectionType: p.type };
}

/** Entries and bytes of an index (summed over its partitions, one replica each). */
export interface IndexSize { items: number; bytes: number }

/** Each index's entries and bytes, counted now on one replica of each partition (a
 *  partition that does not answer counts nothing). */
export async function indexSizes(cp: ControlPlane, meta: TableMeta): Promise<Map<string, IndexSize>> {
  const jobs = [
    ...(meta.localIndexes ?? []).map((l) => ({ name: l.spec.name, id: l.spec.id, partitions: meta.partitions })),
    ...(meta.globalIndexes ?? []).filter((g) => g.status === 'ACTIVE' || g.status === 'UPDATING').map((g) => ({ name: g.spec.name, id: g.spec.id, partitions: g.partitions })),
  ];
  const sizes = new Map<string, IndexSize>();
  await Promise.all(jobs.map(async ({ name, id, partitions }) => {
    const parts = await Promise.all(partitions.map((p) => (cp.router.request({ mode: 'any', group: p.group, replicas: p.replicas }, { t: 'spaceStats', spaceId: id }, true) as Promise<IndexSize>)
      .catch(() => ({ items: 0, bytes: 0 }))));
    sizes.set(name, { items: parts.reduce((n, p) => n + p.items, 0), bytes: parts.reduce((n, p) => n + p.bytes, 0) });
  }));
  return sizes;
}

/** DescribeTable's LocalSecondaryIndexes and GlobalSecondaryIndexes of a table. */
export function describeIndexes(meta: TableMeta, tableArn: string, sizes: Map<string, IndexSize>, nowMs = Date.now()): {
  LocalSecondaryIndexes?: LocalSecondaryIndexDescription[];
  GlobalSecondaryIndexes?: GlobalSecondaryIndexDescription[];
} {
  const out: ReturnType<typeof describeIndexes> = {};
  const common = (name: string, keySchema: KeySchemaElement[], projection: IndexProjection): LocalSecondaryIndexDescription => ({
    IndexName: name,
    KeySchema: keySchema,
    Projection: projectionDescription(projection),
    IndexSizeBytes: sizes.get(name)?.bytes ?? 0,
    ItemCount: sizes.get(name)?.items ?? 0,
    IndexArn: `${tableArn}/index/${name}`,
  });
  if ((meta.localIndexes ?? []).length > 0) {
    out.LocalSecondaryIndexes = meta.localIndexes!.map((l) => common(l.spec.name, l.keySchema, l.spec.projection));
  }
  if ((meta.globalIndexes ?? []).length > 0) {
    out.GlobalSecondaryIndexes = meta.globalIndexes!.map((g) => {
      const d: GlobalSecondaryIndexDescription = {
        ...common(g.spec.name, g.keySchema, g.spec.projection),
        IndexStatus: g.status,
        ProvisionedThroughput: throughputDescription(g, nowMs),
      };
      if (g.backfilling) d.Backfilling = true;
      return d;
    });
  }
  return out;
}

/** ProvisionedThroughput as DescribeTable shows it, of a table or a global index. */
export function throughputDescription(
  g: Pick<GlobalIndexMeta, 'readCapacityUnits' | 'writeCapacityUnits' | 'lastIncreaseMs' | 'lastDecreaseMs' | 'decreasesDay' | 'decreasesOnDay'>,
  nowMs: number,
): GlobalSecondaryIndexDescription['ProvisionedThroughput'] {
  const t: GlobalSecondaryIndexDescription['ProvisionedThroughput'] = {
    NumberOfDecreasesToday: decreasesToday(g, nowMs),
    ReadCapacityUnits: g.readCapacityUnits,
    WriteCapacityUnits: g.writeCapacityUnits,
  };
  if (g.lastIncreaseMs !== undefined) t.LastIncreaseDateTime = new Date(g.lastIncreaseMs);
  if (g.lastDecreaseMs !== undefined) t.LastDecreaseDateTime = new Date(g.lastDecreaseMs);
  return t;
}

/** The index a Query or Scan names, checked as DynamoDB checks it (dynalite's order). */
export function resolveIndex(route: TableRoute, input: QueryInput | ScanInput): RouteIndex | undefined {
  const name = input.IndexName;
  if (name === undefined || name === null) return undefined;
  const index = route.indexes?.find((i) => i.name === name && i.status !== 'DELETING');
  // An unknown index is reported before anything about the ExclusiveStartKey.
  if (index === undefined) throw validationError(`The table does not have the specified index: ${String(name)}`);
  if (index.global && input.ConsistentRead === true) throw validationError('Consistent reads are not supported on global secondary indexes');
  if (index.global && index.backfilling === true) throw validationError(`Cannot read from backfilling global secondary index: ${index.name}`);
  return index;
}

/** Select ALL_ATTRIBUTES on a global index that does not project them all. DynamoDB checks
 *  it late: a Scan after the index's attributes of the ExclusiveStartKey, a Query after
 *  everything about its key condition, start key and filter. */
export function checkSelectAllAttributes(index: RouteIndex, select: unknown): void {
  if (index.global && select === 'ALL_ATTRIBUTES' && index.spec.projection.type !== 'ALL') {
    throw validationError(`${INVALID}Select type ALL_ATTRIBUTES is not supported for global secondary index ${index.name} because its projection type is not ALL`);
  }
}

/** Whether a read of a local index must fetch items from the table: Select
 *  ALL_ATTRIBUTES, or a projection or filter naming an attribute the index lacks. */
export function needsFetch(index: RouteIndex, table: KeyShape, select: unknown, projection: ProjectionAst | undefined, filter: ConditionAst | undefined): boolean {
  if (index.global || index.spec.projection.type === 'ALL') return false;
  if (select === 'ALL_ATTRIBUTES') return true;
  const names = new Set<string>();
  for (const path of projection ?? []) if (typeof path[0] === 'string') names.add(path[0]);
  if (filter !== undefined) collectNames(filter, names);
  for (const name of names) if (!projects(index.spec, table, name)) return true;
  return false;
}

/** Top-level attribute names a condition reads (every path in it). */
function collectNames(node: unknown, names: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collectNames(child, names);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  if (Array.isArray(n.path) && typeof n.path[0] === 'string') names.add(n.path[0]);
  // A literal's AttributeValue holds no paths.
  for (const key in n) if (key !== 'path' && !(key === 'value' && n.kind === 'value')) collectNames(n[key], names);
}

/** What an UpdateTable's GlobalSecondaryIndexUpdates asks for, checked against the table. */
export interface GlobalIndexPlan {
  create?: NewIndex;
  /** The attribute definitions after a Create (the table's, with the new key attributes). */
  attributeDefinitions?: AttributeDefinition[];
  delete?: string;
  throughput: Array<{ name: string; read: number; write: number }>;
}

const ONE_ONLINE_INDEX = 'Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table';

export function planGlobalIndexUpdates(meta: TableMeta, updates: GlobalSecondaryIndexUpdate[], definitions: AttributeDefinition[] | undefined, billingMode: BillingMode): GlobalIndexPlan {
  const plan: GlobalIndexPlan = { throughput: [] };
  const existing = meta.globalIndexes ?? [];
  const byName = (name: string): GlobalIndexMeta => {
    const index = existing.find((g) => g.spec.name === name);
    if (index === undefined) throw new DynamoDBError('ResourceNotFoundException', `Requested resource not found: Index: ${name} not found`);
    return index;
  };
  const createsOrDeletes = updates.filter((u) => u?.Create != null || u?.Delete != null).length;
  const busy = existing.some((g) => g.status === 'CREATING' || g.status === 'DELETING');
  if (createsOrDeletes > 1 || (createsOrDeletes === 1 && busy)) throw new DynamoDBError('LimitExceededException', ONE_ONLINE_INDEX);
  for (const update of updates) {
    if (update?.Create != null) {
      const create = update.Create;
      if (existing.some((g) => g.spec.name === create.IndexName) || (meta.localIndexes ?? []).some((l) => l.spec.name === create.IndexName)) {
        throw validationError(`${INVALID}Index with name: ${create.IndexName} already exists`);
      }
      if (existing.length >= MAX_GLOBAL_INDEXES) throw validationError(`${INVALID}GlobalSecondaryIndex count exceeds the per-table limit of ${MAX_GLOBAL_INDEXES}`);
      // Key attributes of the new index: defined in this request, or already on the table.
      const merged = new Map(meta.attributeDefinitions.map((d) => [d.AttributeName, d]));
      for (const d of definitions ?? []) {
        const known = merged.get(d.AttributeName);
        if (known !== undefined && known.AttributeType !== d.AttributeType) {
          throw validationError(`${INVALID}Cannot change the type of attribute ${d.AttributeName} (${known.AttributeType}) used as a key by the table or an index`);
        }
        merged.set(d.AttributeName, { AttributeName: d.AttributeName, AttributeType: d.AttributeType });
      }
      plan.attributeDefinitions = [...merged.values()];
      plan.create = newGlobalIndex(create, plan.attributeDefinitions, billingMode);
    } else if (update?.Delete != null) {
      byName(update.Delete.IndexName);
      plan.delete = update.Delete.IndexName;
    } else if (update?.Update != null) {
      const index = byName(update.Update.IndexName);
      if (billingMode === 'PAY_PER_REQUEST') throw validationError(`${INVALID}ProvisionedThroughput should not be specified for index: ${index.spec.name} when BillingMode is PAY_PER_REQUEST`);
      const t = update.Update.ProvisionedThroughput;
      plan.throughput.push({ name: index.spec.name, read: t.ReadCapacityUnits, write: t.WriteCapacityUnits });
    }
  }
  return plan;
}

/** Records a plan and starts what runs in the background (a backfill, a deletion). */
export function applyGlobalIndexPlan(cp: ControlPlane, tableName: string, plan: GlobalIndexPlan, nowMs = Date.now()): void {
  for (const t of plan.throughput) {
    const index = cp.metadata.table(tableName)!.globalIndexes!.find((g) => g.spec.name === t.name)!;
    const increase = t.read > index.readCapacityUnits || t.write > index.writeCapacityUnits;
    const decrease = t.read < index.readCapacityUnits || t.write < index.writeCapacityUnits;
    cp.metadata.updateGlobalIndex(tableName, t.name, {
      readCapacityUnits: t.read, writeCapacityUnits: t.write,
      ...(increase ? { lastIncreaseMs: nowMs } : {}),
      ...(decrease ? { lastDecreaseMs: nowMs, decreasesDay: utcDay(nowMs), decreasesOnDay: decreasesToday(index, nowMs) + 1 } : {}),
    });
  }
  if (plan.create !== undefined) {
    cp.metadata.updateTable(tableName, { attributeDefinitions: plan.attributeDefinitions! });
    cp.metadata.addGlobalIndex(tableName, plan.create, cp.options.partitions, cp.options.nodes);
    cp.metadata.publish();
    cp.inBackground(cp.globalIndexes.addIndex(tableName, plan.create.name));
  }
  if (plan.delete !== undefined) {
    cp.metadata.updateGlobalIndex(tableName, plan.delete, { status: 'DELETING' });
    cp.inBackground(cp.globalIndexes.deleteIndex(tableName, plan.delete));
  }
}

/** How a Query or Scan reads an index: the route whose partitions hold the entries (the
 *  table's for a local index, the index's own table's for a global one), the table id the
 *  request names, and the key shape its key condition is parsed against. */
export interface IndexRead {
  index: RouteIndex;
  route: TableRoute;
  tableId: number;
  keyShape: KeyShape;
}

export function indexRead(plane: DataPlane, table: TableRoute, index: RouteIndex): IndexRead {
  if (!index.global) return { index, route: table, tableId: table.tableId, keyShape: indexKeyShape(index.spec.key) };
  const route = plane.routes.table(globalIndexRouteName(table.name, index.name));
  if (route === undefined) throw validationError(`The table does not have the specified index: ${index.name}`);
  return { index, route, tableId: index.spec.id, keyShape: indexKeyShape(index.spec.key) };
}

/** An index key of more than one hash or range attribute (DynamoDB's multi-attribute keys). */
export function isMultiAttribute(key: IndexKeySpec): boolean {
  return key.hash.length > 1 || key.range.length > 1;
}

/** The partition of a Query on an index (hash of its hash value). */
export function indexQueryTarget(plane: DataPlane, read: IndexRead, hashValues: AttributeValue[], consistent: boolean): Target {
  const partition = plane.routes.partitionFor(read.route, indexHash(hashValues));
  return { mode: consistent ? 'leader' : 'any', group: partition.group, replicas: partition.replicas };
}

/** DynamoDB's first check of an ExclusiveStartKey: it has as many attributes as the key
 *  it continues from, the table's and, reading an index, the index's together. */
export function checkStartKeySize(key: Item, table: KeyShape, index: RouteIndex | undefined): void {
  if (Object.keys(key).length !== startKeySize(table, index)) throw validationError('The provided starting key is invalid');
}

/** The attributes of an ExclusiveStartKey: the table's key, and the index's read. */
export function startKeySize(table: KeyShape, index: RouteIndex | undefined): number {
  return index !== undefined ? indexKeyNamesOf(index.spec, table).length : table.rangeName === undefined ? 1 : 2;
}

/** The index's key attributes of an ExclusiveStartKey, one by one in key order (what a
 *  Query checks along with its key condition, and a Scan on its own). */
export function checkIndexStartKeyAttributes(index: RouteIndex, key: Item): void {
  for (const a of [...index.spec.key.hash, ...index.spec.key.range]) checkStartKeyAttribute(key, a.name, a.type);
}

/** An index's ExclusiveStartKey, its size and index key attributes already checked: its
 *  table key attributes are checked as the table's key ("The provided starting key is
 *  invalid: ..."), then the whole key normalized. */
export function indexStartKey(plane: DataPlane, table: KeyShape, key: Item): Item {
  const tableKey: Item = {};
  for (const name of [table.hashName, table.rangeName]) if (name !== undefined && key[name] !== undefined) tableKey[name] = key[name]!;
  plane.checkStartKey(tableKey, table);
  validateItem(key);
  return normalizeItem(key);
}

/** The type an update's value has whatever the item holds (a literal, arithmetic,
 *  list_append, if_not_exists' fallback); undefined when it is read from the item. */
function staticType(value: UpdateValue): string | undefined {
  switch (value.kind) {
    case 'value': return typeOf(value.value);
    case 'plus':
    case 'minus': return 'N';
    case 'list_append': return 'L';
    case 'if_not_exists': return staticType(value.fallback);
    case 'path': return undefined;
  }
}

/**
 * An UpdateItem may not write an index key attribute a value of another type than the
 * index's: what the update gives it whatever the item holds is checked before the item is
 * read; a value read from the item, when the update applies ("...attempted to update the
 * secondary index key to unsupported type").
 */
export function checkIndexKeyTypes(update: UpdateAst, route: TableRoute): void {
  const written = new Map<string, string | undefined>();
  for (const a of update.set) if (a.path.length === 1) written.set(String(a.path[0]), staticType(a.value));
  for (const a of [...update.add, ...update.delete]) if (a.path.length === 1) written.set(String(a.path[0]), typeOf(a.value));
  for (const index of indexesInMessageOrder(route)) {
    for (const a of [...index.spec.key.hash, ...index.spec.key.range]) {
      const type = written.get(a.name);
      if (type !== undefined && type !== a.type) {
        throw validationError(`${INVALID}Type mismatch for Index Key ${a.name} Expected: ${a.type} Actual: ${type} IndexName: ${index.name}`);
      }
    }
  }
}

/** Read units of an index page: the entries read, plus each item fetched from the table
 *  (a local index read of attributes it does not project), rounded up per item. */
export function indexReadUnits(page: PageResult, consistent: boolean): { index: number; table: number } {
  return { index: readCapacityUnits(page.bytesRead, consistent), table: (page.fetchedBlocks ?? 0) * (consistent ? 1 : 0.5) };
}

/** ConsumedCapacity of a read of an index: with INDEXES, split by table and index. */
export function indexConsumedCapacity(tableName: string, index: RouteIndex, units: { index: number; table: number }, mode: ReturnConsumedCapacity | undefined): ConsumedCapacity | undefined {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  const total = units.index + units.table;
  if (mode === 'TOTAL') return { TableName: tableName, CapacityUnits: total };
  const key = index.global ? 'GlobalSecondaryIndexes' : 'LocalSecondaryIndexes';
  return { TableName: tableName, CapacityUnits: total, Table: { CapacityUnits: units.table }, [key]: { [index.name]: { CapacityUnits: units.index } } };
}

/** How an index differs from what its table implies (`verifyIndexes`). */
export interface IndexCheck {
  /** Entries the table implies. */
  expected: number;
  /** Entries the index holds. */
  actual: number;
  /** Keys (table and index key attributes) of entries that are missing, extra, or hold
   *  another image than the table implies; at most 20 of each. */
  missing: Item[];
  extra: Item[];
  different: Item[];
}

const CHECK_EXAMPLES = 20;
const CHECK_PAGE_ITEMS = 1000;

/** Every row of some partitions' key space (a table's or an index's), read from their
 *  leaders page by page. */
async function readAll(cp: ControlPlane, partitions: PartitionInfo[], tableId: number, indexId: number | undefined): Promise<Item[]> {
  const out: Item[] = [];
  for (const p of partitions) {
    let startKey: Item | undefined;
    do {
      const page = (await cp.router.request({ mode: 'leader', group: p.group, replicas: p.replicas }, {
        t: 'scan', consistent: true,
        req: {
          tableId, hashLo: p.hashStart, hashHi: p.hashEnd, limit: CHECK_PAGE_ITEMS,
          ...(indexId !== undefined ? { indexId } : {}), ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
        },
      }, true)) as PageResult;
      out.push(...page.items);
      startKey = page.lastEvaluatedKey;
    } while (startKey !== undefined);
  }
  return out;
}

/**
 * Recomputes every index of a table from the table's items (read from the leaders) and
 * compares it with what the index holds. A local index is equal at every moment; a global
 * one once its propagation caught up (poll until it is).
 */
export async function verifyIndexes(cp: ControlPlane, tableName: string): Promise<Record<string, IndexCheck>> {
  const meta = cp.meta(tableName);
  const items = await readAll(cp, meta.partitions, meta.tableId, undefined);
  const indexes = [
    ...(meta.localIndexes ?? []).map((l) => ({ spec: l.spec, entries: () => readAll(cp, meta.partitions, meta.tableId, l.spec.id) })),
    ...(meta.globalIndexes ?? []).filter((g) => g.status !== 'DELETING')
      .map((g) => ({ spec: g.spec, entries: () => readAll(cp, g.partitions, g.spec.id, g.spec.id) })),
  ];
  const out: Record<string, IndexCheck> = {};
  for (const { spec, entries } of indexes) {
    const expected = new Map<string, Item>();
    for (const item of items) {
      const key = storageIndexEntryKey(spec, meta.keyShape, item);
      if (key !== undefined) expected.set(hexOf(key), projectForIndex(spec, meta.keyShape, item));
    }
    const actual = await entries();
    const check: IndexCheck = { expected: expected.size, actual: actual.length, missing: [], extra: [], different: [] };
    const seen = new Set<string>();
    for (const entry of actual) {
      const key = hexOf(storageIndexEntryKey(spec, meta.keyShape, entry)!);
      seen.add(key);
      const want = expected.get(key);
      if (want === undefined) pushExample(check.extra, indexEntryKeyOf(spec, meta.keyShape, entry));
      else if (!sameImage(want, entry)) pushExample(check.different, indexEntryKeyOf(spec, meta.keyShape, entry));
    }
    for (const [key, want] of expected) if (!seen.has(key)) pushExample(check.missing, indexEntryKeyOf(spec, meta.keyShape, want));
    out[spec.name] = check;
  }
  return out;
}

function pushExample(list: Item[], key: Item): void {
  if (list.length < CHECK_EXAMPLES) list.push(key);
}

function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function sameImage(a: Item, b: Item): boolean {
  return Buffer.compare(encodeItem(a), encodeItem(b)) === 0 || JSON.stringify(sortedItem(a), binaryJson) === JSON.stringify(sortedItem(b), binaryJson);
}

function sortedItem(item: Item): Array<[string, unknown]> {
  return Object.keys(item).sort().map((k) => [k, item[k]]);
}

function binaryJson(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

const GB = 1024 * 1024 * 1024;

/** DynamoDB's estimate of a collection's size: the whole gigabytes around it, [n, n + 1]
 *  (its documented example answers [0.0, 1.0] for a small collection). */
export function sizeEstimateRangeGB(collectionBytes: number): [number, number] {
  const lower = Math.floor(collectionBytes / GB);
  return [lower, lower + 1];
}

/** The item collection a write to a table with local secondary indexes touched, with the
 *  size its apply reported (`collectionBytes`, the size after the write; a delete of an
 *  absent item reports none and counts as the lowest range). Tables without a local index
 *  have no item collection metrics. */
export function itemCollectionMetrics(route: TableRoute, key: Item, collectionBytes: number | undefined): ItemCollectionMetrics | undefined {
  if (!(route.indexes ?? []).some((i) => !i.global)) return undefined;
  return { ItemCollectionKey: { [route.keyShape.hashName]: key[route.keyShape.hashName]! }, SizeEstimateRangeGB: sizeEstimateRangeGB(collectionBytes ?? 0) };
}

/** ConsumedCapacity of a write that also wrote secondary indexes (`indexUnits` from its
 *  apply): the total counts them, and INDEXES splits it by table and index. */
export function writeConsumedCapacity(route: TableRoute, tableUnits: number, indexUnits: Array<[number, number]>, mode: ReturnConsumedCapacity | undefined): ConsumedCapacity | undefined {
  if (mode !== 'TOTAL' && mode !== 'INDEXES') return undefined;
  let total = tableUnits;
  const local: Record<string, { CapacityUnits: number }> = {};
  const global: Record<string, { CapacityUnits: number }> = {};
  for (const [id, units] of indexUnits) {
    const index = route.indexes?.find((i) => i.spec.id === id);
    if (index === undefined) continue;
    total += units;
    const into = index.global ? global : local;
    into[index.name] = { CapacityUnits: (into[index.name]?.CapacityUnits ?? 0) + units };
  }
  if (mode === 'TOTAL') return { TableName: route.name, CapacityUnits: total };
  const out: ConsumedCapacity = { TableName: route.name, CapacityUnits: total, Table: { CapacityUnits: tableUnits } };
  if (Object.keys(local).length > 0) out.LocalSecondaryIndexes = local;
  if (Object.keys(global).length > 0) out.GlobalSecondaryIndexes = global;
  return out;
}
