import { describe, expect, it } from 'vitest';
import {
  AcknowledgedCounterGenerator,
  CounterGenerator,
  DiscreteGenerator,
  ExponentialGenerator,
  HotspotIntegerGenerator,
  Rng,
  ScrambledZipfianGenerator,
  SkewedLatestGenerator,
  UniformLongGenerator,
  ZipfianGenerator,
  fnvhash64Decimal,
  fnvhash64Mod,
  randomByteString,
  zeta,
} from '../../bench/ycsb/generators.js';
import { buildKeyName, fnvhash64 } from '../../bench/ycsb/workload.js';

/** Plain FNV-1a 64 over bytes (the textbook definition), in BigInt. */
function fnv1a64(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

/** YCSB's Utils.fnvhash64 from its definition: FNV-1a of the long's 8 bytes, low byte
 *  first, read as a signed long, then Math.abs (which leaves Long.MIN_VALUE alone). */
function ycsbReference(value: number): bigint {
  const bytes = new Uint8Array(8);
  let v = BigInt.asUintN(64, BigInt(value));
  for (let i = 0; i < 8; i++) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  const signed = BigInt.asIntN(64, fnv1a64(bytes));
  if (signed === -(1n << 63n)) return signed;
  return signed < 0n ? -signed : signed;
}

/** 6-sigma band for a binomial proportion: generous enough never to flake, tight enough to fail. */
function within6Sigma(observed: number, p: number, n: number): boolean {
  return Math.abs(observed / n - p) <= 6 * Math.sqrt((p * (1 - p)) / n);
}

describe('FNV-64 (YCSB Utils.fnvhash64)', () => {
  it('the reference FNV-1a matches the published test vectors', () => {
    const enc = new TextEncoder();
    expect(fnv1a64(enc.encode(''))).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(enc.encode('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64(enc.encode('foobar'))).toBe(0x85944171f73967e8n);
  });

  it('matches the reference for small, large and negative longs', () => {
    const rng = new Rng(99);
    const values = [0, 1, 2, 255, 256, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, 10000000000, 2 ** 53 - 1, -1, -2, -(2 ** 40)];
    for (let i = 0; i < 2000; i++) values.push(Math.floor(rng.nextDouble() * 2 ** 53));
    for (let i = 0; i < 500; i++) values.push(rng.nextUint32());
    for (const v of values) {
      const ref = ycsbReference(v);
      expect(fnvhash64(v), `fnvhash64(${v})`).toBe(ref);
      expect(fnvhash64Decimal(v), `decimal(${v})`).toBe(ref.toString());
    }
  });

  it('gives the hashes YCSB gives (computed independently)', () => {
    // Python: FNV-1a over the 8 little-endian bytes, signed, abs.
    expect(fnvhash64(0)).toBe(6284781860667377211n);
    expect(fnvhash64(1)).toBe(8517097267634966620n);
    expect(fnvhash64(2)).toBe(1820151046732198393n);
    expect(fnvhash64(3)).toBe(4052466453699787802n);
    expect(fnvhash64(999)).toBe(2071219101098386137n);
    expect(fnvhash64(1000)).toBe(5952875239596136740n);
    expect(fnvhash64(123456789)).toBe(2350796791908741607n);
    expect(fnvhash64(2147483647)).toBe(627943977067101855n);
    expect(fnvhash64(1099511627781)).toBe(1624550441584281035n);
  });

  it('fnvhash64Mod is the hash modulo n, for small and huge n', () => {
    const rng = new Rng(5);
    const ns = [1, 2, 7, 1000, 1001, 123457, 2 ** 31 - 1, 10000000001, 2 ** 37 - 1, 2 ** 37, 2 ** 45 + 3];
    for (let i = 0; i < 300; i++) {
      const v = Math.floor(rng.nextDouble() * 10000000001);
      for (const n of ns) expect(fnvhash64Mod(v, n)).toBe(Number(ycsbReference(v) % BigInt(n)));
    }
  });
});

describe('buildKeyName', () => {
  it("builds YCSB's hashed keys", () => {
    expect(buildKeyName(0, 'hashed', 1)).toBe('user6284781860667377211');
    expect(buildKeyName(1, 'hashed', 1)).toBe('user8517097267634966620');
    expect(buildKeyName(999, 'hashed', 1)).toBe('user2071219101098386137');
    expect(buildKeyName(2147483647, 'hashed', 1)).toBe('user627943977067101855');
    expect(buildKeyName(2147483647, 'hashed', 20)).toBe('user00627943977067101855');
  });

  it('builds ordered keys with zero padding', () => {
    expect(buildKeyName(5, 'ordered', 1)).toBe('user5');
    expect(buildKeyName(5, 'ordered', 8)).toBe('user00000005');
    expect(buildKeyName(123456789, 'ordered', 8)).toBe('user123456789');
    expect(buildKeyName(0, 'ordered', 0)).toBe('user0');
  });
});

describe('Rng', () => {
  it('replays per (seed, stream) and differs across them', () => {
    const seq = (seed: number, stream: number) => {
      const r = new Rng(seed, stream);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(seq(1, 0)).toEqual(seq(1, 0));
    expect(seq(1, 0)).not.toEqual(seq(2, 0));
    expect(seq(1, 0)).not.toEqual(seq(1, 1));
    expect(seq(2 ** 40, 0)).not.toEqual(seq(0, 0));
  });

  it('nextDouble is in [0, 1) and nextBelow is uniform', () => {
    const r = new Rng(3);
    const n = 10;
    const counts = new Array<number>(n).fill(0);
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      const d = r.nextDouble();
      if (!(d >= 0 && d < 1)) throw new Error(`nextDouble out of range: ${d}`);
      counts[r.nextBelow(n)]++;
    }
    for (const c of counts) expect(within6Sigma(c, 1 / n, N)).toBe(true);
  });
});

describe('ZipfianGenerator', () => {
  const N = 1_000_000;
  const n = 1000;
  const rng = new Rng(7);
  const z = ZipfianGenerator.ofItems(rng, n);
  const counts = new Float64Array(n);
  for (let i = 0; i < N; i++) {
    const v = z.nextValue();
    counts[v]++;
  }
  const zetan = zeta(n, 0.99);

  it('stays within its items', () => {
    expect(counts.reduce((a, b) => a + b, 0)).toBe(N);
  });

  it('gives item 0 the share 1/zeta(n) and item 1 the share 0.5^θ/zeta(n)', () => {
    expect(within6Sigma(counts[0], 1 / zetan, N)).toBe(true);
    expect(within6Sigma(counts[1], Math.pow(0.5, 0.99) / zetan, N)).toBe(true);
  });

  it('has the rank/frequency slope of a Zipfian with θ = 0.99 on a log-log scale', () => {
    const slope = (a: number, b: number) => {
      let sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
      for (let r = a; r <= b; r++) {
        const x = Math.log(r + 1);
        const y = Math.log(counts[r] / N);
        sx += x; sy += y; sxx += x * x; sxy += x * y; m++;
      }
      return (m * sxy - sx * sy) / (m * sxx - sx * sx);
    };
    expect(slope(0, 99)).toBeGreaterThan(-1.08);
    expect(slope(0, 99)).toBeLessThan(-0.9);
    expect(slope(10, 500)).toBeGreaterThan(-1.08);
    expect(slope(10, 500)).toBeLessThan(-0.9);
  });

  it('honours min..max', () => {
    const g = new ZipfianGenerator(new Rng(1), 10, 19);
    for (let i = 0; i < 10_000; i++) {
      const v = g.nextValue();
      if (!(v >= 10 && v <= 19)) throw new Error(`out of range: ${v}`);
    }
  });

  it('grows its item count incrementally through nextLong(itemcount)', () => {
    const g = ZipfianGenerator.ofItems(new Rng(2), 100);
    let max = 0;
    for (let i = 0; i < 50_000; i++) max = Math.max(max, g.nextLong(200));
    expect(max).toBeGreaterThanOrEqual(100);
    expect(max).toBeLessThan(200);
  });
});

describe('ScrambledZipfianGenerator', () => {
  it('uses YCSB constants', () => {
    expect(ScrambledZipfianGenerator.ITEM_COUNT).toBe(10000000000);
    expect(ScrambledZipfianGenerator.ZETAN).toBe(26.46902820178302);
    expect(ScrambledZipfianGenerator.USED_ZIPFIAN_CONSTANT).toBe(0.99);
  });

  it('keeps keys within the range, with a hot key where fnvhash64(0) lands', () => {
    const min = 500;
    const max = 1499;
    const g = new ScrambledZipfianGenerator(new Rng(11), min, max);
    const counts = new Map<number, number>();
    const N = 400_000;
    for (let i = 0; i < N; i++) {
      const v = g.nextValue();
      if (!(v >= min && v <= max)) throw new Error(`out of range: ${v}`);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    // The underlying Zipfian's item 0 (share 1/ZETAN) maps to min + fnvhash64(0) % 1000.
    expect(sorted[0][0]).toBe(min + fnvhash64Mod(0, 1000));
    expect(sorted[0][1] / N).toBeGreaterThan(0.8 / ScrambledZipfianGenerator.ZETAN);
    // Skewed: the top 10 keys draw far more than 10 of 1000 uniform keys would (1%).
    const top10 = sorted.slice(0, 10).reduce((a, [, c]) => a + c, 0) / N;
    expect(top10).toBeGreaterThan(0.08); // ≈ Σ_{i<10} (i+1)^-0.99 / ZETAN ≈ 11%
    // Scrambled: the hot keys are not clustered at min.
    expect(sorted.slice(0, 10).some(([k]) => k > min + 100)).toBe(true);
  });
});

describe('other generators', () => {
  it('UniformLongGenerator covers [lb, ub] evenly', () => {
    const g = new UniformLongGenerator(new Rng(4), 5, 24);
    const counts = new Map<number, number>();
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      const v = g.nextValue();
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 5 + i));
    for (const c of counts.values()) expect(within6Sigma(c, 1 / 20, N)).toBe(true);
  });

  it('HotspotIntegerGenerator sends hotOpnFraction of draws to the lowest hotsetFraction of the range', () => {
    const g = new HotspotIntegerGenerator(new Rng(8), 0, 999, 0.2, 0.8);
    expect(g.hotInterval).toBe(200);
    expect(g.coldInterval).toBe(800);
    let hot = 0;
    const N = 200_000;
    for (let i = 0; i < N; i++) {
      const v = g.nextValue();
      if (!(v >= 0 && v <= 999)) throw new Error(`out of range: ${v}`);
      if (v < 200) hot++;
    }
    expect(within6Sigma(hot, 0.8, N)).toBe(true);
  });

  it('CounterGenerator and AcknowledgedCounterGenerator (out-of-order acknowledgements)', () => {
    const c = new CounterGenerator(10);
    expect([c.nextValue(), c.nextValue(), c.lastValue()]).toEqual([10, 11, 11]);
    const a = new AcknowledgedCounterGenerator(100);
    expect(a.lastValue()).toBe(99);
    const [x, y, z] = [a.nextValue(), a.nextValue(), a.nextValue()];
    expect([x, y, z]).toEqual([100, 101, 102]);
    a.acknowledge(101);
    expect(a.lastValue()).toBe(99);
    a.acknowledge(100);
    expect(a.lastValue()).toBe(101);
    a.acknowledge(102);
    expect(a.lastValue()).toBe(102);
  });

  it('SkewedLatestGenerator favours the newest items of its basis', () => {
    const basis = new AcknowledgedCounterGenerator(1000);
    const g = new SkewedLatestGenerator(new Rng(6), basis);
    let newest = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const v = g.nextValue();
      if (!(v >= 0 && v <= 999)) throw new Error(`out of range: ${v}`);
      if (v === 999) newest++;
    }
    // max - zipf(max): the Zipfian's item 0 is the newest item, share 1/zeta(999).
    expect(within6Sigma(newest, 1 / zeta(999, 0.99), N)).toBe(true);
    basis.acknowledge(basis.nextValue());
    let newer = 0;
    for (let i = 0; i < N; i++) if (g.nextValue() === 1000) newer++;
    expect(newer / N).toBeGreaterThan(0.1);
  });

  it('ExponentialGenerator puts percentile% of draws below range', () => {
    const g = new ExponentialGenerator(new Rng(9), 95, 1000);
    let below = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) if (g.nextValue() < 1000) below++;
    expect(within6Sigma(below, 0.95, N)).toBe(true);
  });

  it('DiscreteGenerator picks by weight', () => {
    const g = new DiscreteGenerator<string>(new Rng(10));
    g.addValue(0.25, 'x');
    g.addValue(0.75, 'y');
    let x = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) if (g.nextValue() === 'x') x++;
    expect(within6Sigma(x, 0.25, N)).toBe(true);
  });
});

