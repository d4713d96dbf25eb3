/** Shared pieces of the HTTP server and SDK handler tests. */
import http from 'node:http';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { ShardBox } from '../../src/index.js';

export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };

export async function openDb(): Promise<ShardBox> {
  return ShardBox.open({ durability: 'async' });
}

export function httpClient(endpoint: string, extra: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'local', credentials: DUMMY_CREDENTIALS, maxAttempts: 1, ...extra });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: unknown;
}

/** One raw HTTP request (own socket), with a client-side timeout so a hung server fails
 *  the test instead of hanging it. */
export function rawRequest(url: string, options: {
  method?: string;
  headers?: Record<string, string | number>;
  body?: string | Buffer;
  chunked?: boolean;
  timeoutMs?: number;
  agent?: http.Agent | false;
} = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'POST',
      headers: options.headers ?? {},
      agent: options.agent ?? false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        const text = body.toString('utf8');
        let json: unknown;
        try {
          json = text === '' ? undefined : JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text, json });
      });
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`request timed out after ${options.timeoutMs ?? 20_000} ms`));
    }, options.timeoutMs ?? 20_000);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    if (options.body !== undefined && options.chunked) {
      // No content-length: node sends it chunked.
      req.write(options.body);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** An Authorization header of SigV4's form (a server without --auth checks the form
 *  only, as DynamoDB Local does), scoped to region `local`. */
export const UNVERIFIED_AUTHORIZATION = 'AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20240101/local/dynamodb/aws4_request, '
  + 'SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000';

/** A DynamoDB JSON 1.0 request: POST / with the target header (and, unless `headers`
 *  replace it, an unverified signature and its date). */
export function wireRequest(url: string, operation: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return rawRequest(url, {
    headers: {
      'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}`,
      authorization: UNVERIFIED_AUTHORIZATION, 'x-amz-date': '20240101T000000Z', ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Runs `f`, expecting it to throw; returns what it threw. */
export type Rejection = Error & { $metadata?: { httpStatusCode?: number }; [k: string]: unknown };

export async function rejection(f: () => Promise<unknown>): Promise<Rejection> {
  try {
    await f();
  } catch (e) {
    return e as Rejection;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** Creates an on-demand table keyed `pk` (of type pkType), plus `sk` when skType is given. */
export function createPkTable(client: DynamoDBClient, name: string, pkType: 'S' | 'N' | 'B', skType?: 'S' | 'N' | 'B'): Promise<unknown> {
  return client.send(new CreateTableCommand({
    TableName: name,
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(skType ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: pkType }, ...(skType ? [{ AttributeName: 'sk', AttributeType: skType }] : [])],
    BillingMode: 'PAY_PER_REQUEST',
  }));
}
