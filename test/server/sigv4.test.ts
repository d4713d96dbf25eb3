/**
 * AWS Signature Version 4 on the HTTP server: the SDK with the right keys gets in, and
 * every way of getting it wrong gets DynamoDB's error; AWS's published SigV4 test-suite
 * vectors verify.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { CreateTableCommand, GetItemCommand, ListTablesCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardBox } from '../../src/index.js';
import { startServer, type ShardBoxServer } from '../../src/server/http.js';
import { canonicalQuery, canonicalRequest, credentialStore, sha256Hex, signature, verifySignature, type SignedRequest } from '../../src/server/sigv4.js';
import { httpClient, openDb, rawRequest, rejection, wireRequest } from './helpers.js';

const KEYS = { accessKeyId: 'AKIDSHARDBOXTEST', secretAccessKey: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' };

let db: ShardBox;
let server: ShardBoxServer;

beforeAll(async () => {
  db = await openDb();
  server = await startServer(db, { port: 0, auth: KEYS });
});

afterAll(async () => {
  await server?.close();
  await db?.close();
});

function bytesOf(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  const view = body as Uint8Array;
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/** An SDK request handler over plain node:http that lets a test change the request after
 *  the SDK has signed it. */
function handlerWith(tamper: (request: HttpRequest) => void): { handle(request: HttpRequest): Promise<{ response: HttpResponse }> } {
  return {
    handle(request: HttpRequest) {
      tamper(request);
      return new Promise((resolve, reject) => {
        const body = request.body === undefined ? undefined : bytesOf(request.body);
        const headers: Record<string, string> = { ...request.headers };
        if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
        const req = http.request({ host: request.hostname, port: request.port, path: request.path, method: request.method, headers, agent: false }, (res) => {
          resolve({ response: new HttpResponse({ statusCode: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: res as Readable }) });
        });
        req.on('error', reject);
        req.end(body);
      });
    },
  };
}

describe('with auth', () => {
  it('lets the SDK in with the right keys', async () => {
    const client = httpClient(server.url, { credentials: KEYS, region: 'eu-west-1' });
    await client.send(new CreateTableCommand({
      TableName: 'signed', KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST',
    }));
    await client.send(new PutItemCommand({ TableName: 'signed', Item: { id: { S: 'a' }, b: { B: new Uint8Array([1, 2]) } } }));
    const got = await client.send(new GetItemCommand({ TableName: 'signed', Key: { id: { S: 'a' } }, ConsistentRead: true }));
    expect(got.Item).toEqual({ id: { S: 'a' }, b: { B: new Uint8Array([1, 2]) } });
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['signed']);
    client.destroy();
  });

  it('refuses a wrong secret with InvalidSignatureException', async () => {
    const client = httpClient(server.url, { credentials: { ...KEYS, secretAccessKey: 'wrong' } });
    const error = await rejection(() => client.send(new ListTablesCommand({})));
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toBe('The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    client.destroy();
  });

  it('refuses an unknown access key with UnrecognizedClientException', async () => {
    const client = httpClient(server.url, { credentials: { accessKeyId: 'AKIDSOMEONEELSE', secretAccessKey: KEYS.secretAccessKey } });
    const error = await rejection(() => client.send(new ListTablesCommand({})));
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.message).toBe('The security token included in the request is invalid.');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    client.destroy();
  });

  /** wireRequest's default signature and date left out (empty headers count as absent). */
  const NO_SIGNATURE = { authorization: '', 'x-amz-date': '' };

  it('refuses a request without Authorization with MissingAuthenticationTokenException', async () => {
    const res = await wireRequest(server.url, 'ListTables', {}, NO_SIGNATURE);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ __type: 'com.amazon.coral.service#MissingAuthenticationTokenException', message: 'Request is missing Authentication Token' });
    const notAws4 = await wireRequest(server.url, 'ListTables', {}, { authorization: 'Basic Zm9vOmJhcg==' });
    expect((notAws4.json as { __type: string }).__type).toBe('com.amazon.coral.service#MissingAuthenticationTokenException');
  });

  it('refuses an incomplete Authorization header with IncompleteSignatureException', async () => {
    const res = await wireRequest(server.url, 'ListTables', {}, { ...NO_SIGNATURE, authorization: 'AWS4-' });
    expect(res.json).toEqual({
      __type: 'com.amazon.coral.service#IncompleteSignatureException',
      message: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
        "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-",
    });
  });

  it('refuses a body changed after signing', async () => {
    const client = httpClient(server.url, {
      credentials: KEYS,
      requestHandler: handlerWith((request) => {
        const text = bytesOf(request.body).toString('utf8');
        expect(text).toContain('"a"');
        request.body = text.replace('"a"', '"z"');
      }),
    });
    const error = await rejection(() => client.send(new GetItemCommand({ TableName: 'signed', Key: { id: { S: 'a' } } })));
    expect(error.name).toBe('InvalidSignatureException');
    client.destroy();
  });

  it('refuses a signed header changed after signing', async () => {
    const client = httpClient(server.url, {
      credentials: KEYS,
      requestHandler: handlerWith((request) => {
        request.headers['x-amz-target'] = 'DynamoDB_20120810.DescribeTable';
      }),
    });
    const error = await rejection(() => client.send(new ListTablesCommand({})));
    expect(error.name).toBe('InvalidSignatureException');
    client.destroy();
  });

  it('refuses a signature over 15 minutes old, with DynamoDB\'s message; the SDK corrects its clock from our Date header', async () => {
    const stale = httpClient(server.url, { credentials: KEYS, systemClockOffset: -20 * 60 * 1000 });
    const error = await rejection(() => stale.send(new ListTablesCommand({})));
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    stale.destroy();
    // With retries, the SDK reads the server's clock from the Date header and succeeds.
    const correcting = httpClient(server.url, { credentials: KEYS, systemClockOffset: -20 * 60 * 1000, maxAttempts: 3 });
    expect((await correcting.send(new ListTablesCommand({}))).TableNames).toEqual(['signed']);
    correcting.destroy();
  });

  it('checks the target before the signature, as DynamoDB does', async () => {
    const res = await rawRequest(server.url, { headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Nope' }, body: '{}' });
    expect((res.json as { __type: string }).__type).toBe('com.amazon.coral.service#UnknownOperationException');
  });
});