describe('randomByteString (RandomByteIterator)', () => {
  it('has exactly the requested length', () => {
    const r = new Rng(1);
    for (let len = 0; len <= 20; len++) expect(randomByteString(r, len)).toHaveLength(len);
    expect(randomByteString(r, 10_000)).toHaveLength(10_000);
  });

  it("uses YCSB's per-position character ranges (masks 31, 63, 95, 31, 63, 95 above ' ')", () => {
    const r = new Rng(2);
    const masks = [31, 63, 95, 31, 63, 95];
    const seen = masks.map(() => new Set<number>());
    for (let i = 0; i < 2000; i++) {
      const s = randomByteString(r, 100);
      for (let j = 0; j < s.length; j++) {
        const c = s.charCodeAt(j) - 32;
        const m = masks[j % 6];
        if (!(c >= 0 && (c & m) === c)) throw new Error(`character ${c + 32} not allowed at position ${j}`);
        seen[j % 6].add(c);
      }
    }
    // Every allowed code shows up (2000 × 16 draws per position).
    expect(seen.map((s) => s.size)).toEqual([32, 64, 64, 32, 64, 64]);
  });

  it('differs from call to call', () => {
    const r = new Rng(3);
    expect(randomByteString(r, 100)).not.toBe(randomByteString(r, 100));
  });
});
