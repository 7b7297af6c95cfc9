/**
 * @module coordinator/fastify/lookup-and-deregister: the route handler that deletes a destination on its owner
 * and then removes the binding, or only removes the binding when the owner is already dead.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, RouteHandlerMethod } from 'fastify';
import type { CoordinatorRegistry } from './coordinator-registry.js';
import { notFound, replyError } from './reply-error.js';
import {
  destinationExtractor,
  guardedById,
  messageOption,
  report,
  resolveAndProxy,
  routeOptions,
  settingsOf,
  settle,
  statusOption,
  type DestinationRouteOptions,
  type Step,
} from './route-kit.js';

/**
 * One tag per request: platformatic's `deregistered`, `deregistered_dead_pod`, `not_found`, `upstream_error`
 * (the pod answered another status, or did not answer), plus `bad_request` (400: the extractor failed).
 */
export type LookupAndDeregisterResult = 'deregistered' | 'deregistered_dead_pod' | 'not_found' | 'upstream_error' | 'bad_request';

export interface LookupAndDeregisterOptions extends DestinationRouteOptions<LookupAndDeregisterResult> {
  /** The pod's success status; only then is the binding removed. Default 204. */
  readonly expectedStatus?: number;
  /** The 404 message. Default `'Destination not found'`. */
  readonly notFoundMessage?: string;
}

/**
 * Resolves the destination without claiming or reassigning it (a dead destination is not moved just to be
 * deleted), then:
 * - unknown: 404;
 * - owner dead: the pod is skipped, the binding removed, and `expectedStatus` answered with an empty body;
 * - owner alive: the request is proxied; on `expectedStatus` the answer is drained, the binding removed and
 *   `expectedStatus` answered empty; any other answer is streamed back unchanged and the binding kept.
 * A failed connection is retried once on a fresh resolution, as in `lookupAndProxy` (a pod found dead then
 * takes the dead-pod path); still failing: 502, or 504 on a timeout.
 *
 * @example
 * app.delete('/sessions/:id', lookupAndDeregister(registry, { destinationFrom: (req) => (req.params as { id: string }).id }));
 */
export function lookupAndDeregister(registry: CoordinatorRegistry, options: LookupAndDeregisterOptions): RouteHandlerMethod {
  const extract = destinationExtractor(options, 'lookupAndDeregister');
  const expectedStatus = statusOption(options.expectedStatus, 'lookupAndDeregister: expectedStatus', 204);
  const missing = notFound(messageOption(options.notFoundMessage, 'lookupAndDeregister: notFoundMessage', 'Destination not found'));
  const { forward, onResult } = routeOptions(options, 'lookupAndDeregister');

  const deregistered = async (reply: FastifyReply, id: string): Promise<FastifyReply> => {
    await registry.deregisterDestination(id);
    return reply.code(expectedStatus).send();
  };

  return guardedById(extract, 'destination', onResult, async (request, reply, id) => {
    const resolve = async (): Promise<Step<LookupAndDeregisterResult>> => {
      const resolved = await registry.resolveDestination(id, { claimOnMiss: false, reassignOrphans: false });
      if (resolved === null || resolved.address === null) {
        // No live owner: a binding to dead pods is removed without asking them; none at all is a 404.
        if (await registry.hasBinding(id)) return { kind: 'reply', tag: 'deregistered_dead_pod', send: () => deregistered(reply, id) };
        return { kind: 'reply', tag: 'not_found', send: () => replyError(reply, missing) };
      }
      return { kind: 'proxy', address: resolved.address, memberId: resolved.memberId, tag: 'deregistered' };
    };
    const evict = (failed: { readonly memberId?: string }): unknown =>
      failed.memberId !== undefined && registry.reportFailure(id, failed.memberId);
    const outcome = await resolveAndProxy(request, reply, settingsOf(registry, forward), resolve, evict);
    if (outcome.kind === 'reply') {
      // Tag after the binding is gone, so a counter never runs ahead of Redis.
      const sent = await outcome.send();
      report(onResult, outcome.tag, request);
      return sent;
    }
    if (outcome.kind === 'failed' || outcome.response.statusCode !== expectedStatus) {
      return settle(outcome, request, reply, onResult, 'upstream_error');
    }
    await drain(outcome.response);
    const sent = await deregistered(reply, id);
    report(onResult, 'deregistered', request);
    return sent;
  });
}

/** Reads and discards a response body, so its socket goes back to the pool. */
async function drain(response: IncomingMessage): Promise<void> {
  try {
    for await (const _chunk of response);
  } catch {
    // The pod already said yes with its status; a body cut short changes nothing.
  }
}
