/**
 * @module coordinator/fastify/lookup-lock-and-proxy: the route handler that sends a request to the member holding
 * a lock (a transaction, a lease), streaming the answer back.
 */
import type { RouteHandlerMethod } from 'fastify';
import type { CoordinatorRegistry } from './coordinator-registry.js';
import { notFound, replyError } from './reply-error.js';
import {
  checkFunction,
  guardedById,
  messageOption,
  resolveAndProxy,
  routeOptions,
  settingsOf,
  settle,
  type IdExtractor,
  type RouteOptions,
  type Step,
} from './route-kit.js';

/** One tag per request: platformatic's `hit` and `not_found`, plus `bad_request` (400) and `upstream_error` (502/504). */
export type LookupLockAndProxyResult = 'hit' | 'not_found' | 'bad_request' | 'upstream_error';

export interface LookupLockAndProxyOptions extends RouteOptions<LookupLockAndProxyResult> {
  /** Reads the lock id from the request. Throwing or returning a non-string answers 400. */
  readonly lockFrom: IdExtractor;
  /** The 404 message. Default `'Lock not found'`. */
  readonly notFoundMessage?: string;
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
  const missing = notFound(messageOption(options.notFoundMessage, 'lookupLockAndProxy: notFoundMessage', 'Lock not found'));
  const { forward, onResult } = routeOptions(options, 'lookupLockAndProxy');

  return guardedById(options.lockFrom, 'lock', onResult, async (request, reply, lockId) => {
    const resolve = async (suspect: string | null): Promise<Step<LookupLockAndProxyResult>> => {
      const owner = await registry.resolveLock(lockId);
      // The holder refused the connection: its process, and the transaction with it, is gone. Say so now rather
      // than answer 502 until its record expires.
      if (owner === null || owner.memberId === suspect) return { kind: 'reply', tag: 'not_found', send: () => replyError(reply, missing) };
      return { kind: 'proxy', address: owner.address, memberId: owner.memberId, tag: 'hit' };
    };
    // Locks are read from Redis on every call: nothing cached to evict before the fresh resolution.
    const outcome = await resolveAndProxy(request, reply, settingsOf(registry, forward), resolve, () => undefined);
    return settle(outcome, request, reply, onResult);
  });
}
