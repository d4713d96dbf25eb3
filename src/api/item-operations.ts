/**
 * The data-plane operations (items), usable from any thread that has a router: the main
 * thread's `ShardBox`, or a `ShardBoxClient` in a benchmark client thread. Each operation
 * lives in the file of its concern; this class is their public face.
 */
import type {
  BatchGetItemInput, BatchGetItemOutput, BatchWriteItemInput, BatchWriteItemOutput, DeleteItemInput, DeleteItemOutput,
  GetItemInput, GetItemOutput, PutItemInput, PutItemOutput, QueryInput, QueryOutput, ScanInput, ScanOutput,
  UpdateItemInput, UpdateItemOutput,
} from '../api-types.js';
import type { PartitionMapCache } from '../router/partition-map.js';
import type { Router } from '../router/router.js';
import type { RouterAdmission } from '../router/admission.js';
import type { EncodedLatency, LatencySnapshot } from '../router/latency.js';
import { batchGetItem, batchWriteItem } from './batches.js';
import { DataPlane, type RequestOptions } from './data-plane.js';

export type { RequestOptions };
import { deleteItem, getItem, putItem, updateItem } from './items.js';
import { query, scan } from './query-scan.js';

export class ItemOperations {
  protected readonly data: DataPlane;

  protected constructor(
    protected readonly router: Router,
    routes: PartitionMapCache,
    admission?: RouterAdmission,
  ) {
    this.data = new DataPlane(router, routes, admission);
  }

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

  putItem(input: PutItemInput, options?: RequestOptions): Promise<PutItemOutput> {
    return putItem(this.data, input, options);
  }

  updateItem(input: UpdateItemInput, options?: RequestOptions): Promise<UpdateItemOutput> {
    return updateItem(this.data, input, options);
  }

  deleteItem(input: DeleteItemInput, options?: RequestOptions): Promise<DeleteItemOutput> {
    return deleteItem(this.data, input, options);
  }

  getItem(input: GetItemInput, options?: RequestOptions): Promise<GetItemOutput> {
    return getItem(this.data, input, options);
  }

  query(input: QueryInput): Promise<QueryOutput> {
    return query(this.data, input);
  }

  scan(input: ScanInput): Promise<ScanOutput> {
    return scan(this.data, input);
  }

  batchGetItem(input: BatchGetItemInput): Promise<BatchGetItemOutput> {
    return batchGetItem(this.data, input);
  }

  batchWriteItem(input: BatchWriteItemInput): Promise<BatchWriteItemOutput> {
    return batchWriteItem(this.data, input);
  }
}
