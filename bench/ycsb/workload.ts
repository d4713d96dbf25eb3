/**
 * A port of YCSB's CoreWorkload (brianfrankcooper/YCSB, site.ycsb.workloads.CoreWorkload)
 * as pure TypeScript: property resolution with YCSB's defaults, the load phase's records
 * and the run phase's operations, keys and values. It issues nothing itself; the runner
 * executes what it returns.
 *
 * Deviations from YCSB (each for a reason given where it is implemented):
 *  - Randomness comes from a seeded PRNG per instance (seed + threadId), not
 *    ThreadLocalRandom, so runs replay.
 *  - One instance per client thread instead of one shared instance: the load phase gives
 *    each thread a contiguous stripe of the key range (YCSB's threads share one counter;
 *    the union of keys is the same), and run-phase inserts of thread t use keynums
 *    recordCount + t + k·threadCount (YCSB hands out recordCount, recordCount+1, … from one
 *    shared counter). Each thread's 'latest'/'exponential' chooser and the "not inserted
 *    yet" filter see the loaded keys plus that thread's own acknowledged inserts; with one
 *    thread everything is exactly YCSB's.
 *  - recordcount/operationcount default to 1000 (YCSB's Client defaults them to 0, which
 *    CoreWorkload turns into Integer.MAX_VALUE records and the Client into "run until
 *    maxexecutiontime"); operationcount=0 is still accepted when maxexecutiontime > 0.
 *  - Invalid values throw an Error naming the property instead of being parsed leniently
 *    (Java's Boolean.parseBoolean("yes") is false; here it is an error).
 *  - Not supported (Error): requestdistribution=sequential, fieldlengthdistribution=
 *    histogram, dataintegrity=true, workload classes other than CoreWorkload.
 */

import type { OperationName } from './results.js';
import type { Properties } from './properties.js';
import {
  AcknowledgedCounterGenerator,
  ConstantIntegerGenerator,
  DiscreteGenerator,
  ExponentialGenerator,
  HotspotIntegerGenerator,
  Rng,
  ScrambledZipfianGenerator,
  SkewedLatestGenerator,
  UniformLongGenerator,
  ZipfianGenerator,
  fnvhash64Decimal,
  randomByteString,
  type NumberGenerator,
} from './generators.js';

export type { OperationName } from './results.js';
export { fnvhash64 } from './generators.js';

export interface Operation {
  op: OperationName;
  /** Key name, e.g. 'user6284781860667377211'. */
  key: string;
  /** READ/SCAN/READ-MODIFY-WRITE (its read part): fields to read, undefined = all fields (readallfields=true). */
  fields?: string[];
  /** UPDATE/INSERT/READ-MODIFY-WRITE (its write part): field name → value. */
  values?: Record<string, string>;
  /** SCAN: number of records. */
  scanLength?: number;
  /** The record number the key was built from (before hashing); informational. */
  keynum?: number;
}

export type RequestDistribution = 'uniform' | 'zipfian' | 'latest' | 'hotspot' | 'exponential';
export type InsertOrder = 'hashed' | 'ordered';
export type ScanLengthDistribution = 'uniform' | 'zipfian';
export type FieldLengthDistribution = 'constant' | 'uniform' | 'zipfian';

