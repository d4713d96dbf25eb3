import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dynamoKeyOrderPrefix, dynamoNumberBytes } from '../../src/model/hash.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe("DynamoDB's key order (items sharing an index key)", () => {
  it('lays numbers out as DynamoDB does: an exponent byte, base-100 pairs +1, negatives complemented with a 102 end byte', () => {
    // Vectors from dynalite's numToBuffer, which reproduces DynamoDB's order.
    expect(hex(dynamoNumberBytes('0'))).toBe('80');
    expect(hex(dynamoNumberBytes('1'))).toBe('c102');
    expect(hex(dynamoNumberBytes('-1'))).toBe('3e6466');
    expect(hex(dynamoNumberBytes('12.3456'))).toBe('c10d2339');
    expect(hex(dynamoNumberBytes('-0.09'))).toBe('3f5c66');
    expect(hex(dynamoNumberBytes('999.9'))).toBe('c20a645b');
    expect(hex(dynamoNumberBytes('1e10'))).toBe('c602');
    // The same number written differently lays out alike.
    expect(hex(dynamoNumberBytes('1.0E1'))).toBe(hex(dynamoNumberBytes('10')));
  });

  it('is the first 3 bytes of MD5 over "Outliers" and the key bytes', () => {
    const md5 = (...parts: Buffer[]): string => parts.reduce((h, p) => h.update(p), createHash('md5').update('Outliers')).digest('hex').slice(0, 6);
    expect(hex(dynamoKeyOrderPrefix({ S: 'a' }))).toBe(md5(Buffer.from('a')));
    expect(hex(dynamoKeyOrderPrefix({ S: 'a' }, { N: '5' }))).toBe(md5(Buffer.from('a'), Buffer.from(dynamoNumberBytes('5'))));
    expect(hex(dynamoKeyOrderPrefix({ B: Uint8Array.of(1, 2) }))).toBe(md5(Buffer.from([1, 2])));
  });
});
