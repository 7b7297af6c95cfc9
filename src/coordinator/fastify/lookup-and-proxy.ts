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
  statusOption,
  type DestinationRouteOptions,
  type Step,
} from './route-kit.js';

/**
 * One tag per request. platformatic's `hit`, `orphan_reassigned`, `not_found`, plus `unavailable` (a claim or
 * reassignment was asked and no member is alive: 404 like platformatic, or `unavailableStatus`), `bad_request`
 * (400: the extractor failed) and `upstream_error` (502/504: the member did not answer).
 */
export type LookupAndProxyResult = 'hit' | 'orphan_reassigned' | 'not_found' | 'unavailable' | 'bad_request' | 'upstream_error';

export interface LookupAndProxyOptions extends DestinationRouteOptions<LookupAndProxyResult> {
  /** Bind an unknown destination to a live member (picked by the registry's strategy). Default false. */
  readonly claimOnMiss?: boolean;
  /** When every owner is dead, bind the destination to a live member and proxy there. Default false. */
  readonly reassignOrphans?: boolean;
  /** The 404 message. Default `'Destination not found'`. */
  readonly notFoundMessage?: string;
  /** The message when no member is alive to claim or take over. Default: `notFoundMessage` (platformatic's answer). */
  readonly unavailableMessage?: string;
  /** The status when no member is alive to claim or take over. Default 404 (platformatic's); 503 tells it apart. */
  readonly unavailableStatus?: number;
}

/**
 * Resolves the destination and proxies the request to its live owner, streaming the answer.
 * - unknown destination (and no claim): 404; owner dead without `reassignOrphans`: 404;
 * - a claim or reassignment needed and no member alive: 404 (platformatic's), or `unavailableStatus`;
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
  const notFoundText = messageOption(options.notFoundMessage, 'lookupAndProxy: notFoundMessage', 'Destination not found');
  const missing = notFound(notFoundText);
  const noMemberText = messageOption(options.unavailableMessage, 'lookupAndProxy: unavailableMessage', notFoundText);
  const noMemberStatus = statusOption(options.unavailableStatus, 'lookupAndProxy: unavailableStatus', 404);
  const noMember = noMemberStatus === 404 ? notFound(noMemberText) : unavailable(noMemberText, noMemberStatus);
  const { forward, onResult } = routeOptions(options, 'lookupAndProxy');
  const resolveOptions: ResolveDestinationOptions = {
    claimOnMiss: options.claimOnMiss === true,
    reassignOrphans: options.reassignOrphans === true,
  };

  return guardedById(extract, 'destination', onResult, async (request, reply, id) => {
    const resolve = async (suspect: string | null): Promise<Step<LookupAndProxyResult>> => {
      // resolveBinding tells a dead binding (address null) from none in the same call, where the registry has it.
      const asked = suspect === null ? resolveOptions : { ...resolveOptions, suspect };
      const resolved = await (registry.resolveBinding?.(id, asked) ?? registry.resolveDestination(id, asked));
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