export interface WorkloadSettings {
  table: string;
  recordCount: number;
  operationCount: number;
  /** Seconds, 0 = none. */
  maxExecutionTime: number;
  fieldCount: number;
  fieldLength: number;
  /** field0..field{n-1} (fieldnameprefix 'field'). */
  fieldNames: string[];
  readAllFields: boolean;
  writeAllFields: boolean;
  readProportion: number;
  updateProportion: number;
  insertProportion: number;
  scanProportion: number;
  readModifyWriteProportion: number;
  requestDistribution: RequestDistribution;
  insertOrder: InsertOrder;
  insertStart: number;
  insertCount: number;
  zeroPadding: number;
  maxScanLength: number;
  minScanLength: number;
  scanLengthDistribution: ScanLengthDistribution;
  hotspotDataFraction: number;
  hotspotOpnFraction: number;
  /** ops/s, 0 = unthrottled. */
  target: number;
  /** 'threadcount', default 1. */
  threadCount: number;
  /** 'dynamodb.consistentReads', default false. */
  consistentReads: boolean;
  // Additions (optional so hand-built settings stay valid; resolveSettings fills them).
  /** 'fieldnameprefix', default 'field'. */
  fieldNamePrefix?: string;
  /** 'fieldlengthdistribution', default 'constant' (every field fieldLength long). */
  fieldLengthDistribution?: FieldLengthDistribution;
  /** 'minfieldlength', default 1 (uniform/zipfian field lengths). */
  minFieldLength?: number;
  /** 'readallfieldsbyname', default false: with readallfields, list every field name in `fields`. */
  readAllFieldsByName?: boolean;
  /** 'exponential.percentile', default 95. */
  exponentialPercentile?: number;
  /** 'exponential.frac', default 0.8571428571. */
  exponentialFrac?: number;
  /** The table's capacity ('billingmode', 'readcapacity', 'writecapacity'): when given,
   *  shardbox creates the table with it and runs with admission control on (it is off
   *  otherwise, so that the engine is measured, not a capacity). PROVISIONED needs both
   *  capacities; either capacity alone implies PROVISIONED. */
  capacity?: { billingMode: 'PROVISIONED' | 'PAY_PER_REQUEST'; readCapacityUnits?: number; writeCapacityUnits?: number };
}

/** Properties resolveSettings interprets. */
export const KNOWN_PROPERTIES: readonly string[] = [
  'workload',
  'table',
  'recordcount',
  'operationcount',
  'maxexecutiontime',
  'threadcount',
  'target',
  'fieldcount',
  'fieldlength',
  'minfieldlength',
  'fieldlengthdistribution',
  'fieldnameprefix',
  'readallfields',
  'readallfieldsbyname',
  'writeallfields',
  'dataintegrity',
  'readproportion',
  'updateproportion',
  'insertproportion',
  'scanproportion',
  'readmodifywriteproportion',
  'requestdistribution',
  'insertorder',
  'insertstart',
  'insertcount',
  'zeropadding',
  'minscanlength',
  'maxscanlength',
  'scanlengthdistribution',
  'hotspotdatafraction',
  'hotspotopnfraction',
  'exponential.percentile',
  'exponential.frac',
  'dynamodb.consistentReads',
  'billingmode',
  'readcapacity',
  'writecapacity',
];

/** YCSB properties that are recognised but have no effect here (the runner may use some). */
export const IGNORED_YCSB_PROPERTIES: readonly string[] = [
  'db',
  'dotransactions',
  'exporter',
  'exportfile',
  'status',
  'status.interval',
  'label',
  'measurementtype',
  'measurement.interval',
  'measurement.trackjvm',
  'measurement.raw.output_file',
  'measurement.raw.no_summary',
  'histogram.buckets',
  'hdrhistogram.percentiles',
  'hdrhistogram.fileoutput',
  'hdrhistogram.output.path',
  'timeseries.granularity',
  'fieldlengthhistogram',
  'core_workload_insertion_retry_limit',
  'core_workload_insertion_retry_interval',
];

const CORE_WORKLOAD_CLASSES = ['site.ycsb.workloads.CoreWorkload', 'com.yahoo.ycsb.workloads.CoreWorkload'];
const REQUEST_DISTRIBUTIONS: readonly RequestDistribution[] = ['uniform', 'zipfian', 'latest', 'hotspot', 'exponential'];
const INSERT_ORDERS: readonly InsertOrder[] = ['hashed', 'ordered'];
const SCAN_LENGTH_DISTRIBUTIONS: readonly ScanLengthDistribution[] = ['uniform', 'zipfian'];
const FIELD_LENGTH_DISTRIBUTIONS: readonly FieldLengthDistribution[] = ['constant', 'uniform', 'zipfian'];
const INT_MAX = 2147483647;

class Reader {
  constructor(private readonly props: Properties) {}

