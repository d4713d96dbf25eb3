import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateTableInput, ShardBox, Tag, UpdateTableInput } from '../../src/index.js';
import { createHashTable, expectDynamoError, openCluster } from './helpers.js';

let db: ShardBox;
const ARN = (table: string): string => `arn:aws:dynamodb:local:000000000000:table/${table}`;

function provisioned(name: string, read = 5, write = 5): CreateTableInput {
  return {
    TableName: name,
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    ProvisionedThroughput: { ReadCapacityUnits: read, WriteCapacityUnits: write },
  };
}

beforeAll(async () => {
  db = await openCluster({ partitions: 2 });
});

afterAll(async () => {
  await db?.close();
});

describe('UpdateTable', () => {
  it('changes provisioned throughput and records increases and decreases', async () => {
    const created = (await db.createTable(provisioned('thr', 5, 5))).TableDescription;
    // A table created PROVISIONED has no BillingModeSummary, as in DynamoDB.
    expect(created.BillingModeSummary).toBeUndefined();
    expect(created.ProvisionedThroughput).toEqual({ NumberOfDecreasesToday: 0, ReadCapacityUnits: 5, WriteCapacityUnits: 5 });

    const before = Date.now();
    const up = (await db.updateTable({ TableName: 'thr', ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 20 } })).TableDescription;
    expect(up.TableStatus).toBe('UPDATING');
    expect((await db.describeTable({ TableName: 'thr' })).Table.TableStatus).toBe('ACTIVE');
    expect(up.ProvisionedThroughput.ReadCapacityUnits).toBe(10);
    expect(up.ProvisionedThroughput.WriteCapacityUnits).toBe(20);
    expect(up.ProvisionedThroughput.LastIncreaseDateTime!.getTime()).toBeGreaterThanOrEqual(before);
    expect(up.ProvisionedThroughput.LastDecreaseDateTime).toBeUndefined();

    const down = (await db.updateTable({ TableName: 'thr', BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 3 } })).TableDescription;
    expect(down.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 10, WriteCapacityUnits: 3, NumberOfDecreasesToday: 1 });
    expect(down.ProvisionedThroughput.LastDecreaseDateTime).toBeInstanceOf(Date);
    expect(down.ProvisionedThroughput.LastIncreaseDateTime).toEqual(up.ProvisionedThroughput.LastIncreaseDateTime);

    const described = (await db.describeTable({ TableName: 'thr' })).Table;
    expect(described.ProvisionedThroughput).toEqual(down.ProvisionedThroughput);
    expect(described.BillingModeSummary).toBeUndefined();

    await expectDynamoError(db.updateTable({ TableName: 'thr', ProvisionedThroughput: { ReadCapacityUnits: 10, WriteCapacityUnits: 3 } }), 'ValidationException',
      'The provisioned throughput for the table will not change. The requested value equals the current value. '
      + 'Current ReadCapacityUnits provisioned for the table: 10. Requested ReadCapacityUnits: 10. '
      + 'Current WriteCapacityUnits provisioned for the table: 3. Requested WriteCapacityUnits: 3. '
      + 'Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.');
    // Items are untouched by throughput changes.
    await db.putItem({ TableName: 'thr', Item: { id: { S: 'still-here' } } });
    expect((await db.getItem({ TableName: 'thr', Key: { id: { S: 'still-here' } }, ConsistentRead: true })).Item).toBeDefined();
  });

  it('switches billing mode both ways with DynamoDB validation', async () => {
    await db.createTable(provisioned('billing', 4, 4));
    await expectDynamoError(db.updateTable({ TableName: 'billing', BillingMode: 'PAY_PER_REQUEST', ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } }),
      'ValidationException', 'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');

    const before = Date.now();
    const ppr = (await db.updateTable({ TableName: 'billing', BillingMode: 'PAY_PER_REQUEST' })).TableDescription;
    expect(ppr.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(ppr.BillingModeSummary?.LastUpdateToPayPerRequestDateTime!.getTime()).toBeGreaterThanOrEqual(before);
    expect(ppr.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 0, WriteCapacityUnits: 0 });

    // Asking for on-demand again is a no-op; throughput on an on-demand table is refused.
    expect((await db.updateTable({ TableName: 'billing', BillingMode: 'PAY_PER_REQUEST' })).TableDescription.BillingModeSummary).toEqual(ppr.BillingModeSummary);
    await expectDynamoError(db.updateTable({ TableName: 'billing', ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 2 } }),
      'ValidationException', 'One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST');
    await expectDynamoError(db.updateTable({ TableName: 'billing', BillingMode: 'PROVISIONED' }),
      'ValidationException', 'One or more parameter values were invalid: ProvisionedThroughput must be specified when BillingMode is PROVISIONED');

    const back = (await db.updateTable({ TableName: 'billing', BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 4 } })).TableDescription;
    expect(back.BillingModeSummary).toEqual({ BillingMode: 'PROVISIONED', LastUpdateToPayPerRequestDateTime: ppr.BillingModeSummary!.LastUpdateToPayPerRequestDateTime });
    expect(back.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 4, WriteCapacityUnits: 4 });
    expect((await db.describeTable({ TableName: 'billing' })).Table.BillingModeSummary?.BillingMode).toBe('PROVISIONED');

    // A table created on-demand switches to provisioned and keeps its summary.
    await createHashTable(db, 'ondemand');
    const switched = (await db.updateTable({ TableName: 'ondemand', BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } })).TableDescription;
    expect(switched.BillingModeSummary?.BillingMode).toBe('PROVISIONED');
    expect(switched.BillingModeSummary?.LastUpdateToPayPerRequestDateTime).toEqual(switched.CreationDateTime);
  });

  it('validates the request like DynamoDB', async () => {
    await db.createTable(provisioned('validate', 2, 2));
    await expectDynamoError(db.updateTable({ TableName: 'validate' }), 'ValidationException',
      'At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, '
      + 'MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required');
    await expectDynamoError(db.updateTable({ TableName: 'validate', GlobalSecondaryIndexUpdates: [] }), 'ValidationException', /^At least one of ProvisionedThroughput/);
    await expectDynamoError(db.updateTable({ TableName: 'validate', ProvisionedThroughput: {} as never }), 'ValidationException',
      "2 validation errors detected: Value null at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must not be null; "
      + "Value null at 'provisionedThroughput.readCapacityUnits' failed to satisfy constraint: Member must not be null");
    await expectDynamoError(db.updateTable({ TableName: 'validate', ProvisionedThroughput: { ReadCapacityUnits: 1_000_000_000_001, WriteCapacityUnits: -1 } }), 'ValidationException',
      "1 validation error detected: Value '-1' at 'provisionedThroughput.writeCapacityUnits' failed to satisfy constraint: Member must have value greater than or equal to 1");
    await expectDynamoError(db.updateTable({ TableName: 'validate', ProvisionedThroughput: { ReadCapacityUnits: 1_000_000_000_001, WriteCapacityUnits: 1_000_000_000_001 } }),
      'ValidationException', 'Given value 1000000000001 for ReadCapacityUnits is out of bounds');
    await expectDynamoError(db.updateTable({ TableName: 'validate', BillingMode: 'FREE' as never }), 'ValidationException',
      "1 validation error detected: Value 'FREE' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
    await expectDynamoError(db.updateTable({ TableName: 'nope', ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } }),
      'ResourceNotFoundException', 'Requested resource not found: Table: nope not found');
    await expectDynamoError(db.updateTable({ TableName: 'a', BillingMode: 'PAY_PER_REQUEST' }), 'ValidationException',
      'TableName must be at least 3 characters long and at most 255 characters long');
    await expectDynamoError(db.updateTable({ TableName: 'validate', StreamSpecification: { StreamEnabled: false } }), 'ValidationException',
      'Table has no stream to disable: TableName: validate');

    const unsupported: Array<Partial<UpdateTableInput>> = [
      { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' } },
      { SSESpecification: { Enabled: true } },
      { ReplicaUpdates: [{ Create: { RegionName: 'us-east-1' } }] },
      { TableClass: 'STANDARD_INFREQUENT_ACCESS' },
      { OnDemandThroughput: { MaxReadRequestUnits: 10 } },
      { WarmThroughput: { ReadUnitsPerSecond: 20000 } },
      { DeletionProtectionEnabled: true },
    ];
    for (const extra of unsupported) {
      await expectDynamoError(db.updateTable({ TableName: 'validate', ...extra }), 'ValidationException', /is not supported by shardbox yet/);
    }
    // Global secondary indexes are supported (test/integration/indexes.test.ts): an unknown one is not found.
    await expectDynamoError(db.updateTable({ TableName: 'validate', GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'gsi' } }] }),
      'ResourceNotFoundException', 'Requested resource not found: Index: gsi not found');
    // What shardbox tables already are is accepted as a no-op.
    expect((await db.updateTable({ TableName: 'validate', TableClass: 'STANDARD' })).TableDescription.ProvisionedThroughput.ReadCapacityUnits).toBe(2);
    // DynamoDB's answers leave out DeletionProtectionEnabled while it is false.
    expect((await db.updateTable({ TableName: 'validate', DeletionProtectionEnabled: false })).TableDescription.DeletionProtectionEnabled).toBeUndefined();
    // Nothing above changed the table.
    const table = (await db.describeTable({ TableName: 'validate' })).Table;
    expect(table.ProvisionedThroughput).toEqual({ NumberOfDecreasesToday: 0, ReadCapacityUnits: 2, WriteCapacityUnits: 2 });
  });

  it('enforces the per-table and account quotas DescribeLimits reports', async () => {
    const limits = await db.describeLimits();
    expect(limits).toEqual({ AccountMaxReadCapacityUnits: 80000, AccountMaxWriteCapacityUnits: 80000, TableMaxReadCapacityUnits: 40000, TableMaxWriteCapacityUnits: 40000 });

    await db.createTable(provisioned('quota-a', 1, 1));
    await expectDynamoError(db.updateTable({ TableName: 'quota-a', ProvisionedThroughput: { ReadCapacityUnits: 40001, WriteCapacityUnits: 1 } }), 'LimitExceededException',
      'The requested ReadCapacityUnits, 40001, is above the per table maximum for the account in local. Per table maximum: 40000. '
      + 'Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.');
    await expectDynamoError(db.createTable(provisioned('quota-x', 1, 40001)), 'LimitExceededException', /^The requested WriteCapacityUnits, 40001, is above the per table maximum/);

    await db.updateTable({ TableName: 'quota-a', ProvisionedThroughput: { ReadCapacityUnits: 40000, WriteCapacityUnits: 1 } });
    // The other provisioned tables of this file hold a few units each: 40,000 more is too many.
    await expectDynamoError(db.createTable(provisioned('quota-b', 40000, 1)), 'LimitExceededException',
      /^This request would have caused the ReadCapacityUnits limit to be exceeded for the account in local\. Current ReadCapacityUnits reserved by the account: \d+\. Limit: 80000\. Requested: 40000\./);
    await expectDynamoError(db.describeTable({ TableName: 'quota-b' }), 'ResourceNotFoundException');
    await db.deleteTable({ TableName: 'quota-a' });
    await db.createTable(provisioned('quota-b', 40000, 1));
    await db.deleteTable({ TableName: 'quota-b' });
  });

  it('allows 4 decreases per UTC day, then one an hour', async () => {
    const day = new Date().toISOString().slice(0, 10);
    await db.createTable(provisioned('decrease', 100, 100));
    for (let i = 1; i <= 4; i++) {
      const table = (await db.updateTable({ TableName: 'decrease', ProvisionedThroughput: { ReadCapacityUnits: 100 - i, WriteCapacityUnits: 100 } })).TableDescription;
      if (new Date().toISOString().slice(0, 10) !== day) return; // the UTC day turned: the count restarted
      expect(table.ProvisionedThroughput.NumberOfDecreasesToday).toBe(i);
    }
    // Increases are never limited.
    await db.updateTable({ TableName: 'decrease', ProvisionedThroughput: { ReadCapacityUnits: 96, WriteCapacityUnits: 200 } });
    let error: unknown;
    try {
      await db.updateTable({ TableName: 'decrease', ProvisionedThroughput: { ReadCapacityUnits: 96, WriteCapacityUnits: 199 } });
    } catch (e) {
      error = e;
    }
    if (new Date().toISOString().slice(0, 10) !== day) return;
    expect((error as Error).name).toBe('LimitExceededException');
    expect((error as Error).message).toMatch(new RegExp(
      '^Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day\\. After the first 4 decreases, each subsequent '
      + 'decrease in the same UTC day can be performed at most once every 3600 seconds\\. Number of decreases today: 4\\. '
      + 'Last decrease at (Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday), [A-Z][a-z]+ \\d{1,2}, \\d{4} \\d{1,2}:\\d{2}:\\d{2} [AP]M UTC\\. '
      + 'Next decrease can be made at .+ UTC$'));
    const table = (await db.describeTable({ TableName: 'decrease' })).Table;
    expect(table.ProvisionedThroughput).toMatchObject({ NumberOfDecreasesToday: 4, ReadCapacityUnits: 96, WriteCapacityUnits: 200 });
  });
});

