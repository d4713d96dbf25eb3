import { describe, expect, it } from 'vitest';
import { fnvhash64Mod } from '../../bench/ycsb/generators.js';
import { loadWorkload, WORKLOAD_NAMES } from '../../bench/ycsb/properties.js';
import {
  CoreWorkload,
  buildKeyName,
  loadStripe,
  resolveSettings,
  type Operation,
  type OperationName,
  type WorkloadSettings,
} from '../../bench/ycsb/workload.js';

function settingsOf(props: Record<string, string>): WorkloadSettings {
  return resolveSettings(props).settings;
}

function workload(props: Record<string, string>, seed = 1, threadId = 0, threadCount = 1): CoreWorkload {
  return new CoreWorkload(settingsOf(props), { seed, threadId, threadCount });
}

/** Keynum of an ordered key ('user' + decimal). */
function keynumOf(key: string): number {
  if (!/^user\d+$/.test(key)) throw new Error(`not an ordered key: ${key}`);
  return Number(key.slice(4));
}

function within6Sigma(observed: number, p: number, n: number): boolean {
  return Math.abs(observed / n - p) <= 6 * Math.sqrt((p * (1 - p)) / n);
}

describe('CoreWorkload: determinism', () => {
  const props = loadWorkload('a').properties;
  const run = (seed: number, threadId: number, threadCount: number) => {
    const w = workload(props, seed, threadId, threadCount);
    return Array.from({ length: 300 }, () => w.nextOperation());
  };

  it('replays exactly for the same seed and thread', () => {
    expect(run(42, 0, 2)).toEqual(run(42, 0, 2));
  });

  it('differs across seeds and across threads', () => {
    const keys = (ops: Operation[]) => ops.map((o) => o.key);
    expect(keys(run(42, 0, 2))).not.toEqual(keys(run(43, 0, 2)));
    expect(keys(run(42, 0, 2))).not.toEqual(keys(run(42, 1, 2)));
  });

  it('replays the load phase too', () => {
    const a = workload({ recordcount: '50' }, 9);
    const b = workload({ recordcount: '50' }, 9);
    for (let i = 0; i < 50; i++) expect(a.nextLoadRecord()).toEqual(b.nextLoadRecord());
    expect(a.nextLoadRecord()).toBeUndefined();
  });
});

describe('CoreWorkload: operation mix', () => {
  const N = 100_000;
  for (const w of WORKLOAD_NAMES) {
    it(`workload${w} issues its proportions (6σ)`, () => {
      const s = settingsOf(loadWorkload(w).properties);
      const wl = new CoreWorkload(s, { seed: 123, threadId: 0, threadCount: 1 });
      const counts: Record<OperationName, number> = { READ: 0, UPDATE: 0, INSERT: 0, SCAN: 0, 'READ-MODIFY-WRITE': 0 };
      for (let i = 0; i < N; i++) {
        const op = wl.nextOperation();
        counts[op.op]++;
        if (op.op === 'INSERT') wl.acknowledgeInsert(op);
      }
      const expected: Record<OperationName, number> = {
        READ: s.readProportion,
        UPDATE: s.updateProportion,
        INSERT: s.insertProportion,
        SCAN: s.scanProportion,
        'READ-MODIFY-WRITE': s.readModifyWriteProportion,
      };
      for (const name of Object.keys(counts) as OperationName[]) {
        if (expected[name] === 0) expect(counts[name], name).toBe(0);
        else expect(within6Sigma(counts[name], expected[name], N), `${name}: ${counts[name]}`).toBe(true);
      }
    });
  }

  it('normalises proportions that do not sum to 1 (as DiscreteGenerator does)', () => {
    const wl = workload({ readproportion: '3', updateproportion: '1' });
    let reads = 0;
    for (let i = 0; i < N; i++) if (wl.nextOperation().op === 'READ') reads++;
    expect(within6Sigma(reads, 0.75, N)).toBe(true);
  });
});

