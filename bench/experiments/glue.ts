/**
 * Every call the experiments make into admission control and splits, in one file, so that
 * whoever changes those APIs adapts the experiments here and nowhere else. Each function
 * degrades to what the cluster can do: an option the cluster does not know is left out
 * (and said so in the run's notes), a missing stats call gives no figures, a missing
 * split call splits nothing.
 *
 * What is expected (issue 12):
 *  - tables created with `BillingMode` PROVISIONED (+ `ProvisionedThroughput`) or
 *    PAY_PER_REQUEST, throttled requests rejected with ProvisionedThroughputExceededException
 *    or ThrottlingException;
 *  - `ShardBox.open({ admission: { globalAdmission: false } })` for partition buckets only;
 *  - `db.capacity(table)`: the table's consumed and provisioned units per second, burst credit;
 *  - `db.splitPartition(table, group, atHashHex?)`: an online split (atHashHex the first
 *    hash of the upper half).
 */
import type { CreateTableInput } from '../../src/api-types.js';
import { ShardBox, type ShardBoxOptions } from '../../src/index.js';
import type { PartitionInfo } from '../../src/router/partition-map.js';

/** The key attribute of every experiment table. */
export const KEY = 'pk';

export type Billing =
  | { mode: 'PROVISIONED'; readUnits: number; writeUnits: number }
  | { mode: 'PAY_PER_REQUEST' };

export function tableInput(name: string, billing: Billing): CreateTableInput {
  return {
    TableName: name,
    KeySchema: [{ AttributeName: KEY, KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: KEY, AttributeType: 'S' }],
    ...(billing.mode === 'PROVISIONED'
      ? { BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: billing.readUnits, WriteCapacityUnits: billing.writeUnits } }
      : { BillingMode: 'PAY_PER_REQUEST' }),
  } as CreateTableInput;
}

/** Admission settings an experiment asks for (admission control's option). */
export interface AdmissionSettings {
  /** false: partition (and node) buckets only, no global admission control. */
  globalAdmission?: boolean;
}

/**
 * Opens a cluster in a temporary directory (removed by `close`), with the admission
 * settings if the cluster knows the option; if it does not, without them, noting it.
 */
export async function openCluster(options: ShardBoxOptions, admission: AdmissionSettings | undefined, note: (text: string) => void): Promise<ShardBox> {
  const base: ShardBoxOptions = { durability: 'async', ...options };
  if (admission === undefined) return ShardBox.open(base);
  try {
    return await ShardBox.open({ ...base, admission } as ShardBoxOptions);
  } catch (error) {
    if (!/admission/.test((error as Error).message)) throw error;
    note(`this build has no admission option (${(error as Error).message}); ran with the default admission`);
    return ShardBox.open(base);
  }
}

/** The table's capacity figures per second (consumed, provisioned, burst credit, ...), or
 *  undefined where the cluster reports none. Only numbers are kept, flattened. */
export async function capacityOf(db: ShardBox, table: string): Promise<Record<string, number> | undefined> {
  const capacity = (db as unknown as { capacity?: (t: string) => unknown }).capacity;
  if (typeof capacity !== 'function') return undefined;
  const stats = await capacity.call(db, table);
  return flattenNumbers(stats);
}

/** The numeric leaves of a plain object, named by their path ("write.consumed"). */
export function flattenNumbers(value: unknown, prefix = '', out: Record<string, number> = {}): Record<string, number> | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) out[prefix || 'value'] = value;
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenNumbers(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Whether this build can split a partition online. */
export function canSplit(db: ShardBox): boolean {
  return typeof (db as unknown as { splitPartition?: unknown }).splitPartition === 'function';
}

/** Splits a partition at `atHashHex` (the first hash of its upper half). */
export async function splitPartition(db: ShardBox, table: string, group: number, atHashHex: string | undefined): Promise<void> {
  const split = (db as unknown as { splitPartition: (t: string, g: number, at?: string) => Promise<unknown> }).splitPartition;
  await split.call(db, table, group, atHashHex);
}

/** The table's partitions, in hash order. */
export async function partitionsOf(db: ShardBox, table: string): Promise<PartitionInfo[]> {
  return (await db.replicaStatus(table)).map((r) => r.partition).sort((a, b) => (a.hashStart < b.hashStart ? -1 : 1));
}
