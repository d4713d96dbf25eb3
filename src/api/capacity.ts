/** `db.capacity()`: what admission control reports, per table (GAC) and per partition
 *  (the storage nodes' partition buckets). */
import type { CapacityFigures, TableCapacity } from '../control/gac.js';
import type { PartitionAdmissionStats } from '../node/admission.js';
import type { PartitionInfo } from '../router/partition-map.js';

export { PARTITION_MAX_READ_UNITS, PARTITION_MAX_WRITE_UNITS } from '../model/capacity.js';
export type { CapacityFigures, TableCapacity };

/** One partition's buckets: the rate they run at (its share of the table, or more with
 *  global admission, never above 3,000 RCU / 1,000 WCU), the credit they hold, and per
 *  second (the last whole second) the units consumed and requests throttled there. */
export interface PartitionCapacity extends CapacityFigures {
  group: number;
  hashStart: string;
  hashEnd: string;
}

export interface CapacityReport {
  /** False when the cluster was opened with `admission: false`: nothing is throttled. */
  admission: boolean;
  globalAdmission: boolean;
  tables: Array<TableCapacity & { partitions: PartitionCapacity[] }>;
}

/**
 * A table's partitions as the nodes report them: a partition's buckets exist on each node
 * that admitted a request of it (its leader; any replica for eventually consistent
 * reads), so consumption and throttles add up over nodes, and the credit shown is the
 * lowest. A partition no node has admitted anything for yet shows none.
 */
export function partitionCapacities(partitions: readonly PartitionInfo[], reports: readonly PartitionAdmissionStats[]): PartitionCapacity[] {
  return partitions.map((p) => {
    const out: PartitionCapacity = {
      group: p.group, hashStart: p.hashStart, hashEnd: p.hashEnd,
      readCapacityUnits: 0, writeCapacityUnits: 0, readBurstCredit: 0, writeBurstCredit: 0,
      consumedReadUnitsPerSec: 0, consumedWriteUnitsPerSec: 0, throttledReadsPerSec: 0, throttledWritesPerSec: 0,
      consumedReadUnits: 0, consumedWriteUnits: 0, throttledReads: 0, throttledWrites: 0,
    };
    let seen = false;
    for (const r of reports) {
      if (r.group !== p.group) continue;
      out.readCapacityUnits = r.rate[0];
      out.writeCapacityUnits = r.rate[1];
      out.readBurstCredit = seen ? Math.min(out.readBurstCredit, r.credit[0]) : r.credit[0];
      out.writeBurstCredit = seen ? Math.min(out.writeBurstCredit, r.credit[1]) : r.credit[1];
      out.consumedReadUnitsPerSec += r.consumedPerSec[0];
      out.consumedWriteUnitsPerSec += r.consumedPerSec[1];
      out.throttledReadsPerSec += r.throttledPerSec[0];
      out.throttledWritesPerSec += r.throttledPerSec[1];
      out.consumedReadUnits += r.consumed[0];
      out.consumedWriteUnits += r.consumed[1];
      out.throttledReads += r.throttled[0];
      out.throttledWrites += r.throttled[1];
      seen = true;
    }
    return out;
  });
}
