/**
 * boto3 (Python) against the HTTP server, when python3 has boto3; skipped, saying why,
 * when it has not.
 */
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardBox } from '../../src/index.js';
import { startServer } from '../../src/server/http.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'boto3_smoke.py');

function boto3Missing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error !== undefined) return `python3 is not available (${probe.error.message})`;
  if (probe.status !== 0) return `python3 cannot import boto3: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

const missing = boto3Missing();
if (missing !== undefined) console.log(`skipping the boto3 smoke test: ${missing}`);

function runSmoke(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronously: the server answering it lives in this process.
  return new Promise((resolve) => {
    execFile('python3', [script, ...args], { timeout: 120_000, env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('boto3', () => {
  let db: ShardBox;
  const logged: string[] = [];

  beforeAll(async () => {
    if (missing !== undefined) return;
    db = await ShardBox.open({ durability: 'async' });
  });

  afterAll(async () => {
    await db?.close();
  });

  it.skipIf(missing !== undefined)('runs boto3_smoke.py against the server', async () => {
    const server = await startServer(db, { port: 0, logError: (m) => logged.push(m) });
    try {
      const result = await runSmoke(server.url);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('boto3 smoke: all ok');
      expect(logged).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it.skipIf(missing !== undefined)('runs it against a server that checks SigV4, with the right keys and not with wrong ones', async () => {
    const keys = { accessKeyId: 'AKIDBOTO', secretAccessKey: 'boto/secret+key' };
    const server = await startServer(db, { port: 0, auth: keys, logError: (m) => logged.push(m) });
    try {
      const result = await runSmoke(server.url, keys.accessKeyId, keys.secretAccessKey);
      expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
      expect(result.stdout).toContain('boto3 smoke: all ok');
      const wrong = await runSmoke(server.url, keys.accessKeyId, 'not-the-secret');
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain('InvalidSignatureException');
      expect(logged).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
