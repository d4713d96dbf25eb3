import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ShardBox } from '../../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('cluster lifecycle', () => {
  it('starts one thread per node with its own LMDB environment, and removes a temporary directory on close', async () => {
    const db = await ShardBox.open({ nodes: 4, durability: 'async' });
    try {
      expect(db.nodeCount).toBe(4);
      for (let i = 0; i < 4; i++) {
        expect(db.isNodeAlive(i)).toBe(true);
        expect(existsSync(path.join(db.dir, `node-${i}`))).toBe(true);
      }
      expect(readdirSync(db.dir).sort()).toEqual(['backups', 'control', 'node-0', 'node-1', 'node-2', 'node-3']);
    } finally {
      await db.close();
    }
    expect(existsSync(db.dir)).toBe(false);
    for (let i = 0; i < 4; i++) expect(db.isNodeAlive(i)).toBe(false);
    await expect(db.getItem({ TableName: 'any', Key: { id: { S: 'x' } } })).rejects.toThrow();
  });

  it('validates options with errors that name the option', async () => {
    await expect(ShardBox.open({ nodes: 2 })).rejects.toThrow('options.nodes must be an integer from 3 to 64 (got 2)');
    await expect(ShardBox.open({ nodes: 3.5 })).rejects.toThrow(/options\.nodes/);
    await expect(ShardBox.open({ durability: 'fast' as never })).rejects.toThrow("options.durability must be 'sync' or 'async' (got fast)");
    await expect(ShardBox.open({ partitions: 0 })).rejects.toThrow(/options\.partitions/);
    await expect(ShardBox.open({ routers: -1 })).rejects.toThrow(/options\.routers/);
    await expect(ShardBox.open({ nodeRingBytes: 1000 })).rejects.toThrow(/options\.nodeRingBytes must be a power of two/);
    await expect(ShardBox.open({ timing: { leaseTicks: 100 } })).rejects.toThrow(/options\.timing/);
    await expect(ShardBox.open({ router: { attemptTimeoutMs: 0 } })).rejects.toThrow('options.router.attemptTimeoutMs must be an integer from 1 to 3600000 ms (got 0)');
    await expect(ShardBox.open({ router: { timeoutMs: 100 } as never })).rejects.toThrow('options.router.timeoutMs is not a router option (attemptTimeoutMs, deadlineMs)');
    await expect(ShardBox.open({ tableStatusDelayMs: -1 })).rejects.toThrow('options.tableStatusDelayMs must be an integer from 0 to 3600000 (got -1)');
    await expect(ShardBox.open({ dir: '' })).rejects.toThrow(/options\.dir/);
    await expect(ShardBox.open({ node: 3 } as never)).rejects.toThrow('options.node is not an option of ShardBox.open');
    await expect(ShardBox.open({ admission: 'on' as never })).rejects.toThrow('options.admission must be a boolean or an object (got on)');
    await expect(ShardBox.open({ admission: { burst: 1 } as never })).rejects.toThrow('options.admission.burst is not an admission option (globalAdmission, burstSeconds, nodeReadCapacityUnits, nodeWriteCapacityUnits, splits, splitSizeBytes, splitConsumptionShare, splitSustainSeconds, moveHotReplicas)');
    await expect(ShardBox.open({ admission: { burstSeconds: 301 } })).rejects.toThrow('options.admission.burstSeconds must be an integer from 1 to 300 (got 301)');
    await expect(ShardBox.open({ admission: { globalAdmission: 1 as never } })).rejects.toThrow('options.admission.globalAdmission must be a boolean (got 1)');
    await expect(ShardBox.open({ admission: { nodeWriteCapacityUnits: 0 } })).rejects.toThrow(/options\.admission\.nodeWriteCapacityUnits/);
    await expect(ShardBox.open({ admission: { splits: 'yes' as never } })).rejects.toThrow('options.admission.splits must be a boolean (got yes)');
    await expect(ShardBox.open({ admission: { splitConsumptionShare: 1.5 } })).rejects.toThrow('options.admission.splitConsumptionShare must be a number above 0 and at most 1 (got 1.5)');
    await expect(ShardBox.open({ admission: { splitSustainSeconds: 0 } })).rejects.toThrow('options.admission.splitSustainSeconds must be an integer from 1 to 120 (got 0)');
    await expect(ShardBox.open({ admission: { splitSizeBytes: 10 } })).rejects.toThrow(/options\.admission\.splitSizeBytes must be an integer from 1024/);
  });

  it('lets a process exit on its own after close (no stray handles)', () => {
    const script = `
      import { ShardBox } from ${JSON.stringify(path.join(root, 'dist', 'src', 'index.js'))};
      const db = await ShardBox.open({ durability: 'async' });
      await db.createTable({ TableName: 'exit', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' });
      await db.putItem({ TableName: 'exit', Item: { id: { S: 'a' } } });
      await db.close();
      console.log('closed');
    `;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-exit-'));
    const file = path.join(dir, 'exit.mjs');
    writeFileSync(file, script);
    const started = Date.now();
    const child = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('closed');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
