/**
 * Reading result files (`ycsb-<workload>-<engine>.json`) back, for the report, chart and
 * compare commands. Every problem is an Error that names the file and the field, never a
 * TypeError from deep inside a formatter.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATION_NAMES, RESULT_SCHEMA, type RunResult } from './results.js';

/** The file name the runner gives a (workload, engine) result. */
export function resultFileName(workload: string, engine: string): string {
  return `ycsb-${workload}-${engine}.json`;
}

/** True for names `readResults` picks up in a directory. */
export function isResultFileName(name: string): boolean {
  return name.startsWith('ycsb-') && name.endsWith('.json');
}

/** The result files of a path: itself when it is a file, else the `ycsb-*.json` in it, sorted. */
export function resultFilesOf(pathOrDir: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(pathOrDir).isDirectory();
  } catch (err) {
    throw new Error(`${pathOrDir}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!isDir) return [pathOrDir];
  const files = readdirSync(pathOrDir).filter(isResultFileName).sort();
  if (files.length === 0) throw new Error(`${pathOrDir}: no result files (ycsb-*.json) in this directory`);
  return files.map((f) => join(pathOrDir, f));
}

/** A path to a result JSON file, or a directory: all `ycsb-*.json` in it. */
export function readResults(pathOrDir: string): RunResult[] {
  return resultFilesOf(pathOrDir).map(readResultFile);
}

/** Reads and validates one result file. */
export function readResultFile(file: string): RunResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  return validateResult(value, file);
}

/** Checks that `value` has the shape of a RunResult; throws an Error naming `source` and the field. */
export function validateResult(value: unknown, source: string): RunResult {
  const v = new Validator(source);
  const root = v.object(value, '');
  if (root.schema !== RESULT_SCHEMA) {
    v.fail('schema', `is ${JSON.stringify(root.schema)}, expected ${JSON.stringify(RESULT_SCHEMA)} (not a shardbox YCSB result file, or another version)`);
  }
  v.string(root.workload, 'workload');
  v.string(root.engine, 'engine');
  v.string(root.startedAt, 'startedAt');

  const config = v.object(root.config, 'config');
  v.numberArray(config.levels, 'config.levels');
  v.number(config.threadcount, 'config.threadcount');
  v.number(config.repeat, 'config.repeat');
  v.object(config.properties, 'config.properties');

  const env = v.object(root.environment, 'environment');
  v.string(env.cpuModel, 'environment.cpuModel');
  v.number(env.cores, 'environment.cores');
  v.string(env.durability, 'environment.durability');

  const load = v.object(root.loadPhase, 'loadPhase');
  for (const k of ['records', 'durationMs', 'opsPerSec', 'errors']) v.number(load[k], `loadPhase.${k}`);

  const max = v.object(root.maxThroughput, 'maxThroughput');
  for (const k of ['opsPerSec', 'inFlightPerThread', 'durationMs']) v.number(max[k], `maxThroughput.${k}`);

  const top = v.object(root.topRate, 'topRate');
  v.number(top.opsPerSec, 'topRate.opsPerSec');
  v.string(top.rule, 'topRate.rule');
  v.array(top.probes, 'topRate.probes').forEach((p, i) => {
    const probe = v.object(p, `topRate.probes[${i}]`);
    for (const k of ['targetOpsPerSec', 'achievedOpsPerSec', 'backlog']) v.number(probe[k], `topRate.probes[${i}].${k}`);
    v.boolean(probe.keptUp, `topRate.probes[${i}].keptUp`);
  });

  for (const k of ['failedOpsPerSec', 'errorRate']) if (max[k] !== undefined) v.number(max[k], `maxThroughput.${k}`);
  if (root.sustainedRule !== undefined) v.string(root.sustainedRule, 'sustainedRule');

  const cpu = v.object(root.clientCpu, 'clientCpu');
  for (const k of ['clientCores', 'processCores', 'fractionOfMachine']) v.number(cpu[k], `clientCpu.${k}`);

  v.array(root.levels, 'levels').forEach((l, i) => validateLevel(v, l, `levels[${i}]`));
  return value as RunResult;
}

const CAPACITY_NUMBERS = [
  'readCapacityUnits', 'writeCapacityUnits', 'durationMs', 'consumedReadUnits', 'consumedWriteUnits', 'consumedReadUnitsPerSec', 'consumedWriteUnitsPerSec',
  'throttledReads', 'throttledWrites', 'throttledReadsPerSec', 'throttledWritesPerSec', 'readBurstCredit', 'writeBurstCredit',
] as const;
const PARTITION_CAPACITY_NUMBERS = [
  'group', 'readCapacityUnits', 'writeCapacityUnits', 'consumedReadUnitsPerSec', 'consumedWriteUnitsPerSec', 'throttledReadsPerSec', 'throttledWritesPerSec',
] as const;

function validateLevel(v: Validator, value: unknown, at: string): void {
  const level = v.object(value, at);
  for (const k of ['fraction', 'targetOpsPerSec', 'achievedOpsPerSec', 'durationMs']) v.number(level[k], `${at}.${k}`);
  v.boolean(level.sustained, `${at}.sustained`);
  // Newer fields: checked when present, absent in older files.
  for (const k of ['failedOpsPerSec', 'errorRate', 'throttleRate']) if (level[k] !== undefined) v.number(level[k], `${at}.${k}`);
  v.numberArray(level.achievedRepeats, `${at}.achievedRepeats`);
  v.string(level.hlog, `${at}.hlog`);
  const ops = v.object(level.operations, `${at}.operations`);
  for (const [name, op] of Object.entries(ops)) {
    const opAt = `${at}.operations.${name}`;
    if (!(OPERATION_NAMES as readonly string[]).includes(name)) v.fail(opAt, `is not an operation (${OPERATION_NAMES.join(', ')})`);
    const o = v.object(op, opAt);
    v.number(o.count, `${opAt}.count`);
    v.number(o.errors, `${opAt}.errors`);
    const outcomes = v.object(o.outcomes, `${opAt}.outcomes`);
    for (const [k, n] of Object.entries(outcomes)) v.number(n, `${opAt}.outcomes.${k}`);
    v.percentiles(o.intended, `${opAt}.intended`);
    v.percentiles(o.actual, `${opAt}.actual`);
    if (o.failed !== undefined) v.percentiles(o.failed, `${opAt}.failed`);
    if (o.intendedFailed !== undefined) v.percentiles(o.intendedFailed, `${opAt}.intendedFailed`);
    if (o.repeats !== undefined) {
      v.array(o.repeats, `${opAt}.repeats`).forEach((r, j) => {
        const rep = v.object(r, `${opAt}.repeats[${j}]`);
        v.percentiles(rep.intended, `${opAt}.repeats[${j}].intended`);
        v.percentiles(rep.actual, `${opAt}.repeats[${j}].actual`);
      });
    }
  }
  if (level.capacity !== undefined) {
    const c = v.object(level.capacity, `${at}.capacity`);
    v.string(c.billingMode, `${at}.capacity.billingMode`);
    for (const k of CAPACITY_NUMBERS) v.number(c[k], `${at}.capacity.${k}`);
    v.array(c.partitions, `${at}.capacity.partitions`).forEach((p, j) => {
      const part = v.object(p, `${at}.capacity.partitions[${j}]`);
      for (const k of PARTITION_CAPACITY_NUMBERS) v.number(part[k], `${at}.capacity.partitions[${j}].${k}`);
    });
  }
  v.array(level.timeline, `${at}.timeline`).forEach((p, j) => {
    const point = v.object(p, `${at}.timeline[${j}]`);
    v.number(point.second, `${at}.timeline[${j}].second`);
    const pops = v.object(point.ops, `${at}.timeline[${j}].ops`);
    for (const [name, s] of Object.entries(pops)) {
      const sAt = `${at}.timeline[${j}].ops.${name}`;
      const stat = v.object(s, sAt);
      for (const k of ['count', 'errors', 'p50', 'p99']) v.number(stat[k], `${sAt}.${k}`);
    }
  });
}

class Validator {
  constructor(private readonly source: string) {}

  fail(at: string, problem: string): never {
    throw new Error(`${this.source}: ${at === '' ? 'the file' : at} ${problem}`);
  }

  private describe(value: unknown): string {
    if (value === undefined) return 'missing';
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'an array';
    return `a ${typeof value}`;
  }

  object(value: unknown, at: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(at, `should be an object, is ${this.describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, at: string): unknown[] {
    if (!Array.isArray(value)) this.fail(at, `should be an array, is ${this.describe(value)}`);
    return value;
  }

  number(value: unknown, at: string): number {
    if (typeof value !== 'number' || Number.isNaN(value)) this.fail(at, `should be a number, is ${this.describe(value)}`);
    return value;
  }

  numberArray(value: unknown, at: string): number[] {
    this.array(value, at).forEach((x, i) => this.number(x, `${at}[${i}]`));
    return value as number[];
  }

  string(value: unknown, at: string): string {
    if (typeof value !== 'string') this.fail(at, `should be a string, is ${this.describe(value)}`);
    return value;
  }

  boolean(value: unknown, at: string): boolean {
    if (typeof value !== 'boolean') this.fail(at, `should be true or false, is ${this.describe(value)}`);
    return value;
  }

  percentiles(value: unknown, at: string): void {
    const p = this.object(value, at);
    for (const k of ['count', 'min', 'mean', 'p50', 'p95', 'p99', 'p999', 'max']) this.number(p[k], `${at}.${k}`);
  }
}
