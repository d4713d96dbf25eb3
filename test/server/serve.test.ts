/**
 * `shardbox serve` as a user runs it: it prints where it listens, serves the SDK (with
 * SigV4 from a credentials file, or any credentials), keeps data in --dir, and stops
 * cleanly on SIGTERM and SIGINT.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, GetItemCommand, ListTablesCommand, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs, readCredentialsFile } from '../../src/server/serve.js';
import { httpClient, rejection } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli.js');

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shardbox-serve-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `shardbox serve ARGS` and waits for the line with its URL. */
function serve(...args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--durability', 'async', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shardbox serve did not start within 30 s:\n${out}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = /serving DynamoDB at (http:\/\/\S+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`shardbox serve exited (${code}) before listening:\n${out}`));
    });
  });
}

describe('shardbox serve', () => {
  it('serves with SigV4 from a credentials file, persists to --dir, and stops on SIGTERM and SIGINT', async () => {
    const data = path.join(dir, 'data');
    const credentials = path.join(dir, 'credentials');
    writeFileSync(credentials, '[other]\naws_access_key_id = NOPE\naws_secret_access_key = nope\n\n[default]\naws_access_key_id = AKIDSERVE\naws_secret_access_key = serve/secret+key\n');

    const first = await serve('--dir', data, '--credentials', credentials);
    try {
      expect(first.output()).toContain('signed (SigV4) with access key AKIDSERVE');
      const client = httpClient(first.url, { credentials: { accessKeyId: 'AKIDSERVE', secretAccessKey: 'serve/secret+key' } });
      const created = await client.send(new CreateTableCommand({ TableName: 'kept', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
      // CREATING for a moment, as in DynamoDB: the SDK's waiter sees it turn ACTIVE.
      expect(created.TableDescription?.TableStatus).toBe('CREATING');
      expect((await waitUntilTableExists({ client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { TableName: 'kept' })).state).toBe('SUCCESS');
      await client.send(new PutItemCommand({ TableName: 'kept', Item: { id: { S: 'a' }, v: { N: '42' } } }));
      client.destroy();
      const stranger = httpClient(first.url, { credentials: { accessKeyId: 'NOPE', secretAccessKey: 'nope' } });
      expect((await rejection(() => stranger.send(new ListTablesCommand({})))).name).toBe('UnrecognizedClientException');
      stranger.destroy();
    } finally {
      first.child.kill('SIGTERM');
    }
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('stopped');

    const second = await serve('--dir', data);
    try {
      expect(second.output()).toContain('any credentials are accepted');
      const client = httpClient(second.url, { credentials: { accessKeyId: 'whoever', secretAccessKey: 'whatever' } });
      const got = await client.send(new GetItemCommand({ TableName: 'kept', Key: { id: { S: 'a' } }, ConsistentRead: true }));
      expect(got.Item).toEqual({ id: { S: 'a' }, v: { N: '42' } });
      client.destroy();
    } finally {
      second.child.kill('SIGINT');
    }
    expect(await second.exited).toBe(0);
  });

  it('refuses bad options with a usage message and exit code 2', () => {
    for (const args of [['--port', 'abc'], ['--durability', 'sometimes'], ['--auth', 'nocolon'], ['--bogus']]) {
      const r = spawnSync(process.execPath, [cli, 'serve', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain('usage: shardbox serve');
    }
    const help = spawnSync(process.execPath, [cli, 'help'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(help.stdout).toMatch(/serve\s+serve DynamoDB's HTTP API/);
    expect(help.stdout).toMatch(/bench\s+/);
  });

  it('parses its options and AWS credentials files', () => {
    expect(parseServeArgs([])).toEqual({ port: 8000, host: '127.0.0.1', tableStatusDelayMs: 500 });
    expect(parseServeArgs(['--port=9000', '--host', '0.0.0.0', '--nodes', '5', '--durability', 'sync', '--auth', 'KEY:SE:CRET', '--dir', '/tmp/x',
      '--table-status-delay', '0', '--region', 'eu-west-1']))
      .toEqual({
        port: 9000, host: '0.0.0.0', nodes: 5, durability: 'sync', auth: { accessKeyId: 'KEY', secretAccessKey: 'SE:CRET' }, dir: '/tmp/x',
        tableStatusDelayMs: 0, region: 'eu-west-1',
      });
    expect(parseServeArgs(['--no-admission'])).toEqual({ port: 8000, host: '127.0.0.1', tableStatusDelayMs: 500, noAdmission: true });
    expect(() => parseServeArgs(['--region', 'Not A Region'])).toThrow(/--region/);
    const file = path.join(dir, 'creds-profiles');
    writeFileSync(file, '# comment\n[default]\naws_access_key_id=A1\naws_secret_access_key = S1 \n[profile dev]\nAWS_ACCESS_KEY_ID = A2\naws_secret_access_key = S2\n');
    expect(readCredentialsFile(file)).toEqual({ accessKeyId: 'A1', secretAccessKey: 'S1' });
    expect(readCredentialsFile(file, 'dev')).toEqual({ accessKeyId: 'A2', secretAccessKey: 'S2' });
    expect(() => readCredentialsFile(file, 'missing')).toThrow(/no \[missing\] profile/);
    expect(() => parseServeArgs(['--auth', 'A:B', '--credentials', file])).toThrow(/not both/);
  });
});
