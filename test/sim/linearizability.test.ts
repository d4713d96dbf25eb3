import { describe, expect, it } from 'vitest';
import { checkHistory, checkKey, type HistoryOp, type RegisterInput, type RegisterOutput } from './linearizability.js';
import { seededRandom } from '../../src/model/prng.js';

const U = Infinity;
function op(client: number, call: number, ret: number, input: RegisterInput, output?: RegisterOutput, key = 'k'): HistoryOp {
  return { client, key, call, ret, input, output };
}
const put = (ver: number, val: string): RegisterInput => ({ kind: 'put', ver, val });
const cas = (expectVer: number | null, ver: number, val: string): RegisterInput => ({ kind: 'cas', expectVer, ver, val });
const read: RegisterInput = { kind: 'read' };
const del: RegisterInput = { kind: 'delete' };
const inc = (val: string): RegisterInput => ({ kind: 'increment', val });
const s = (ver: number, val: string) => ({ ver, val });

describe('linearizability checker: known histories', () => {
  it('sequential history that follows the model', () => {
    const h = [
      op(0, 1, 2, read, null),
      op(0, 3, 4, put(1, 'a')),
      op(0, 5, 6, read, s(1, 'a')),
      op(0, 7, 8, cas(1, 2, 'b'), 'ok'),
      op(0, 9, 10, cas(1, 3, 'c'), 'failed'),
      op(0, 11, 12, inc('d'), 'ok'),
      op(0, 13, 14, read, s(3, 'd')),
      op(0, 15, 16, del),
      op(0, 17, 18, inc('e'), 'failed'),
      op(0, 19, 20, read, null),
    ];
    expect(checkKey(h).ok).toBe(true);
  });

  it('a stale read after a completed write is not linearizable', () => {
    const h = [
      op(0, 1, 2, put(1, 'a')),
      op(0, 3, 4, put(2, 'b')),
      op(1, 5, 6, read, s(1, 'a')),
    ];
    const v = checkKey(h);
    expect(v.ok).toBe(false);
    expect(v.inconclusive).toBeUndefined();
  });

  it('a read concurrent with a write may see either value', () => {
    const base = [op(0, 1, 2, put(1, 'a')), op(0, 3, 10, put(2, 'b'))];
    expect(checkKey([...base, op(1, 4, 6, read, s(1, 'a'))]).ok).toBe(true);
    expect(checkKey([...base, op(1, 4, 6, read, s(2, 'b'))]).ok).toBe(true);
    expect(checkKey([...base, op(1, 4, 6, read, null)]).ok).toBe(false);
  });

  it('two reads may not see the new then the old value (no going back)', () => {
    const h = [
      op(0, 1, 2, put(1, 'a')),
      op(0, 3, 20, put(2, 'b')),
      op(1, 4, 5, read, s(2, 'b')),
      op(2, 6, 7, read, s(1, 'a')),
    ];
    expect(checkKey(h).ok).toBe(false);
    // Overlapping reads, though, may be ordered either way.
    const h2 = [
      op(0, 1, 2, put(1, 'a')),
      op(0, 3, 20, put(2, 'b')),
      op(1, 4, 8, read, s(2, 'b')),
      op(2, 6, 9, read, s(1, 'a')),
    ];
    expect(checkKey(h2).ok).toBe(true);
  });

  it('two successful compare-and-sets from the same version are not linearizable', () => {
    const h = [
      op(0, 1, 2, put(1, 'a')),
      op(1, 3, 6, cas(1, 2, 'b'), 'ok'),
      op(2, 4, 7, cas(1, 2, 'c'), 'ok'),
    ];
    expect(checkKey(h).ok).toBe(false);
    const h2 = [
      op(0, 1, 2, put(1, 'a')),
      op(1, 3, 6, cas(1, 2, 'b'), 'ok'),
      op(2, 4, 7, cas(1, 2, 'c'), 'failed'),
      op(2, 8, 9, read, s(2, 'b')),
    ];
    expect(checkKey(h2).ok).toBe(true);
  });

  it('a failed compare-and-set must have seen another version', () => {
    const h = [op(0, 1, 2, put(1, 'a')), op(1, 3, 4, cas(1, 2, 'b'), 'failed')];
    expect(checkKey(h).ok).toBe(false);
    const absent = [op(1, 3, 4, cas(null, 1, 'b'), 'failed')];
    expect(checkKey(absent).ok).toBe(false);
  });

  it('an unknown write may take effect late, after later operations of other clients', () => {
    const h = [
      op(0, 1, U, put(1, 'a')), // timed out
      op(1, 5, 6, read, null),
      op(1, 7, 8, read, s(1, 'a')), // took effect after the first read
      op(1, 9, 10, read, s(1, 'a')),
    ];
    expect(checkKey(h).ok).toBe(true);
  });

  it('an unknown write may never take effect', () => {
    const h = [op(0, 1, U, put(1, 'a')), op(1, 5, 6, read, null), op(1, 7, 8, read, null)];
    expect(checkKey(h).ok).toBe(true);
  });

  it('an unknown write takes effect at most once and not before its call', () => {
    const flipFlop = [
      op(0, 1, 2, put(1, 'a')),
      op(1, 3, U, put(2, 'b')),
      op(2, 4, 5, read, s(2, 'b')),
      op(2, 6, 7, put(3, 'c')),
      op(2, 8, 9, read, s(2, 'b')), // b again after c completed: b would apply twice
    ];
    expect(checkKey(flipFlop).ok).toBe(false);
    const early = [
      op(2, 1, 2, read, s(2, 'b')), // seen before the write was even sent
      op(1, 3, U, put(2, 'b')),
    ];
    expect(checkKey(early).ok).toBe(false);
  });

  it('an unknown compare-and-set applies only if its condition held', () => {
    const h = [
      op(0, 1, 2, put(1, 'a')),
      op(1, 3, U, cas(5, 6, 'x')), // version 5 never existed
      op(2, 10, 11, read, s(6, 'x')),
    ];
    expect(checkKey(h).ok).toBe(false);
    const ok = [
      op(0, 1, 2, put(1, 'a')),
      op(1, 3, U, cas(1, 2, 'x')),
      op(2, 10, 11, read, s(2, 'x')),
    ];
    expect(checkKey(ok).ok).toBe(true);
  });

  it('reports the offending key and an ordered prefix', () => {
    const h = [
      op(0, 1, 2, put(1, 'a'), undefined, 'k1'),
      op(0, 3, 4, read, s(1, 'a'), 'k1'),
      op(0, 1, 2, put(1, 'z'), undefined, 'k2'),
      op(0, 3, 4, read, null, 'k2'),
    ];
    const verdicts = checkHistory(h);
    expect(verdicts.map((v) => [v.key, v.ok])).toEqual([['k1', true], ['k2', false]]);
    expect(verdicts[1].longestLinearized?.length).toBeGreaterThan(0);
  });

  it('random sequential-register histories with overlapping intervals are linearizable; a corrupted read is caught', () => {
    // Generate by construction: run a real register, give each op a linearization point,
    // then widen its interval at random around that point.
    for (let seed = 1; seed <= 200; seed++) {
      const r = seededRandom(seed);
      let state: { ver: number; val: string } | null = null;
      const ops: HistoryOp[] = [];
      let t = 0;
      for (let i = 0; i < 40; i++) {
        t += 10;
        const x = r();
        let input: RegisterInput;
        let output: RegisterOutput;
        if (x < 0.35) {
          input = read;
          output = state;
        } else if (x < 0.55) {
          input = put(i, `v${i}`);
          state = { ver: i, val: `v${i}` };
          output = 'ok';
        } else if (x < 0.8) {
          const expectVer = r() < 0.7 && state ? state.ver : r() < 0.5 ? null : 999;
          input = cas(expectVer, i, `v${i}`);
          const matches = expectVer === null ? state === null : state !== null && state.ver === expectVer;
          if (matches) state = { ver: i, val: `v${i}` };
          output = matches ? 'ok' : 'failed';
        } else if (x < 0.9) {
          input = inc(`v${i}`);
          output = state ? 'ok' : 'failed';
          if (state) state = { ver: state.ver + 1, val: `v${i}` };
        } else {
          input = del;
          state = null;
          output = 'ok';
        }
        // call in (t-25, t), return in (t, t+25): neighbours overlap.
        const call = t - 1 - Math.floor(r() * 24);
        const unknown = input.kind !== 'read' && r() < 0.05;
        const ret = unknown ? U : t + 1 + Math.floor(r() * 24);
        ops.push(op(i % 4, call * 1000 + i, Number.isFinite(ret) ? ret * 1000 + i : ret, input, unknown ? undefined : output));
      }
      const v = checkKey(ops);
      expect(v.ok, `seed ${seed}`).toBe(true);
      // Corrupt one read that saw a value: claim it saw something never written.
      const k = ops.findIndex((o) => o.input.kind === 'read' && o.output !== null);
      if (k >= 0) {
        const bad = ops.map((o, i) => (i === k ? { ...o, output: { ver: 12345, val: 'never' } } : o));
        expect(checkKey(bad).ok, `seed ${seed}`).toBe(false);
      }
    }
  });
});
