/**
 * What an experiment is, and the workload pieces they share: 900-byte items (one write
 * unit, as in the paper's runs) and keys picked by where their partition hash falls.
 */
import { hashToHex, partitionHash } from '../../src/model/hash.js';
import type { ShardBox } from '../../src/index.js';
import { KEY } from './glue.js';
import type { Recorder } from './framework.js';

export interface ExperimentContext {
  recorder: Recorder;
  /** Phase lengths in seconds, scaled (`--quick` halves them). */
  seconds(n: number): number;
}

export interface Experiment {
  name: string;
  title: string;
  /** The claim it reproduces, one or two sentences (the --help listing and the chart). */
  claim: string;
  run(ctx: ExperimentContext): Promise<void>;
}

/** 900 bytes of attribute value: with its key, an item of under 1 KB, one write unit. */
const VALUE = 'v'.repeat(900);

/** Writes one 900-byte item. */
export function putOne(db: ShardBox, table: string, key: string): Promise<unknown> {
  return db.putItem({ TableName: table, Item: { [KEY]: { S: key }, value: { S: VALUE } } });
}

/** `count` keys `<prefix><n>` whose partition hash lies in [startHex, endHex] (16 hex
 *  digits, inclusive), in increasing n. */
export function keysInRange(prefix: string, startHex: string, endHex: string, count: number): string[] {
  const keys: string[] = [];
  for (let n = 0; keys.length < count; n++) {
    if (n > count * 1_000_000) throw new RangeError(`keysInRange: no ${count} keys in [${startHex}, ${endHex}]`);
    const key = `${prefix}${n}`;
    const hex = hashToHex(partitionHash({ S: key }));
    if (hex >= startHex && hex <= endHex) keys.push(key);
  }
  return keys;
}

/** The hash `fraction` (0..1) of the way from startHex to endHex. */
export function hashAt(startHex: string, endHex: string, fraction: number): string {
  const start = BigInt(`0x${startHex}`);
  const end = BigInt(`0x${endHex}`);
  return hashToHex(start + ((end - start) * BigInt(Math.round(fraction * 1e6))) / 1_000_000n);
}

/** Closes the cluster even when the experiment failed. */
export async function withCluster<T>(open: () => Promise<ShardBox>, body: (db: ShardBox) => Promise<T>): Promise<T> {
  const db = await open();
  try {
    return await body(db);
  } finally {
    await db.close();
  }
}
