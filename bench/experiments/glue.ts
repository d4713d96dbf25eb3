/**
 * Every call the experiments make into admission control and partition management, in
 * one file, so that whoever changes those APIs adapts the experiments here and nowhere
 * else: tables PROVISIONED or PAY_PER_REQUEST, `ShardBox.open({ admission })`, and the
 * per-second figures of `db.capacity(table)`.
 */
import type { CreateTableInput } from '../../src/api-types.js';
import { ShardBox, type ShardBoxOptions } from '../../src/index.js';
import type { AdmissionOptions } from '../../src/api/options.js';
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

/** Opens a cluster in a temporary directory (removed by `close`), with admission control
 *  as `admission` sets it (undefined: the defaults). */
export function openCluster(options: ShardBoxOptions, admission?: AdmissionOptions): Promise<ShardBox> {
  return ShardBox.open({ durability: 'async', ...options, ...(admission === undefined ? {} : { admission }) });
}

/**
 * The table's write capacity figures of the last whole second (WCU, consumed, burst
 * credit), and with `partitions` those of these partition groups (`only`: these figures
 * only); undefined where the cluster reports none (admission off).
 */
export async function capacityOf(db: ShardBox, table: string, partitions: readonly number[] = [], only?: readonly string[]): Promise<Record<string, number> | undefined> {
  const report = await db.capacity(table);
  const t = report.tables.find((x) => x.table === table);
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

/** The table's partitions, in hash order. */
export async function partitionsOf(db: ShardBox, table: string): Promise<PartitionInfo[]> {
  return (await db.replicaStatus(table)).map((r) => r.partition).sort((a, b) => (a.hashStart < b.hashStart ? -1 : 1));
}
