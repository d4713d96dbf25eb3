/**
 * A port of YCSB's number generators (`site.ycsb.generator.*`), `Utils.fnvhash64` and
 * `RandomByteIterator` (brianfrankcooper/YCSB, core/src/main/java/site/ycsb/).
 *
 * The one systematic difference: YCSB draws from `ThreadLocalRandom` (or, for
 * ZipfianGenerator, a `Random`); here every generator draws from an explicit seeded
 * {@link Rng} (xoshiro128**), so a run replays exactly from its seed. Where YCSB computes
 * `Math.abs(random.nextLong()) % n` this uses `floor(nextDouble() * n)` (53 random bits;
 * uniform for every n used here, and free of YCSB's `Math.abs(Long.MIN_VALUE)` corner).
 * Everything else (constants, formulas, order of operations, YCSB's own quirks) is kept,
 * and noted where it is surprising.
 */

// ---------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------

const TWO_32 = 4294967296;
const TWO_53 = 9007199254740992;

function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * xoshiro128** (Blackman & Vigna), 32-bit state words so it runs on JS int32 ops.
 * Seeded through splitmix32 from (seed, stream): the same pair always yields the same
 * sequence; different streams (e.g. thread ids) yield unrelated sequences.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    if (!Number.isFinite(seed)) throw new Error(`Rng seed must be a finite number, got ${seed}`);
    const s = Math.trunc(seed);
    const lo = s >>> 0;
    const hi = Math.floor(s / TWO_32) >>> 0;
    let st = splitmix32(lo ^ splitmix32(hi ^ splitmix32((stream >>> 0) ^ 0x632be5ab)));
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      st = splitmix32(st + i * 0x6d2b79f5);
      words.push(st);
    }
    this.a = words[0] | 0;
    this.b = words[1] | 0;
    this.c = words[2] | 0;
    this.d = words[3] | 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniformly random unsigned 32-bit integer. */
  nextUint32(): number {
    const b5 = Math.imul(this.b, 5);
    const r = Math.imul((b5 << 7) | (b5 >>> 25), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = (this.d << 11) | (this.d >>> 21);
    return r;
  }

  /** A uniformly random signed 32-bit integer (Java's `nextInt()`). */
  nextInt32(): number {
    return this.nextUint32() | 0;
  }

  /** Uniform in [0, 1) with 53 random bits (Java's `nextDouble()`). */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / TWO_53;
  }

  /** Uniform integer in [0, n), n ≥ 1. */
  nextBelow(n: number): number {
    return Math.floor(this.nextDouble() * n);
  }
}

// ---------------------------------------------------------------------------------------
// FNV-64 (YCSB's Utils.fnvhash64)
// ---------------------------------------------------------------------------------------

export const FNV_OFFSET_BASIS_64 = 0xcbf29ce484222325n;
export const FNV_PRIME_64 = 1099511628211n;

// Result registers of fnvRaw: |hash| as four 16-bit limbs, L3 the most significant
// (module-level so the hot path allocates nothing).
let L0 = 0;
let L1 = 0;
let L2 = 0;
let L3 = 0;
/** True when the hash was Long.MIN_VALUE, which Java's Math.abs leaves negative. */
let H_MIN = false;

/**
 * YCSB's fnvhash64 on 16-bit limbs (every product stays far below 2^53): FNV-1a over the
 * 8 bytes of the long, low byte first (`octet = val & 0xff; val >>= 8; hash ^= octet;
 * hash *= prime`), then Math.abs of the signed result. Leaves |hash| in L3:L2:L1:L0.
 */
