import { describe, expect, it, vi } from 'vitest';
import { extraSeriesOf, renderExperimentSvg } from '../../bench/experiments/chart.js';
import { formatPhaseTable, formatReport, percentile, Recorder, summarizePhase, type Clock, type ExperimentResult, type SecondPoint } from '../../bench/experiments/framework.js';
import { capacityOf } from '../../bench/experiments/glue.js';
import { EXPERIMENTS, experimentMain, usage } from '../../bench/experiments/main.js';
import { DynamoDBError } from '../../src/model/errors.js';

function point(t: number, phase: string, ok: number, throttled = 0, extra?: Record<string, number>): SecondPoint {
  return { t, phase, targetOpsPerSec: 100, ok, throttled, errors: 0, p50Us: 1000 + t, p99Us: 5000 + t, ...(extra ? { extra } : {}) };
}

/** A clock that moves only when slept on: the driver's timing becomes exact. */
function fakeClock(): Clock {
  let nowMs = 0;
  return { now: () => nowMs, sleep: (ms) => ((nowMs += ms), Promise.resolve()) };
}

describe('percentile', () => {
  it('is the nearest rank of sorted values; 0 for none', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 99)).toBe(0);
  });
});

describe('summarizePhase', () => {
  it('averages rates per second and takes percentiles over the whole phase', () => {
    const points = [point(0, 'spike', 90, 10), point(1, 'spike', 100, 0), point(2, 'spike', 50, 50)];
    const latencies = [...Array.from({ length: 98 }, () => 1000), 40_000, 90_000];
    const summary = summarizePhase('spike', points, latencies);
    expect(summary).toMatchObject({ name: 'spike', seconds: 3, targetOpsPerSec: 100, okPerSec: 80, throttledPerSec: 20, errors: 0, p50Us: 1000, p99Us: 40_000 });
    expect(summary.throttledShare).toBeCloseTo(60 / 300);
  });

  it('an empty phase is all zeros', () => {
    expect(summarizePhase('none', [], [])).toMatchObject({ seconds: 0, okPerSec: 0, throttledShare: 0, p99Us: 0 });
  });
});

describe('formatPhaseTable', () => {
  it('lays the phases out in aligned columns, latency "-" where nothing succeeded', () => {
    const lines = formatPhaseTable([
      { name: 'half rate', seconds: 12, targetOpsPerSec: 50, okPerSec: 50, throttledPerSec: 0, throttledShare: 0, errors: 0, p50Us: 850, p99Us: 2_400 },
      { name: 'long spike', seconds: 15, targetOpsPerSec: 250, okPerSec: 0, throttledPerSec: 250, throttledShare: 1, errors: 3, p50Us: 0, p99Us: 0 },
    ]);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^phase\s+seconds\s+target\/s\s+ok\/s\s+throttled\/s\s+throttled\s+errors\s+p50\s+p99$/);
    expect(lines[1]).toMatch(/^half rate\s+12\s+50\s+50\s+0\s+0%\s+0\s+850 µs\s+2\.40 ms$/);
    expect(lines[2]).toMatch(/^long spike\s+15\s+250\s+0\s+250\s+100\.0%\s+3\s+-\s+-$/);
    // Right-aligned numbers end in the same column.
    expect(lines[1].indexOf('12') + 2).toBe(lines[2].indexOf('15') + 2);
  });
});

describe('Recorder', () => {
  it('starts each phase\'s operations at its rate and counts them by their intended second', async () => {
    const recorder = new Recorder(fakeClock());
    const started: number[] = [];
    await recorder.drive([
      { name: 'slow', seconds: 2, opsPerSec: 10, op: async (i) => void started.push(i) },
      {
        name: 'throttled',
        seconds: 1,
        opsPerSec: 20,
        op: async (i) => {
          if (i % 4 === 0) throw new DynamoDBError('ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded.');
          if (i % 4 === 1) throw new Error('boom');
        },
      },
    ]);
    recorder.note('a note');
    recorder.note('a note');
    const result = recorder.result({ name: 'x', title: 'X', claim: 'c' });
    expect(started).toHaveLength(20);
    expect(result.timeline.map((p) => [p.t, p.phase, p.ok, p.throttled, p.errors])).toEqual([
      [0, 'slow', 10, 0, 0],
      [1, 'slow', 10, 0, 0],
      [2, 'throttled', 10, 5, 5],
    ]);
    expect(result.phases.map((p) => [p.name, p.seconds, p.okPerSec, p.throttledPerSec])).toEqual([['slow', 2, 10, 0], ['throttled', 1, 10, 5]]);
    expect(result.notes).toHaveLength(2);
    expect(result.notes[0]).toBe('a note');
    expect(result.notes[1]).toContain('throttled: boom');
  });

  it('records the extra figures once per second, and marks events within the phase', async () => {
    const clock = fakeClock();
    const recorder = new Recorder(clock);
    let calls = 0;
    recorder.extraEachSecond = () => ({ consumed: ++calls });
    await recorder.drive([{ name: 'p', seconds: 3, opsPerSec: 5, op: async (i) => void (i === 7 && recorder.mark('at op 7')) }]);
    const result = recorder.result({ name: 'x', title: 'X', claim: 'c' });
    expect(result.timeline.map((p) => p.extra)).toEqual([{ consumed: 1 }, { consumed: 2 }, { consumed: 3 }]);
    // Op 7 of 5/s is due at 1.4 s.
    expect(result.events).toEqual([{ t: 1.4, label: 'at op 7' }]);
  });
});

