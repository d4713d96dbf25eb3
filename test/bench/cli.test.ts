/**
 * The `shardbox` command as a user runs it: `bench` (small), then `compare` and `chart` on
 * what it wrote, and usage errors.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli.js');

function shardbox(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
let out: string;
let bench: ReturnType<typeof shardbox>;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-cli-test-'));
  out = path.join(dir, 'run');
  bench = shardbox('bench', '--quick', '--workloads', 'a', '--levels', '10,100', '-p', 'recordcount=1000', '-p', 'maxexecutiontime=1', '--seed', '3', '--out', out);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('shardbox bench', () => {
  it('prints YCSB report lines and the summary, and writes results, interval logs and the chart', () => {
    expect(bench.status, bench.stderr).toBe(0);
    for (const line of [
      '[OVERALL], RunTime(ms), ',
      '[OVERALL], Throughput(ops/sec), ',
      '[READ], Operations, ',
      '[READ], AverageLatency(us), ',
      '[READ], MinLatency(us), ',
      '[READ], MaxLatency(us), ',
      '[READ], 50thPercentileLatency(us), ',
      '[READ], 95thPercentileLatency(us), ',
      '[READ], 99thPercentileLatency(us), ',
      '[READ], 99.9thPercentileLatency(us), ',
      '[READ], Return=OK, ',
      '[UPDATE], Return=OK, ',
      '[Intended-READ], 99thPercentileLatency(us), ',
      '[Intended-UPDATE], 50thPercentileLatency(us), ',
    ]) {
      expect(bench.stdout).toContain(line);
    }
    expect(bench.stdout).toMatch(/read p50\s+read p99\s+write p50\s+write p99/);
    expect(bench.stdout).toContain('flatness');
    const files = readdirSync(out).sort();
    expect(files).toEqual(['latency.svg', 'ycsb-a-shardbox-100pct.hlog', 'ycsb-a-shardbox-10pct.hlog', 'ycsb-a-shardbox.json']);
  });

  it('compares a run with itself: no regression, exit 0', () => {
    const r = shardbox('compare', out, out, '--threshold', '10%');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('| workload |');
  });

  it('redraws the chart from result directories', () => {
    const svg = path.join(dir, 'again.svg');
    const r = shardbox('chart', out, '--out', svg);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(svg)).toBe(true);
  });

  it('answers bad usage with exit 2 and says what is wrong', () => {
    const unknownEngine = shardbox('bench', '--engines', 'cassandra');
    expect(unknownEngine.status).toBe(2);
    expect(unknownEngine.stderr).toContain("unknown engine 'cassandra'");
    const noEndpoint = shardbox('bench', '--engines', 'dynamodb');
    expect(noEndpoint.status).toBe(2);
    expect(noEndpoint.stderr).toContain('--endpoint');
    const badProperty = shardbox('bench', '-p', 'recordcount');
    expect(badProperty.status).toBe(2);
    expect(badProperty.stderr).toMatch(/recordcount/);
    expect(shardbox('compare').status).toBe(2);
  });
});
