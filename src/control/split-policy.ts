/**
 * When a partition splits, and where (DESIGN, "Splits"; the paper's section 4.3): a pure
 * decision over one window of the partition's traffic (a LoadObservation from its leader's
 * PartitionLoadSampler, src/node/load-sampler.ts) and its size.
 *
 *  1. Size: above `splitSizeBytes` it splits, whatever its traffic. Where is the split
 *     mechanism's choice (`atHashHex` undefined): it knows the data, the sample knows
 *     only the requests.
 *  2. Consumption: it splits when its consumed units stayed at or above
 *     `consumptionShare` of its node's capacity over the last `sustainSeconds` whole
 *     seconds (on average, and in most of the seconds each), at the hash point that halves the observed load (not the middle of
 *     its range: a hot range in one corner would stay on one side). Not when:
 *     - the load is one hot key (one hash; one item or one item collection): no hash
 *       point separates it, and the best split leaves more than `maxSideShare` of the load
 *       on one side;
 *     - the keys come in increasing (or decreasing) order, a sequential range: each new
 *       key lands at the end, so the hot spot would move to the new partition and the
 *       split would not help.
 *
 * The control plane (autoadmin) asks each leader for its observation every window, calls
 * `decideSplit`, and hands a split to the split mechanism (`db.splitPartition`).
 */
import { hashToHex, hexToHash } from '../model/hash.js';
import type { LoadObservation, LoadSample } from '../node/load-sampler.js';

export interface SplitPolicyConfig {
  /** A partition above this size splits (bytes). DynamoDB's is 10 GB. */
  splitSizeBytes: number;
  /** Units per second a storage node accepts (its node bucket's rate); a partition's
   *  consumption is measured against them. DynamoDB's partition limits are 3,000 RCU and
   *  1,000 WCU. */
  nodeReadUnitsPerSec: number;
  nodeWriteUnitsPerSec: number;
  /** The share of its node's capacity (0..1] a partition must consume to split, in reads
   *  or in writes, whichever is the larger share. */
  consumptionShare: number;
  /** Over how many whole seconds (a burst does not split a partition). */
  sustainSeconds: number;
  /** Fewer sampled requests than this: too little to place a split. */
  minSamples: number;
  /** A split that would leave more than this share (0.5..1) of the load on one side does
   *  not help enough: the load is one hot key. */
  maxSideShare: number;
  /** Consecutive sampled keys that increase (or decrease) in at least this share (0.5..1)
   *  of the pairs make a sequential range. */
  sequentialShare: number;
}

export const DEFAULT_SPLIT_POLICY: SplitPolicyConfig = {
  splitSizeBytes: 10 * 1024 ** 3,
  nodeReadUnitsPerSec: 3000,
  nodeWriteUnitsPerSec: 1000,
  consumptionShare: 0.5,
  sustainSeconds: 10,
  minSamples: 64,
  maxSideShare: 0.8,
  sequentialShare: 0.9,
};

/** The partition as the policy sees it: its hash range (inclusive, 16 hex digits) and
 *  its size. */
export interface PartitionView {
  hashStart: string;
  hashEnd: string;
  sizeBytes: number;
}

export type NoSplitReason = 'below-threshold' | 'too-few-samples' | 'hot-key' | 'sequential' | 'single-hash-range';

export type SplitDecision =
  /** `atHashHex`: the first hash of the upper half (the lower half ends just before it);
   *  undefined: the split mechanism picks (size splits). `lowerShare`: the observed load
   *  that falls below it (consumption splits). */
  | { split: true; reason: 'size' | 'consumption'; atHashHex: string | undefined; lowerShare?: number; detail: string }
  | { split: false; reason: NoSplitReason; detail: string };

/** The decision for one partition and one window of its traffic (see the module comment). */
export function decideSplit(partition: PartitionView, observation: LoadObservation, config: SplitPolicyConfig = DEFAULT_SPLIT_POLICY): SplitDecision {
  const start = hexToHash(partition.hashStart);
  const end = hexToHash(partition.hashEnd);
  if (end <= start) return { split: false, reason: 'single-hash-range', detail: 'the partition holds one hash value: nothing to split' };
  if (partition.sizeBytes > config.splitSizeBytes) {
    return { split: true, reason: 'size', atHashHex: undefined, detail: `${partition.sizeBytes} bytes > ${config.splitSizeBytes}` };
  }
  const sustained = sustainedConsumption(observation, config);
  if (!sustained.sustained) return { split: false, reason: 'below-threshold', detail: sustained.detail };
  if (observation.samples.length < config.minSamples) {
    return { split: false, reason: 'too-few-samples', detail: `${observation.samples.length} sampled requests < ${config.minSamples}` };
  }
  const point = loadSplitPoint(observation.samples, start, end, (s) => sampleWeight(s, config));
  if (point === undefined || point.largerShare > config.maxSideShare) {
    const top = hottestKeyShare(observation.samples, (s) => sampleWeight(s, config));
    return {
      split: false,
      reason: 'hot-key',
      detail: `one hash carries ${percent(top)} of the load; the best split leaves ${percent(point?.largerShare ?? 1)} on one side (> ${percent(config.maxSideShare)})`,
    };
  }
  const order = keyOrder(observation.samples);
  if (order.pairs > 0 && Math.max(order.increasing, order.decreasing) / order.pairs >= config.sequentialShare) {
    const direction = order.increasing >= order.decreasing ? 'increasing' : 'decreasing';
    return {
      split: false,
      reason: 'sequential',
      detail: `${percent(Math.max(order.increasing, order.decreasing) / order.pairs)} of consecutive sampled keys are ${direction}: a split would move the hot spot, not spread it`,
    };
  }
  return {
    split: true,
    reason: 'consumption',
    atHashHex: hashToHex(point.at),
    lowerShare: point.lowerShare,
    detail: `${sustained.detail}; ${percent(point.lowerShare)} of the observed load below ${hashToHex(point.at)}`,
  };
}

