import { describe, expect, it } from 'vitest';
import { BURST_SECONDS, TokenBucket } from '../../src/model/token-bucket.js';

describe('TokenBucket', () => {
  it('starts with its burst credit, and refills at its rate up to burstSeconds of it', () => {
    const bucket = new TokenBucket(5, BURST_SECONDS, 0);
    expect(bucket.tokens).toBe(1500);
    let admitted = 0;
    while (bucket.tryTake(1, 0)) admitted++;
    expect(admitted).toBe(1500);
    expect(bucket.tryTake(1, 100)).toBe(false); // 0.5 units after 100 ms
    expect(bucket.tryTake(1, 200)).toBe(true); // 1 unit after 200 ms
    bucket.refill(10_000_000);
    expect(bucket.tokens).toBe(1500);
  });

  it('admits on an estimate while it holds one unit, and goes into debt for the real cost', () => {
    const bucket = new TokenBucket(10, 1, 0);
    expect(bucket.tryTake(4, 0)).toBe(true);
    expect(bucket.tryTake(4, 0)).toBe(true);
    expect(bucket.tokens).toBe(2);
    bucket.charge(7); // the real cost was 7 units more than estimated
    expect(bucket.tokens).toBe(-5);
    expect(bucket.canAdmit(0.5, 500)).toBe(false); // -5 + 5
    expect(bucket.canAdmit(0.5, 550)).toBe(true); // 0.5 units
    expect(bucket.canAdmit(1, 550)).toBe(false);
  });

  it('keeps its credit across a rate change, and serves an increase at once', () => {
    const bucket = new TokenBucket(5, 300, 0);
    while (bucket.tryTake(1, 0));
    bucket.setRate(1000, 300, 0);
    expect(bucket.tokens).toBeCloseTo(995);
    const lowered = new TokenBucket(100, 300, 0);
    lowered.setRate(10, 300, 0);
    expect(lowered.tokens).toBe(3000);
  });
});
