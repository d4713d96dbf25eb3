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
import { nowMs, Router, type Target } from '../router/router.js';
import type { RouterAdmission } from '../router/admission.js';
import { READ, WRITE, type CapacityKind } from '../model/admission-board.js';
import { writeCapacityUnits } from '../model/capacity.js';
import type { RequestTiming } from '../router/latency.js';
import { encodeWriteOp } from '../storage/codec.js';
import type { WriteOp, WriteResult } from '../storage/operations.js';
import { tableNotFound } from './request-checks.js';

/** What admission needs of a table (or of a global index's hidden table): its id. */
export type AdmittedTable = Pick<TableRoute, 'tableId'>;

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
    /** This thread's admission control; undefined when the cluster runs without. */
    readonly admission?: RouterAdmission,
  ) {}

  /** Admission control is on: every write's real cost is measured, to charge its bucket. */
  get chargesCapacity(): boolean {
    return this.admission !== undefined;
  }

  /**
   * Sends a data request through admission control: admitted at this router on its
   * estimated `units` (or failed at once, unsent, with the throttle error), carrying the
   * estimate so that the partition's node admits it too. A request a node throttled gives
   * its estimate back. Once the request's real cost is known, the caller `settle`s it.
   */
  send(route: AdmittedTable, kind: CapacityKind, units: number, target: Target, body: NodeRequestBody & { u?: number }, idempotent: boolean, extra: { bytes?: number; onTiming?: (timing: RequestTiming) => void } = {}): Promise<unknown> {
    const admission = this.admission;
    if (admission === undefined) return this.router.request(target, body, idempotent, extra);
    return this.sendAdmitted(admission, route, kind, units, target, body, idempotent, extra);
  }

  private async sendAdmitted(admission: RouterAdmission, route: AdmittedTable, kind: CapacityKind, units: number, target: Target, body: NodeRequestBody & { u?: number }, idempotent: boolean, extra: { bytes?: number; onTiming?: (timing: RequestTiming) => void }): Promise<unknown> {
    const refusal = admission.admit(route.tableId, kind, units, nowMs());
    if (refusal !== undefined) throw refusal;
    body.u = units;
    try {
      return await this.router.request(target, body, idempotent, extra);
    } catch (error) {
      if (error instanceof DynamoDBError && (error.name === 'ProvisionedThroughputExceededException' || error.name === 'ThrottlingException')) {
        admission.throttledLater(route.tableId, kind, units);
      }
      throw error;
    }
  }

  /** A request sent with an estimate of `estimated` units really cost `actual` (what its
   *  ConsumedCapacity says): the table's bucket is charged the difference. */
  settle(route: AdmittedTable, kind: CapacityKind, estimated: number, actual: number): void {
    if (actual !== estimated) this.admission?.charge(route.tableId, kind, actual - estimated);
  }

  /**
   * What a write's apply says its secondary indexes spent (`indexUnits`): a local index's
   * units are its table's (DynamoDB charges them to the table), a global index's are its
   * own. Returns the local indexes' units, for the caller to settle with the table's.
   */
  chargeIndexes(route: TableRoute, indexUnits: ReadonlyArray<[number, number]> | undefined): number {
    let local = 0;
    for (const [id, units] of indexUnits ?? []) {
      const index = route.indexes?.find((i) => i.spec.id === id);
      if (index === undefined) continue;
      if (index.global) this.admission?.charge(id, WRITE, units);
      else local += units;
    }
    return local;
  }

  /** DynamoDB throttles writes to a table while one of its global indexes has no write
   *  capacity left (its bucket in debt from earlier index writes). */
  private checkGlobalIndexes(route: TableRoute): void {
    const admission = this.admission;
    if (admission === undefined || route.indexes === undefined) return;
    const now = nowMs();
    for (const index of route.indexes) {
      if (!index.global || index.status === 'DELETING') continue;
      const refusal = admission.admit(index.spec.id, WRITE, 0, now);
      if (refusal !== undefined) throw refusal;
    }
  }

  /** A read sent through admission, estimated at one read of up to 4 KB. */
  read(route: AdmittedTable, consistent: boolean, target: Target, body: NodeRequestBody, extra: { onTiming?: (timing: RequestTiming) => void } = {}): Promise<unknown> {
    return this.send(route, READ, consistent ? 1 : 0.5, target, body, true, extra);
  }

  route(tableName: unknown): TableRoute {
    validateTableName(tableName);
    const route = this.routes.table(tableName);
    if (route === undefined) throw tableNotFound();
    return route;
  }

  /** The partition to read `key` from; with admission on, `body` carries the key's hash
   *  for its leader's load sampling (split decisions). */
  readTarget(route: TableRoute, key: Item, consistent: boolean, body: { h?: [number, number] }): Target {
    const hash = partitionHash(key[route.keyShape.hashName]);
    if (this.admission !== undefined) body.h = [Number(hash >> 32n), Number(hash & 0xffffffffn)];
    return this.hashTarget(route, hash, consistent ? 'leader' : 'any');
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

  /** Routes a write to its partition's leader, admitted on `estimatedUnits` (the caller
   *  `settle`s the real cost). The partition key is hashed once, here:
   *  the same hash goes into the item's B-tree key, carried in the log entry. */
  async write(route: TableRoute, op: WriteOp, options: RequestOptions = {}, estimatedUnits = 1): Promise<WriteResult> {
    this.checkGlobalIndexes(route);
    const hash = this.prepareWrite(route, op);
    const entry = encodeWriteOp(op);
    const body: NodeRequestBody = { t: 'write', entry };
    const target = this.hashTarget(route, hash, 'leader');
    const result = (await this.send(route, WRITE, estimatedUnits, target, body, false, { bytes: entry.byteLength, onTiming: options.onTiming })) as WriteResult;
    if (!result.ok) {
      // A failed condition is charged too: the larger of the item before and the write
      // (the estimate), at least one unit.
      if (result.sizes !== undefined) this.settle(route, WRITE, estimatedUnits, Math.max(estimatedUnits, writeCapacityUnits(result.sizes.oldItemBytes)));
      throw fromErrorShape(result.error);
    }
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
