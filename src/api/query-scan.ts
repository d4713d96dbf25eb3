/** Query and Scan, on a table (and its indexes). */
import type { PageOutput, QueryInput, QueryOutput, ReturnConsumedCapacity, ScanInput, ScanOutput } from '../api-types.js';
import { checkAllPlaceholdersUsed, conditionPaths, keyConditionsToAst, parseIndexKeyCondition, parseKeyCondition, type IndexKeyCondition } from '../expressions/index.js';
import { readCapacityUnits } from '../model/capacity.js';
import { READ } from '../model/admission-board.js';
import { validationError } from '../model/errors.js';
import { HASH_SPACE, hashToHex, hexToHash, partitionHash } from '../model/hash.js';
import type { Item } from '../model/types.js';
import type { NodeRequestBody } from '../node/requests.js';
import { type TableRoute } from '../router/partition-map.js';
import { type Target } from '../router/router.js';
import type { PageResult } from '../storage/operations.js';
import { DataPlane } from './data-plane.js';
import {
  checkIndexStartKeyAttributes, checkSelectAllAttributes, checkStartKeySize, indexConsumedCapacity, startKeySize, indexQueryTarget, isMultiAttribute,
  indexRead, indexReadUnits, indexStartKey, needsFetch, resolveIndex, type IndexRead,
} from './indexes.js';
import { indexHash } from '../storage/indexes.js';
import { checkQueryFilterKeys, checkQueryRequest, checkQueryStartKey, checkScanRequest } from './page-checks.js';
import {
  PAGE_BYTES, checkConsistentRead, checkKeyPathsScalar, checkLimit, checkNotMixed, checkedConditions, consumed,
  expressionContext, indexKeyAttributeNames, pageFilter, sameValue,
} from './request-checks.js';

/**
 * Select against the projection parameters, with DynamoDB's messages (confirmed against
 * DynamoDB by moto's aws_verified tests): Query wraps them in "1 validation error
 * detected: ", Scan does not.
 */
function select(input: QueryInput | ScanInput, operation: 'Query' | 'Scan', indexed: boolean): boolean {
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
  if (select === 'ALL_PROJECTED_ATTRIBUTES' && !indexed) throw validationError(`${prefix}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName`);
  if (select === 'SPECIFIC_ATTRIBUTES' && projected === undefined) {
    throw validationError(`${prefix}Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES`);
  }
  return select === 'COUNT';
}

/** What Query and Scan check alike: table, index, ConsistentRead, Limit, Select. */
function pageRequest(plane: DataPlane, input: QueryInput | ScanInput, operation: 'Query' | 'Scan'): { route: TableRoute; read: IndexRead | undefined; consistent: boolean; limit: number | undefined; countOnly: boolean } {
  const route = plane.route(input?.TableName);
  const index = resolveIndex(route, input);
  return {
    route,
    read: index === undefined ? undefined : indexRead(plane, route, index),
    consistent: checkConsistentRead(input.ConsistentRead),
    limit: checkLimit(input.Limit),
    countOnly: select(input, operation, index !== undefined),
  };
}

/** Sends one page request through admission control: of the table's for a read of the
 *  table or of a local index, of the index's own for a global index. */
function sendPage(plane: DataPlane, route: TableRoute, read: IndexRead | undefined, consistent: boolean, target: Target, body: NodeRequestBody): Promise<PageResult> {
  return plane.read(read?.index.global === true ? read : route, consistent, target, body) as Promise<PageResult>;
}

/** A page's output, its capacity counted for the table or for the index it read; the
 *  table's bucket is charged what it says, beyond the estimates of its `requests`. */
function output(plane: DataPlane, route: TableRoute, read: IndexRead | undefined, page: PageResult, countOnly: boolean, consistent: boolean, mode: ReturnConsumedCapacity | undefined, requests: number): PageOutput {
  const estimated = requests * (consistent ? 1 : 0.5);
  if (read === undefined) plane.settle(route, READ, estimated, readCapacityUnits(page.bytesRead, consistent));
  else {
    // A local index's reads are its table's; a global index's are its own (and any items
    // fetched from the table, the table's).
    const units = indexReadUnits(page, consistent);
    if (read.index.global) {
      plane.settle(read, READ, estimated, units.index);
      plane.settle(route, READ, 0, units.table);
    } else {
      plane.settle(route, READ, estimated, units.index + units.table);
    }
  }
  const out = pageOutput(route.name, page, countOnly, consistent, read === undefined ? mode : undefined);
  if (read === undefined) return out;
  const capacity = indexConsumedCapacity(route.name, read.index, indexReadUnits(page, consistent), mode);
  if (capacity !== undefined) out.ConsumedCapacity = capacity;
  return out;
}