function fnvRaw(value: number): void {
  let lo: number;
  let hi: number;
  if (value >= 0 && value < TWO_32) {
    lo = value;
    hi = 0;
  } else {
    // Two's complement halves; exact for every integer double (|value| < 2^63).
    const h = Math.floor(value / TWO_32);
    lo = value - h * TWO_32;
    hi = h >>> 0;
  }
  // Offset basis 0xCBF29CE484222325.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < 8; i++) {
    h0 ^= i < 4 ? (lo >>> (i << 3)) & 0xff : (hi >>> ((i - 4) << 3)) & 0xff;
    // × 1099511628211 = 0x100_0000_01B3 (limbs 0x01B3, 0, 0x0100, 0), mod 2^64.
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + (t1 >>> 16) + h0 * 0x100;
    const t3 = h3 * 0x1b3 + (t2 >>> 16) + h1 * 0x100;
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  H_MIN = false;
  if (h3 >= 0x8000) {
    // Math.abs of a negative long: two's complement negation (~x + 1).
    let c = (~h0 & 0xffff) + 1;
    h0 = c & 0xffff;
    c = (c >>> 16) + (~h1 & 0xffff);
    h1 = c & 0xffff;
    c = (c >>> 16) + (~h2 & 0xffff);
    h2 = c & 0xffff;
    c = (c >>> 16) + (~h3 & 0xffff);
    h3 = c & 0xffff;
    H_MIN = h3 >= 0x8000; // only Long.MIN_VALUE stays negative
  }
  L0 = h0;
  L1 = h1;
  L2 = h2;
  L3 = h3;
}

const LONG_MIN_DECIMAL = '-9223372036854775808';
const PAD7 = ['0000000', '000000', '00000', '0000', '000', '00', '0', ''];

function pad7(x: number): string {
  const s = String(x);
  return PAD7[s.length] + s;
}

/** Decimal string of L3:L2:L1:L0 (< 2^63). */
function limbsToDecimal(): string {
  // Long division by 10^7, 16 bits at a time; every intermediate stays below 2^40.
  let r = L3;
  const q3 = Math.floor(r / 1e7);
  r -= q3 * 1e7;
  r = r * 65536 + L2;
  const q2 = Math.floor(r / 1e7);
  r -= q2 * 1e7;
  r = r * 65536 + L1;
  const q1 = Math.floor(r / 1e7);
  r -= q1 * 1e7;
  r = r * 65536 + L0;
  const q0 = Math.floor(r / 1e7);
  r -= q0 * 1e7;
  const q = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0; // < 2^63 / 10^7 < 2^40
  if (q === 0) return String(r);
  const a = Math.floor(q / 1e7);
  const b = q - a * 1e7;
  if (a === 0) return String(b) + pad7(r);
  return String(a) + pad7(b) + pad7(r);
}

function limbsToBigInt(): bigint {
  if (H_MIN) return -(1n << 63n);
  return (BigInt(L3) << 48n) | (BigInt(L2) << 32n) | (BigInt(L1) << 16n) | BigInt(L0);
}

/**
 * YCSB's `Utils.fnvhash64(long)` as a bigint: FNV-1a (offset basis 0xCBF29CE484222325,
 * prime 1099511628211) over the 8 bytes of `value` low byte first, then `Math.abs` of the
 * signed 64-bit result, so it is in [0, 2^63) (or -2^63, where Java's Math.abs overflows).
 * `value` must be an integer (a Java long; negative values hash their two's complement).
 */
export function fnvhash64(value: number): bigint {
  if (!Number.isInteger(value)) throw new Error(`fnvhash64 needs an integer, got ${value}`);
  fnvRaw(value);
  return limbsToBigInt();
}

/** `Long.toString(Utils.fnvhash64(value))`: the hot-path form used for key names (~130 ns). */
export function fnvhash64Decimal(value: number): string {
  fnvRaw(value);
  if (H_MIN) return LONG_MIN_DECIMAL;
  return limbsToDecimal();
}

/** `Utils.fnvhash64(value) % n` with Java's `%` (truncating), for n ≥ 1. */
export function fnvhash64Mod(value: number, n: number): number {
  fnvRaw(value);
  if (H_MIN || n >= 137438953472 /* 2^37 */) return Number(limbsToBigInt() % BigInt(n));
  // Horner over 16-bit limbs; r * 65536 + limb stays below 2^53 for n < 2^37.
  let r = L3 % n;
  r = (r * 65536 + L2) % n;
  r = (r * 65536 + L1) % n;
  return (r * 65536 + L0) % n;
}

