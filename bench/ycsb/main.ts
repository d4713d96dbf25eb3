/**
 * `shardbox bench`: the paper's YCSB experiment from the command line. Settings come, in
 * rising precedence, from the workload file, the paper's experiment (100,000 records of
 * 10 × 90-byte fields, uniform keys), and `-p name=value` overrides, as in YCSB.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderLatencySvg } from './chart.js';
import { ENGINE_NAMES, type EngineName } from './engines.js';
import { loadWorkload, parseOverrides, type Properties } from './properties.js';
import { formatEngineRatios, formatLevelHeading, formatLevelReport, formatSlowest, formatSummary } from './report.js';
import { BACKGROUND_JOBS, FULL_TIMES, PAPER_LEVELS, QUICK_TIMES, runBench, type BackgroundJob, type BenchOptions, type EngineSpec, type PhaseTimes } from './runner.js';
import { resolveSettings } from './workload.js';

export const BENCH_USAGE = `usage: shardbox bench [options]

Runs YCSB workloads against an engine: load, closed-loop maximum, then open-loop levels at
10%, 25%, 50% and 100% of the top rate (the DynamoDB paper's Figures 5 and 6).

options:
  --quick                 same experiment, smaller (10,000 records, 3 s levels): under a minute
  --workloads a,b         workloads to run: names a-f (bench/workloads/) or files (default a,b)
  -P FILE                 a YCSB workload file (repeatable; instead of --workloads)
  -p NAME=VALUE           a CoreWorkload property, e.g. -p recordcount=50000 -p threadcount=4
                          -p requestdistribution=zipfian -p target=5000 (fixes the top rate)
                          -p maxexecutiontime=30 (seconds per level)
                          -p operationcount=N (operations per level instead of a time)
                          -p billingmode=PROVISIONED -p readcapacity=R -p writecapacity=W
                          (or -p billingmode=PAY_PER_REQUEST): the table's capacity; turns
                          shardbox's admission control on (off otherwise)
  --engines LIST          shardbox (embedded, default); lmdb (raw lmdb-js, the storage floor:
                          no validation, routing, thread hop, replication or WAL); noop
                          (answers at once: the harness's and the machine's own latency,
                          at the top rate of the engine run before it, e.g. shardbox,noop);
                          dynamodb (an endpoint, with --endpoint); several run one after another
  --endpoint URL          DynamoDB-compatible endpoint for the dynamodb engine; repeat as
                          --endpoint LABEL=URL to measure several (engines dynamodb-LABEL)
  --region NAME           region for the dynamodb engine (default us-east-1)
  --durability MODE       sync (default) or async, for shardbox and lmdb
  --nodes N               shardbox storage nodes (default 3)
  --partitions N          shardbox partitions of the table (default 4)
  --repeat N              run each level N times (noise for \`shardbox compare\`)
  --levels LIST           percentages of the top rate (default 10,25,50,100)
  --seed N                workload seed (default: random; recorded in the results)
  --out DIR               result directory (default results/<timestamp>)
  --slowest N             print each level's N slowest operations with their stages
  --gsi                   give the shardbox table a global secondary index on field0 and
                          print each level's index lag (compare with a run without it)
  --archive               open shardbox with WAL archiving on (ShardBox.open's archive)
  --during JOB            run JOB over and over in the background while each level runs,
                          to measure its cost to foreground latency (compare with a run
                          without it): snapshot (rebuild one node's replicas from
                          snapshots), scrub (db.scrub(), implies --archive), backup
                          (CreateBackup until AVAILABLE, then DeleteBackup)
`;

/** The paper's experiment, over the workload file's settings. */
const PAPER_PROPERTIES: Properties = { recordcount: '100000', fieldcount: '10', fieldlength: '90', requestdistribution: 'uniform', threadcount: '2' };
const QUICK_PROPERTIES: Properties = { recordcount: '10000' };

function backgroundJob(value: string): BackgroundJob {
  if (!(BACKGROUND_JOBS as readonly string[]).includes(value)) throw new UsageError(`--during must be one of ${BACKGROUND_JOBS.join(', ')} (got '${value}')`);
  return value as BackgroundJob;
}

