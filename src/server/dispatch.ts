/**
 * One DynamoDB JSON 1.0 request → one response, shared by the HTTP server and the
 * in-process AWS SDK handler: `X-Amz-Target: DynamoDB_20120810.<Operation>` picks the
 * ShardBox method, the body is decoded from the wire format, the method runs, and its
 * result or error is encoded as DynamoDB would send it.
 *
 * The checks run in DynamoDB's order (dynalite's connection tests, which run against the
 * real service, pin it): body is JSON → target names an operation → authentication →
 * operation.
 */
import { randomBytes } from 'node:crypto';
import { withCallContext } from '../api/call-context.js';
import type { ShardBox } from '../api/index.js';
import { DynamoDBError } from '../model/errors.js';
import { crc32 } from './crc32.js';
import { decodeRequest, encodeResponse, jsonDepthExceeds, MAX_JSON_DEPTH, nestingError } from './wire.js';

export const TARGET_PREFIX = 'DynamoDB_20120810.';

/** How one DynamoDB operation is served. */
export interface Operation {
  /** The `ShardBox` method, taking and returning DynamoDB's shapes. */
  method: string;
  /** DynamoDB answers success with an empty body (TagResource, UntagResource). */
  emptyResponse?: boolean;
  /** The method takes, after the input, the address clients reach this server at
   *  (DescribeEndpoints). */
  withAddress?: boolean;
}

/**
 * DynamoDB operation → how it is served. An operation is served when its method exists
 * on the database, and answers UnknownOperationException otherwise; adding one is one
 * line here. A method that resolves to `undefined` also answers with an empty body.
 */
export const OPERATIONS: Readonly<Record<string, Readonly<Operation>>> = Object.freeze({
  CreateTable: { method: 'createTable' },
  DescribeTable: { method: 'describeTable' },
  ListTables: { method: 'listTables' },
  DeleteTable: { method: 'deleteTable' },
  UpdateTable: { method: 'updateTable' },
  PutItem: { method: 'putItem' },
  GetItem: { method: 'getItem' },
  DeleteItem: { method: 'deleteItem' },
  UpdateItem: { method: 'updateItem' },
  Query: { method: 'query' },
  Scan: { method: 'scan' },
  BatchGetItem: { method: 'batchGetItem' },
  BatchWriteItem: { method: 'batchWriteItem' },
  TagResource: { method: 'tagResource', emptyResponse: true },
  UntagResource: { method: 'untagResource', emptyResponse: true },
  ListTagsOfResource: { method: 'listTagsOfResource' },
  DescribeTimeToLive: { method: 'describeTimeToLive' },
  UpdateTimeToLive: { method: 'updateTimeToLive' },
  DescribeEndpoints: { method: 'describeEndpoints', withAddress: true },
  DescribeLimits: { method: 'describeLimits' },
  CreateBackup: { method: 'createBackup' },
  DescribeBackup: { method: 'describeBackup' },
  ListBackups: { method: 'listBackups' },
  DeleteBackup: { method: 'deleteBackup' },
  RestoreTableFromBackup: { method: 'restoreTableFromBackup' },
  UpdateContinuousBackups: { method: 'updateContinuousBackups' },
  DescribeContinuousBackups: { method: 'describeContinuousBackups' },
  RestoreTableToPointInTime: { method: 'restoreTableToPointInTime' },
});

/** What dispatch can serve: a ShardBox, or anything with some of its methods. */
export type DispatchTarget = ShardBox | object;

/** An error of the protocol layer, including those that are not the embedded API's
 *  (authentication). `name` is the part after `#` in `__type`. */