// ---------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------

/** YCSB's NumberGenerator: nextValue() draws, lastValue() repeats the previous draw. */
export interface NumberGenerator {
  nextValue(): number;
  lastValue(): number;
}

/** ConstantIntegerGenerator. */
export class ConstantIntegerGenerator implements NumberGenerator {
  constructor(private readonly i: number) {}
  nextValue(): number {
    return this.i;
  }
  lastValue(): number {
    return this.i;
  }
}

/** CounterGenerator: countstart, countstart+1, …; lastValue() is the last one handed out. */
export class CounterGenerator implements NumberGenerator {
  protected counter: number;
  constructor(countstart: number) {
    this.counter = countstart;
  }
  nextValue(): number {
    return this.counter++;
  }
  lastValue(): number {
    return this.counter - 1;
  }
}

/**
 * AcknowledgedCounterGenerator: a CounterGenerator whose lastValue() is the highest value
 * below which every handed-out value has been acknowledged (so readers never see a key
 * whose insert has not finished). Same 2^20-slot window as YCSB.
 */
export class AcknowledgedCounterGenerator extends CounterGenerator {
  static readonly WINDOW_SIZE = 1 << 20;
  private window: Uint8Array | undefined;
  private limit: number;

  constructor(countstart: number) {
    super(countstart);
    this.limit = countstart - 1;
  }

  /** The highest acknowledged counter value (not the highest generated one). */
  override lastValue(): number {
    return this.limit;
  }

  /** Make a generated counter value available via lastValue(). */
  acknowledge(value: number): void {
    const size = AcknowledgedCounterGenerator.WINDOW_SIZE;
    const window = (this.window ??= new Uint8Array(size));
    const currentSlot = value % size;
    if (window[currentSlot]) throw new Error('Too many unacknowledged insertion keys.');
    window[currentSlot] = 1;
    // Move a contiguous sequence from the window over to the limit (at most one lap).
    let index = this.limit + 1;
    for (let steps = 0; steps < size; steps++, index++) {
      const slot = index % size;
      if (!window[slot]) break;
      window[slot] = 0;
    }
    this.limit = index - 1;
  }
}

/** UniformLongGenerator: uniform over [lb, ub] inclusive. */
export class UniformLongGenerator implements NumberGenerator {
  private readonly interval: number;
  private last: number;
  constructor(
    private readonly rng: Rng,
    private readonly lb: number,
    private readonly ub: number,
  ) {
    this.interval = ub - lb + 1;
    if (!(this.interval >= 1)) throw new Error(`UniformLongGenerator: empty interval [${lb}, ${ub}]`);
    this.last = lb;
  }
  nextValue(): number {
    const ret = this.rng.nextBelow(this.interval) + this.lb;
    this.last = ret;
    return ret;
  }
  lastValue(): number {
    return this.last;
  }
  mean(): number {
    return (this.lb + this.ub) / 2;
  }
}

export const ZIPFIAN_CONSTANT = 0.99;

const zetaCache = new Map<string, number>();

/** ZipfianGenerator.zetastatic(st, n, theta, initialsum): Σ_{i=st}^{n-1} 1/(i+1)^theta. */
export function zetastatic(st: number, n: number, theta: number, initialsum: number): number {
  let sum = initialsum;
  for (let i = st; i < n; i++) sum += 1 / Math.pow(i + 1, theta);
  return sum;
}

/** zetastatic(0, n, theta, 0), memoised (SkewedLatestGenerator computes it per thread). */
export function zeta(n: number, theta: number): number {
  const key = `${n}|${theta}`;
  let z = zetaCache.get(key);
  if (z === undefined) {
    z = zetastatic(0, n, theta, 0);
    zetaCache.set(key, z);
  }
  return z;
}