describe('tags', () => {
  it('tags, lists in key order, overwrites and untags a table by ARN', async () => {
    await createHashTable(db, 'tagged');
    const arn = (await db.describeTable({ TableName: 'tagged' })).Table.TableArn;
    expect(arn).toBe(ARN('tagged'));
    expect(await db.listTagsOfResource({ ResourceArn: arn })).toEqual({ Tags: [] });

    expect(await db.tagResource({ ResourceArn: arn, Tags: [{ Key: 'team', Value: 'data' }, { Key: 'env', Value: 'prod' }, { Key: ' ', Value: '' }] })).toEqual({});
    await db.tagResource({ ResourceArn: arn, Tags: [{ Key: 'env', Value: 'staging' }, { Key: 'ключ', Value: 'café 表 a+b-c=d.e_f:g/h@i' }] });
    expect((await db.listTagsOfResource({ ResourceArn: arn })).Tags).toEqual([
      { Key: ' ', Value: '' }, { Key: 'env', Value: 'staging' }, { Key: 'team', Value: 'data' }, { Key: 'ключ', Value: 'café 表 a+b-c=d.e_f:g/h@i' },
    ]);
    // Removing keys that are not there is fine.
    await db.untagResource({ ResourceArn: arn, TagKeys: ['env', 'absent', ' '] });
    expect((await db.listTagsOfResource({ ResourceArn: arn })).Tags).toEqual([{ Key: 'team', Value: 'data' }, { Key: 'ключ', Value: 'café 表 a+b-c=d.e_f:g/h@i' }]);
  });

  it('takes tags at CreateTable, all or nothing', async () => {
    const tags: Tag[] = [{ Key: 'b', Value: '2' }, { Key: 'a', Value: '1' }];
    await db.createTable({ ...provisioned('born-tagged'), Tags: tags });
    expect((await db.listTagsOfResource({ ResourceArn: ARN('born-tagged') })).Tags).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);

    const many = Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await expectDynamoError(db.createTable({ ...provisioned('too-many-tags'), Tags: many }), 'ValidationException', 'Number of Tags exceed the current limit for the provided ResourceArn');
    await expectDynamoError(db.createTable({ ...provisioned('bad-tag'), Tags: [{ Key: 'ok', Value: 'fine' }, { Key: 'a,b', Value: 'x' }] }), 'ValidationException', 'The Tag Key provided is invalid, Key: a,b');
    for (const name of ['too-many-tags', 'bad-tag']) await expectDynamoError(db.describeTable({ TableName: name }), 'ResourceNotFoundException');

    // A deleted table's tags go with it.
    await db.deleteTable({ TableName: 'born-tagged' });
    await expectDynamoError(db.listTagsOfResource({ ResourceArn: ARN('born-tagged') }), 'ResourceNotFoundException');
    await db.createTable(provisioned('born-tagged'));
    expect((await db.listTagsOfResource({ ResourceArn: ARN('born-tagged') })).Tags).toEqual([]);
  });

  it('enforces DynamoDB tag limits, all or nothing', async () => {
    await createHashTable(db, 'limits');
    const arn = ARN('limits');
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${String(i).padStart(2, '0')}`, Value: `v${i}` }));
    await db.tagResource({ ResourceArn: arn, Tags: fifty });
    // Upserting existing keys at 50 is fine; a 51st key is not (checked after merging).
    await db.tagResource({ ResourceArn: arn, Tags: [{ Key: 'k00', Value: 'new' }] });
    const tooMany = 'Number of Tags exceed the current limit for the provided ResourceArn';
    await expectDynamoError(db.tagResource({ ResourceArn: arn, Tags: [{ Key: 'k01', Value: 'changed' }, { Key: 'k50', Value: 'x' }] }), 'ValidationException', tooMany);
    await expectDynamoError(db.untagResource({ ResourceArn: arn, TagKeys: Array.from({ length: 51 }, (_, i) => `x${i}`) }), 'ValidationException', tooMany);
    const listed = await db.listTagsOfResource({ ResourceArn: arn });
    expect(listed.Tags.length).toBe(50);
    expect(listed.NextToken).toBeUndefined();
    expect(listed.Tags[0]).toEqual({ Key: 'k00', Value: 'new' });
    expect(listed.Tags[1]).toEqual({ Key: 'k01', Value: 'v1' });

    const cases: Array<[Tag[], string]> = [
      [[{ Key: 'k'.repeat(129), Value: 'v' }], `The Tag Key provided is invalid, Key: ${'k'.repeat(129)}`],
      [[{ Key: '', Value: 'v' }], 'The Tag Key provided is invalid, Key: '],
      [[{ Key: 'ok', Value: 'v'.repeat(257) }], `The Tag Value provided is invalid, Value: ${'v'.repeat(257)}`],
      [[{ Key: 'ok' } as Tag], 'The Tag Value provided is invalid, Value: null'],
      [[{ Value: 'v' } as Tag], 'The Tag Key provided is invalid, Key: null'],
      [[{ Key: 'ok', Value: '100%' }], 'The Tag Value provided is invalid, Value: 100%'],
      [[{ Key: '🔑', Value: 'v' }], 'The Tag Key provided is invalid, Key: 🔑'],
      [[{ Key: 'aws:zzz', Value: 'v' }], 'Tag Key cannot be prefixed with aws:, Key: aws:zzz'],
      [[{ Key: 'dup', Value: '1' }, { Key: 'dup', Value: '2' }], 'Duplicate Tag Keys provided as input: Duplicate Tag Key found dup'],
      [[], 'Atleast one Tag needs to be provided as Input.'],
    ];
    await db.untagResource({ ResourceArn: arn, TagKeys: fifty.map((t) => t.Key) });
    for (const [tags, message] of cases) {
      await expectDynamoError(db.tagResource({ ResourceArn: arn, Tags: [{ Key: 'good', Value: 'tag' }, ...tags].slice(tags.length === 0 ? 1 : 0) }), 'ValidationException', message);
    }
    expect((await db.listTagsOfResource({ ResourceArn: arn })).Tags).toEqual([]);
    await db.tagResource({ ResourceArn: arn, Tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] });
    await expectDynamoError(db.untagResource({ ResourceArn: arn, TagKeys: [] }), 'ValidationException', 'Atleast one Tag Key needs to be provided as Input.');
    await expectDynamoError(db.untagResource({ ResourceArn: arn, TagKeys: [''] }), 'ValidationException', 'The Tag Key provided is invalid, Key: ');
    await expectDynamoError(db.tagResource({ ResourceArn: arn } as never), 'ValidationException',
      "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
    await expectDynamoError(db.untagResource({ ResourceArn: arn } as never), 'ValidationException',
      "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null");
  });

  it('rejects malformed, foreign and unknown ARNs with DynamoDB errors', async () => {
    const tags = [{ Key: 'x', Value: 'y' }];
    const invalid = 'One or more parameter values were invalid: ';
    await expectDynamoError(db.tagResource({ Tags: tags } as never), 'ValidationException', 'Invalid TableArn');
    // What is no ARN at all is refused as IAM refuses it.
    await expectDynamoError(db.tagResource({ ResourceArn: 'I_do_not_exist', Tags: tags }), 'AccessDeniedException',
      'User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:TagResource on resource: I_do_not_exist');
    await expectDynamoError(db.tagResource({ ResourceArn: 'a:b:c:d:e:f/g', Tags: tags }), 'ValidationException', 'Invalid TableArn: Invalid ResourceArn provided as input a:b:c:d:e:f/g');
    await expectDynamoError(db.tagResource({ ResourceArn: 'arn:aws:s3:local:1:bucket/x', Tags: tags }), 'ValidationException', `${invalid}Provided Arn is not a DynamoDB resource arn: arn:aws:s3:local:1:bucket/x`);
    await expectDynamoError(db.listTagsOfResource({ ResourceArn: `${ARN('tagged')}/index/gsi` }), 'ValidationException',
      `${invalid}Invalid resource arn provided, only table or stream is accepted. Provided resource arn: ${ARN('tagged')}/index/gsi`);
    const foreign = 'arn:aws:dynamodb:us-east-1:123456789012:table/tagged';
    await expectDynamoError(db.listTagsOfResource({ ResourceArn: foreign }), 'ValidationException', `Invalid TableArn: Invalid ResourceArn provided as input ${foreign}`);
    await expectDynamoError(db.tagResource({ ResourceArn: ARN('ab'), Tags: tags }), 'ValidationException', `Invalid TableArn: Invalid ResourceArn provided as input ${ARN('ab')}`);

    await expectDynamoError(db.tagResource({ ResourceArn: `${ARN('tagged')}x`, Tags: tags }), 'ResourceNotFoundException',
      `Requested resource not found: ResourcArn: ${ARN('tagged')}x not found`);
    await expectDynamoError(db.listTagsOfResource({ ResourceArn: ARN('nothing') }), 'ResourceNotFoundException',
      `Requested resource not found: ResourcArn: ${ARN('nothing')} not found`);
    await expectDynamoError(db.untagResource({ ResourceArn: ARN('nothing'), TagKeys: ['x'] }), 'ResourceNotFoundException', 'Requested resource not found');
  });

  it('pages with NextToken and rejects a token it did not hand out', async () => {
    await createHashTable(db, 'paged');
    const arn = ARN('paged');
    await db.tagResource({ ResourceArn: arn, Tags: Array.from({ length: 20 }, (_, i) => ({ Key: `t${String(i).padStart(2, '0')}`, Value: String(i) })) });
    // A NextToken names where the previous page ended: the next page starts after it.
    const token = Buffer.from('tags:t09', 'utf8').toString('base64url');
    const page = await db.listTagsOfResource({ ResourceArn: arn, NextToken: token });
    expect(page.Tags.map((t) => t.Key)).toEqual(Array.from({ length: 10 }, (_, i) => `t${10 + i}`));
    expect(page.NextToken).toBeUndefined();
    await expectDynamoError(db.listTagsOfResource({ ResourceArn: arn, NextToken: 'garbage' }), 'ValidationException', /^The provided NextToken is invalid: garbage/);
  });
});

describe('DescribeEndpoints', () => {
  it('names this endpoint for a day', async () => {
    expect(await db.describeEndpoints()).toEqual({ Endpoints: [{ Address: 'localhost', CachePeriodInMinutes: 1440 }] });
    expect(await db.describeEndpoints({}, 'localhost:8000')).toEqual({ Endpoints: [{ Address: 'localhost:8000', CachePeriodInMinutes: 1440 }] });
  });
});

describe('persistence', () => {
  it('keeps billing mode, throughput history and tags across a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-admin-'));
    try {
      let cluster = await openCluster({ dir, partitions: 1 });
      await cluster.createTable({ ...provisioned('kept', 3, 3), Tags: [{ Key: 'owner', Value: 'me' }] });
      await createHashTable(cluster, 'plain');
      await cluster.updateTable({ TableName: 'kept', ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 6 } });
      await cluster.updateTable({ TableName: 'plain', BillingMode: 'PROVISIONED', ProvisionedThroughput: { ReadCapacityUnits: 7, WriteCapacityUnits: 8 } });
      const kept = (await cluster.describeTable({ TableName: 'kept' })).Table;
      const plain = (await cluster.describeTable({ TableName: 'plain' })).Table;
      await cluster.close();

      cluster = await openCluster({ dir, partitions: 1 });
      try {
        expect((await cluster.describeTable({ TableName: 'kept' })).Table).toEqual(kept);
        expect((await cluster.describeTable({ TableName: 'plain' })).Table).toEqual(plain);
        expect((await cluster.listTagsOfResource({ ResourceArn: ARN('kept') })).Tags).toEqual([{ Key: 'owner', Value: 'me' }]);
        expect((await cluster.listTagsOfResource({ ResourceArn: ARN('plain') })).Tags).toEqual([]);
      } finally {
        await cluster.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