export class WireError extends Error {
  override readonly name: string;
  readonly status: number;

  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

/** The namespace DynamoDB puts before each error name in `__type`; the SDKs read only
 *  the part after `#`. Everything not listed is DynamoDB's own. */
const NAMESPACES: Readonly<Record<string, string>> = {
  ValidationException: 'com.amazon.coral.validate',
  SerializationException: 'com.amazon.coral.service',
  UnknownOperationException: 'com.amazon.coral.service',
  MissingAuthenticationTokenException: 'com.amazon.coral.service',
  IncompleteSignatureException: 'com.amazon.coral.service',
  InvalidSignatureException: 'com.amazon.coral.service',
  UnrecognizedClientException: 'com.amazon.coral.service',
  AccessDeniedException: 'com.amazon.coral.service',
  ThrottlingException: 'com.amazon.coral.availability',
};
const DYNAMODB_NAMESPACE = 'com.amazonaws.dynamodb.v20120810';

export function errorType(name: string): string {
  return `${NAMESPACES[name] ?? DYNAMODB_NAMESPACE}#${name}`;
}

export interface DispatchResult {
  status: number;
  /** The response body: JSON, or empty for operations that answer with no body. */
  body: string;
}

export interface DispatchOptions {
  /** The host[:port] clients reach this endpoint at (the request's Host header), for
   *  DescribeEndpoints. */
  address?: string;
  /** Authentication, run after the target is known and before the operation, as
   *  DynamoDB orders its checks. Returns the error to answer with, if any. */
  authorize?: () => WireError | undefined;
  /** Where bugs (errors that are not DynamoDB's) are reported. Default: stderr. */
  logError?: (message: string, error: unknown) => void;
  /** The region of the request's credential scope: the ARNs the operation answers with
   *  carry it. Default: the embedded API's. */
  region?: string;
}

const INTERNAL_MESSAGE = 'Internal server error';

function defaultLogError(message: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  process.stderr.write(`shardbox server: ${message}\n${detail}\n`);
}

/** Errors whose body spells the field `Message`: IAM's, as DynamoDB relays them, and its
 *  JSON deserializer's. */
const CAPITALIZED_MESSAGE = new Set(['AccessDeniedException', 'SerializationException']);

/** The JSON body of an error response. Extra fields (Item, CancellationReasons) are
 *  encoded like any response: binary as base64. DynamoDB sends some errors (an unknown
 *  operation, a body that is not JSON) with no message at all; its deserializer's errors
 *  (SerializationException) and IAM's capitalize the member ("Message"). */
export function errorBody(name: string, message: string, details?: Record<string, unknown>): string {
  if (message === '') return encodeResponse({ ...details, __type: errorType(name) });
  const key = name === 'SerializationException' || CAPITALIZED_MESSAGE.has(name) ? 'Message' : 'message';
  return encodeResponse({ ...details, __type: errorType(name), [key]: message });
}

function errorResult(error: unknown, operation: string | undefined, log: (message: string, error: unknown) => void): DispatchResult {
  if (error instanceof WireError) return { status: error.status, body: errorBody(error.name, error.message) };
  if (error instanceof DynamoDBError) {
    let body: string;
    try {
      body = errorBody(error.name, error.message, error.details);
    } catch (e) {
      safeLog(log, `cannot encode the details of a ${error.name}`, e);
      body = errorBody(error.name, error.message);
    }
    return { status: error.httpStatus, body };
  }
  // Not DynamoDB's error: a bug. The client gets DynamoDB's generic 500 (which the SDKs
  // retry); the details go to the log, never to the client.
  safeLog(log, `internal error in ${operation ?? 'a request'}`, error);
  return { status: 500, body: errorBody('InternalServerError', INTERNAL_MESSAGE) };
}

function safeLog(log: (message: string, error: unknown) => void, message: string, error: unknown): void {
  try {
    log(message, error);
  } catch {
    // A failing logger must not take the request down with it.
  }
}

/** DynamoDB answers a body that is not JSON (empty, not UTF-8, malformed) with a
 *  SerializationException that has no message. */
const NOT_JSON = '';

function serialization(message: string): WireError {
  return new WireError('SerializationException', message);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Resolved {
  operation: string;
  spec: Readonly<Operation>;
  method: (...args: unknown[]) => Promise<unknown>;
}

/** The operation and its method, or throws UnknownOperationException. */
function operationOf(db: DispatchTarget, target: string | undefined): Resolved {
  const operation = target !== undefined && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  // DynamoDB answers a missing or unknown target with the error's name and no message.
  if (operation === undefined || !Object.hasOwn(OPERATIONS, operation)) throw new WireError('UnknownOperationException', '');
  const spec = OPERATIONS[operation];
  const method = (db as Record<string, unknown>)[spec.method];
  if (typeof method !== 'function') {
    throw new WireError('UnknownOperationException', `The operation ${operation} is not supported by shardbox`);
  }
  return { operation, spec, method: method as Resolved['method'] };
}

/**
 * Serves one DynamoDB JSON 1.0 request. Never throws: every failure becomes DynamoDB's
 * error response (a bug becomes InternalServerError, logged).
 */
export async function dispatch(
  db: DispatchTarget,
  target: string | undefined,
  body: Uint8Array | string,
  options: DispatchOptions = {},
): Promise<DispatchResult> {
  let operation: string | undefined;
  try {
    let text: string;
    if (typeof body === 'string') text = body;
    else {
      try {
        text = utf8.decode(body);
      } catch {
        throw serialization(NOT_JSON);
      }
    }
    let input: unknown;
    if (text.length > 0) {
      try {
        input = JSON.parse(text);
      } catch {
        throw serialization(NOT_JSON);
      }
    }
    const resolved = operationOf(db, target);
    operation = resolved.operation;
    const denied = options.authorize?.();
    if (denied !== undefined) throw denied;
    if (input === undefined) throw serialization(NOT_JSON);
    if (input === null || typeof input !== 'object') throw serialization('Expected null');
    if (Array.isArray(input)) throw serialization('Start of list found where not expected');
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) throw nestingError();
    decodeRequest(operation, input as Record<string, unknown>);
    const args: unknown[] = resolved.spec.withAddress && options.address !== undefined ? [input, options.address] : [input];
    const result = await withCallContext(options.region !== undefined ? { region: options.region } : {}, () => resolved.method.apply(db, args));
    return { status: 200, body: result === undefined || resolved.spec.emptyResponse ? '' : encodeResponse(result) };
  } catch (error) {
    return errorResult(error, operation, options.logError ?? defaultLogError);
  }
}

/** A request id shaped like DynamoDB's: 52 characters of [0-9A-Z]. */
export function requestId(): string {
  return randomBytes(39).toString('base64').toUpperCase().replace(/[+/=]/g, '0');
}

/** The headers DynamoDB sends with every JSON response. */
export function responseHeaders(body: Uint8Array, contentType = 'application/x-amz-json-1.0'): Record<string, string> {
  return {
    'content-type': contentType,
    'content-length': String(body.byteLength),
    'x-amz-crc32': String(crc32(body)),
    'x-amzn-requestid': requestId(),
  };
}
