/**
 * AWS Signature Version 4, verified the way DynamoDB does: the canonical request, the
 * string to sign and the HMAC chain over the date, region and service of the credential
 * scope, a constant-time comparison, and 15 minutes of allowed clock skew. Errors carry
 * DynamoDB's names and messages (HTTP 400, as DynamoDB answers them; the messages are
 * those dynalite recorded from the real service).
 *
 * Both forms are accepted: the `Authorization` header, and query-string parameters
 * (`X-Amz-Algorithm`, `X-Amz-Credential`, ... as in a presigned URL).
 *
 * References: AWS's "Create a signed AWS API request" and its SigV4 test suite
 * (get-vanilla, post-vanilla, get-vanilla-query-order-key-case), which test/server checks.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WireError } from './dispatch.js';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
const SERVICE = 'dynamodb';
const TERMINATOR = 'aws4_request';
/** AWS accepts a request signed up to 15 minutes before or after its own clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A request as it arrived: `url` is the raw request target (path and query), `headers`
 *  the raw name/value pairs in arrival order (Node's `rawHeaders`, paired). */
export interface SignedRequest {
  method: string;
  url: string;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
}

const MISSING_TOKEN = 'Request is missing Authentication Token';
const BAD_KEY = 'The security token included in the request is invalid.';
const BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function missingToken(): WireError {
  return new WireError('MissingAuthenticationTokenException', MISSING_TOKEN);
}
function incomplete(message: string): WireError {
  return new WireError('IncompleteSignatureException', message);
}
function invalid(message: string): WireError {
  return new WireError('InvalidSignatureException', message);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), TERMINATOR);
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ escaped, in
 *  upper-case hex. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Path segments encoded as they arrived (so an escape on the wire is escaped again, as
 *  non-S3 services sign). */
export function canonicalUri(path: string): string {
  if (path === '') return '/';
  return path.split('/').map(uriEncode).join('/');
}

