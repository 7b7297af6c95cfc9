/**
 * @module integrations/fastify/lookup-lock-and-proxy: the route handler that sends a request to the member holding
 * a lock (a transaction, a lease), streaming the answer back.
 */
import type { RouteHandlerMethod } from 'fastify';
import type { CoordinatorRegistry } from './coordinator-registry.js';
import { streamReply } from './proxy-request.js';
import { badId, notFound, replyError } from './reply-error.js';
import {
  checkFunction,
  checkMessage,
  guarded,
  readId,
  report,
  resolveAndProxy,
  settingsOf,
  type IdExtractor,
  type Step,
} from './route-kit.js';
import { forwardList } from './upstream-headers.js';

/** One tag per request: platformatic's `hit` and `not_found`, plus `bad_request` (400) and `upstream_error` (502/504). */
export type LookupLockAndProxyResult = 'hit' | 'not_found' | 'bad_request' | 'upstream_error';

export interface LookupLockAndProxyOptions {
  /** Reads the lock id from the request. Throwing or returning a non-string answers 400. */
  readonly lockFrom: IdExtractor;
  /** The 404 message. Default `'Lock not found'`. */
  readonly notFoundMessage?: string;
  /** Request header names copied to the pod. Default `DEFAULT_FORWARD_HEADERS`. */
  readonly forwardHeaders?: readonly string[];
  /** Called once per request with its outcome. */
  readonly onResult?: (result: LookupLockAndProxyResult) => void;
}

/**
 * Resolves the lock and proxies the request to the member holding it. An unknown lock, or one whose owner is
 * dead (a lock is never reassigned: its holder's state went with it), answers 404. A refused connection is
 * retried once on a fresh resolution (which then usually finds the owner dead: 404); still failing: 502/504.
 *
 * @example
 * app.post('/transactions/:lockId/commit', lookupLockAndProxy(registry, {
 *   lockFrom: (req) => (req.params as { lockId: string }).lockId,
 * }));
 */
export function lookupLockAndProxy(registry: CoordinatorRegistry, options: LookupLockAndProxyOptions): RouteHandlerMethod {
  checkFunction(options.lockFrom, 'lookupLockAndProxy: lockFrom', true);
  checkMessage(options.notFoundMessage, 'lookupLockAndProxy: notFoundMessage');
  checkFunction(options.onResult, 'lookupLockAndProxy: onResult', false);
  const missing = notFound(options.notFoundMessage ?? 'Lock not found');
  const forward = forwardList(options.forwardHeaders, 'lookupLockAndProxy: forwardHeaders');
  const { lockFrom, onResult } = options;

  return guarded(async (request, reply) => {
    const lockId = readId(lockFrom, request);
    if (lockId === null) {
      report(onResult, 'bad_request', request);
      return replyError(reply, badId('lock'));
    }
    const resolve = async (suspect: string | null): Promise<Step<LookupLockAndProxyResult>> => {
      const owner = await registry.resolveLock(lockId);
      // The holder refused the connection: its process, and the transaction with it, is gone. Say so now rather
      // than answer 502 until its record expires.
      if (owner === null || owner.memberId === suspect) return { kind: 'reply', tag: 'not_found', send: () => replyError(reply, missing) };
      return { kind: 'proxy', address: owner.address, memberId: owner.memberId, tag: 'hit' };
    };
    // Locks are read from Redis on every call: nothing cached to evict before the fresh resolution.
    const outcome = await resolveAndProxy(request, reply, settingsOf(registry, forward), resolve, () => undefined);
    if (outcome.kind === 'reply') {
      report(onResult, outcome.tag, request);
      return outcome.send();
    }
    if (outcome.kind === 'failed') {
      report(onResult, 'upstream_error', request);
      return replyError(reply, outcome.error);
    }
    report(onResult, outcome.tag, request);
    return streamReply(reply, outcome.response);
  });
}