  raw(name: string): string | undefined {
    const v = this.props[name];
    return v === undefined ? undefined : v.trim();
  }

  int(name: string, def: number, min: number, max = INT_MAX): number {
    const raw = this.raw(name);
    if (raw === undefined) return def;
    const v = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new Error(
        `Invalid ${name}=${JSON.stringify(raw)}: expected an integer ${max === INT_MAX ? `≥ ${min}` : `in [${min}, ${max}]`}`,
      );
    }
    return v;
  }

  num(name: string, def: number, min: number, max = Infinity, what = 'a number'): number {
    const raw = this.raw(name);
    if (raw === undefined) return def;
    const v = raw === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? NaN : Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) {
      throw new Error(
        `Invalid ${name}=${JSON.stringify(raw)}: expected ${what} ${max === Infinity ? `≥ ${min}` : `in [${min}, ${max}]`}`,
      );
    }
    return v;
  }

  bool(name: string, def: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return def;
    const l = raw.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
    throw new Error(`Invalid ${name}=${JSON.stringify(raw)}: expected true or false`);
  }

  choice<T extends string>(name: string, def: T, allowed: readonly T[], unsupported: Record<string, string> = {}): T {
    const raw = this.raw(name);
    if (raw === undefined) return def;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    const why = unsupported[raw];
    throw new Error(
      `Invalid ${name}=${JSON.stringify(raw)}: ${why ? `${why}; ` : ''}expected one of ${allowed.join(', ')}`,
    );
  }
}

/**
 * Validates and resolves properties with YCSB's defaults (CoreWorkload's
 * *_PROPERTY_DEFAULT values). Bad values throw an Error naming the property and the
 * allowed values. Unknown property names are allowed (YCSB ignores them) but returned in
 * `unknown` so the runner can warn; recognised YCSB properties that have no effect here
 * are returned in `ignored`.
 */
