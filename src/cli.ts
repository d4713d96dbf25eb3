#!/usr/bin/env node
/**
 * The `shardbox` command. `bench` runs the YCSB experiment (the main job), once built.
 */
import { parseArgs } from 'node:util';

const USAGE = `usage: shardbox <command> [options]

commands:
  bench      run YCSB workloads A and B against the embedded cluster
  help       show this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'bench': {
      parseArgs({ args: rest, options: { quick: { type: 'boolean' } }, allowPositionals: true, strict: false });
      process.stdout.write('benchmark not built yet: the YCSB harness is the next issue. Micro-benchmarks: npm run bench:micro\n');
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`shardbox: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