const result: ExperimentResult = {
  name: 'burst',
  title: 'Bursting <test> & more',
  claim: 'A short spike is absorbed; a long one is throttled.',
  phases: [],
  timeline: [point(0, 'half rate', 50), point(1, 'half rate', 50), point(2, 'spike', 200, 50), point(3, 'spike', 100, 150)],
  events: [{ t: 2.5, label: 'split at 3fff' }],
  notes: ['table burst: PROVISIONED'],
};

describe('renderExperimentSvg', () => {
  it('draws a self-contained SVG: throughput and latency panels, phases, events, notes', () => {
    const svg = renderExperimentSvg(result);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).not.toMatch(/<style|@import|url\(|href=/);
    // Balanced tags.
    const stack: string[] = [];
    for (const [, closing, name, , self] of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:"[^"]*"|[^>"])*?)(\/?)>/g)) {
      if (closing) expect(stack.pop()).toBe(name);
      else if (!self) stack.push(name);
    }
    expect(stack).toEqual([]);
    expect(svg).toContain('Bursting &lt;test&gt; &amp; more');
    for (const label of ['Throughput per second', 'Latency per second', 'half rate', 'spike', 'split at 3fff', '• table burst: PROVISIONED', 'throttled ops/s']) {
      expect(svg).toContain(label);
    }
    // Lines: successful, throttled, target (throughput); p50, p99 (latency).
    expect(svg.match(/<path /g)).toHaveLength(5);
    expect(svg).not.toContain('Capacity per second');
  });

  it('keeps an event\'s label inside the plot: left of its line at the right edge', () => {
    const svg = renderExperimentSvg({ ...result, events: [{ t: 0.5, label: 'early' }, { t: 4, label: 'at the very end' }] });
    expect(svg).toMatch(/<text [^>]*text-anchor="start"[^>]*>early<\/text>/);
    expect(svg).toMatch(/<text [^>]*text-anchor="end"[^>]*>at the very end<\/text>/);
  });

  it('adds a capacity panel when the run recorded extra figures', () => {
    const withExtra = { ...result, timeline: result.timeline.map((p) => ({ ...p, extra: { consumed: p.ok, 'burst.credit': 10 } })) };
    expect(extraSeriesOf(withExtra)).toEqual(['consumed', 'burst.credit']);
    const svg = renderExperimentSvg(withExtra);
    expect(svg).toContain('Capacity per second');
    expect(svg.match(/<path /g)).toHaveLength(7);
  });

  it('says so when nothing succeeded', () => {
    const none = { ...result, timeline: result.timeline.map((p) => ({ ...p, ok: 0, p50Us: 0, p99Us: 0 })) };
    expect(renderExperimentSvg(none)).toContain('no successful operations');
  });
});

describe('formatReport', () => {
  it('prints the title, claim, table, events and notes', () => {
    const text = formatReport({ ...result, phases: [summarizePhase('spike', result.timeline.slice(2), [1000])] });
    expect(text.split('\n')[0]).toBe(result.title);
    expect(text).toContain('claim: A short spike');
    expect(text).toContain('at 2.5 s: split at 3fff');
    expect(text).toContain('note: table burst');
  });
});

describe('capacityOf', () => {
  it('picks the table\'s and the named partitions\' write figures out of db.capacity', async () => {
    const report = {
      admission: true,
      tables: [{
        table: 't', billingMode: 'PROVISIONED', writeCapacityUnits: 100, writeBurstCredit: 500, consumedWriteUnitsPerSec: 42,
        partitions: [{ group: 1, writeCapacityUnits: 25, writeBurstCredit: 10, consumedWriteUnitsPerSec: 40 }, { group: 2, writeCapacityUnits: 25 }],
      }],
    };
    const db = { capacity: async (table: string) => (table === 't' ? report : { tables: [] }) } as never;
    expect(await capacityOf(db, 't', [1])).toEqual({
      'table WCU': 100, 'table consumed WCU/s': 42, 'table burst credit': 500,
      'partition 1 WCU': 25, 'partition 1 consumed WCU/s': 40, 'partition 1 burst credit': 10,
    });
    expect(await capacityOf(db, 'other')).toBeUndefined();
  });
});

describe('npm run experiment', () => {
  it('--help lists every experiment with its claim', async () => {
    let out = '';
    expect(await experimentMain(['--help'], (s) => void (out += s))).toBe(0);
    expect(EXPERIMENTS.map((e) => e.name)).toEqual(['burst', 'gac', 'split', 'ondemand']);
    for (const e of EXPERIMENTS) expect(out).toContain(`  ${e.name.padEnd(10)}${e.title}`);
    expect(out).toBe(usage());
  });

  it('an unknown experiment is a usage error', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await experimentMain(['nosuch'], () => undefined)).toBe(2);
      expect(String(stderr.mock.calls[0][0])).toContain('no experiment nosuch');
      expect(await experimentMain([], () => undefined)).toBe(2);
    } finally {
      stderr.mockRestore();
    }
  });
});