export function resolveSettings(props: Properties): { settings: WorkloadSettings; unknown: string[]; ignored: string[] } {
  const r = new Reader(props);

  const workload = r.raw('workload');
  if (workload !== undefined && !CORE_WORKLOAD_CLASSES.includes(workload)) {
    throw new Error(`Invalid workload=${JSON.stringify(workload)}: only ${CORE_WORKLOAD_CLASSES[0]} is supported`);
  }
  if (r.bool('dataintegrity', false)) {
    throw new Error('Invalid dataintegrity=true: data integrity checking is not supported; expected false');
  }

  const table = r.raw('table') ?? 'usertable';
  if (table === '') throw new Error('Invalid table="": expected a non-empty table name (default usertable)');

  const recordCount = r.int('recordcount', 1000, 1);
  const operationCount = r.int('operationcount', 1000, 0);
  const maxExecutionTime = r.int('maxexecutiontime', 0, 0);
  if (operationCount === 0 && maxExecutionTime === 0) {
    throw new Error(
      'Invalid operationcount=0 with maxexecutiontime=0: the run would never end; set operationcount ≥ 1 or maxexecutiontime > 0 (seconds)',
    );
  }
  const threadCount = r.int('threadcount', 1, 1);
  const target = r.num('target', 0, 0, Infinity, 'a number of operations per second (0 = unthrottled)');

  const fieldCount = r.int('fieldcount', 10, 1);
  const fieldLength = r.int('fieldlength', 100, 1);
  const minFieldLength = r.int('minfieldlength', 1, 1);
  const fieldLengthDistribution = r.choice('fieldlengthdistribution', 'constant', FIELD_LENGTH_DISTRIBUTIONS, {
    histogram: 'histogram field lengths are not supported',
  });
  if (fieldLengthDistribution !== 'constant' && minFieldLength > fieldLength) {
    throw new Error(
      `Invalid minfieldlength=${minFieldLength}: must be ≤ fieldlength (${fieldLength}) for fieldlengthdistribution=${fieldLengthDistribution}`,
    );
  }
  const fieldNamePrefix = r.raw('fieldnameprefix') ?? 'field';
  const fieldNames: string[] = [];
  for (let i = 0; i < fieldCount; i++) fieldNames.push(fieldNamePrefix + i);

  const readAllFields = r.bool('readallfields', true);
  const readAllFieldsByName = r.bool('readallfieldsbyname', false);
  const writeAllFields = r.bool('writeallfields', false);

  const readProportion = r.num('readproportion', 0.95, 0, Infinity, 'a proportion');
  const updateProportion = r.num('updateproportion', 0.05, 0, Infinity, 'a proportion');
  const insertProportion = r.num('insertproportion', 0, 0, Infinity, 'a proportion');
  const scanProportion = r.num('scanproportion', 0, 0, Infinity, 'a proportion');
  const readModifyWriteProportion = r.num('readmodifywriteproportion', 0, 0, Infinity, 'a proportion');
  if (readProportion + updateProportion + insertProportion + scanProportion + readModifyWriteProportion <= 0) {
    throw new Error(
      'Invalid proportions: readproportion, updateproportion, insertproportion, scanproportion and readmodifywriteproportion are all 0; at least one must be > 0',
    );
  }

  const requestDistribution = r.choice('requestdistribution', 'uniform', REQUEST_DISTRIBUTIONS, {
    sequential: 'the sequential request distribution is not supported',
  });
  const insertOrder = r.choice('insertorder', 'hashed', INSERT_ORDERS);
  const insertStart = r.int('insertstart', 0, 0);
  const insertCount = r.int('insertcount', recordCount - insertStart, 1);
  if (insertStart + insertCount > recordCount) {
    throw new Error(
      `Invalid insertstart=${insertStart} with insertcount=${insertCount}: insertstart + insertcount must be ≤ recordcount (${recordCount})`,
    );
  }
  const zeroPadding = r.int('zeropadding', 1, 0, 1000);

  const minScanLength = r.int('minscanlength', 1, 1);
  const maxScanLength = r.int('maxscanlength', 1000, 1);
  if (minScanLength > maxScanLength) {
    throw new Error(`Invalid minscanlength=${minScanLength}: must be ≤ maxscanlength (${maxScanLength})`);
  }
  const scanLengthDistribution = r.choice('scanlengthdistribution', 'uniform', SCAN_LENGTH_DISTRIBUTIONS);

  const hotspotDataFraction = r.num('hotspotdatafraction', 0.2, 0, 1, 'a fraction');
  const hotspotOpnFraction = r.num('hotspotopnfraction', 0.8, 0, 1, 'a fraction');
  if (requestDistribution === 'hotspot' && Math.trunc(insertCount * hotspotDataFraction) === 0 && hotspotOpnFraction > 0) {
    throw new Error(
      `Invalid hotspotdatafraction=${hotspotDataFraction}: the hot set of ${insertCount} records would be empty; expected a fraction in (0, 1] with at least one hot record`,
    );
  }
  const exponentialPercentile = r.num('exponential.percentile', 95, 0, 100, 'a percentile');
  if (exponentialPercentile >= 100 || exponentialPercentile <= 0) {
    throw new Error(`Invalid exponential.percentile=${exponentialPercentile}: expected a percentile in (0, 100)`);
  }
  const exponentialFrac = r.num('exponential.frac', 0.8571428571, 0, Infinity, 'a fraction');
  if (exponentialFrac <= 0) throw new Error(`Invalid exponential.frac=${exponentialFrac}: expected a fraction > 0`);

  const consistentReads = r.bool('dynamodb.consistentReads', false);
  const capacity = tableCapacity(r);

  const unknown: string[] = [];
  const ignored: string[] = [];
  for (const name of Object.keys(props)) {
    if (KNOWN_PROPERTIES.includes(name)) continue;
    if (IGNORED_YCSB_PROPERTIES.includes(name)) ignored.push(name);
    else unknown.push(name);
  }

  const settings: WorkloadSettings = {
    table,
    recordCount,
    operationCount,
    maxExecutionTime,
    fieldCount,
    fieldLength,
    fieldNames,
    readAllFields,
    writeAllFields,
    readProportion,
    updateProportion,
    insertProportion,
    scanProportion,
    readModifyWriteProportion,
    requestDistribution,
    insertOrder,
    insertStart,
    insertCount,
    zeroPadding,
    maxScanLength,
    minScanLength,
    scanLengthDistribution,
    hotspotDataFraction,
    hotspotOpnFraction,
    target,
    threadCount,
    consistentReads,
    fieldNamePrefix,
    fieldLengthDistribution,
    minFieldLength,
    readAllFieldsByName,
    exponentialPercentile,
    exponentialFrac,
    ...(capacity === undefined ? {} : { capacity }),
  };
  return { settings, unknown, ignored };
}

