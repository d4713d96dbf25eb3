/**
 * `npm run experiment -- NAME [--quick] [--out DIR]`: runs one experiment (or `all`),
 * prints its table per phase and writes its chart (SVG) and result (JSON).
 * `npm run experiment -- --help` lists the experiments.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { wrapText } from '../ycsb/report.js';
import { burst } from './burst.js';
import { renderExperimentSvg } from './chart.js';
import type { Experiment } from './experiment.js';
import { formatReport, Recorder } from './framework.js';
import { gac } from './gac.js';
import { ondemand } from './ondemand.js';
import { split } from './split.js';

export const EXPERIMENTS: readonly Experiment[] = [burst, gac, split, ondemand];

export function usage(): string {
  const lines = [
    'usage: npm run experiment -- NAME|all [--quick] [--out DIR]',
    '',
    'Runs an experiment on a cluster in a temporary directory: prints a table per phase',
    '(target and achieved rates, throttles, p50 and p99) and writes <DIR>/<NAME>.svg and',
    '<NAME>.json (default DIR: results/experiments).',
    '',
    'experiments:',
  ];
  for (const e of EXPERIMENTS) {
    lines.push(`  ${e.name.padEnd(10)}${e.title}`);
    lines.push(...wrapText(`    ${e.claim}`, 88, 4));
  }
  lines.push('', 'options:', '  --quick     phases half as long', '  --out DIR   where the chart and the result go', '');
  return lines.join('\n');
}

export async function experimentMain(argv: string[], print: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, quick: { type: 'boolean' }, out: { type: 'string', short: 'o' } },
      allowPositionals: true,
    });
  } catch (error) {
    process.stderr.write(`experiment: ${(error as Error).message}\n\n${usage()}`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length === 0) {
    (parsed.values.help ? print : (s: string) => process.stderr.write(s))(usage());
    return parsed.values.help ? 0 : 2;
  }
  const names = parsed.positionals.includes('all') ? EXPERIMENTS.map((e) => e.name) : parsed.positionals;
  const unknown = names.filter((n) => !EXPERIMENTS.some((e) => e.name === n));
  if (unknown.length > 0) {
    process.stderr.write(`experiment: no experiment ${unknown.join(', ')}\n\n${usage()}`);
    return 2;
  }
  const out = parsed.values.out ?? path.join('results', 'experiments');
  mkdirSync(out, { recursive: true });
  const scale = parsed.values.quick ? 0.5 : 1;
  for (const name of names) {
    const experiment = EXPERIMENTS.find((e) => e.name === name)!;
    print(`\n${experiment.name}: running (${experiment.title})\n`);
    const recorder = new Recorder();
    const started = Date.now();
    await experiment.run({ recorder, seconds: (n) => Math.max(2, Math.round(n * scale)) });
    const result = recorder.result({ name: experiment.name, title: experiment.title, claim: experiment.claim });
    const svg = path.join(out, `${experiment.name}.svg`);
    writeFileSync(svg, renderExperimentSvg(result));
    writeFileSync(path.join(out, `${experiment.name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    print(`\n${formatReport(result)}\n\n  chart: ${svg} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  experimentMain(process.argv.slice(2)).then((code) => process.exit(code), (error: unknown) => {
    process.stderr.write(`experiment failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
