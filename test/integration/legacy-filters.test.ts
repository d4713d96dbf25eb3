/** Query and Scan with the legacy QueryFilter / ScanFilter and ConditionalOperator. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { createRangeTable, expectDynamoError, openCluster } from './helpers.js';

let db: ShardBox;

beforeAll(async () => {
  db = await openCluster();
  await createRangeTable(db, 'events', 'N');
  for (let i = 1; i <= 6; i++) {
    await db.putItem({ TableName: 'events', Item: { pk: { S: 'a' }, sk: { N: String(i) }, kind: { S: i % 2 === 0 ? 'even' : 'odd' }, size: { N: String(i * 10) } } });
  }
});

afterAll(async () => {
  await db.close();
});

describe('legacy filters', () => {
  it('QueryFilter keeps matching items, counting what was scanned', async () => {
    const page = await db.query({
      TableName: 'events',
      ConsistentRead: true,
      KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'a' }] } },
      QueryFilter: { kind: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'even' }] } },
    });
    expect(page.Items!.map((i) => i.sk.N)).toEqual(['2', '4', '6']);
    expect(page.ScannedCount).toBe(6);
  });

  it('ConditionalOperator OR combines the conditions of a ScanFilter', async () => {
    // Strongly consistent: a follower may not have applied the last put yet.
    const page = await db.scan({
      TableName: 'events',
      ConsistentRead: true,
      ScanFilter: {
        size: { ComparisonOperator: 'LE', AttributeValueList: [{ N: '10' }] },
        sk: { ComparisonOperator: 'GE', AttributeValueList: [{ N: '6' }] },
      },
      ConditionalOperator: 'OR',
    });
    expect(page.Items!.map((i) => i.sk.N).sort()).toEqual(['1', '6']);
    const both = await db.scan({
      TableName: 'events',
      ConsistentRead: true,
      ScanFilter: {
        size: { ComparisonOperator: 'GT', AttributeValueList: [{ N: '20' }] },
        kind: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'odd' }] },
      },
    });
    expect(both.Items!.map((i) => i.sk.N).sort()).toEqual(['3', '5']);
  });

  it('refuses a filter mixed with expressions, and a ConditionalOperator that is neither AND nor OR', async () => {
    await expectDynamoError(db.scan({
      TableName: 'events',
      ScanFilter: { kind: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'odd' }] } },
      FilterExpression: 'size > :s',
      ExpressionAttributeValues: { ':s': { N: '1' } },
    }), 'ValidationException', /Can not use both expression and non-expression parameters in the same request: Non-expression parameters: \{ScanFilter\} Expression parameters: \{FilterExpression\}/);
    await expectDynamoError(db.scan({
      TableName: 'events',
      ScanFilter: { kind: { ComparisonOperator: 'EQ', AttributeValueList: [{ S: 'odd' }] } },
      ConditionalOperator: 'XOR' as 'OR',
    }), 'ValidationException', /Member must satisfy enum value set: \[OR, AND\]/);
  });
});