describe('CoreWorkload: operations', () => {
  it('READ reads all fields (undefined) or one random field', () => {
    const all = workload({ readproportion: '1', updateproportion: '0' }).nextOperation();
    expect(all.op).toBe('READ');
    expect(all.fields).toBeUndefined();
    expect(all.values).toBeUndefined();
    const byName = workload({ readproportion: '1', updateproportion: '0', readallfieldsbyname: 'true' }).nextOperation();
    expect(byName.fields).toEqual(settingsOf({}).fieldNames);
    const one = workload({ readproportion: '1', updateproportion: '0', readallfields: 'false' });
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const op = one.nextOperation();
      expect(op.fields).toHaveLength(1);
      seen.add(op.fields![0]);
    }
    expect([...seen].sort()).toEqual([...settingsOf({}).fieldNames].sort());
  });

  it('UPDATE writes one random field, or all with writeallfields', () => {
    const one = workload({ readproportion: '0', updateproportion: '1', fieldlength: '90' });
    for (let i = 0; i < 100; i++) {
      const op = one.nextOperation();
      expect(op.op).toBe('UPDATE');
      const entries = Object.entries(op.values!);
      expect(entries).toHaveLength(1);
      expect(entries[0][0]).toMatch(/^field\d$/);
      expect(entries[0][1]).toHaveLength(90);
    }
    const all = workload({ readproportion: '0', updateproportion: '1', writeallfields: 'true', fieldcount: '4' }).nextOperation();
    expect(Object.keys(all.values!)).toEqual(['field0', 'field1', 'field2', 'field3']);
    for (const v of Object.values(all.values!)) expect(v).toHaveLength(100);
  });

  it('values are YCSB printable bytes (ASCII 32..127)', () => {
    const wl = workload({ recordcount: '20' });
    for (let r = wl.nextLoadRecord(); r; r = wl.nextLoadRecord()) {
      for (const v of Object.values(r.values)) expect(v).toMatch(/^[\x20-\x7f]{100}$/);
    }
  });

  it('SCAN has a start key and a length in [minscanlength, maxscanlength]', () => {
    const wl = workload({ readproportion: '0', updateproportion: '0', scanproportion: '1', minscanlength: '5', maxscanlength: '14', insertorder: 'ordered' });
    const lengths = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const op = wl.nextOperation();
      expect(op.op).toBe('SCAN');
      expect(op.fields).toBeUndefined();
      expect(keynumOf(op.key)).toBeLessThan(1000);
      lengths.add(op.scanLength!);
    }
    expect([...lengths].sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('zipfian scan lengths favour short scans', () => {
    const wl = workload({ readproportion: '0', updateproportion: '0', scanproportion: '1', maxscanlength: '100', scanlengthdistribution: 'zipfian' });
    let short = 0;
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const len = wl.nextOperation().scanLength!;
      expect(len >= 1 && len <= 100).toBe(true);
      if (len <= 10) short++;
    }
    expect(short / N).toBeGreaterThan(0.4); // uniform would give 0.1
  });

  it('READ-MODIFY-WRITE reads fields of a key and writes values to the same key', () => {
    const wl = workload({ readproportion: '0', updateproportion: '0', readmodifywriteproportion: '1', readallfields: 'false' });
    const op = wl.nextOperation();
    expect(op.op).toBe('READ-MODIFY-WRITE');
    expect(op.fields).toHaveLength(1);
    expect(Object.keys(op.values!)).toHaveLength(1);
    const all = workload(loadWorkload('f').properties, 3);
    let rmw: Operation | undefined;
    while (!rmw) {
      const o = all.nextOperation();
      if (o.op === 'READ-MODIFY-WRITE') rmw = o;
    }
    expect(rmw.fields).toBeUndefined();
    expect(rmw.key).toMatch(/^user\d+$/);
  });

  it('fieldlengthdistribution=uniform draws lengths in [minfieldlength, fieldlength]', () => {
    const wl = workload({ fieldlengthdistribution: 'uniform', minfieldlength: '10', fieldlength: '20', recordcount: '200' });
    const lengths = new Set<number>();
    for (let r = wl.nextLoadRecord(); r; r = wl.nextLoadRecord()) for (const v of Object.values(r.values)) lengths.add(v.length);
    expect(Math.min(...lengths)).toBe(10);
    expect(Math.max(...lengths)).toBe(20);
  });

  it('rejects a bad thread id', () => {
    const s = settingsOf({});
    expect(() => new CoreWorkload(s, { seed: 1, threadId: 2, threadCount: 2 })).toThrow(/threadId/);
    expect(() => new CoreWorkload(s, { seed: 1, threadId: 0, threadCount: 0 })).toThrow(/threadCount/);
  });
});

