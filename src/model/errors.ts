/**
 * DynamoDB-shaped errors. `name` is DynamoDB's error type (the part after `#` in the
 * `__type` of an HTTP error body) and `message` is the text DynamoDB would send, or,
 * where DynamoDB's is unknown, one a user can act on.
 */
export type DynamoDBErrorName =
  | 'ValidationException'
  | 'ResourceNotFoundException'
  | 'ResourceInUseException'
  | 'ConditionalCheckFailedException'
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'RequestLimitExceeded'
  | 'TransactionCanceledException'
  | 'TransactionConflictException'
  | 'ItemCollectionSizeLimitExceededException'
  | 'LimitExceededException'
  | 'IdempotentParameterMismatchException'
  | 'InternalServerError'
  | 'ServiceUnavailable'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'AccessDeniedException'
  | 'BackupNotFoundException'
  | 'BackupInUseException'
  | 'TableNotFoundException'
  | 'TableInUseException'
  | 'TableAlreadyExistsException'
  | 'ContinuousBackupsUnavailableException'
  | 'PointInTimeRecoveryUnavailableException'
  | 'InvalidRestoreTimeException';

const retryableNames: ReadonlySet<DynamoDBErrorName> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** HTTP status DynamoDB answers with: 500/503 for server faults, 400 for the rest. */
const statusByName: Partial<Record<DynamoDBErrorName, number>> = {
  InternalServerError: 500,
  ServiceUnavailable: 503,
};

export class DynamoDBError extends Error {
  override readonly name: DynamoDBErrorName;
  readonly retryable: boolean;
  readonly httpStatus: number;
  /** Extra fields DynamoDB sends with some errors (Item, CancellationReasons). */
  readonly details: Record<string, unknown> | undefined;

  constructor(name: DynamoDBErrorName, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = name;
    this.retryable = retryableNames.has(name);
    this.httpStatus = statusByName[name] ?? 400;
    this.details = details;
  }
}

export function validationError(message: string): DynamoDBError {
  return new DynamoDBError('ValidationException', message);
}

/** A plain, structured-clone- and msgpack-safe form of an error, to cross a ring. */
export interface ErrorShape {
  name: DynamoDBErrorName;
  message: string;
  details?: Record<string, unknown>;
}

export function toErrorShape(e: DynamoDBError): ErrorShape {
  return e.details === undefined ? { name: e.name, message: e.message } : { name: e.name, message: e.message, details: e.details };
}

export function fromErrorShape(s: ErrorShape): DynamoDBError {
  return new DynamoDBError(s.name, s.message, s.details);
}