/**
 * ZipfianGenerator (Gray et al., "Quickly Generating Billion-Record Synthetic Databases",
 * SIGMOD 1994): items min..max, min the most popular, min+1 next, …. Growing the item
 * count through nextLong(itemcount) recomputes zeta incrementally; shrinking it is
 * ignored (YCSB's allowitemcountdecrease = false). As in YCSB, eta is recomputed with the
 * constructor's item count, and the constructor draws one value.
 */
export class ZipfianGenerator implements NumberGenerator {
  private readonly items: number;
  private readonly base: number;
  private readonly theta: number;
  private readonly zeta2theta: number;
  private readonly alpha: number;
  private readonly half: number;
  private zetan: number;
  private eta: number;
  private countforzeta: number;
  private last = 0;

  /** ZipfianGenerator(long items): items 0..items-1. */
  static ofItems(rng: Rng, items: number, zipfianconstant = ZIPFIAN_CONSTANT): ZipfianGenerator {
    return new ZipfianGenerator(rng, 0, items - 1, zipfianconstant);
  }

  /**
   * ZipfianGenerator(min, max, zipfianconstant[, zetan]): items min..max inclusive; pass
   * zetan when it is precomputed (ScrambledZipfianGenerator does).
   */
  constructor(
    private readonly rng: Rng,
    min: number,
    max: number,
    zipfianconstant = ZIPFIAN_CONSTANT,
    zetan?: number,
  ) {
    this.items = max - min + 1;
    this.base = min;
    this.theta = zipfianconstant;
    this.zeta2theta = zetastatic(0, 2, this.theta, 0);
    this.alpha = 1.0 / (1.0 - this.theta);
    this.half = 1.0 + Math.pow(0.5, this.theta);
    this.zetan = zetan ?? zeta(this.items, this.theta);
    this.countforzeta = this.items;
    this.eta = (1 - Math.pow(2.0 / this.items, 1 - this.theta)) / (1 - this.zeta2theta / this.zetan);
    this.nextValue();
  }

  /** The next item, drawn from `itemcount` items (≥ the constructor's count to grow). */
  nextLong(itemcount: number): number {
    if (itemcount !== this.countforzeta && itemcount > this.countforzeta) {
      // More items: compute zetan incrementally (cheap).
      this.zetan = zetastatic(this.countforzeta, itemcount, this.theta, this.zetan);
      this.countforzeta = itemcount;
      this.eta = (1 - Math.pow(2.0 / this.items, 1 - this.theta)) / (1 - this.zeta2theta / this.zetan);
    }
    const u = this.rng.nextDouble();
    const uz = u * this.zetan;
    let ret: number;
    if (uz < 1.0) ret = this.base;
    else if (uz < this.half) ret = this.base + 1;
    else ret = this.base + Math.floor(itemcount * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    this.last = ret;
    return ret;
  }

  nextValue(): number {
    return this.nextLong(this.items);
  }

  lastValue(): number {
    return this.last;
  }
}

/**
 * ScrambledZipfianGenerator: a Zipfian over ITEM_COUNT items (with the precomputed ZETAN),
 * hashed with fnvhash64 and folded into min..max, so the popular items are scattered over
 * the range rather than clustered at min.
 */
export class ScrambledZipfianGenerator implements NumberGenerator {
  static readonly ZETAN = 26.46902820178302;
  static readonly USED_ZIPFIAN_CONSTANT = 0.99;
  static readonly ITEM_COUNT = 10000000000;

  private readonly gen: ZipfianGenerator;
  private readonly itemcount: number;
  private last: number;