/** 'billingmode', 'readcapacity', 'writecapacity': the table's capacity, when any is given. */
function tableCapacity(r: Reader): WorkloadSettings['capacity'] {
  const given = (name: string): boolean => r.raw(name) !== undefined;
  if (!given('billingmode') && !given('readcapacity') && !given('writecapacity')) return undefined;
  const billingMode = r.choice('billingmode', 'PROVISIONED', ['PROVISIONED', 'PAY_PER_REQUEST'] as const);
  if (billingMode === 'PAY_PER_REQUEST') {
    if (given('readcapacity') || given('writecapacity')) {
      throw new Error('Invalid readcapacity/writecapacity with billingmode=PAY_PER_REQUEST: an on-demand table has no provisioned capacity; leave them out');
    }
    return { billingMode };
  }
  if (!given('readcapacity') || !given('writecapacity')) {
    throw new Error('Invalid capacity: billingmode=PROVISIONED needs both readcapacity and writecapacity (units per second, 1 to 40000)');
  }
  return { billingMode, readCapacityUnits: r.int('readcapacity', 1, 1, 40_000), writeCapacityUnits: r.int('writecapacity', 1, 1, 40_000) };
}

/**
 * YCSB's `CoreWorkload.buildKeyName`: with insertorder=hashed the keynum is replaced by
 * `Utils.fnvhash64(keynum)` (a non-negative Java long); the key is "user" + that decimal,
 * left-padded with zeros to `zeroPadding` digits.
 */
export function buildKeyName(keynum: number, insertOrder: 'hashed' | 'ordered', zeroPadding: number): string {
  const value = insertOrder === 'ordered' ? String(keynum) : fnvhash64Decimal(keynum);
  const fill = zeroPadding - value.length;
  return fill > 0 ? 'user' + '0'.repeat(fill) + value : 'user' + value;
}

/** The stripe [start, start + count) of [insertStart, insertStart + insertCount) that
 *  thread `threadId` of `threadCount` loads: contiguous, sizes differing by at most one,
 *  the first (insertCount % threadCount) threads one larger (as YCSB's Client splits
 *  operation counts). */
export function loadStripe(
  insertStart: number,
  insertCount: number,
  threadId: number,
  threadCount: number,
): { start: number; count: number } {
  const base = Math.floor(insertCount / threadCount);
  const rem = insertCount % threadCount;
  const count = base + (threadId < rem ? 1 : 0);
  const start = insertStart + threadId * base + Math.min(threadId, rem);
  return { start, count };
}

type OpCode = 0 | 1 | 2 | 3 | 4;
const OP_READ = 0;
const OP_UPDATE = 1;
const OP_INSERT = 2;
const OP_SCAN = 3;
const OP_RMW = 4;

/** Give up on finding an inserted key after this many draws (cannot happen with valid settings). */
const MAX_KEY_DRAWS = 1_000_000;

export class CoreWorkload {
  readonly settings: WorkloadSettings;
  /** How many records this thread's load stripe has. */
  readonly loadCount: number;
  /** First keynum of this thread's load stripe. */
  readonly loadStart: number;
  readonly threadId: number;
  readonly threadCount: number;

