/**
 * Overload on a healthy cluster is answered with backpressure, never with unknown
 * outcomes: a burst far larger than the rings hold waits in the router's bounded queues,
 * and what does not fit there is throttled at once (retryable, certainly not applied).
 * Attempts time out from when they enter a node's ring, so queueing is never mistaken for
 * a lost reply. A worker thread keeps one of the machine's cores busy throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardBox } from '../../src/index.js';
import { startServer } from '../../src/server/http.js';
import { httpClient } from '../server/helpers.js';
import { createHashTable } from './helpers.js';

const BURST = 10_000;
const PAYLOAD = 'x'.repeat(5 * 1024);

let db: ShardBox | undefined;
let burner: Worker | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await burner?.terminate();
  burner = undefined;
  await db?.close();
  db = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openSyncCluster(): Promise<ShardBox> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-backpressure-'));
  dirs.push(dir);
  // The engine's own backpressure, not capacity (a 50,000 WCU burst would be throttled by
  // admission control long before it reaches the nodes): admission off.
  const cluster = await ShardBox.open({ dir, nodes: 3, durability: 'sync', admission: false });
  await createHashTable(cluster, 'burst');
  return cluster;
}

/** A thread that keeps one core busy (bounded: it stops by itself after a minute). */
function burnOneCore(): Worker {
  return new Worker('const end = Date.now() + 60_000; let x = 0; while (Date.now() < end) x = (x + 1) | 0;', { eval: true });
}

/** Runs `task` on every item with at most `concurrency` at once. */
async function inParallel<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

function keyOf(i: number): string {
  return `burst-${i}`;
}

describe('backpressure', () => {
  it('a 10,000-write burst of 5 KB items is acknowledged or throttled, never unknown; throttled writes succeed when retried', async () => {
    db = await openSyncCluster();
    const cluster = db;
    burner = burnOneCore();
    const outcomes = await Promise.allSettled(Array.from({ length: BURST }, (_, i) => cluster.putItem({
      TableName: 'burst', Item: { id: { S: keyOf(i) }, attempt: { N: '1' }, payload: { S: PAYLOAD } },
    })));
    const failures = new Map<string, number>();
    const throttled: number[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'fulfilled') return;
      const name = (outcome.reason as Error).name;
      if (!failures.has(name)) console.log(`first ${name}: ${(outcome.reason as Error).message}`);
      failures.set(name, (failures.get(name) ?? 0) + 1);
      if (name === 'ThrottlingException') throttled.push(i);
    });
    // Only throttling: no unknown outcome (InternalServerError), no timeout, nothing else.
    expect(Object.fromEntries(failures), 'failures by error name').toEqual(throttled.length > 0 ? { ThrottlingException: throttled.length } : {});
    const acknowledged = BURST - throttled.length;
    expect(acknowledged).toBeGreaterThan(0);
    console.log(`burst of ${BURST}: ${acknowledged} acknowledged, ${throttled.length} throttled`);

    // A throttled write was not applied: the key is absent until it is retried.
    for (const i of throttled.slice(0, 50)) {
      const { Item } = await cluster.getItem({ TableName: 'burst', Key: { id: { S: keyOf(i) } }, ConsistentRead: true });
      expect(Item, `throttled write ${keyOf(i)} must not have been applied`).toBeUndefined();
    }
    // Retried (with a little back-off, as a client would), every throttled write succeeds.
    await inParallel(throttled, 256, async (i) => {
      for (let attempt = 2; ; attempt++) {
        try {
          await cluster.putItem({ TableName: 'burst', Item: { id: { S: keyOf(i) }, attempt: { N: String(attempt) }, payload: { S: PAYLOAD } } });
          return;
        } catch (error) {
          if ((error as Error).name !== 'ThrottlingException' || attempt > 20) throw error;
          await sleep(attempt);
        }
      }
    });
    // Every write, acknowledged in the burst or on retry, is readable.
    const missing: string[] = [];
    await inParallel(Array.from({ length: BURST }, (_, i) => i), 256, async (i) => {
      const { Item } = await cluster.getItem({ TableName: 'burst', Key: { id: { S: keyOf(i) } }, ConsistentRead: true });
      if (Item?.payload?.S !== PAYLOAD) missing.push(keyOf(i));
    });
    expect(missing).toEqual([]);
  });

  it('through `shardbox serve` with 256 connections, the AWS SDK\'s own retries absorb the burst: no error reaches the application', async () => {
    db = await openSyncCluster();
    burner = burnOneCore();
    const server = await startServer(db, { port: 0 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const client = httpClient(server.url, {
      // The SDK's defaults (standard retry strategy, 3 attempts), over 256 connections.
      maxAttempts: undefined,
      requestHandler: new NodeHttpHandler({
        httpAgent: agent, httpsAgent: new https.Agent({ maxSockets: 256 }),
        // 10,000 requests over 256 sockets queue for a socket on purpose: no warning for it.
        socketAcquisitionWarningTimeout: 600_000,
      }),
    });
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: BURST }, (_, i) => client.send(new PutItemCommand({
        TableName: 'burst', Item: { id: { S: keyOf(i) }, payload: { S: PAYLOAD } },
      }))));
      const errors = outcomes.filter((o) => o.status === 'rejected').map((o) => `${(o.reason as Error).name}: ${(o.reason as Error).message}`);
      expect(errors.slice(0, 5), `${errors.length} errors reached the application`).toEqual([]);
      for (let i = 0; i < BURST; i += 97) {
        const { Item } = await client.send(new GetItemCommand({ TableName: 'burst', Key: { id: { S: keyOf(i) } }, ConsistentRead: true }));
        expect(Item?.payload?.S).toBe(PAYLOAD);
      }
    } finally {
      client.destroy();
      agent.destroy();
      await server.close();
    }
  }, 240_000); // 10,000 SDK requests cost ~0.5 ms of CPU each on the client alone
});