/** A request's share of its node's capacity (reads and writes on one scale). */
export function sampleWeight(sample: Pick<LoadSample, 'readUnits' | 'writeUnits'>, config: Pick<SplitPolicyConfig, 'nodeReadUnitsPerSec' | 'nodeWriteUnitsPerSec'>): number {
  return sample.readUnits / config.nodeReadUnitsPerSec + sample.writeUnits / config.nodeWriteUnitsPerSec;
}

/** Of the seconds of a sustain window, the share that must each be at or above the
 *  threshold: a second of jitter (a stall, a slow sync) does not reset the count, a short
 *  burst does not fill it. */
export const SUSTAINED_SECONDS_SHARE = 0.8;

/** Whether the last `sustainSeconds` whole seconds consumed at least `consumptionShare` of
 *  the node's read or write capacity: on average, and in SUSTAINED_SECONDS_SHARE of the
 *  seconds each. */
export function sustainedConsumption(observation: LoadObservation, config: SplitPolicyConfig): { sustained: boolean; detail: string } {
  const recent = observation.perSecond.slice(-config.sustainSeconds);
  if (recent.length < config.sustainSeconds) {
    return { sustained: false, detail: `${recent.length} s of history < ${config.sustainSeconds} s` };
  }
  const shares = recent.map((s) => Math.max(s.readUnits / config.nodeReadUnitsPerSec, s.writeUnits / config.nodeWriteUnitsPerSec));
  const mean = shares.reduce((a, b) => a + b, 0) / shares.length;
  const above = shares.filter((share) => share >= config.consumptionShare).length;
  const needed = Math.ceil(SUSTAINED_SECONDS_SHARE * config.sustainSeconds);
  const sustained = mean >= config.consumptionShare && above >= needed;
  return {
    sustained,
    detail: `consumption over the last ${config.sustainSeconds} s: ${percent(mean)} of the node's capacity on average, `
      + `${above} s at or above ${percent(config.consumptionShare)} (${sustained ? 'sustained' : `needs ${needed}`})`,
  };
}

/** The load per distinct hash, in hash order. */
function loadByHash(samples: readonly LoadSample[], weight: (s: LoadSample) => number): Array<{ hash: bigint; load: number }> {
  const byHex = new Map<string, number>();
  for (const s of samples) byHex.set(s.hashHex, (byHex.get(s.hashHex) ?? 0) + weight(s));
  return [...byHex].map(([hex, load]) => ({ hash: hexToHash(hex), load })).sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

/**
 * The hash point that splits the sampled load most evenly, within [start, end]: between
 * the last key below it and the first at or above it, halfway (so keys not sampled fall on
 * either side alike). Undefined when no point leaves load on both sides (one hash, or
 * none). `largerShare`: the share of the load on the heavier side.
 */
export function loadSplitPoint(
  samples: readonly LoadSample[],
  start: bigint,
  end: bigint,
  weight: (s: LoadSample) => number,
): { at: bigint; lowerShare: number; largerShare: number } | undefined {
  const keys = loadByHash(samples, weight).filter((k) => k.hash >= start && k.hash <= end);
  const total = keys.reduce((n, k) => n + k.load, 0);
  if (keys.length < 2 || total <= 0) return undefined;
  // Cut after key i (1 <= i+1 < keys.length): lower = keys[0..i].
  let best: { index: number; lower: number } | undefined;
  let lower = 0;
  for (let i = 0; i < keys.length - 1; i++) {
    lower += keys[i].load;
    const larger = Math.max(lower, total - lower);
    if (best === undefined || larger < Math.max(best.lower, total - best.lower)) best = { index: i, lower };
  }
  const below = keys[best!.index].hash;
  const above = keys[best!.index + 1].hash;
  const at = below + 1n + (above - below - 1n) / 2n;
  return { at, lowerShare: best!.lower / total, largerShare: Math.max(best!.lower, total - best!.lower) / total };
}

/** The share of the sampled load on its busiest hash. */
export function hottestKeyShare(samples: readonly LoadSample[], weight: (s: LoadSample) => number): number {
  const keys = loadByHash(samples, weight);
  const total = keys.reduce((n, k) => n + k.load, 0);
  return total <= 0 ? 0 : Math.max(...keys.map((k) => k.load)) / total;
}

/** Consecutive sampled requests (in arrival order) whose keys (hash, then sort-key
 *  prefix) went up, went down; repeats of one key are not pairs. */
export function keyOrder(samples: readonly LoadSample[]): { pairs: number; increasing: number; decreasing: number } {
  let pairs = 0;
  let increasing = 0;
  let decreasing = 0;
  const ordered = [...samples].sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1];
    const b = ordered[i];
    const c = a.hashHex < b.hashHex ? -1 : a.hashHex > b.hashHex ? 1 : a.sortPrefix - b.sortPrefix;
    if (c === 0) continue;
    pairs++;
    if (c < 0) increasing++;
    else decreasing++;
  }
  return { pairs, increasing, decreasing };
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
