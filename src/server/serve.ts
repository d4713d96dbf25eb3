/**
 * `shardbox serve`: a ShardBox behind the DynamoDB HTTP server until SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { ShardBox } from '../api/index.js';
import { startServer } from './http.js';
import type { Credentials } from './sigv4.js';

export const SERVE_USAGE = `usage: shardbox serve [options]

Serves DynamoDB's HTTP API (JSON 1.0, as the AWS SDKs, the AWS CLI and boto3 speak it).

options:
  --port N                  port to listen on (default 8000; 0 picks a free one)
  --host ADDR               address to listen on (default 127.0.0.1)
  --dir PATH                data directory (default: a temporary one, removed on exit)
  --nodes N                 storage nodes, one thread each (default 3)
  --durability sync|async   sync (default): fdatasync before acknowledging a write
  --no-admission            throttle nothing: tables' capacities are not enforced
  --archive                 archive the WAL into <dir>/archive: point-in-time recovery
                            (UpdateContinuousBackups, RestoreTableToPointInTime) and scrub
  --table-status-delay MS   how long new tables stay CREATING, deleted ones DELETING and
                            updated ones UPDATING (default 500, as DynamoDB Local; 0: none)
  --region NAME             region of the health check and of ARNs when a request's
                            credentials name none (default us-east-1)
  --auth KEY:SECRET         require AWS SigV4 signatures made with this access key
  --credentials FILE        same, with the keys of an AWS credentials file
  --profile NAME            the profile to read from --credentials (default: default)
  -h, --help                show this text

Without --auth or --credentials any credentials are accepted (a request must still be
signed, as DynamoDB wants).
`;

export interface ServeArgs {
  port: number;
  host: string;
  dir?: string;
  nodes?: number;
  durability?: 'sync' | 'async';
  archive?: boolean;
  /** --no-admission: ShardBox.open's admission: false. */
  noAdmission?: boolean;
  auth?: Credentials;
  tableStatusDelayMs: number;
  region?: string;
}

/** DynamoDB Local's and dynalite's delay before a table's status changes. */
export const SERVE_TABLE_STATUS_DELAY_MS = 500;

export class UsageError extends Error {}

function integer(name: string, text: string | undefined, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${text === undefined ? 'nothing' : `'${text}'`})`);
  }
  return n;
}

/** Reads one profile of an AWS-style credentials file (INI: `[default]`,
 *  `aws_access_key_id = ...`, `aws_secret_access_key = ...`). */
export function readCredentialsFile(file: string, profile = 'default'): Credentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read credentials file ${file}: ${(e as Error).message}`);
  }
  let section: string | undefined;
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header !== null) {
      section = header[1];
      continue;
    }
    if (section !== profile) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    values[line.slice(0, eq).trim().toLowerCase()] = line.slice(eq + 1).trim();
  }
  const accessKeyId = values.aws_access_key_id;
  const secretAccessKey = values.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(`credentials file ${file} has no [${profile}] profile with aws_access_key_id and aws_secret_access_key`);
  }
  return { accessKeyId, secretAccessKey };
}

export function parseServeArgs(argv: string[]): ServeArgs {
  const args: ServeArgs = { port: 8000, host: '127.0.0.1', tableStatusDelayMs: SERVE_TABLE_STATUS_DELAY_MS };
  let credentialsFile: string | undefined;
  let profile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${name} needs a value`);
      return next;
    };
    switch (name) {
      case '--port': args.port = integer('--port', value(), 0, 65535); break;
      case '--host': args.host = value(); break;
      case '--dir': args.dir = value(); break;
      case '--table-status-delay': args.tableStatusDelayMs = integer('--table-status-delay', value(), 0, 3_600_000); break;
      case '--region': {
        const r = value();
        if (!/^[a-z0-9-]{1,64}$/.test(r)) throw new UsageError(`--region must be a region name such as us-east-1 (got '${r}')`);
        args.region = r;
        break;
      }
      case '--nodes': args.nodes = integer('--nodes', value(), 3, 64); break;
      case '--archive': args.archive = true; break;
      case '--no-admission': args.noAdmission = true; break;
      case '--durability': {
        const d = value();
        if (d !== 'sync' && d !== 'async') throw new UsageError(`--durability must be sync or async (got '${d}')`);
        args.durability = d;
        break;
      }
      case '--auth': {
        const v = value();
        const colon = v.indexOf(':');
        if (colon <= 0 || colon === v.length - 1) throw new UsageError('--auth must be ACCESS_KEY:SECRET');
        args.auth = { accessKeyId: v.slice(0, colon), secretAccessKey: v.slice(colon + 1) };
        break;
      }
      case '--credentials': credentialsFile = value(); break;
      case '--profile': profile = value(); break;
      default: throw new UsageError(`unknown option '${arg}'`);
    }
  }
  if (credentialsFile !== undefined) {
    if (args.auth !== undefined) throw new UsageError('give --auth or --credentials, not both');
    args.auth = readCredentialsFile(credentialsFile, profile);
  } else if (profile !== undefined) {
    throw new UsageError('--profile needs --credentials');
  }
  return args;
}

/** Runs the server until SIGINT or SIGTERM; resolves with the exit code. */
export async function serveMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  let args: ServeArgs;
  try {
    args = parseServeArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`shardbox serve: ${e.message}\n\n${SERVE_USAGE}`);
      return 2;
    }
    throw e;
  }
  const db = await ShardBox.open({
    ...(args.dir !== undefined ? { dir: args.dir } : {}),
    ...(args.nodes !== undefined ? { nodes: args.nodes } : {}),
    ...(args.durability !== undefined ? { durability: args.durability } : {}),
    ...(args.archive === true ? { archive: true } : {}),
    ...(args.noAdmission === true ? { admission: false } : {}),
    tableStatusDelayMs: args.tableStatusDelayMs,
  });
  let server;
  try {
    server = await startServer(db, {
      port: args.port, host: args.host, ...(args.auth ? { auth: args.auth } : {}), ...(args.region !== undefined ? { region: args.region } : {}),
    });
  } catch (e) {
    await db.close();
    process.stderr.write(`shardbox serve: cannot listen on ${args.host}:${args.port}: ${(e as Error).message}\n`);
    return 1;
  }
  const authLine = args.auth === undefined
    ? 'shardbox: no authentication: any credentials are accepted'
    : `shardbox: requests must be signed (SigV4) with access key ${args.auth.accessKeyId}`;
  process.stdout.write(`${authLine}\nshardbox: serving DynamoDB at ${server.url} (data: ${db.dir}, ${db.nodeCount} nodes)\n`);

  const running = server;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`shardbox: ${signal}: stopping\n`);
      void (async () => {
        let code = 0;
        try {
          await running.close();
        } catch (e) {
          process.stderr.write(`shardbox serve: closing the server: ${(e as Error).message}\n`);
          code = 1;
        }
        try {
          await db.close();
        } catch (e) {
          process.stderr.write(`shardbox serve: closing the database: ${(e as Error).message}\n`);
          code = 1;
        }
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        process.stdout.write('shardbox: stopped\n');
        resolve(code);
      })();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