/** A global index is eventually consistent (ConsistentRead on one is refused): a read of
 *  one first lets it catch up with the writes acknowledged before, as DynamoDB's usually
 *  small lag does. */
async function awaitIndexCatchUp(plane: DataPlane, route: TableRoute, read: IndexRead | undefined): Promise<void> {
  if (read?.index.global === true && plane.awaitIndexCatchUp !== undefined) await plane.awaitIndexCatchUp(route.name);
}

export async function query(plane: DataPlane, input: QueryInput): Promise<QueryOutput> {
  checkQueryRequest(input);
  const { route, read, consistent, limit, countOnly } = pageRequest(plane, input, 'Query');
  const keyShape = read?.keyShape ?? route.keyShape;
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
  // DynamoDB checks an ExclusiveStartKey's size first, then the attributes of the key read
  // (the index's, or the table's) one by one along with the key condition, and only then
  // the table's key attributes of an index's start key.
  const exclusiveStartKey = input.ExclusiveStartKey ?? undefined;
  const startKeyCheck = exclusiveStartKey === undefined ? undefined : { key: exclusiveStartKey, attributeCount: startKeySize(route.keyShape, read?.index) };
  let keyCondition;
  // A multi-attribute index key: every hash value and the equal range prefix go apart.
  let multi: IndexKeyCondition | undefined;
  if (input.KeyConditionExpression !== undefined && read !== undefined && isMultiAttribute(read.index.spec.key)) {
    if (exclusiveStartKey !== undefined) {
      checkStartKeySize(exclusiveStartKey, route.keyShape, read.index);
      checkIndexStartKeyAttributes(read.index, exclusiveStartKey);
    }
    multi = parseIndexKeyCondition(input.KeyConditionExpression, ctx, read.index.spec.key);
    keyCondition = { hash: multi.hash[0]!, ...(multi.range !== undefined ? { range: multi.range } : {}) };
  } else if (input.KeyConditionExpression !== undefined) keyCondition = parseKeyCondition(input.KeyConditionExpression, ctx, keyShape, startKeyCheck);
  else if (input.KeyConditions !== undefined) keyCondition = keyConditionsToAst(checkedConditions(input.KeyConditions) as Parameters<typeof keyConditionsToAst>[0], keyShape, startKeyCheck);
  else throw validationError('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
  const filter = pageFilter(input.FilterExpression, input.QueryFilter, input.ConditionalOperator, ctx);
  const projection = plane.projection(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  const startKey = exclusiveStartKey === undefined ? undefined
    : read !== undefined ? indexStartKey(plane, route.keyShape, exclusiveStartKey) : plane.checkStartKey(exclusiveStartKey, route.keyShape);
  if (startKey !== undefined && multi === undefined) checkQueryStartKey(startKey, keyCondition, keyShape);
  else if (startKey !== undefined && !sameValue(startKey[keyShape.hashName], keyCondition.hash)) {
    throw validationError('The provided starting key is invalid: The provided key element does not match the schema');
  }
  checkKeyPathsScalar(projection ?? [], route.keyShape, indexKeyAttributeNames(route));
  checkQueryFilterKeys(input, filter, keyShape);
  if (read !== undefined) checkSelectAllAttributes(read.index, input.Select);
  if (filter !== undefined) checkKeyPathsScalar(conditionPaths(filter), route.keyShape, indexKeyAttributeNames(route));
  const fetchBase = read !== undefined && needsFetch(read.index, route.keyShape, input.Select, projection, filter);
  const body: NodeRequestBody = {
    t: 'query', consistent,
    req: {
      tableId: read?.tableId ?? route.tableId, keyCondition, forward: input.ScanIndexForward ?? true,
      ...(read !== undefined ? { indexId: read.index.spec.id } : {}),
      ...(multi !== undefined ? { indexHashValues: multi.hash, indexRangeEquals: multi.rangeEquals } : {}),
      ...(fetchBase ? { fetchBase } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(startKey !== undefined ? { exclusiveStartKey: startKey } : {}),
      ...(filter !== undefined ? { filter } : {}),
      ...(projection !== undefined ? { projection } : {}),
      ...(countOnly ? { countOnly } : {}),
    },
  };
  await awaitIndexCatchUp(plane, route, read);
  const target = read !== undefined ? indexQueryTarget(plane, read, multi?.hash ?? [keyCondition.hash], consistent) : plane.readTarget(route, { [route.keyShape.hashName]: keyCondition.hash }, consistent, body);
  const page = await sendPage(plane, route, read, consistent, target, body);
  return output(plane, route, read, page, countOnly, consistent, input.ReturnConsumedCapacity, 1);
}


/**
 * Scan walks the partitions that intersect the segment's slice of the hash space in
 * hash order, continuing into the next partition until Limit or 1 MB is reached, so the
 * LastEvaluatedKey is always the key of a real item.
 */
export async function scan(plane: DataPlane, input: ScanInput): Promise<ScanOutput> {
  checkScanRequest(input);
  const { route, read, consistent, limit, countOnly } = pageRequest(plane, input, 'Scan');
  const [hashLo, hashHi] = segmentRange(input.Segment, input.TotalSegments);
  checkNotMixed(
    { AttributesToGet: input.AttributesToGet, ScanFilter: input.ScanFilter, ConditionalOperator: input.ConditionalOperator },
    { ProjectionExpression: input.ProjectionExpression, FilterExpression: input.FilterExpression },
  );
  const ctx = expressionContext(input, input.FilterExpression !== undefined || input.ProjectionExpression !== undefined);
  const filter = pageFilter(input.FilterExpression, input.ScanFilter, input.ConditionalOperator, ctx);
  const projection = plane.projection(input, ctx);
  checkAllPlaceholdersUsed(ctx);
  // DynamoDB's order: the start key's size and its index key attributes, Select against the
  // index's projection, then the start key's table key attributes.
  const exclusiveStartKey = input.ExclusiveStartKey ?? undefined;
  if (exclusiveStartKey !== undefined && read !== undefined) {
    checkStartKeySize(exclusiveStartKey, route.keyShape, read.index);
    checkIndexStartKeyAttributes(read.index, exclusiveStartKey);
  }
  if (read !== undefined) checkSelectAllAttributes(read.index, input.Select);
  let startKey = exclusiveStartKey === undefined ? undefined
    : read !== undefined ? indexStartKey(plane, route.keyShape, exclusiveStartKey) : plane.checkStartKey(exclusiveStartKey, route.keyShape);
  const fetchBase = read !== undefined && needsFetch(read.index, route.keyShape, input.Select, projection, filter);
  let from = hashLo;
  if (startKey !== undefined) {
    const startHash = read !== undefined
      ? indexHash(read.index.spec.key.hash.map((a) => startKey![a.name]!))
      : partitionHash(startKey[route.keyShape.hashName]);
    if (startHash < hashLo || startHash > hashHi) {
      throw validationError(`The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: ${String(input.TotalSegments)} Segment: ${String(input.Segment)}`);
    }
    from = startHash;
  }
  checkKeyPathsScalar(projection ?? [], route.keyShape, indexKeyAttributeNames(route));
  if (filter !== undefined) checkKeyPathsScalar(conditionPaths(filter), route.keyShape, indexKeyAttributeNames(route));
  await awaitIndexCatchUp(plane, route, read);
  // Partition by partition in hash order, each found in the map as it is when its turn
  // comes (a split while the scan runs replaces one by two: the scan follows it).
  const scanned = read?.route ?? route;
  const total: PageResult = { items: [], count: 0, scannedCount: 0, bytesRead: 0 };
  let requests = 0;
  let lastKey: Item | undefined;
  for (;;) {
    if (from > hashHi) break;
    let partition = plane.routes.partitionFor(plane.routes.table(scanned.name) ?? scanned, from);
    const remaining = limit === undefined ? undefined : limit - total.scannedCount;
    if ((remaining !== undefined && remaining <= 0) || total.bytesRead >= PAGE_BYTES) {
      // The page is full at a partition boundary: continue from the last item read.
      total.lastEvaluatedKey = lastKey;
      break;
    }
    const body: NodeRequestBody = {
      t: 'scan', consistent,
      req: {
        tableId: read?.tableId ?? route.tableId,
        ...(read !== undefined ? { indexId: read.index.spec.id } : {}),
        ...(fetchBase ? { fetchBase } : {}),
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
    const pageFrom = from;
    const target: Target = {
      mode: consistent ? 'leader' : 'any', group: partition.group, replicas: partition.replicas,
      reroute: () => {
        const now = plane.routes.locate(scanned.name, pageFrom);
        if (now !== undefined) partition = now;
        return now;
      },
    };
    const page = await sendPage(plane, route, read, consistent, target, body);
    requests++;
    total.items.push(...page.items);
    total.count += page.count;
    total.scannedCount += page.scannedCount;
    total.bytesRead += page.bytesRead;
    if (page.fetchedBlocks !== undefined) total.fetchedBlocks = (total.fetchedBlocks ?? 0) + page.fetchedBlocks;
    startKey = undefined;
    if (page.lastKey !== undefined) lastKey = page.lastKey;
    if (page.lastEvaluatedKey !== undefined) {
      total.lastEvaluatedKey = page.lastEvaluatedKey;
      break;
    }
    // The partition that answered covered the range up to its end.
    from = hexToHash(partition.hashEnd) + 1n;
  }
  return output(plane, route, read, total, countOnly, consistent, input.ReturnConsumedCapacity, requests);
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
