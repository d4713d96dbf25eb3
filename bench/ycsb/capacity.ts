/**
 * A table's capacity over a level (issue 12: consumed and provisioned capacity, burst
 * credit and throttled requests, printed by the benchmark): `db.capacity()` is read at the
 * start and at the end of each measured window, and the differences of its running totals
 * become the level's figures (results.ts LevelCapacity). Only the embedded shardbox engine
 * with a table capacity (admission on) has them.
 */
import type { CapacityFigures, CapacityReport } from '../../src/index.js';
import type { LevelCapacity, PartitionLevelCapacity } from './results.js';

type TableReport = CapacityReport['tables'][number];

/** One reading of a table's capacity, and when it was taken (ms since the epoch). */
export interface CapacitySample {
  atMs: number;
  table: TableReport;
}

/** The readings at a measured window's start and end. */
export interface CapacityWindow {
  start: CapacitySample;
  end: CapacitySample;
}

type Total = 'consumedReadUnits' | 'consumedWriteUnits' | 'throttledReads' | 'throttledWrites';
const TOTALS: readonly Total[] = ['consumedReadUnits', 'consumedWriteUnits', 'throttledReads', 'throttledWrites'];

/** What a running total grew by; never negative (a restarted node's counters start over). */
function growth(end: CapacityFigures, start: CapacityFigures | undefined, total: Total): number {
  return Math.max(0, end[total] - (start?.[total] ?? 0));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The level's figures from its windows (one per repeat, in order). */
export function levelCapacity(windows: readonly CapacityWindow[]): LevelCapacity {
  if (windows.length === 0) throw new Error('levelCapacity needs at least one window');
  const last = windows[windows.length - 1].end.table;
  const durationMs = windows.reduce((sum, w) => sum + Math.max(0, w.end.atMs - w.start.atMs), 0);
  const perSec = (n: number): number => (durationMs > 0 ? round2((n * 1000) / durationMs) : 0);
  const table = { consumedReadUnits: 0, consumedWriteUnits: 0, throttledReads: 0, throttledWrites: 0 };
  // Per partition group of the last reading: totals added up over the windows.
  const partitions = new Map(last.partitions.map((p) => [p.group, { consumedReadUnits: 0, consumedWriteUnits: 0, throttledReads: 0, throttledWrites: 0 }]));
  for (const { start, end } of windows) {
    for (const total of TOTALS) table[total] += growth(end.table, start.table, total);
    const startByGroup = new Map(start.table.partitions.map((p) => [p.group, p]));
    for (const p of end.table.partitions) {
      const sums = partitions.get(p.group);
      if (sums === undefined) continue;
      for (const total of TOTALS) sums[total] += growth(p, startByGroup.get(p.group), total);
    }
  }
  return {
    billingMode: last.billingMode,
    readCapacityUnits: round2(last.readCapacityUnits),
    writeCapacityUnits: round2(last.writeCapacityUnits),
    durationMs: Math.round(durationMs),
    consumedReadUnits: round2(table.consumedReadUnits),
    consumedWriteUnits: round2(table.consumedWriteUnits),
    consumedReadUnitsPerSec: perSec(table.consumedReadUnits),
    consumedWriteUnitsPerSec: perSec(table.consumedWriteUnits),
    throttledReads: table.throttledReads,
    throttledWrites: table.throttledWrites,
    throttledReadsPerSec: perSec(table.throttledReads),
    throttledWritesPerSec: perSec(table.throttledWrites),
    readBurstCredit: round2(last.readBurstCredit),
    writeBurstCredit: round2(last.writeBurstCredit),
    partitions: last.partitions.map((p): PartitionLevelCapacity => {
      const sums = partitions.get(p.group)!;
      return {
        group: p.group,
        hashStart: p.hashStart,
        hashEnd: p.hashEnd,
        readCapacityUnits: round2(p.readCapacityUnits),
        writeCapacityUnits: round2(p.writeCapacityUnits),
        consumedReadUnitsPerSec: perSec(sums.consumedReadUnits),
        consumedWriteUnitsPerSec: perSec(sums.consumedWriteUnits),
        throttledReadsPerSec: perSec(sums.throttledReads),
        throttledWritesPerSec: perSec(sums.throttledWrites),
      };
    }),
  };
}
