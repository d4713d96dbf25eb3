/** `shardbox bench`'s command line as the runner gets it: engines, and what is refused. */
import { describe, expect, it } from 'vitest';
import { BENCH_USAGE, benchOptions } from '../../bench/ycsb/main.js';

const parse = (...argv: string[]) => benchOptions(argv, () => {});

describe('bench --engines', () => {
  it('takes the noop engine alone or beside others, in the order given', () => {
    expect(parse('--engines', 'noop').engines).toEqual([{ name: 'noop', kind: 'noop' }]);
    expect(parse('--engines', 'shardbox,noop').engines).toEqual([
      { name: 'shardbox', kind: 'shardbox' },
      { name: 'noop', kind: 'noop' },
    ]);
    expect(parse('--engines', 'noop, lmdb').engines.map((e) => e.name)).toEqual(['noop', 'lmdb']);
  });

  it('refuses an unknown engine, naming the ones there are', () => {
    expect(() => parse('--engines', 'shardbox,nope')).toThrow("unknown engine 'nope' (engines: shardbox, lmdb, dynamodb, noop)");
  });

  it('says in the usage what lmdb leaves out and what noop measures', () => {
    expect(BENCH_USAGE).toMatch(/lmdb \(raw lmdb-js, the storage floor:\s+no validation, routing, thread hop, replication or WAL\)/);
    expect(BENCH_USAGE).toMatch(/noop\s+\(answers at once: the harness's and the machine's own latency,\s+at the top rate of the engine run before it/);
  });
});
