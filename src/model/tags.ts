/**
 * Tags and table ARNs as DynamoDB validates them (TagResource, UntagResource,
 * ListTagsOfResource, CreateTable's Tags), with DynamoDB's messages.
 *
 * Sources of the messages: dynalite's validations and tests (written against DynamoDB),
 * and messages recorded from DynamoDB itself ('The Tag Key provided is invalid, Key: …',
 * 'Number of Tags exceed the current limit for the provided ResourceArn', 'ARNs must start
 * with 'arn:'…'). Limits: developer guide, "Tagging restrictions in DynamoDB".
 */
import { DynamoDBError, validationError } from './errors.js';

/** Most tags one resource may carry. */
export const MAX_TAGS = 50;
/** Tag keys are 1–128 Unicode characters; values 0–256. */
export const MAX_TAG_KEY_CHARS = 128;
export const MAX_TAG_VALUE_CHARS = 256;

export interface TagShape { Key: string; Value: string }

const INVALID = 'One or more parameter values were invalid: ';
export const TOO_MANY_TAGS_MESSAGE = 'Number of Tags exceed the current limit for the provided ResourceArn';

/** AWS's tag character set: letters and digits of any script, white space, and + - = . _ : / @. */
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function validKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && chars(key) <= MAX_TAG_KEY_CHARS && TAG_CHARS.test(key);
}

function keyError(key: unknown): DynamoDBError {
  return validationError(`The Tag Key provided is invalid, Key: ${typeof key === 'string' ? key : 'null'}`);
}

/** Checks one tag key (TagResource, UntagResource): length, characters, the reserved `aws:`. */
export function validateTagKey(key: unknown): asserts key is string {
  if (!validKey(key)) throw keyError(key);
  if (key.startsWith('aws:')) throw validationError(`Tag Key cannot be prefixed with aws:, Key: ${key}`);
}

/**
 * Checks a list of tags to add (TagResource, CreateTable): each key and value, no key twice.
 * The count limit needs the tags already there: `mergeTags`.
 */
export function validateTags(tags: unknown): asserts tags is TagShape[] {
  if (!Array.isArray(tags)) throw validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
  const seen = new Set<string>();
  for (const tag of tags) {
    const t = (tag ?? {}) as Partial<TagShape>;
    validateTagKey(t.Key);
    const value = t.Value;
    if (typeof value !== 'string' || chars(value) > MAX_TAG_VALUE_CHARS || !TAG_CHARS.test(value)) {
      throw validationError(`The Tag Value provided is invalid, Value: ${typeof value === 'string' ? value : 'null'}`);
    }
    if (seen.has(t.Key)) throw validationError(`Duplicate Tag Keys provided as input: Duplicate Tag Key found ${t.Key}`);
    seen.add(t.Key);
  }
}

/** `current` with `added` upserted, in key order; throws when the result has over 50 tags. */
export function mergeTags(current: readonly TagShape[], added: readonly TagShape[]): TagShape[] {
  const merged = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of added) merged.set(t.Key, t.Value);
  if (merged.size > MAX_TAGS) throw validationError(TOO_MANY_TAGS_MESSAGE);
  return sortTags([...merged].map(([Key, Value]) => ({ Key, Value })));
}

export function sortTags(tags: TagShape[]): TagShape[] {
  return tags.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
}

/** The region and account in every table ARN of this store. */
export interface ArnScope { region: string; account: string }

/** The IAM identity named in AccessDeniedException messages (an account's root user). */
export function callerIdentity(account: string): string {
  return `arn:aws:iam::${account}:root`;
}

/**
 * The first check of a tagging request's ResourceArn, as DynamoDB makes it: a missing
 * one is a ValidationException; one that does not even look like an ARN with a resource
 * path (six colon-separated parts, a slash in the last) is refused as IAM would refuse
 * it, with AccessDeniedException naming the action.
 */
export function checkArnAuthorized(arn: unknown, action: string, account: string): asserts arn is string {
  if (arn === undefined || arn === null) throw validationError('Invalid TableArn');
  if (typeof arn !== 'string') throw new DynamoDBError('SerializationException', 'Expected a string for ResourceArn');
  if (!/^.+:.+:.+:.+:.+:.+\/.+$/.test(arn)) {
    throw new DynamoDBError('AccessDeniedException', `User: ${callerIdentity(account)} is not authorized to perform: dynamodb:${action} on resource: ${arn === '' ? '*' : arn}`);
  }
}

/**
 * The table name in a table ARN `arn:aws:dynamodb:<region>:<account>:table/<name>`, or
 * DynamoDB's error for a malformed or foreign ARN (after `checkArnAuthorized`). The
 * table's existence is the caller's to check.
 */
export function tableNameFromArn(arn: string, scope: ArnScope): string {
  const invalidArn = (): DynamoDBError => validationError(`Invalid TableArn: Invalid ResourceArn provided as input ${arn}`);
  const parts = arn.split(':');
  if (parts[0] !== 'arn') throw invalidArn();
  if (parts.length < 6 || parts[2] !== 'dynamodb') throw validationError(`${INVALID}Provided Arn is not a DynamoDB resource arn: ${arn}`);
  const resource = parts.slice(5).join(':');
  if (!resource.startsWith('table/')) {
    throw validationError(`${INVALID}Invalid resource arn provided, only table or stream is accepted. Provided resource arn: ${arn}`);
  }
  const path = resource.slice('table/'.length).split('/');
  if (path.length > 1) {
    if (path[1] === 'stream') throw validationError(`${INVALID}shardbox tables have no streams yet, so a stream ARN cannot be tagged: ${arn}`);
    throw validationError(`${INVALID}Invalid resource arn provided, only table or stream is accepted. Provided resource arn: ${arn}`);
  }
  const name = path[0]!;
  if (parts[1] !== 'aws' || parts[3] !== scope.region || parts[4] !== scope.account || !/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) throw invalidArn();
  return name;
}
