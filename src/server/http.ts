/**
 * DynamoDB's JSON 1.0 protocol over HTTP/1.1 (node:http): `POST /` with
 * `Content-Type: application/x-amz-json-1.0` and `X-Amz-Target: DynamoDB_20120810.<Op>`,
 * answered with DynamoDB's headers (`x-amz-crc32`, `x-amzn-RequestId`). Keep-alive and any
 * number of concurrent connections; request bodies are capped (DynamoDB's 16 MB by
 * default; over it the answer is HTTP 413, as DynamoDB gives). With `auth`, every request
 * must carry a valid AWS Signature Version 4; without, any credentials are accepted.
 *
 * This file is transport only: what a request means is dispatch.ts's, shared with the
 * in-process SDK handler.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dispatch, errorBody, requestId, responseHeaders, type DispatchTarget, type WireError } from './dispatch.js';
import { checkSignatureForm, credentialRegion, credentialStore, verifySignature, type Credentials } from './sigv4.js';

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const JSON_TYPES = new Set(['application/x-amz-json-1.0', 'application/json']);
/** The region of ARNs for requests whose credentials name none, and of the health check. */
export const DEFAULT_SERVER_REGION = 'us-east-1';
/** What DynamoDB answers to anything that is not a JSON POST. */
const NOT_FOUND_BODY = '<UnknownOperationException/>\n';
/** After refusing an oversized body, read (and drop) at most this much more of it so the
 *  client can read the 413 instead of failing on a reset connection; then hang up. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

export interface ServerOptions {
  /** Default 8000 (DynamoDB Local's). 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The region this endpoint answers as: in its health check, and in the ARNs of
   *  requests whose credential scope names none (a request's own region wins). Default
   *  us-east-1. */
  region?: string;
  /** Require AWS SigV4 signatures made with these credentials. Without: accept any valid-
   *  looking signature (DynamoDB's checks that one is there and complete still apply). */
  auth?: Credentials | readonly Credentials[];
  /** Largest request body accepted. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Where internal errors (bugs) are reported. Default: stderr. */
  logError?: (message: string, error: unknown) => void;
}

export interface ShardBoxServer {
  readonly server: http.Server;
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, the endpoint to give the SDKs. */
  readonly url: string;
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`, then
   *  drops them), and resolves when every connection is closed. Does not close the db. */
  close(graceMs?: number): Promise<void>;
}

function rawHeaderPairs(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

function send(res: http.ServerResponse, status: number, body: string, contentType: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { ...responseHeaders(bytes, contentType), ...extra });
  res.end(bytes);
}

function cors(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.headers.origin === undefined) return false;
  res.setHeader('access-control-allow-origin', '*');
  if (req.method !== 'OPTIONS') return false;
  const headers = req.headers['access-control-request-headers'];
  const method = req.headers['access-control-request-method'];
  if (headers !== undefined) res.setHeader('access-control-allow-headers', headers);
  if (method !== undefined) res.setHeader('access-control-allow-methods', method);
  res.setHeader('access-control-max-age', '172800');
  res.setHeader('access-control-expose-headers', 'x-amzn-requestid,x-amz-crc32');
  res.writeHead(200, { 'content-length': '0', 'x-amzn-requestid': requestId() });
  res.end();
  return true;
}

/** HTTP 413 once the client has sent its body (answering mid-upload would break its write
 *  with EPIPE), chunked as DynamoDB sends it. */
function tooLarge(req: http.IncomingMessage, res: http.ServerResponse, limit: number, contentType: string): void {
  let drained = 0;
  req.removeAllListeners('data');
  req.removeAllListeners('end');
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT_BYTES) req.socket.destroy();
  });
  req.on('end', () => {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(errorBody('RequestEntityTooLarge', `Request size exceeds the limit of ${limit} bytes`), 'utf8');
    const { 'content-length': _, ...headers } = responseHeaders(body, contentType);
    res.writeHead(413, { ...headers, connection: 'close' });
    res.end(body);
  });
  req.resume();
}

export async function startServer(db: DispatchTarget, options: ServerOptions = {}): Promise<ShardBoxServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8000;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new RangeError(`maxBodyBytes must be a positive integer (got ${String(maxBodyBytes)})`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535 (got ${String(port)})`);
  const store = options.auth === undefined ? undefined : credentialStore(options.auth);
  const region = options.region ?? DEFAULT_SERVER_REGION;
  const healthBody = `healthy: dynamodb.${region}.amazonaws.com `;
  const logError = options.logError;
  /** Once closing, responses say `connection: close` so keep-alive sockets end with them. */
  let closingNow = false;
  /** host:port as listening (set once listening), for requests without a Host header. */
  let listening = `${host}:${port}`;

  const server = http.createServer((req, res) => {
    req.on('error', () => {
      // A client that hangs up mid-request: nothing to answer.
    });
    res.on('error', () => {});
    if (cors(req, res)) return;
    if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
      send(res, 200, healthBody, 'text/plain');
      req.resume();
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    // DynamoDB answers in its own JSON type only to requests sent in it.
    const responseType = contentType === 'application/x-amz-json-1.0' ? 'application/x-amz-json-1.0' : 'application/json';
    if (req.method !== 'POST') {
      send(res, 404, NOT_FOUND_BODY, 'text/xml');
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      tooLarge(req, res, maxBodyBytes, responseType);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        tooLarge(req, res, maxBodyBytes, responseType);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      if (body.length > 0 && !JSON_TYPES.has(contentType)) {
        send(res, 404, NOT_FOUND_BODY, 'text/xml');
        return;
      }
      const target = req.headers['x-amz-target'];
      const signed = { method: req.method ?? 'POST', url: req.url ?? '/', headers: rawHeaderPairs(req.rawHeaders), body };
      const authorize = store === undefined
        ? (): WireError | undefined => checkSignatureForm(signed)
        : (): WireError | undefined => verifySignature(signed, store);
      const address = req.headers.host ?? listening;
      const requestRegion = credentialRegion(signed) ?? region;
      void dispatch(db, Array.isArray(target) ? target[0] : target, body, { authorize, address, region: requestRegion, ...(logError ? { logError } : {}) })
        .then((result) => send(res, result.status, result.body, responseType, closingNow ? { connection: 'close' } : {}))
        .catch((error: unknown) => {
          // dispatch never rejects; this is for a failure writing the response.
          (logError ?? ((m: string, e: unknown) => process.stderr.write(`shardbox server: ${m}: ${String(e)}\n`)))('cannot send a response', error);
          res.destroy();
        });
    });
  });
  // Longer than the SDKs' pooled sockets idle, so a reused socket is rarely closed under
  // a request; headersTimeout must exceed it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  listening = `${urlHost}:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    server,
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}`,
    close(graceMs = 5000): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        closingNow = true;
        const drop = setTimeout(() => server.closeAllConnections(), graceMs);
        drop.unref();
        server.close(() => {
          clearTimeout(drop);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
