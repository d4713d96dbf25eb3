#!/usr/bin/env node
/**
 * The `shardbox` command. The YCSB lab's commands live in bench/ycsb and are loaded only
 * when asked for, so the engine does not depend on the harness.
 */

const USAGE = `usage: shardbox <command> [options]

commands:
  bench      run YCSB workloads A and B against the embedded cluster (--help for options)
  serve      serve DynamoDB's HTTP API: shardbox serve [--port 8000] [--dir PATH] [--auth KEY:SECRET] (--help)
  compare    compare two result sets: shardbox compare BASELINE CURRENT [--threshold 10%]
  chart      redraw latency charts from result directories: shardbox chart DIR... [--out FILE]
  soak       traffic under random faults, then check every write and replica: shardbox soak [--duration 30] (--help)
  help       show this text
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'bench': {
      const { benchMain, BENCH_USAGE } = await import('../bench/ycsb/main.js');
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(BENCH_USAGE);
        return 0;
      }
      return benchMain(rest);
    }
    case 'serve': {
      const { serveMain } = await import('./server/serve.js');
      return serveMain(rest);
    }
    case 'compare': {
      const { compareMain } = await import('../bench/ycsb/compare.js');
      return compareMain(rest);
    }
    case 'chart': {
      const { chartMain } = await import('../bench/ycsb/chart.js');
      return chartMain(rest);
    }
    case 'soak': {
      const { soakMain } = await import('../bench/soak/soak.js');
      return soakMain(rest);
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
