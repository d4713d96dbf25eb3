import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chartMain, escapeXml, renderLatencySvg, runLabels, type ChartRun } from '../../bench/ycsb/chart.js';
import { captureOutput, makeResult, writeResults } from './fixtures.js';
import { READ_STAGE_MEANS, stageScale, UPDATE_STAGE_MEANS, withStages } from './stage-fixtures.js';

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

/** The stage segments: position, fill, stage and tooltip of each <rect data-stage>. */
function segments(svg: string): { x: number; y: number; width: number; fill: string; stage: string; title: string }[] {
  const re = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill="([^"]+)"[^>]*? data-stage="([^"]+)"[^>]*><title>([^<]*)<\/title><\/rect>/g;
  return [...svg.matchAll(re)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), width: Number(m[3]), fill: m[4], stage: m[5], title: m[6] }));
}

describe('renderLatencySvg: where the time goes', () => {
  const staged: ChartRun[] = [{ label: 'results', results: [withStages(makeResult({ workload: 'a', notSustained: [1] })), makeResult({ workload: 'b', seed: 2 })] }];

  it('stacks the mean of each stage per level for reads and writes, in display order', () => {
    const svg = renderLatencySvg(staged);
    expectWellFormed(svg);
    expect(svg).toContain('>Where the time goes — workload A · shardbox<');
    expect(svg).not.toContain('Where the time goes — workload B');
    const all = segments(svg);
    // Reads: the 10 stages but retry (mean 0); writes: 11 stages and walSync; 4 levels each.
    expect(all.filter((s) => s.title.startsWith('READ '))).toHaveLength(4 * 9);
    expect(all.filter((s) => s.title.startsWith('UPDATE '))).toHaveLength(4 * 12);
    const row = (op: string, level: string) => all.filter((s) => s.title.startsWith(`${op} `) && s.title.includes(` at ${level}:`) && s.stage !== 'walSync');
    expect(row('READ', '10%').map((s) => s.stage)).toEqual(['pacing', 'client', 'queue', 'transit', 'leader', 'read', 'reply', 'return', 'residue']);
    expect(row('UPDATE', '50%').map((s) => s.stage)).toEqual(['pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'replicate', 'apply', 'reply', 'return', 'residue']);
    expect(all.find((s) => s.title.startsWith('UPDATE replicate at 50%'))!.title).toBe('UPDATE replicate at 50%: mean 756 µs (p50 605 µs, p99 3.02 ms)');
  });

  it('draws each bar as consecutive segments whose widths are the stage means, with the mean total beside it', () => {
    const svg = renderLatencySvg(staged);
    for (const [op, means] of [['READ', READ_STAGE_MEANS], ['UPDATE', UPDATE_STAGE_MEANS]] as const) {
      for (const level of ['10%', '100%']) {
        const row = segments(svg).filter((s) => s.title.startsWith(`${op} `) && s.title.includes(` at ${level}:`) && s.stage !== 'walSync');
        expect(new Set(row.map((s) => s.y)).size).toBe(1);
        for (let i = 1; i < row.length; i++) expect(row[i].x).toBeCloseTo(row[i - 1].x + row[i - 1].width, 1);
        // px per µs is the same for every segment of the row.
        const pxPerUs = row.map((s) => s.width / means[s.stage]);
        for (const k of pxPerUs) expect(k).toBeCloseTo(pxPerUs[0], 2);
      }
    }
    const total = Object.values(READ_STAGE_MEANS).reduce((a, b) => a + b, 0);
    expect(svg).toContain(`>${total} µs mean<`);
    expect(svg).toContain(`>${Math.round(total * stageScale(1))} µs mean<`);
  });

  it("gives a stage one colour everywhere, draws walSync along replicate's start, and names every stage in the legend", () => {
    const svg = renderLatencySvg([{ label: 'x', results: [withStages(makeResult({ workload: 'a' })), withStages(makeResult({ workload: 'f' }))] }]);
    const all = segments(svg);
    const fills = new Map<string, Set<string>>();
    for (const s of all) fills.set(s.stage, (fills.get(s.stage) ?? new Set()).add(s.fill));
    for (const set of fills.values()) expect(set.size).toBe(1);
    expect(new Set([...fills.values()].map((set) => [...set][0])).size).toBe(fills.size);
    const replicate = all.find((s) => s.stage === 'replicate' && s.title.startsWith('UPDATE replicate at 10%'))!;
    const walSync = all.find((s) => s.stage === 'walSync' && s.title.startsWith('UPDATE walSync at 10%'))!;
    expect(walSync.x).toBe(replicate.x);
    expect(walSync.width).toBeCloseTo((replicate.width * 250) / 420, 1);
    for (const name of ['pacing', 'client', 'retry', 'queue', 'transit', 'leader', 'replicate', 'apply', 'read', 'reply', 'return', 'residue', 'walSync (within replicate)']) {
      expect(svg).toContain(`>${name}<`);
    }
    // Workload F writes with READ-MODIFY-WRITE, which has no stages here: reads only.
    expect(svg).toContain('>Where the time goes — workload F · shardbox<');
  });

  it('labels levels with fraction and achieved ops/s, a level not sustained in red', () => {
    const svg = renderLatencySvg(staged);
    expect(svg).toMatch(/fill="#222222" text-anchor="end">10% · 1\.2k ops\/s</);
    expect(svg).toMatch(/fill="#c62828" text-anchor="end">100% · 9\.6k! ops\/s</);
  });

  it('leaves the section out for results without stages, and levels without them out of the bars', () => {
    const svg = renderLatencySvg(oneRun);
    expect(svg).not.toContain('Where the time goes');
    expect(svg).not.toContain('data-stage');
    const partial = renderLatencySvg([{ label: 'p', results: [withStages(makeResult(), [0.5])] }]);
    expect(new Set(segments(partial).map((s) => s.title.replace(/^.* at (\S+):.*$/, '$1')))).toEqual(new Set(['50%']));
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