  private readonly rng: Rng;
  private readonly recordCount: number;
  private readonly ordered: boolean;
  private readonly zeroPadding: number;
  private readonly fieldNames: string[];
  private readonly allFieldNames: string[] | undefined;
  private readonly operationChooser: DiscreteGenerator<OpCode>;
  private readonly keyChooser: NumberGenerator;
  private readonly fieldChooser: UniformLongGenerator;
  private readonly scanLength: NumberGenerator;
  private readonly fieldLengthGenerator: NumberGenerator;
  private readonly constantFieldLength: number;
  /** Virtual insert sequence: recordCount, recordCount+1, … (see virtualToKeynum). */
  private readonly transactionInsertKeySequence: AcknowledgedCounterGenerator;
  /** Key of an issued, not yet acknowledged run-phase insert → its virtual number. */
  private readonly pendingInserts = new Map<string, number>();
  private readonly distribution: RequestDistribution;
  private nextLoad: number;
  private readonly loadEnd: number;

  /**
   * One instance per client thread; threadId in [0, threadCount). seed: per-run seed; the
   * instance mixes in threadId so threads differ but runs replay.
   */
  constructor(settings: WorkloadSettings, options: { seed: number; threadId: number; threadCount: number }) {
    const { seed, threadId, threadCount } = options;
    if (!Number.isInteger(threadCount) || threadCount < 1) {
      throw new Error(`CoreWorkload: threadCount must be an integer ≥ 1, got ${threadCount}`);
    }
    if (!Number.isInteger(threadId) || threadId < 0 || threadId >= threadCount) {
      throw new Error(`CoreWorkload: threadId must be an integer in [0, ${threadCount}), got ${threadId}`);
    }
    const s = settings;
    if (s.fieldNames.length !== s.fieldCount) {
      throw new Error(`CoreWorkload: fieldNames has ${s.fieldNames.length} names but fieldCount is ${s.fieldCount}`);
    }
    this.settings = s;
    this.threadId = threadId;
    this.threadCount = threadCount;
    this.rng = new Rng(seed, threadId);
    this.recordCount = s.recordCount;
    this.ordered = s.insertOrder === 'ordered';
    this.zeroPadding = s.zeroPadding;
    this.fieldNames = s.fieldNames;
    this.allFieldNames = s.readAllFieldsByName ? s.fieldNames : undefined;
    this.distribution = s.requestDistribution;

    const stripe = loadStripe(s.insertStart, s.insertCount, threadId, threadCount);
    this.loadStart = stripe.start;
    this.loadCount = stripe.count;
    this.nextLoad = stripe.start;
    this.loadEnd = stripe.start + stripe.count;

    // Field lengths (CoreWorkload.getFieldLengthGenerator).
    const fl = s.fieldLengthDistribution ?? 'constant';
    const minFl = s.minFieldLength ?? 1;
    this.constantFieldLength = fl === 'constant' ? s.fieldLength : -1;
    this.fieldLengthGenerator =
      fl === 'constant'
        ? new ConstantIntegerGenerator(s.fieldLength)
        : fl === 'uniform'
          ? new UniformLongGenerator(this.rng, minFl, s.fieldLength)
          : new ZipfianGenerator(this.rng, minFl, s.fieldLength);

    // Operation chooser (CoreWorkload.createOperationGenerator), YCSB's order.
    this.operationChooser = new DiscreteGenerator<OpCode>(this.rng);
    if (s.readProportion > 0) this.operationChooser.addValue(s.readProportion, OP_READ);
    if (s.updateProportion > 0) this.operationChooser.addValue(s.updateProportion, OP_UPDATE);
    if (s.insertProportion > 0) this.operationChooser.addValue(s.insertProportion, OP_INSERT);
    if (s.scanProportion > 0) this.operationChooser.addValue(s.scanProportion, OP_SCAN);
    if (s.readModifyWriteProportion > 0) this.operationChooser.addValue(s.readModifyWriteProportion, OP_RMW);

    this.transactionInsertKeySequence = new AcknowledgedCounterGenerator(s.recordCount);
    const lo = s.insertStart;
    const hi = s.insertStart + s.insertCount - 1;
    switch (s.requestDistribution) {
      case 'uniform':
        this.keyChooser = new UniformLongGenerator(this.rng, lo, hi);
        break;
      case 'exponential':
        this.keyChooser = new ExponentialGenerator(
          this.rng,
          s.exponentialPercentile ?? 95,
          s.recordCount * (s.exponentialFrac ?? 0.8571428571),
        );
        break;
      case 'zipfian': {
        // As CoreWorkload: size the scrambled Zipfian for the keys the run will insert
        // (2 is YCSB's fudge factor) so popular keys do not move as inserts grow the
        // key space; draws of keys not inserted yet are skipped in nextKeynum().
        const expectedNewKeys = Math.trunc(s.operationCount * s.insertProportion * 2.0);
        this.keyChooser = new ScrambledZipfianGenerator(this.rng, lo, s.insertStart + s.insertCount + expectedNewKeys);
        break;
      }
      case 'latest':
        this.keyChooser = new SkewedLatestGenerator(this.rng, this.transactionInsertKeySequence);
        break;
      case 'hotspot':
        this.keyChooser = new HotspotIntegerGenerator(this.rng, lo, hi, s.hotspotDataFraction, s.hotspotOpnFraction);
        break;
      default:
        throw new Error(
          `Unknown request distribution "${String(s.requestDistribution)}": expected one of ${REQUEST_DISTRIBUTIONS.join(', ')}`,
        );
    }

    this.fieldChooser = new UniformLongGenerator(this.rng, 0, s.fieldCount - 1);
    this.scanLength =
      s.scanLengthDistribution === 'zipfian'
        ? new ZipfianGenerator(this.rng, s.minScanLength, s.maxScanLength)
        : new UniformLongGenerator(this.rng, s.minScanLength, s.maxScanLength);
  }