/** Query parameters decoded, re-encoded strictly, sorted by name then value. */
export function canonicalQuery(query: string, omit?: string): string {
  if (query === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
    if (name === omit) continue;
    pairs.push([uriEncode(name), uriEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** A signed header's canonical value: every occurrence, trimmed, inner runs of spaces
 *  collapsed, joined with commas. */
function headerValue(headers: SignedRequest['headers'], name: string): string {
  const values: string[] = [];
  for (const [k, v] of headers) if (k.toLowerCase() === name) values.push(v.trim().replace(/\s+/g, ' '));
  return values.join(',');
}

export interface CanonicalParts {
  method: string;
  path: string;
  query: string;
  headers: SignedRequest['headers'];
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  return [
    p.method.toUpperCase(),
    canonicalUri(p.path),
    p.query,
    p.signedHeaders.map((name) => `${name}:${headerValue(p.headers, name)}\n`).join(''),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

/** The hex signature of a canonical request under a credential scope. */
export function signature(secretAccessKey: string, amzDate: string, scopeParts: readonly [string, string, string], canonical: string): string {
  const [date, region, service] = scopeParts;
  const scope = `${date}/${region}/${service}/${TERMINATOR}`;
  return createHmac('sha256', signingKey(secretAccessKey, date, region, service)).update(stringToSign(amzDate, scope, canonical), 'utf8').digest('hex');
}

const BASIC_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseBasicDate(s: string): number | undefined {
  const m = BASIC_DATE.exec(s);
  if (m === null) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(ms) ? undefined : ms;
}

export function basicDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

interface AuthFields {
  algorithm: string;
  credential: string;
  signedHeaders: string;
  signature: string;
  /** The request time as the client signed it (X-Amz-Date, or Date as basic format). */
  amzDate: string;
  amzMs: number;
  /** Query auth: seconds the signature stays valid. */
  expires?: number;
  /** Query auth: the parameter left out of the canonical query. */
  omitFromQuery?: string;
}

function fromHeader(authorization: string, headers: SignedRequest['headers']): AuthFields {
  const trimmed = authorization.trim();
  const space = trimmed.search(/\s/);
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  const params = new Map<string, string>();
  for (const piece of (space < 0 ? '' : trimmed.slice(space)).split(/[,\s]+/)) {
    const eq = piece.indexOf('=');
    if (eq > 0) params.set(piece.slice(0, eq), piece.slice(eq + 1));
  }
  const amzDateHeader = headerValue(headers, 'x-amz-date');
  const dateHeader = headerValue(headers, 'date');
  let missing = '';
  for (const name of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!params.get(name)) missing += `Authorization header requires '${name}' parameter. `;
  }
  if (amzDateHeader === '' && dateHeader === '') {
    missing += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
  }
  if (missing !== '') throw incomplete(`${missing}Authorization=${trimmed}`);
  let amzDate: string;
  let amzMs: number | undefined;
  if (amzDateHeader !== '') {
    amzDate = amzDateHeader;
    amzMs = parseBasicDate(amzDateHeader);
  } else {
    const parsed = Date.parse(dateHeader);
    amzMs = Number.isNaN(parsed) ? undefined : parsed;
    amzDate = amzMs === undefined ? dateHeader : basicDate(amzMs);
  }
  if (amzMs === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  return {
    algorithm,
    credential: params.get('Credential')!,
    signedHeaders: params.get('SignedHeaders')!,
    signature: params.get('Signature')!,
    amzDate,
    amzMs,
  };
}

function fromQuery(query: URLSearchParams): AuthFields {
  let missing = '';
  for (const name of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date']) {
    if (!query.get(name)) missing += `AWS query-string parameters must include '${name}'. `;
  }
  if (missing !== '') throw incomplete(`${missing}Re-examine the query-string parameters.`);
  const amzDate = query.get('X-Amz-Date')!;
  const amzMs = parseBasicDate(amzDate);
  if (amzMs === undefined) throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  const expiresText = query.get('X-Amz-Expires');
  const expires = expiresText === null ? undefined : Number(expiresText);
  return {
    algorithm: query.get('X-Amz-Algorithm')!,
    credential: query.get('X-Amz-Credential')!,
    signedHeaders: query.get('X-Amz-SignedHeaders')!,
    signature: query.get('X-Amz-Signature')!,
    amzDate,
    amzMs,
    ...(expires !== undefined && Number.isFinite(expires) ? { expires } : {}),
    omitFromQuery: 'X-Amz-Signature',
  };
}

/** Accepts a key id → secret lookup, or a list of credentials. */
export type CredentialStore = ReadonlyMap<string, string>;

export function credentialStore(credentials: Credentials | readonly Credentials[]): CredentialStore {
  const list = Array.isArray(credentials) ? credentials : [credentials as Credentials];
  const store = new Map<string, string>();
  for (const c of list) {
    if (typeof c?.accessKeyId !== 'string' || c.accessKeyId === '' || typeof c.secretAccessKey !== 'string' || c.secretAccessKey === '') {
      throw new TypeError('auth credentials need a non-empty accessKeyId and secretAccessKey');
    }
    store.set(c.accessKeyId, c.secretAccessKey);
  }
  return store;
}

export interface VerifyOptions {
  /** The time to check the signature's date against (ms since the epoch). Default: now. */
  now?: number;
  /** The service the credential must be scoped to. Default: dynamodb. */
  service?: string;
}

/**
 * Verifies a request's SigV4 signature. Returns DynamoDB's error for a missing, malformed,
 * expired or wrong signature or an unknown access key, and undefined when it is right.
 */
export function verifySignature(request: SignedRequest, store: CredentialStore, options: VerifyOptions = {}): WireError | undefined {
  try {
    check(request, store, options.now ?? Date.now(), options.service ?? SERVICE);
    return undefined;
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
}

/** The signature's fields, or DynamoDB's error for a request without one or with an
 *  incomplete one (checked whether or not signatures are verified). */
function authFields(request: SignedRequest): { auth: AuthFields; path: string; rawQuery: string } {
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const rawQuery = q < 0 ? '' : request.url.slice(q + 1);
  const query = new URLSearchParams(rawQuery);
  const authorization = headerValue(request.headers, 'authorization');
  const queryAuth = query.has('X-Amz-Algorithm');
  if (authorization !== '' && queryAuth) {
    throw invalid("Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
  }
  if (authorization === '' && !queryAuth) throw missingToken();
  if (authorization !== '' && !authorization.trim().startsWith('AWS4-')) throw missingToken();
  const auth = authorization !== '' ? fromHeader(authorization, request.headers) : fromQuery(query);
  return { auth, path, rawQuery };
}

/**
 * What DynamoDB checks of a request's signature even where it is not verified (a server
 * without credentials to verify with, like DynamoDB Local): that there is one, in one
 * form, with every part present. Returns DynamoDB's error, or undefined.
 */
export function checkSignatureForm(request: SignedRequest): WireError | undefined {
  try {
    authFields(request);
    return undefined;
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
}

/** The region of a request's credential scope (`keyid/date/region/service/aws4_request`
 *  in the Authorization header or X-Amz-Credential), if it names one. */
export function credentialRegion(request: Pick<SignedRequest, 'url' | 'headers'>): string | undefined {
  const authorization = headerValue(request.headers, 'authorization');
  let credential: string | undefined;
  const inHeader = /Credential=([^,\s]+)/.exec(authorization);
  if (inHeader !== null) credential = inHeader[1];
  else {
    const q = request.url.indexOf('?');
    if (q >= 0) credential = new URLSearchParams(request.url.slice(q + 1)).get('X-Amz-Credential') ?? undefined;
  }
  const region = credential?.split('/')[2];
  return region !== undefined && /^[a-z0-9-]{1,64}$/.test(region) ? region : undefined;
}

function check(request: SignedRequest, store: CredentialStore, nowMs: number, expectedService: string): void {
  const { auth, path, rawQuery } = authFields(request);

  // Time: within 15 minutes of ours (and, for a presigned request, not past X-Amz-Expires).
  const earliest = nowMs - MAX_SKEW_MS;
  const latest = nowMs + MAX_SKEW_MS;
  if (auth.amzMs < earliest) {
    throw invalid(`Signature expired: ${auth.amzDate} is now earlier than ${basicDate(earliest)} (${basicDate(nowMs)} - 15 min.)`);
  }
  if (auth.amzMs > latest) {
    throw invalid(`Signature not yet current: ${auth.amzDate} is still later than ${basicDate(latest)} (${basicDate(nowMs)} + 15 min.)`);
  }
  if (auth.expires !== undefined && auth.amzMs + auth.expires * 1000 < nowMs) {
    throw invalid(`Signature expired: ${auth.amzDate} is now earlier than ${basicDate(nowMs - auth.expires * 1000)} (${basicDate(nowMs)} - ${auth.expires} sec.)`);
  }

  const signedHeaders = auth.signedHeaders.split(';').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  if (!signedHeaders.includes('host')) throw invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  if (auth.algorithm !== ALGORITHM) throw incomplete(`Unsupported AWS 'algorithm': '${auth.algorithm}' (only ${ALGORITHM} for now). `);

  const credential = auth.credential.replace(/\/+$/, '');
  const parts = credential.split('/');
  if (parts.length !== 5) {
    throw incomplete(`Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`);
  }
  const [keyId, date, region, service, terminator] = parts;
  const scopeErrors: string[] = [];
  if (region === '') scopeErrors.push(`Credential should be scoped to a valid region, not '${region}'.`);
  if (service !== expectedService) scopeErrors.push(`Credential should be scoped to correct service: '${expectedService}'.`);
  if (terminator !== TERMINATOR) scopeErrors.push(`Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`);
  if (date !== auth.amzDate.slice(0, 8)) {
    scopeErrors.push(`Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${auth.amzDate.slice(0, 8)}', from '${auth.amzDate}'.`);
  }
  if (scopeErrors.length > 0) throw invalid(scopeErrors.join(' '));

  const secret = store.get(keyId);
  if (secret === undefined) throw new WireError('UnrecognizedClientException', BAD_KEY);

  const canonical = canonicalRequest({
    method: request.method,
    path,
    query: canonicalQuery(rawQuery, auth.omitFromQuery),
    headers: request.headers,
    signedHeaders,
    payloadHash: sha256Hex(request.body),
  });
  const expected = Buffer.from(signature(secret, auth.amzDate, [date, region, service], canonical), 'utf8');
  const given = Buffer.from(auth.signature.toLowerCase(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid(BAD_SIGNATURE);
}