  constructor(
    rng: Rng,
    private readonly min: number,
    private readonly max: number,
    zipfianconstant = ZIPFIAN_CONSTANT,
  ) {
    this.itemcount = max - min + 1;
    if (!(this.itemcount >= 1)) throw new Error(`ScrambledZipfianGenerator: empty interval [${min}, ${max}]`);
    if (zipfianconstant !== ScrambledZipfianGenerator.USED_ZIPFIAN_CONSTANT) {
      // YCSB would compute zeta over 10^10 items here (hours); not supported.
      throw new Error(
        `ScrambledZipfianGenerator supports only the zipfian constant ${ScrambledZipfianGenerator.USED_ZIPFIAN_CONSTANT}`,
      );
    }
    this.gen = new ZipfianGenerator(
      rng,
      0,
      ScrambledZipfianGenerator.ITEM_COUNT,
      zipfianconstant,
      ScrambledZipfianGenerator.ZETAN,
    );
    this.last = min;
  }

  nextValue(): number {
    const ret = this.min + fnvhash64Mod(this.gen.nextValue(), this.itemcount);
    this.last = ret;
    return ret;
  }

  lastValue(): number {
    return this.last;
  }

  /** The values are scrambled (hopefully uniformly): the middle of the range. */
  mean(): number {
    return (this.min + this.max) / 2.0;
  }
}

/**
 * SkewedLatestGenerator: `basis.lastValue() - zipfian.nextLong(basis.lastValue())`, a
 * Zipfian that favours the items most recently made visible by the basis counter. As in
 * YCSB the Zipfian is sized from the basis's lastValue() at construction, so with a basis
 * whose lastValue() is L it returns values in [1, L] (item 0 only once L has grown).
 */
export class SkewedLatestGenerator implements NumberGenerator {
  private readonly zipfian: ZipfianGenerator;
  private last = 0;

  constructor(
    rng: Rng,
    private readonly basis: { lastValue(): number },
  ) {
    this.zipfian = ZipfianGenerator.ofItems(rng, this.basis.lastValue());
    this.nextValue();
  }

  nextValue(): number {
    const max = this.basis.lastValue();
    const next = max - this.zipfian.nextLong(max);
    this.last = next;
    return next;
  }

  lastValue(): number {
    return this.last;
  }
}

/**
 * HotspotIntegerGenerator: a fraction hotOpnFraction of draws is uniform over the hot set
 * (the lowest floor(interval * hotsetFraction) values of [lowerBound, upperBound]), the
 * rest uniform over the cold set. Like YCSB, fractions outside [0, 1] become 0 and swapped
 * bounds are swapped back. Where YCSB would divide by zero (an empty hot or cold set) this
 * draws from the other set.
 */
export class HotspotIntegerGenerator implements NumberGenerator {
  readonly lowerBound: number;
  readonly upperBound: number;
  readonly hotInterval: number;
  readonly coldInterval: number;
  readonly hotsetFraction: number;
  readonly hotOpnFraction: number;
  private last: number;

  constructor(
    private readonly rng: Rng,
    lowerBound: number,
    upperBound: number,
    hotsetFraction: number,
    hotOpnFraction: number,
  ) {
    if (!(hotsetFraction >= 0 && hotsetFraction <= 1)) hotsetFraction = 0;
    if (!(hotOpnFraction >= 0 && hotOpnFraction <= 1)) hotOpnFraction = 0;
    if (lowerBound > upperBound) [lowerBound, upperBound] = [upperBound, lowerBound];
    this.lowerBound = lowerBound;
    this.upperBound = upperBound;
    this.hotsetFraction = hotsetFraction;
    const interval = upperBound - lowerBound + 1;
    this.hotInterval = Math.trunc(interval * hotsetFraction);
    this.coldInterval = interval - this.hotInterval;
    this.hotOpnFraction = hotOpnFraction;
    this.last = lowerBound;
  }

  nextValue(): number {
    let value: number;
    const hot = this.rng.nextDouble() < this.hotOpnFraction;
    if ((hot && this.hotInterval > 0) || this.coldInterval === 0) {
      value = this.lowerBound + this.rng.nextBelow(this.hotInterval);
    } else {
      value = this.lowerBound + this.hotInterval + this.rng.nextBelow(this.coldInterval);
    }
    this.last = value;
    return value;
  }