  /** The key of record number `keynum` under these settings. */
  keyName(keynum: number): string {
    return buildKeyName(keynum, this.ordered ? 'ordered' : 'hashed', this.zeroPadding);
  }

  /**
   * Load phase: the next record of this thread's stripe of [insertStart,
   * insertStart + insertCount), in order; undefined when the stripe is done.
   */
  nextLoadRecord(): { key: string; values: Record<string, string> } | undefined {
    if (this.nextLoad >= this.loadEnd) return undefined;
    const keynum = this.nextLoad++;
    return { key: this.keyName(keynum), values: this.buildValues() };
  }

  /** Run phase: the next operation, chosen with the proportions, keys from requestdistribution. */
  nextOperation(): Operation {
    switch (this.operationChooser.nextValue()) {
      case OP_READ: {
        const keynum = this.nextKeynum();
        const key = this.keyName(keynum);
        const fields = this.settings.readAllFields ? this.allFieldNames : [this.randomFieldName()];
        return fields === undefined ? { op: 'READ', key, keynum } : { op: 'READ', key, keynum, fields };
      }
      case OP_UPDATE: {
        const keynum = this.nextKeynum();
        const key = this.keyName(keynum);
        const values = this.settings.writeAllFields ? this.buildValues() : this.buildSingleValue();
        return { op: 'UPDATE', key, keynum, values };
      }
      case OP_INSERT: {
        const virtual = this.transactionInsertKeySequence.nextValue();
        const keynum = this.virtualToKeynum(virtual);
        const key = this.keyName(keynum);
        this.pendingInserts.set(key, virtual);
        return { op: 'INSERT', key, keynum, values: this.buildValues() };
      }
      case OP_SCAN: {
        const keynum = this.nextKeynum();
        const key = this.keyName(keynum);
        const scanLength = this.scanLength.nextValue();
        // As doTransactionScan: readallfields=true scans all fields (fields undefined).
        const fields = this.settings.readAllFields ? undefined : [this.randomFieldName()];
        return fields === undefined
          ? { op: 'SCAN', key, keynum, scanLength }
          : { op: 'SCAN', key, keynum, scanLength, fields };
      }
      default: {
        // READ-MODIFY-WRITE: read `fields` of the key, then write `values` to it. As in
        // YCSB's doTransactionReadModifyWrite, readallfields=true reads everything
        // (readallfieldsbyname is not consulted for this read).
        const keynum = this.nextKeynum();
        const key = this.keyName(keynum);
        const fields = this.settings.readAllFields ? undefined : [this.randomFieldName()];
        const values = this.settings.writeAllFields ? this.buildValues() : this.buildSingleValue();
        return fields === undefined
          ? { op: 'READ-MODIFY-WRITE', key, keynum, values }
          : { op: 'READ-MODIFY-WRITE', key, keynum, fields, values };
      }
    }
  }