describe('CoreWorkload: keys', () => {
  it('loads hashed keys, as YCSB builds them', () => {
    const wl = workload({ recordcount: '3' });
    expect(wl.nextLoadRecord()!.key).toBe('user6284781860667377211');
    expect(wl.nextLoadRecord()!.key).toBe('user8517097267634966620');
    expect(wl.nextLoadRecord()!.key).toBe('user1820151046732198393');
    expect(wl.nextLoadRecord()).toBeUndefined();
  });

  it('loads ordered keys with zero padding', () => {
    const wl = workload({ recordcount: '12', insertorder: 'ordered', zeropadding: '3' });
    const keys: string[] = [];
    for (let r = wl.nextLoadRecord(); r; r = wl.nextLoadRecord()) keys.push(r.key);
    expect(keys).toEqual(Array.from({ length: 12 }, (_, i) => `user${String(i).padStart(3, '0')}`));
  });

  it('reads only loaded hashed keys', () => {
    const wl = workload({ recordcount: '100', requestdistribution: 'zipfian', readproportion: '1', updateproportion: '0' });
    const loaded = new Set(Array.from({ length: 100 }, (_, i) => buildKeyName(i, 'hashed', 1)));
    for (let i = 0; i < 5000; i++) expect(loaded.has(wl.nextOperation().key)).toBe(true);
  });

  it('uniform keys cover the range evenly', () => {
    const wl = workload({ recordcount: '100', insertorder: 'ordered', readproportion: '1', updateproportion: '0' });
    const counts = new Array<number>(100).fill(0);
    const N = 200_000;
    for (let i = 0; i < N; i++) counts[keynumOf(wl.nextOperation().key)]++;
    for (const c of counts) expect(within6Sigma(c, 1 / 100, N)).toBe(true);
  });

  it('uniform keys stay within [insertstart, insertstart + insertcount)', () => {
    const wl = workload({ recordcount: '100', insertstart: '20', insertcount: '30', insertorder: 'ordered' });
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) seen.add(keynumOf(wl.nextOperation().key));
    expect(Math.min(...seen)).toBe(20);
    expect(Math.max(...seen)).toBe(49);
    expect(seen.size).toBe(30);
  });

  it('zipfian keys are within the record range and some are hot', () => {
    const n = 1000;
    const wl = workload({ recordcount: String(n), requestdistribution: 'zipfian', insertorder: 'ordered', readproportion: '1', updateproportion: '0' });
    const counts = new Map<number, number>();
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      const k = keynumOf(wl.nextOperation().key);
      if (!(k >= 0 && k < n)) throw new Error(`out of range: ${k}`);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    // The scrambled Zipfian spans [0, recordcount] (one extra key, skipped as not inserted);
    // its hottest item sits at fnvhash64(0) % (n + 1) with share ≈ 1/ZETAN ≈ 3.8% (uniform: 0.1%).
    expect(sorted[0][0]).toBe(fnvhash64Mod(0, n + 1));
    expect(sorted[0][1] / N).toBeGreaterThan(0.03);
  });

  it('zipfian sizes its key space for expected inserts (expectednewkeys) and skips keys not inserted yet', () => {
    // 1000 ops × 0.5 insert × 2 = 1000 expected new keys: the chooser spans [0, 2000].
    const wl = workload({
      recordcount: '1000',
      operationcount: '1000',
      requestdistribution: 'zipfian',
      readproportion: '0.5',
      updateproportion: '0',
      insertproportion: '0.5',
      insertorder: 'ordered',
    });
    const inserted = new Set<number>();
    let readsOfNew = 0;
    for (let i = 0; i < 4000; i++) {
      const op = wl.nextOperation();
      const k = keynumOf(op.key);
      if (op.op === 'INSERT') {
        expect(k).toBe(1000 + inserted.size);
        inserted.add(k);
        wl.acknowledgeInsert(op);
      } else {
        expect(k < 1000 || inserted.has(k)).toBe(true);
        if (k >= 1000) readsOfNew++;
        expect(k).toBeLessThanOrEqual(2000);
      }
    }
    expect(readsOfNew).toBeGreaterThan(0);
  });

  it('hotspot sends hotspotopnfraction of operations to the first hotspotdatafraction of keys', () => {
    const wl = workload({ recordcount: '1000', requestdistribution: 'hotspot', hotspotdatafraction: '0.1', hotspotopnfraction: '0.7', insertorder: 'ordered' });
    let hot = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) if (keynumOf(wl.nextOperation().key) < 100) hot++;
    expect(within6Sigma(hot, 0.7, N)).toBe(true);
  });

  it('latest favours the newest records, and new inserts once acknowledged', () => {
    const wl = workload({ recordcount: '1000', requestdistribution: 'latest', readproportion: '1', updateproportion: '0', insertorder: 'ordered' });
    const N = 50_000;
    let newest = 0;
    let recent = 0;
    for (let i = 0; i < N; i++) {
      const k = keynumOf(wl.nextOperation().key);
      if (!(k >= 0 && k <= 999)) throw new Error(`out of range: ${k}`);
      if (k === 999) newest++;
      if (k >= 990) recent++;
    }
    expect(newest / N).toBeGreaterThan(0.1); // ≈ 1/zeta(999) ≈ 13%; uniform would be 0.1%
    expect(recent / N).toBeGreaterThan(0.3); // ≈ 40%; uniform 1%

    const mixed = workload({ recordcount: '1000', requestdistribution: 'latest', readproportion: '0.5', updateproportion: '0', insertproportion: '0.5', insertorder: 'ordered' });
    let last = 999;
    let readsOfLatest = 0;
    let reads = 0;
    for (let i = 0; i < N; i++) {
      const op = mixed.nextOperation();
      const k = keynumOf(op.key);
      if (op.op === 'INSERT') {
        expect(k).toBe(last + 1);
        last = k;
        mixed.acknowledgeInsert(op);
      } else {
        reads++;
        expect(k).toBeLessThanOrEqual(last);
        if (k === last) readsOfLatest++;
      }
    }
    expect(readsOfLatest / reads).toBeGreaterThan(0.05);
  });

  it('never reads a run-phase insert before it is acknowledged', () => {
    for (const dist of ['latest', 'zipfian', 'uniform', 'exponential']) {
      const wl = workload({ recordcount: '100', operationcount: '10000', requestdistribution: dist, readproportion: '0.5', updateproportion: '0', insertproportion: '0.5', insertorder: 'ordered' });
      const pending: Operation[] = [];
      const acked = new Set<number>();
      for (let i = 0; i < 5000; i++) {
        const op = wl.nextOperation();
        const k = keynumOf(op.key);
        if (op.op === 'INSERT') {
          pending.push(op);
          // Acknowledge in bursts and out of order.
          if (pending.length === 5) {
            for (const p of pending.reverse()) {
              wl.acknowledgeInsert(p);
              acked.add(keynumOf(p.key));
            }
            pending.length = 0;
          }
        } else {
          expect(k < 100 || acked.has(k), `${dist}: read of ${k}`).toBe(true);
        }
      }
    }
  });

  it('exponential favours recent records', () => {
    const wl = workload({ recordcount: '1000', requestdistribution: 'exponential', insertorder: 'ordered', readproportion: '1', updateproportion: '0' });
    let recentHalf = 0;
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const k = keynumOf(wl.nextOperation().key);
      expect(k >= 0 && k <= 999).toBe(true);
      if (k >= 500) recentHalf++;
    }
    expect(recentHalf / N).toBeGreaterThan(0.7);
  });

  it('acknowledgeInsert rejects non-inserts and unknown keys', () => {
    const wl = workload(loadWorkload('d').properties);
    expect(() => wl.acknowledgeInsert({ op: 'READ', key: 'user1' })).toThrow(/INSERT/);
    expect(() => wl.acknowledgeInsert({ op: 'INSERT', key: 'user1' })).toThrow(/not a pending insert/);
  });
});

