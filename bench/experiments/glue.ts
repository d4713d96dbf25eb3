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
 *  - `ShardBox.open({ admission: { globalAdmission, burstSeconds } })`: global admission
 *    control off (partition buckets only), and fewer seconds of burst credit than
 *    DynamoDB's 300 so that a spike outlasts it within a short run;
 *  - `db.capacity(table)`: per table and per partition, capacity, consumed units and
 *    throttled requests of the last whole second, and burst credit;
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
  /** Seconds of unused capacity kept as burst credit (DynamoDB: 300). */
  burstSeconds?: number;
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
    note('this build has no admission control (ShardBox.open knows no `admission` option): nothing is throttled');
    return ShardBox.open(base);
  }
}

/** What `db.capacity(table)` reports (admission control's CapacityReport), as far as the
 *  experiments read it. */
interface CapacityReportShape {
  tables?: Array<{
    table: string;
    writeCapacityUnits?: number;
    writeBurstCredit?: number;
    consumedWriteUnitsPerSec?: number;
    partitions?: Array<{ group: number; writeCapacityUnits?: number; writeBurstCredit?: number; consumedWriteUnitsPerSec?: number }>;
  }>;
}

/**
 * The table's write capacity figures of the last whole second (WCU, consumed, burst
 * credit), and with `partitions` those of these partition groups (`only`: these figures
 * only); undefined where the cluster reports none (no `db.capacity`, or admission off).
 */
export async function capacityOf(db: ShardBox, table: string, partitions: readonly number[] = [], only?: readonly string[]): Promise<Record<string, number> | undefined> {
  const capacity = (db as unknown as { capacity?: (t: string) => Promise<CapacityReportShape> }).capacity;
  if (typeof capacity !== 'function') return undefined;
  const report = await capacity.call(db, table);
  const t = report.tables?.find((x) => x.table === table);
  if (t === undefined) return undefined;
  const figures: Record<string, number> = {};
  const put = (name: string, value: number | undefined) => {
    if (typeof value === 'number' && Number.isFinite(value) && (only === undefined || only.includes(name))) figures[name] = value;
  };
  put('table WCU', t.writeCapacityUnits);
  put('table consumed WCU/s', t.consumedWriteUnitsPerSec);
  put('table burst credit', t.writeBurstCredit);
  for (const group of partitions) {
    const p = t.partitions?.find((x) => x.group === group);
    put(`partition ${group} WCU`, p?.writeCapacityUnits);
    put(`partition ${group} consumed WCU/s`, p?.consumedWriteUnitsPerSec);
    put(`partition ${group} burst credit`, p?.writeBurstCredit);
  }
  return Object.keys(figures).length > 0 ? figures : undefined;
}

/** Whether this build can split a partition online. */
export function canSplit(db: ShardBox): boolean {
  return typeof (db as unknown as { splitPartition?: unknown }).splitPartition === 'function';
}

/** Splits a partition at `atHashHex` (the first hash of its upper half); resolves with
 *  the children's groups (when the call says). */
export async function splitPartition(db: ShardBox, table: string, group: number, atHashHex: string | undefined): Promise<number[] | undefined> {
  const split = (db as unknown as { splitPartition: (t: string, g: number, at?: string) => Promise<{ children?: number[] } | undefined> }).splitPartition;
  const result = await split.call(db, table, group, atHashHex);
  return result?.children;
}

/** The table's partitions, in hash order. */
export async function partitionsOf(db: ShardBox, table: string): Promise<PartitionInfo[]> {
  return (await db.replicaStatus(table)).map((r) => r.partition).sort((a, b) => (a.hashStart < b.hashStart ? -1 : 1));
}
