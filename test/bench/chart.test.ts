import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chartMain, escapeXml, renderLatencySvg, runLabels, type ChartRun } from '../../bench/ycsb/chart.js';
import { captureOutput, makeResult, writeResults } from './fixtures.js';

/** Checks that every tag is closed in order and every '&' starts an entity: XML-ish enough. */
function expectWellFormed(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:"[^"]*"|[^>"])*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = m;
    if (closing) expect(stack.pop(), `</${name}> closes`).toBe(name);
    else if (!selfClosing) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(svg.replace(/&(amp|lt|gt|quot|#39);/g, '')).not.toContain('&');
  // No '<' inside text content or attribute values: every '<' opens a tag.
  expect(svg.match(/<(?![a-zA-Z/])/g)).toBeNull();
}

/** The bars: the <rect> elements that carry a tooltip. */
function bars(svg: string): string[] {
  return [...svg.matchAll(/<rect [^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => m[1]);
}

const oneRun: ChartRun[] = [
  {
    label: 'results',
    results: [
      makeResult({ workload: 'a', notSustained: [1], errors: [{ fraction: 1, operation: 'UPDATE', outcome: 'THROTTLED', count: 50 }] }),
      makeResult({ workload: 'b', topRate: 15_000, seed: 2 }),
    ],
  },
];

describe('renderLatencySvg', () => {
  it('draws one self-contained SVG with the read and write panels and a timeline per result', () => {
    const svg = renderLatencySvg(oneRun);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expectWellFormed(svg);
    expect(svg).not.toMatch(/<style|@import|url\(|href=/);
    expect(svg).toContain('Read latency (cf. paper Fig. 5) — READ');
    expect(svg).toContain('Write latency (cf. paper Fig. 6) — UPDATE');
    expect(svg).toContain('Latency over time — workload A · shardbox');
    expect(svg).toContain('Latency over time — workload B · shardbox');
    expect(svg).toContain('AMD EPYC 7B13 64-Core Processor (16 cores)');
    expect(svg).toContain('durability: sync');
  });

  it('draws one bar per (workload, percentile, level) in each panel', () => {
    const titles = bars(renderLatencySvg(oneRun));
    // 2 workloads × p50/p99 × 4 levels × 2 panels
    expect(titles).toHaveLength(2 * 2 * 4 * 2);
    expect(titles).toContain('A p50 at 10%: 310 µs');
    expect(titles).toContain('A p99 at 10%: 1.24 ms');
    expect(titles).toContain('B p99 at 100%: 1.43 ms');
    expect(titles.filter((t) => t.startsWith('A p99 at 100%'))).toHaveLength(2);
  });

  it('labels levels with fraction and achieved ops/s, and marks levels not sustained', () => {
    const svg = renderLatencySvg(oneRun);
    expect(svg).toContain('>10% of top rate<');
    expect(svg).toContain('>A 1.2k · B 1.5k ops/s<');
    expect(svg).toContain('>A 9.6k! · B 15k ops/s<');
    expect(svg).toContain('! = not sustained');
    expect(svg).toContain('100% · target 12k/s · NOT SUSTAINED');
    const same = renderLatencySvg([{ label: 'x', results: [makeResult()] }]);
    expect(same).toMatch(/>10% · 1\.2k ops\/s</);
  });

  it('draws latency lines per operation and percentile, the throughput strip and errors', () => {
    const svg = renderLatencySvg(oneRun);
    for (const label of ['READ p99', 'READ p50', 'UPDATE p99', 'UPDATE p50', 'successful ops/s', 'target ops/s']) {
      expect(svg).toContain(`>${label}<`);
    }
    expect(svg).toContain('>errors/s<');
    expect(svg).toContain('>seconds<');
    // Per timeline: 2 operations × 2 percentiles, target, successful; errors only in A's.
    expect(svg.match(/<path /g)).toHaveLength(2 * 2 + 2 + 1 + (2 * 2 + 2));
  });

  it('overlays runs: a bar per (run, workload, percentile), runs named in the legend', () => {
    const runs: ChartRun[] = [
      { label: 'baseline', results: [makeResult({ workload: 'a' }), makeResult({ workload: 'b' })] },
      { label: 'pr-42', results: [makeResult({ workload: 'a', latencyScale: 1.2 }), makeResult({ workload: 'b', latencyScale: 1.2 })] },
    ];
    const svg = renderLatencySvg(runs);
    expectWellFormed(svg);
    const titles = bars(svg);
    expect(titles).toHaveLength(2 * 2 * 2 * 4 * 2);
    expect(titles).toContain('baseline · A p50 at 10%: 310 µs');
    expect(titles).toContain('pr-42 · A p50 at 10%: 372 µs');
    expect(svg).toContain('>baseline<');
    expect(svg).toContain('>pr-42<');
    expect(svg).toContain('runs: baseline, pr-42');
    expect(svg).toContain('Latency over time — workload B · shardbox · run pr-42');
  });

  it('shows engines side by side, on a log axis when they differ by orders of magnitude', () => {
    const results = ['shardbox', 'lmdb', 'dynamodb'].flatMap((engine, i) =>
      ['a', 'b'].map((workload) => makeResult({ workload, engine, latencyScale: [1, 0.15, 8][i], durability: i === 2 ? 'remote' : 'sync' })),
    );
    const svg = renderLatencySvg([{ label: 'engines', results }]);
    expectWellFormed(svg);
    expect(bars(svg)).toHaveLength(3 * 2 * 2 * 4 * 2);
    expect(svg).toContain('latency (ms, log scale)');
    expect(svg).toContain('durability: sync, remote');
    expect(svg).toContain('lmdb · A p50 at 10%: 47 µs');
  });

  it('splits into a panel pair per run when a group would hold more than 12 bars', () => {
    const runs: ChartRun[] = ['r1', 'r2', 'r3'].map((label) => ({
      label,
      results: ['shardbox', 'lmdb'].flatMap((engine) => ['a', 'b'].map((workload) => makeResult({ workload, engine }))),
    }));
    const svg = renderLatencySvg(runs);
    for (const run of ['r1', 'r2', 'r3']) {
      expect(svg).toContain(`Read latency (cf. paper Fig. 5) — READ, intended-start p50 and p99 — run ${run}`);
    }
    expect(bars(svg)).toHaveLength(3 * 2 * 2 * 2 * 4 * 2);
  });

  it('escapes text', () => {
    const svg = renderLatencySvg([{ label: 'a<b & "c"', results: [makeResult({ engine: 'x<y>' })] }, { label: 'second', results: [makeResult()] }]);
    expectWellFormed(svg);
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).toContain('x&lt;y&gt;');
    expect(svg).not.toContain('a<b');
    expect(svg).not.toContain('x<y');
    expect(escapeXml(`<'&">`)).toBe('&lt;&#39;&amp;&quot;&gt;');
  });

  it('copes with a workload without writes and with an empty run', () => {
    const svg = renderLatencySvg([{ label: 'c', results: [makeResult({ workload: 'c' })] }]);
    expectWellFormed(svg);
    expect(svg).toContain('no write operations');
    expectWellFormed(renderLatencySvg([{ label: 'none', results: [] }]));
  });
});

describe('runLabels', () => {
  it('uses directory names, made unique when they collide', () => {
    expect(runLabels(['/x/base', '/x/pr'])).toEqual(['base', 'pr']);
    expect(runLabels(['/one/results', '/two/results'])).toEqual(['one/results', 'two/results']);
    expect(runLabels(['/one/results', '/one/results'])).toEqual(['results (1)', 'results (2)']);
  });
});

describe('chartMain', () => {
  let dir: string;
  let output: { out: string; err: string };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shardbox-chart-'));
    output = captureOutput();
  });

  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes <first dir>/latency.svg by default and prints its path', async () => {
    const base = join(dir, 'base');
    const pr = join(dir, 'pr');
    writeResults(base, [makeResult({ workload: 'a' }), makeResult({ workload: 'b' })]);
    writeResults(pr, [makeResult({ workload: 'a', latencyScale: 1.1 })]);
    expect(await chartMain([base, pr])).toBe(0);
    const file = join(base, 'latency.svg');
    expect(output.out.trim()).toBe(file);
    const svg = readFileSync(file, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('runs: base, pr');
  });

  it('writes to --out, and beside a file given instead of a directory', async () => {
    const [file] = writeResults(join(dir, 'r'), [makeResult()]);
    const target = join(dir, 'chart.svg');
    expect(await chartMain([file, '--out', target])).toBe(0);
    expect(existsSync(target)).toBe(true);
    expect(await chartMain([file])).toBe(0);
    expect(existsSync(join(dir, 'r', 'latency.svg'))).toBe(true);
  });

  it('returns 2 with a usage message for bad arguments or unreadable results', async () => {
    expect(await chartMain([])).toBe(2);
    expect(output.err).toContain('usage: shardbox chart');
    output.err = '';
    expect(await chartMain([join(dir, 'missing')])).toBe(2);
    expect(output.err).toContain('cannot read: ENOENT');
    output.err = '';
    mkdirSync(join(dir, 'empty'));
    expect(await chartMain([join(dir, 'empty')])).toBe(2);
    expect(output.err).toContain('no result files');
    output.err = '';
    expect(await chartMain(['--nope'])).toBe(2);
    expect(output.err).toContain('usage: shardbox chart');
  });
});