describe('CoreWorkload: several threads', () => {
  it('load stripes partition [insertstart, insertstart + insertcount) exactly', () => {
    for (const [recordcount, insertstart, insertcount] of [[1000, 0, 1000], [1000, 100, 555], [7, 0, 7], [3, 0, 3]]) {
      for (let threads = 1; threads <= 8; threads++) {
        const s = settingsOf({ recordcount: String(recordcount), insertstart: String(insertstart), insertcount: String(insertcount), insertorder: 'ordered' });
        const all: number[] = [];
        const sizes: number[] = [];
        for (let t = 0; t < threads; t++) {
          const wl = new CoreWorkload(s, { seed: 1, threadId: t, threadCount: threads });
          const mine: number[] = [];
          for (let r = wl.nextLoadRecord(); r; r = wl.nextLoadRecord()) mine.push(keynumOf(r.key));
          expect(mine.length).toBe(wl.loadCount);
          // Contiguous.
          for (let i = 1; i < mine.length; i++) expect(mine[i]).toBe(mine[i - 1] + 1);
          sizes.push(mine.length);
          all.push(...mine);
        }
        expect(all).toEqual(Array.from({ length: insertcount }, (_, i) => insertstart + i));
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('loadStripe splits like YCSB splits operation counts', () => {
    expect([0, 1, 2].map((t) => loadStripe(0, 10, t, 3))).toEqual([
      { start: 0, count: 4 },
      { start: 4, count: 3 },
      { start: 7, count: 3 },
    ]);
  });

  it('hashed load keys of all threads are distinct and are the keys of 0..n-1', () => {
    const s = settingsOf({ recordcount: '500' });
    const keys = new Set<string>();
    for (let t = 0; t < 3; t++) {
      const wl = new CoreWorkload(s, { seed: 5, threadId: t, threadCount: 3 });
      for (let r = wl.nextLoadRecord(); r; r = wl.nextLoadRecord()) keys.add(r.key);
    }
    expect(keys).toEqual(new Set(Array.from({ length: 500 }, (_, i) => buildKeyName(i, 'hashed', 1))));
  });

  it('run-phase inserts of different threads never collide', () => {
    const s = settingsOf({ ...loadWorkload('d').properties, insertorder: 'ordered', readproportion: '0', insertproportion: '1' });
    const threads = 3;
    const seen = new Set<number>();
    for (let t = 0; t < threads; t++) {
      const wl = new CoreWorkload(s, { seed: 2, threadId: t, threadCount: threads });
      for (let k = 0; k < 50; k++) {
        const op = wl.nextOperation();
        expect(op.op).toBe('INSERT');
        const n = keynumOf(op.key);
        expect(n).toBe(1000 + t + k * threads);
        expect(seen.has(n)).toBe(false);
        seen.add(n);
        wl.acknowledgeInsert(op);
      }
    }
    expect(seen.size).toBe(150);
  });

  it("a thread's latest reads see its own acknowledged inserts and never another thread's", () => {
    const s = settingsOf({ recordcount: '1000', requestdistribution: 'latest', readproportion: '0.5', updateproportion: '0', insertproportion: '0.5', insertorder: 'ordered' });
    const wl = new CoreWorkload(s, { seed: 4, threadId: 1, threadCount: 4 });
    let newReads = 0;
    for (let i = 0; i < 5000; i++) {
      const op = wl.nextOperation();
      const k = keynumOf(op.key);
      if (op.op === 'INSERT') wl.acknowledgeInsert(op);
      else if (k >= 1000) {
        expect((k - 1000) % 4).toBe(1);
        newReads++;
      }
    }
    expect(newReads).toBeGreaterThan(0);
  });
});
