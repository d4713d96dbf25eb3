/** What every data-plane operation needs: the thread's router and partition map, routing a
 *  read or a write, and checking keys and projections. */
import type { ProjectionAst } from '../expressions/ast.js';
import { attributesToGetToProjection, parseProjection, type ExpressionContext } from '../expressions/index.js';
import { DynamoDBError, fromErrorShape, validationError } from '../model/errors.js';
import { partitionHash } from '../model/hash.js';
import { encodeItemKeyWithHash } from '../model/key-encoding.js';
import type { Item, KeyShape } from '../model/types.js';
import { normalizeItem, validateItem, validateKey, validateTableName } from '../model/validate.js';
import type { NodeRequestBody } from '../node/requests.js';
import { PartitionMapCache, type TableRoute } from '../router/partition-map.js';
import { Router, type Target } from '../router/router.js';
import type { RequestTiming } from '../router/latency.js';
import { encodeWriteOp } from '../storage/codec.js';
import type { WriteOp, WriteResult } from '../storage/operations.js';
import { tableNotFound } from './request-checks.js';

/** Per-call options of the single-item operations (not part of DynamoDB's input). */
export interface RequestOptions {
  /** Receives where this request spent its time, stage by stage (see `latency()`), before
   *  the call resolves; not called when no node answered (throttled, timed out). */
  onTiming?: (timing: RequestTiming) => void;
}

/** One thread's access to the data plane: its router and its copy of the partition map. */
export class DataPlane {
  /**
   * Before an eventually consistent read of a global index: waits (bounded) until the index
   * has caught up with the writes to `tableName` acknowledged before the read began. Only
   * the main thread (`ShardBox`) runs the index propagator and sets it; other threads read
   * the index as it is.
   */
  awaitIndexCatchUp: ((tableName: string) => Promise<unknown>) | undefined;

  constructor(
    readonly router: Router,
    readonly routes: PartitionMapCache,
  ) {}

  route(tableName: unknown): TableRoute {
    validateTableName(tableName);
    const route = this.routes.table(tableName);
    if (route === undefined) throw tableNotFound();
    return route;
  }

  readTarget(route: TableRoute, key: Item, consistent: boolean): Target {
    return this.hashTarget(route, partitionHash(key[route.keyShape.hashName]), consistent ? 'leader' : 'any');
  }

  /** The partition holding `hash`, and how to find it again after a split moved it. */
  hashTarget(route: TableRoute, hash: bigint, mode: 'leader' | 'any'): Target {
    const partition = this.routes.partitionFor(route, hash);
    return { mode, group: partition.group, replicas: partition.replicas, reroute: () => this.routes.locate(route.name, hash) };
  }

  /** Hashes the partition key of a write and encodes its B-tree key into `op.itemKey`.
   *  Returns the hash. */
  prepareWrite(route: TableRoute, op: WriteOp): bigint {
    const hash = partitionHash(op.key[route.keyShape.hashName]);
    op.itemKey = encodeItemKeyWithHash(route.tableId, hash, route.keyShape, op.key);
    return hash;
  }

  /** Routes a write to its partition's leader. The partition key is hashed once, here:
   *  the same hash goes into the item's B-tree key, carried in the log entry. */
  async write(route: TableRoute, op: WriteOp, options: RequestOptions = {}): Promise<WriteResult> {
    const hash = this.prepareWrite(route, op);
    const entry = encodeWriteOp(op);
    const body: NodeRequestBody = { t: 'write', entry };
    const target = this.hashTarget(route, hash, 'leader');
    const result = (await this.router.request(target, body, false, { bytes: entry.byteLength, onTiming: options.onTiming })) as WriteResult;
    if (!result.ok) throw fromErrorShape(result.error);
    return result;
  }

  projection(input: { ProjectionExpression?: string; AttributesToGet?: string[] }, ctx: ExpressionContext): ProjectionAst | undefined {
    if (input.ProjectionExpression !== undefined) return parseProjection(input.ProjectionExpression, ctx);
    if (input.AttributesToGet !== undefined) return attributesToGetToProjection(input.AttributesToGet);
    return undefined;
  }

  checkKey(key: unknown, shape: KeyShape): Item {
    if (key === undefined || key === null) {
      throw validationError("1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null");
    }
    validateItem(key);
    validateKey(key, shape);
    return normalizeItem(key);
  }

  checkStartKey(key: Item, shape: KeyShape): Item {
    try {
      return this.checkKey(key, shape);
    } catch (error) {
      if (error instanceof DynamoDBError) throw validationError(`The provided starting key is invalid: ${error.message}`);
      throw error;
    }
  }
}
