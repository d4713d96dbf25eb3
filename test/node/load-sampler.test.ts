import { describe, expect, it } from 'vitest';
import { encodeItemKey } from '../../src/model/key-encoding.js';
import { hashToHex, partitionHash } from '../../src/model/hash.js';
import { PartitionLoadSampler } from '../../src/node/load-sampler.js';

describe('PartitionLoadSampler', () => {
  it('keeps every request while the window has fewer than sampleSize, in arrival order', () => {
    const sampler = new PartitionLoadSampler({ sampleSize: 8 });
    for (let i = 0; i < 5; i++) sampler.recordHash(1000 + i, BigInt(100 - i), 1, 0, i);
    const obs = sampler.observe(1010);
    expect(obs.requests).toBe(5);
    expect(obs.samples.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(obs.samples.map((s) => s.hashHex)).toEqual([100, 99, 98, 97, 96].map((h) => hashToHex(BigInt(h))));
    expect(obs.samples.map((s) => s.sortPrefix)).toEqual([0, 1, 2, 3, 4]);
    expect(obs.readUnits).toBe(5);
    expect(obs.windowStartMs).toBe(1000);
  });

  it('samples each request of a long window about equally (a reservoir), within its bound', () => {
    const sampler = new PartitionLoadSampler({ sampleSize: 200, seed: 7 });
    // 20,000 requests: the first half on hash 1, the second on hash 2.
    for (let i = 0; i < 20_000; i++) sampler.recordHash(i, i < 10_000 ? 1n : 2n, 0, 1);
    const obs = sampler.observe(20_000);
    expect(obs.samples).toHaveLength(200);
    const early = obs.samples.filter((s) => s.hashHex === hashToHex(1n)).length;
    // Binomial(200, 0.5): 100 ± 35 is beyond 5 standard deviations.
    expect(early).toBeGreaterThan(65);
    expect(early).toBeLessThan(135);
    const seqs = obs.samples.map((s) => s.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('starts a new window after observe; the per-second history stays', () => {
    const sampler = new PartitionLoadSampler({ sampleSize: 4, historySeconds: 5 });
    sampler.recordHash(1_500, 1n, 2, 0);
    sampler.recordHash(2_100, 1n, 0, 3);
    sampler.recordHash(2_900, 1n, 0, 1);
    const first = sampler.observe(3_000);
    expect(first.perSecond).toEqual([
      { second: 1, readUnits: 2, writeUnits: 0 },
      { second: 2, readUnits: 0, writeUnits: 4 },
    ]);
    const second = sampler.observe(5_200);
    expect(second.requests).toBe(0);
    expect(second.samples).toEqual([]);
    // Seconds without traffic count as 0; at most historySeconds are kept.
    expect(second.perSecond).toEqual([
      { second: 1, readUnits: 2, writeUnits: 0 },
      { second: 2, readUnits: 0, writeUnits: 4 },
      { second: 3, readUnits: 0, writeUnits: 0 },
      { second: 4, readUnits: 0, writeUnits: 0 },
    ]);
    sampler.recordHash(9_000, 1n, 1, 0);
    // Second 4 is reused by second 9 in the ring: it must read as 0, not as second 4's.
    expect(sampler.observe(10_000).perSecond.map((s) => s.second)).toEqual([5, 6, 7, 8, 9]);
  });

  it('reads the hash out of a B-tree item key', () => {
    const key = { pk: { S: 'user42' } };
    const itemKey = encodeItemKey(7, { hashName: 'pk', hashType: 'S' }, key);
    const sampler = new PartitionLoadSampler();
    sampler.recordItemKey(0, itemKey, 1, 0);
    expect(sampler.observe(1).samples[0].hashHex).toBe(hashToHex(partitionHash(key.pk)));
  });

  it('names a bad option', () => {
    expect(() => new PartitionLoadSampler({ sampleSize: 0 })).toThrow('options.sampleSize must be a positive integer');
    expect(() => new PartitionLoadSampler({ historySeconds: 1.5 })).toThrow('options.historySeconds must be a positive integer');
  });
});

describe('PartitionLoadSampler.recordWriteEntry', () => {
  it('reads the hash out of a write\'s log entry, as the leader receives it', async () => {
    const { encodeWriteOp } = await import('../../src/storage/codec.js');
    const key = { pk: { S: 'user7' } };
    const itemKey = encodeItemKey(3, { hashName: 'pk', hashType: 'S' }, key);
    const entry = encodeWriteOp({ type: 'put', tableId: 3, key, item: { ...key, v: { S: 'x' } }, itemKey, returnValues: 'NONE' } as never);
    const sampler = new PartitionLoadSampler();
    sampler.recordWriteEntry(0, entry, 2);
    sampler.recordWriteEntry(0, new Uint8Array(4), 1);
    const obs = sampler.observe(1);
    expect(obs.samples).toEqual([{ hashHex: hashToHex(partitionHash(key.pk)), sortPrefix: 0, readUnits: 0, writeUnits: 2, seq: 1 }]);
  });
});
