/**
 * The simulator's command line (`npm run sim -- ...`; `--help` lists the options). Exits 1
 * on any checker failure, after printing the seed and the replay command; 2 on bad options.
 */
import { parseArgs as parseCommandLine } from 'node:util';
import { NODE_MUTATIONS, type NodeMutation } from '../../src/node/ports.js';
import { ROUTER_MUTATIONS, type RouterMutation } from '../../src/router/router-core.js';
import { runSimulation, type SimReport } from './simulation.js';

interface Args {
  seeds: number;
  first: number;
  seed: number | undefined;
  ops: number;
  comparePreVote: boolean;
  bug: NodeMutation | RouterMutation | undefined;
  verbose: boolean;
}

const MUTATIONS: readonly string[] = [...NODE_MUTATIONS, ...ROUTER_MUTATIONS];

const USAGE = `usage: npm run sim -- [--seeds N] [--first F] [--seed S] [--ops N] [--compare-prevote] [--bug NAME] [--verbose]
  --seeds N          run N seeds (default 20) starting at --first F (default 1)
  --seed S           replay one seed and print its digest
  --ops N            client operations per seed (default 2000)
  --compare-prevote  every seed with the gray-failure check on and off: elections, spurious ones
  --bug NAME         switch on a known bug in the real node or router that the checkers must catch: ${MUTATIONS.join(', ')}
  --verbose          one line per seed`;

function parseArgs(argv: string[]): Args | 'help' {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      seeds: { type: 'string' }, first: { type: 'string' }, seed: { type: 'string' }, ops: { type: 'string' },
      'compare-prevote': { type: 'boolean' }, bug: { type: 'string' }, verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const int = (name: string, v: string | undefined, fallback: number | undefined): number | undefined => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a non-negative integer, got ${v}`);
    return n;
  };
  const bug = values.bug as NodeMutation | RouterMutation | undefined;
  if (bug !== undefined && !MUTATIONS.includes(bug)) throw new Error(`--bug must be one of ${MUTATIONS.join(', ')}, got ${bug}`);
  return {
    seeds: int('seeds', values.seeds, 20)!,
    first: int('first', values.first, 1)!,
    seed: int('seed', values.seed, undefined),
    ops: int('ops', values.ops, 2000)!,
    comparePreVote: values['compare-prevote'] === true,
    bug,
    verbose: values.verbose === true,
  };
}

function line(r: SimReport): string {
  const s = r.stats;
  const k = r.knobs;
  return `seed ${r.seed}: ${r.failures.length === 0 ? 'ok' : 'FAILED'} digest ${r.digest} | ${k.nodes} nodes, ${k.groups} groups ×${k.replicasPerGroup}, ` +
    `E/L/H ${k.electionTicks}/${k.leaseTicks}/${k.heartbeatTicks} | ${s.simulatedMs} ms simulated, ${s.events} events, ` +
    `ops ok ${s.opsOk} unknown ${s.opsUnknown} unavailable ${s.opsUnavailable}, crashes ${s.crashes}, elections ${s.elections} (spurious ${s.spuriousElections}), splits ${s.splits} (repairs ${s.splitRepairs})`;
}

function main(): number {
  let args: Args;
  try {
    const parsed = parseArgs(process.argv.slice(2));
    if (parsed === 'help') {
      console.log(USAGE);
      return 0;
    }
    args = parsed;
  } catch (e) {
    console.error(`sim: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const seeds = args.seed !== undefined ? [args.seed] : Array.from({ length: args.seeds }, (_, i) => args.first + i);
  const replay = (seed: number) => `npm run sim -- --seed ${seed}${args.ops !== 2000 ? ` --ops ${args.ops}` : ''}${args.bug ? ` --bug ${args.bug}` : ''}`;
  const started = Date.now();
  let failed = 0;
  const totals = { on: { elections: 0, spurious: 0 }, off: { elections: 0, spurious: 0, stalled: 0 }, ops: 0 };
  for (const [done, seed] of seeds.entries()) {
    if (done > 0 && done % 500 === 0) console.log(`... ${done} seeds done, ${failed} failed, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const r = runSimulation({ seed, ops: args.ops, bug: args.bug });
    totals.on.elections += r.stats.elections;
    totals.on.spurious += r.stats.spuriousElections;
    totals.ops += r.stats.opsOk + r.stats.opsUnknown;
    if (args.verbose || args.seed !== undefined) console.log(line(r));
    if (r.failures.length > 0) {
      failed++;
      console.log(`\nFAILED seed ${seed}:\n  ${r.failures.join('\n  ')}\n  replay: ${replay(seed)}\n`);
    }
    if (args.comparePreVote) {
      const off = runSimulation({ seed, ops: args.ops, bug: args.bug, preVote: false });
      totals.off.elections += off.stats.elections;
      totals.off.spurious += off.stats.spuriousElections;
      // Without the check, liveness stalls are what the experiment is about (a replica with
      // a stale log bumping terms keeps the others from electing); safety must still hold.
      const unsafe = off.failures.filter((f) => !f.includes('(liveness)'));
      if (unsafe.length > 0) {
        failed++;
        console.log(`\nFAILED seed ${seed} (preVote off):\n  ${unsafe.join('\n  ')}\n`);
      } else if (off.failures.length > 0) {
        totals.off.stalled++;
        if (args.verbose) console.log(`  preVote off: stalled: ${off.failures[0].slice(0, 200)}`);
      }
      if (args.verbose) console.log(`  preVote off: elections ${off.stats.elections} (spurious ${off.stats.spuriousElections})`);
    }
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${seeds.length} seeds × ${args.ops} ops in ${secs} s: ${failed === 0 ? 'all checkers passed' : `${failed} FAILED`}`);
  if (args.comparePreVote) {
    console.log(`elections with the gray-failure check (preVote on):  ${totals.on.elections}, spurious ${totals.on.spurious}`);
    console.log(`elections without it (preVote off):                  ${totals.off.elections}, spurious ${totals.off.spurious}; ${totals.off.stalled} seeds stalled (liveness failures, not counted as failures here)`);
    console.log('spurious = started while a live leader\'s appends had been accepted in its term by a quorum of the group (leader included) within the last electionTicks');
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