function list(value: string | undefined, fallback: string[]): string[] {
  return value === undefined ? fallback : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer (got '${value}')`);
  return n;
}

/** A command-line mistake (exit 2 with the usage). */
class UsageError extends Error {}

function timestamp(): string {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
}

/** `--engines` with the endpoints of `dynamodb`: one endpoint keeps the name `dynamodb`;
 *  several, given as LABEL=URL, become `dynamodb-LABEL` each. */
function engineSpecs(names: string[], endpoints: string[]): EngineSpec[] {
  const specs: EngineSpec[] = [];
  for (const name of names) {
    if (!ENGINE_NAMES.includes(name as EngineName)) throw new UsageError(`unknown engine '${name}' (engines: ${ENGINE_NAMES.join(', ')})`);
    if (name !== 'dynamodb') {
      specs.push({ name, kind: name as EngineName });
      continue;
    }
    if (endpoints.length === 0) throw new UsageError('--engines dynamodb needs --endpoint URL');
    for (const endpoint of endpoints) {
      const labelled = /^([A-Za-z0-9_-]+)=(.+)$/.exec(endpoint);
      if (endpoints.length > 1 && labelled === null) throw new UsageError(`with several endpoints, name each: --endpoint LABEL=URL (got '${endpoint}')`);
      const url = labelled === null ? endpoint : labelled[2];
      if (!/^https?:\/\//.test(url)) throw new UsageError(`--endpoint must be an http(s) URL (got '${url}')`);
      specs.push({ name: labelled === null ? 'dynamodb' : `dynamodb-${labelled[1]}`, kind: 'dynamodb', endpoint: url });
    }
  }
  return specs;
}

/** Parses the command line into runner options (exported for tests). */
export function benchOptions(argv: string[], print: (text: string) => void): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      gsi: { type: 'boolean' },
      archive: { type: 'boolean' },
      during: { type: 'string' },
      workloads: { type: 'string' },
      P: { type: 'string', short: 'P', multiple: true },
      p: { type: 'string', short: 'p', multiple: true },
      engines: { type: 'string' },
      endpoint: { type: 'string', multiple: true },
      region: { type: 'string' },
      durability: { type: 'string' },
      nodes: { type: 'string' },
      partitions: { type: 'string' },
      repeat: { type: 'string' },
      levels: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      slowest: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const engines = engineSpecs(list(values.engines, ['shardbox']), values.endpoint ?? []);
  const durability = values.durability ?? 'sync';
  if (durability !== 'sync' && durability !== 'async') throw new UsageError(`--durability must be sync or async (got '${durability}')`);
  const overrides = parseOverrides(values.p ?? []);
  const names = values.P ?? list(values.workloads, ['a', 'b']);
  const workloads = names.map((name) => {
    const loaded = loadWorkload(name);
    const properties = { ...loaded.properties, ...PAPER_PROPERTIES, ...(quick ? QUICK_PROPERTIES : {}), ...overrides };
    const { unknown } = resolveSettings(properties);
    if (unknown.length > 0) print(`note: workload ${loaded.name}: properties not used by CoreWorkload: ${unknown.join(', ')}\n`);
    return { name: loaded.name, properties };
  });
  const levels = list(values.levels, PAPER_LEVELS.map((f) => String(f * 100))).map((p) => {
    const n = Number(p);
    if (!(n > 0 && n <= 100)) throw new UsageError(`--levels takes percentages from 1 to 100 (got '${p}')`);
    return n / 100;
  });
  const times: PhaseTimes = { ...(quick ? QUICK_TIMES : FULL_TIMES) };
  const maxExecution = overrides.maxexecutiontime;
  if (maxExecution !== undefined) times.levelMeasure = positiveInteger('p maxexecutiontime', maxExecution, times.levelMeasure);
  const operationCount = overrides.operationcount === undefined ? undefined : positiveInteger('p operationcount', overrides.operationcount, 1);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInteger('seed', values.seed, 1);
  return {
    engines,
    workloads,
    durability,
    nodes: positiveInteger('nodes', values.nodes, 3),
    partitions: positiveInteger('partitions', values.partitions, 4),
    quick,
    repeat: positiveInteger('repeat', values.repeat, 1),
    levels,
    times,
    operationCount,
    out: values.out ?? path.join('results', timestamp()),
    seed,
    region: values.region ?? 'us-east-1',
    print,
    progressBar: process.stderr.isTTY === true,
    ...(values.slowest === undefined ? {} : { slowest: positiveInteger('slowest', values.slowest, 1) }),
    ...(values.gsi === true ? { globalIndex: true } : {}),
    ...(values.archive === true || values.during === 'scrub' ? { archive: true } : {}),
    ...(values.during === undefined ? {} : { during: backgroundJob(values.during) }),
  };
}

export async function benchMain(argv: string[]): Promise<number> {
  const print = (text: string): void => void process.stdout.write(text);
  let options: BenchOptions;
  try {
    options = benchOptions(argv, print);
  } catch (error) {
    // Bad flags, properties or workload files: say which, with the usage.
    process.stderr.write(`shardbox bench: ${(error as Error).message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  const slowest = options.slowest;
  options.levelReport = (result, level) => {
    const lines = slowest === undefined ? [] : formatSlowest(level, slowest);
    return `\n${formatLevelHeading(result, level)}\n${formatLevelReport(result, level)}${lines.length > 0 ? `${lines.join('\n')}\n` : ''}`;
  };
  const started = Date.now();
  let results;
  try {
    results = await runBench(options);
  } catch (error) {
    process.stderr.write(`shardbox bench: ${(error as Error).message}\n`);
    return 1;
  }
  print(`\n${formatSummary(results)}\n`);
  if (new Set(results.map((r) => r.engine)).size > 1) print(`\n${formatEngineRatios(results)}\n`);
  const svg = path.join(options.out, 'latency.svg');
  writeFileSync(svg, renderLatencySvg([{ label: path.basename(options.out), results }]));
  print(`\nresults: ${options.out}/ (ycsb-<workload>-<engine>.json, .hlog interval logs, latency.svg) in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return 0;
}