  lastValue(): number {
    return this.last;
  }

  mean(): number {
    return (
      this.hotOpnFraction * (this.lowerBound + this.hotInterval / 2.0) +
      (1 - this.hotOpnFraction) * (this.lowerBound + this.hotInterval + this.coldInterval / 2.0)
    );
  }
}

/**
 * ExponentialGenerator(percentile, range): `percentile`% of the draws fall below `range`
 * (gamma = -ln(1 - percentile/100) / range); draws are -ln(u)/gamma (doubles).
 */
export class ExponentialGenerator implements NumberGenerator {
  private readonly gamma: number;
  private last = 0;
  constructor(
    private readonly rng: Rng,
    percentile: number,
    range: number,
  ) {
    this.gamma = -Math.log(1.0 - percentile / 100.0) / range;
  }
  nextValue(): number {
    const v = -Math.log(this.rng.nextDouble()) / this.gamma;
    this.last = v;
    return v;
  }
  lastValue(): number {
    return this.last;
  }
  mean(): number {
    return 1.0 / this.gamma;
  }
}

/** DiscreteGenerator: picks one of the added values with probability weight / Σweights. */
export class DiscreteGenerator<T> {
  private readonly values: Array<{ weight: number; value: T }> = [];
  constructor(private readonly rng: Rng) {}

  addValue(weight: number, value: T): void {
    this.values.push({ weight, value });
  }

  nextValue(): T {
    let sum = 0;
    for (const p of this.values) sum += p.weight;
    let val = this.rng.nextDouble();
    for (const p of this.values) {
      const pw = p.weight / sum;
      if (val < pw) return p.value;
      val -= pw;
    }
    // Only reachable through rounding (val ≈ 1): YCSB throws "oops"; take the last value.
    if (this.values.length === 0) throw new Error('DiscreteGenerator has no values');
    return this.values[this.values.length - 1].value;
  }
}

// ---------------------------------------------------------------------------------------
// RandomByteIterator
// ---------------------------------------------------------------------------------------

let scratch = Buffer.allocUnsafe(4096);

/**
 * The contents of YCSB's `new RandomByteIterator(len).toArray()` as a string: every 6
 * bytes come from one random int, byte k being `' ' + ((bits >> 5k) & mask_k)` with masks
 * 31, 63, 95, 31, 63, 95. So the characters are ASCII 32..127 (as in YCSB, 127, DEL, is
 * possible), one UTF-8 byte each. ~150 ns for 100 characters.
 */
export function randomByteString(rng: Rng, len: number): string {
  if (len <= 0) return '';
  if (len > scratch.length) scratch = Buffer.allocUnsafe(Math.max(len, scratch.length * 2));
  const buf = scratch;
  let i = 0;
  for (; i + 6 <= len; i += 6) {
    const bits = rng.nextInt32();
    buf[i] = (bits & 31) + 32;
    buf[i + 1] = ((bits >> 5) & 63) + 32;
    buf[i + 2] = ((bits >> 10) & 95) + 32;
    buf[i + 3] = ((bits >> 15) & 31) + 32;
    buf[i + 4] = ((bits >> 20) & 63) + 32;
    buf[i + 5] = ((bits >> 25) & 95) + 32;
  }
  if (i < len) {
    // YCSB fills a short tail from positions 0.. of one more int (its switch falls through).
    const bits = rng.nextInt32();
    const left = len - i;
    buf[i] = (bits & 31) + 32;
    if (left > 1) buf[i + 1] = ((bits >> 5) & 63) + 32;
    if (left > 2) buf[i + 2] = ((bits >> 10) & 95) + 32;
    if (left > 3) buf[i + 3] = ((bits >> 15) & 31) + 32;
    if (left > 4) buf[i + 4] = ((bits >> 20) & 63) + 32;
  }
  return buf.toString('latin1', 0, len);
}
