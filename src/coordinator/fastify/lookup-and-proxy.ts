/**
 * @module coordinator/fastify/lookup-and-proxy: the route handler that sends a request to the member owning its
 * destination, streaming the answer back.
 */
import type { RouteHandlerMethod } from 'fastify';
import type { CoordinatorRegistry, ResolveDestinationOptions } from './coordinator-registry.js';
import { notFound, replyError, unavailable } from './reply-error.js';
import {
  destinationExtractor,
  guardedById,
  messageOption,
  resolveAndProxy,
  routeOptions,
  settingsOf,
  settle,
  type DestinationRouteOptions,
  type Step,
} from './route-kit.js';

/**
 * One tag per request. platformatic's `hit`, `orphan_reassigned`, `not_found`, plus `unavailable` (503: a claim
 * or reassignment was asked and no member is alive), `bad_request` (400: the extractor failed) and
 * `upstream_error` (502/504: the member did not answer).
 */
export type LookupAndProxyResult = 'hit' | 'orphan_reassigned' | 'not_found' | 'unavailable' | 'bad_request' | 'upstream_error';

export interface LookupAndProxyOptions extends DestinationRouteOptions<LookupAndProxyResult> {
  /** Bind an unknown destination to a live member (picked by the registry's strategy). Default false. */
  readonly claimOnMiss?: boolean;
  /** When every owner is dead, bind the destination to a live member and proxy there. Default false. */
  readonly reassignOrphans?: boolean;
  /** The 404 message. Default `'Destination not found'`. */
  readonly notFoundMessage?: string;
  /** The 503 message. Default `'No pods available'`. */
  readonly unavailableMessage?: string;
}

/**
 * Resolves the destination and proxies the request to its live owner, streaming the answer.
 * - unknown destination (and no claim): 404; owner dead without `reassignOrphans`: 404;
 * - a claim or reassignment needed and no member alive: 503;
 * - the owner refuses or resets the connection before answering: the cached resolution is evicted and the
 *   request goes once to a freshly resolved owner; still failing: 502; no answer within the timeout: 504.
 *
 * @example
 * app.post('/sessions/:id/work', lookupAndProxy(registry, {
 *   destinationFrom: (req) => (req.params as { id: string }).id,
 *   reassignOrphans: true,
 * }));
 */
export function lookupAndProxy(registry: CoordinatorRegistry, options: LookupAndProxyOptions): RouteHandlerMethod {
  const extract = destinationExtractor(options, 'lookupAndProxy');
  const missing = notFound(messageOption(options.notFoundMessage, 'lookupAndProxy: notFoundMessage', 'Destination not found'));
  const noMember = unavailable(messageOption(options.unavailableMessage, 'lookupAndProxy: unavailableMessage', 'No pods available'));
  const { forward, onResult } = routeOptions(options, 'lookupAndProxy');
  const resolveOptions: ResolveDestinationOptions = {
    claimOnMiss: options.claimOnMiss === true,
    reassignOrphans: options.reassignOrphans === true,
  };

  return guardedById(extract, 'destination', onResult, async (request, reply, id) => {
    const resolve = async (suspect: string | null): Promise<Step<LookupAndProxyResult>> => {
      const resolved = await registry.resolveDestination(id, suspect === null ? resolveOptions : { ...resolveOptions, suspect });
      if (resolved !== null && resolved.address !== null) {
        return {
          kind: 'proxy',
          address: resolved.address,
          memberId: resolved.memberId,
          tag: resolved.reassigned ? 'orphan_reassigned' : 'hit',
        };
      }
      // Null after a claim was asked, or a dead owner after a reassignment was asked: was anybody alive?
      const neededMember = resolved === null ? resolveOptions.claimOnMiss : resolveOptions.reassignOrphans;
      if (neededMember && (await registry.listLiveMembers()).length === 0) {
        return { kind: 'reply', tag: 'unavailable', send: () => replyError(reply, noMember) };
      }
      return { kind: 'reply', tag: 'not_found', send: () => replyError(reply, missing) };
    };
    const evict = (failed: { readonly memberId?: string }): unknown =>
      failed.memberId !== undefined && registry.reportFailure(id, failed.memberId);
    const outcome = await resolveAndProxy(request, reply, settingsOf(registry, forward), resolve, evict);
    return settle(outcome, request, reply, onResult);
  });
}
