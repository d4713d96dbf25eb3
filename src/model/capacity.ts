/**
 * Capacity-unit math, DynamoDB's rules: one read unit is a strongly consistent read of up
 * to 4 KB (half for eventually consistent), one write unit a write of up to 1 KB; sizes
 * round up to the next unit; transactional requests cost double.
 */

export const READ_UNIT_BYTES = 4 * 1024;
export const WRITE_UNIT_BYTES = 1024;

/**
 * Read units for reading `bytes` (an item, or the sum a Query/Scan page read). At least
 * one 4 KB unit is charged even for nothing read (a GetItem that finds nothing costs 0.5
 * or 1), halved when not consistent.
 */
export function readCapacityUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  return consistent ? units : units / 2;
}

/** Write units for writing an item of `bytes` (at least 1). */
export function writeCapacityUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/** Transactional reads and writes cost twice the units of the plain operation. */
export function transactionalCapacityUnits(units: number): number {
  return units * 2;
}

/** Read units of a transactional read (TransactGetItems): 2 × the strongly consistent cost. */
export function transactionalReadCapacityUnits(bytes: number): number {
  return transactionalCapacityUnits(readCapacityUnits(bytes, true));
}

/** Write units of a transactional write (TransactWriteItems): 2 × the plain cost. */
export function transactionalWriteCapacityUnits(bytes: number): number {
  return transactionalCapacityUnits(writeCapacityUnits(bytes));
}

/** DynamoDB's per-partition caps: one partition serves at most 3,000 read units and
 *  1,000 write units per second, whatever its table's capacity. */
export const PARTITION_MAX_READ_UNITS = 3000;
export const PARTITION_MAX_WRITE_UNITS = 1000;