  /**
   * The runner calls this when an INSERT of the run phase completed (any outcome), so
   * 'latest' (SkewedLatestGenerator over an AcknowledgedCounterGenerator) and the
   * "inserted yet?" filter see it. Run-phase inserts from different threads do not
   * collide: thread t uses keynums recordCount + t, recordCount + t + threadCount, …
   * (YCSB uses one counter shared by all threads; see the module comment).
   */
  acknowledgeInsert(op: Operation): void {
    if (op.op !== 'INSERT') throw new Error(`acknowledgeInsert: expected an INSERT operation, got ${op.op}`);
    const virtual = this.pendingInserts.get(op.key);
    if (virtual === undefined) {
      throw new Error(`acknowledgeInsert: ${op.key} is not a pending insert of this workload instance (thread ${this.threadId})`);
    }
    this.pendingInserts.delete(op.key);
    this.transactionInsertKeySequence.acknowledge(virtual);
  }

  /** Highest keynum below which every record this thread may address is inserted (virtual
   *  numbering: loaded records, then this thread's acknowledged inserts). */
  private get limit(): number {
    return this.transactionInsertKeySequence.lastValue();
  }

  /** Virtual insert number → keynum: loaded records map to themselves; this thread's k-th
   *  run-phase insert (virtual recordCount + k) is recordCount + threadId + k·threadCount. */
  private virtualToKeynum(v: number): number {
    const rc = this.recordCount;
    return v < rc ? v : rc + this.threadId + (v - rc) * this.threadCount;
  }

  /** CoreWorkload.nextKeynum: a key from the chooser, skipping keys not inserted yet. */
  private nextKeynum(): number {
    if (this.distribution === 'latest') {
      // SkewedLatestGenerator works on the virtual sequence; its values are ≤ limit.
      return this.virtualToKeynum(this.keyChooser.nextValue());
    }
    if (this.distribution === 'exponential') {
      for (let i = 0; i < MAX_KEY_DRAWS; i++) {
        const v = this.limit - Math.trunc(this.keyChooser.nextValue());
        if (v >= 0) return this.virtualToKeynum(v);
      }
    } else {
      for (let i = 0; i < MAX_KEY_DRAWS; i++) {
        const keynum = this.keyChooser.nextValue();
        if (this.isInserted(keynum)) return keynum;
      }
    }
    throw new Error(`CoreWorkload: no inserted key found in ${MAX_KEY_DRAWS} draws (${this.distribution})`);
  }

  /** YCSB's `keynum <= transactioninsertkeysequence.lastValue()`, per thread. */
  private isInserted(keynum: number): boolean {
    const rc = this.recordCount;
    if (keynum < rc) return true;
    const j = keynum - rc - this.threadId;
    if (j < 0 || j % this.threadCount !== 0) return false;
    return rc + j / this.threadCount <= this.limit;
  }

  private randomFieldName(): string {
    return this.fieldNames[this.fieldChooser.nextValue()];
  }

  private fieldValue(): string {
    const len = this.constantFieldLength >= 0 ? this.constantFieldLength : this.fieldLengthGenerator.nextValue();
    return randomByteString(this.rng, len);
  }

  /** Values for all fields (CoreWorkload.buildValues). */
  private buildValues(): Record<string, string> {
    const values: Record<string, string> = {};
    const names = this.fieldNames;
    for (let i = 0; i < names.length; i++) values[names[i]] = this.fieldValue();
    return values;
  }

  /** A value for one randomly chosen field (CoreWorkload.buildSingleValue). */
  private buildSingleValue(): Record<string, string> {
    const name = this.randomFieldName();
    return { [name]: this.fieldValue() };
  }
}