describe('AWS SigV4 test suite vectors', () => {
  // From AWS's Signature Version 4 test suite (aws4_testsuite: get-vanilla, post-vanilla,
  // get-vanilla-query-order-key-case): these credentials, this scope, this time.
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
  const store = credentialStore({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret });
  const now = Date.UTC(2015, 7, 30, 12, 36, 0);
  const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  const vectors = [
    { name: 'get-vanilla', method: 'GET', url: '/', signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
    { name: 'post-vanilla', method: 'POST', url: '/', signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b' },
    { name: 'get-vanilla-query-order-key-case', method: 'GET', url: '/?Param2=value2&Param1=value1', signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  ];

  function vectorRequest(method: string, url: string, sig: string): SignedRequest {
    return {
      method,
      url,
      headers: [
        ['Host', 'example.amazonaws.com'],
        ['X-Amz-Date', '20150830T123600Z'],
        ['Authorization', `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${sig}`],
      ],
      body: new Uint8Array(0),
    };
  }

  it('builds get-vanilla\'s canonical request and signature', () => {
    const canonical = canonicalRequest({
      method: 'GET', path: '/', query: '', headers: [['Host', 'example.amazonaws.com'], ['X-Amz-Date', '20150830T123600Z']],
      signedHeaders: ['host', 'x-amz-date'], payloadHash: sha256Hex(''),
    });
    expect(canonical).toBe(`GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n${emptyHash}`);
    expect(signature(secret, '20150830T123600Z', ['20150830', 'us-east-1', 'service'], canonical)).toBe(vectors[0].signature);
    expect(canonicalQuery('Param2=value2&Param1=value1')).toBe('Param1=value1&Param2=value2');
  });

  for (const v of vectors) {
    it(`verifies ${v.name}, and refuses it altered or late`, () => {
      expect(verifySignature(vectorRequest(v.method, v.url, v.signature), store, { now, service: 'service' })).toBeUndefined();
      const flipped = v.signature.slice(0, -1) + (v.signature.endsWith('0') ? '1' : '0');
      expect(verifySignature(vectorRequest(v.method, v.url, flipped), store, { now, service: 'service' })?.name).toBe('InvalidSignatureException');
      expect(verifySignature(vectorRequest(v.method === 'GET' ? 'POST' : 'GET', v.url, v.signature), store, { now, service: 'service' })?.name).toBe('InvalidSignatureException');
      const late = verifySignature(vectorRequest(v.method, v.url, v.signature), store, { now: now + 16 * 60 * 1000, service: 'service' });
      expect(late?.message).toBe('Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)');
      const early = verifySignature(vectorRequest(v.method, v.url, v.signature), store, { now: now - 16 * 60 * 1000, service: 'service' });
      expect(early?.message).toBe('Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)');
    });
  }

  it('wants the credential scoped to dynamodb', () => {
    const error = verifySignature(vectorRequest('GET', '/', vectors[0].signature), store, { now });
    expect(error?.name).toBe('InvalidSignatureException');
    expect(error?.message).toBe("Credential should be scoped to correct service: 'dynamodb'.");
  });
});
