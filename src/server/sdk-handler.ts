/**
 * An AWS SDK v3 request handler that serves DynamoDB requests from a ShardBox in this
 * process, without sockets:
 *
 *   const client = new DynamoDBClient({ requestHandler: sdkHandler(db), region: 'local',
 *     credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
 *   const doc = DynamoDBDocumentClient.from(client);
 *
 * The SDK serializes each command to DynamoDB's JSON 1.0 request as it would for the
 * network; `handle` gives it to the same dispatch as the HTTP server and hands back an
 * HTTP response as the SDK's Node handler would (the body as a stream), so the SDK's
 * own deserializers, error classes and retries run unchanged. Signatures are not checked.
 */
import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { credentialRegion } from './sigv4.js';
import { dispatch, responseHeaders, type DispatchOptions, type DispatchTarget } from './dispatch.js';

/** The subset of @smithy/types' HttpHandlerOptions this handler honours. */
export interface SdkHandlerOptions {
  abortSignal?: { aborted: boolean; addEventListener?: (type: 'abort', listener: () => void, options?: { once?: boolean }) => void; removeEventListener?: (type: 'abort', listener: () => void) => void };
}

/** smithy's HttpHandler interface, as the SDK's NodeHttpHandler implements it. */
export interface SdkHandler {
  readonly metadata: { handlerProtocol: string };
  handle(request: HttpRequest, options?: SdkHandlerOptions): Promise<{ response: HttpResponse }>;
  updateHttpClientConfig(key: string, value: unknown): void;
  httpHandlerConfigs(): Record<string, unknown>;
  destroy(): void;
}

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return headers[key];
  return undefined;
}

async function bodyBytes(body: unknown): Promise<Uint8Array | string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  throw new TypeError(`sdkHandler: unsupported request body type ${Object.prototype.toString.call(body)}`);
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}

export function sdkHandler(db: DispatchTarget, options: Pick<DispatchOptions, 'logError'> = {}): SdkHandler {
  const config: Record<string, unknown> = {};
  return {
    metadata: { handlerProtocol: 'http/1.1' },

    async handle(request: HttpRequest, handlerOptions: SdkHandlerOptions = {}): Promise<{ response: HttpResponse }> {
      const signal = handlerOptions.abortSignal;
      if (signal?.aborted) throw abortError();
      const work = (async () => {
        const body = await bodyBytes(request.body);
        const host = header(request.headers, 'host') ?? (request.port ? `${request.hostname}:${request.port}` : request.hostname);
        // ARNs carry the region the client signed for, as over HTTP.
        const authorization = header(request.headers, 'authorization');
        const region = credentialRegion({ url: '/', headers: authorization === undefined ? [] : [['authorization', authorization]] });
        const result = await dispatch(db, header(request.headers, 'x-amz-target'), body, { ...options, address: host, ...(region !== undefined ? { region } : {}) });
        const bytes = Buffer.from(result.body, 'utf8');
        return {
          response: new HttpResponse({
            statusCode: result.status,
            headers: responseHeaders(bytes),
            body: Readable.from(bytes.length > 0 ? [bytes] : []),
          }),
        };
      })();
      if (signal?.addEventListener === undefined) return work;
      // The operation itself runs to completion (like a request already on the wire);
      // an abort only stops the caller waiting for it.
      return new Promise((resolve, reject) => {
        const onAbort = (): void => reject(abortError());
        signal.addEventListener!('abort', onAbort, { once: true });
        work.then(resolve, reject).finally(() => signal.removeEventListener?.('abort', onAbort));
      });
    },

    updateHttpClientConfig(key: string, value: unknown): void {
      config[key] = value;
    },

    httpHandlerConfigs(): Record<string, unknown> {
      return { ...config };
    },

    destroy(): void {
      // No sockets or timers to release; the database is the caller's to close.
    },
  };
}
