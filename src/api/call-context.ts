/**
 * What a call knows about who made it and where: the region of the request's SigV4
 * credential scope, which DynamoDB puts in every ARN it answers with. The HTTP server runs
 * each operation inside `withCallContext`; embedded calls have none and use `REGION`.
 * (AsyncLocalStorage: the context follows the call through its awaits without every
 * operation taking one more argument.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ACCOUNT, REGION } from './request-checks.js';

export interface CallContext {
  /** The region the request was signed for. */
  region?: string;
}

const storage = new AsyncLocalStorage<CallContext>();

export function withCallContext<T>(context: CallContext, run: () => T): T {
  return storage.run(context, run);
}

/** The region of the current call: its credential scope's, or the embedded default. */
export function callRegion(): string {
  const region = storage.getStore()?.region;
  return region !== undefined && region !== '' ? region : REGION;
}

/** `arn:aws:dynamodb:<region>:<account>:table/<name>` for the current call's region. */
export function tableArn(tableName: string): string {
  return `arn:aws:dynamodb:${callRegion()}:${ACCOUNT}:table/${tableName}`;
}
