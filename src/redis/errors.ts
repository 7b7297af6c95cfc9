/**
 * @module redis/errors: what a failed Redis call means to its caller, decided in one place: a script's own error
 * (a bug, not retried) or unavailability (no link, timeout, failover in progress: retried, and fail-static).
 */
import { KeywayError, StoreScriptError, StoreUnavailableError } from '../errors.js';
import type { StoreScript } from './scripts.js';

/** Replies that mean "not now" (a failover, a loading replica, a moved slot), not "your script is wrong". */
const TRANSIENT_REPLY = /^(CLUSTERDOWN|LOADING|MASTERDOWN|READONLY|TRYAGAIN|MOVED|ASK|BUSY|NOAUTH|WRONGPASS)\b/;

/** A script error from Redis is `StoreScriptError`; everything else (no link, timeout, failover) is unavailability. */
export function toStoreError(err: unknown, script: StoreScript): Error {
  if (err instanceof KeywayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const isReply = err instanceof Error && err.name === 'ReplyError';
  if (isReply && !TRANSIENT_REPLY.test(message)) {
    return new StoreScriptError(`script ${script.command} failed: ${message}`, err);
  }
  return new StoreUnavailableError(`redis unavailable: ${message}`, err);
}
