/**
 * @module coordinator/fastify/proxy-via: the generic form of the lookup helpers: any async resolver that names a
 * member address, or null for 404.
 */
import type { FastifyRequest, RouteHandlerMethod } from 'fastify';
import { streamReply } from './proxy-request.js';
import { notFound, replyError } from './reply-error.js';
import { checkFunction, checkMessage, resolveAndProxy, type Step } from './route-kit.js';
import { forwardList } from './upstream-headers.js';

/** Anything with an address to proxy to. */
export interface ProxyTarget {
  readonly address: string;
}

/** Finds where a request goes; null answers 404. Called a second time, afresh, before the one retry. */
export type ProxyResolver<T extends ProxyTarget = ProxyTarget> = (request: FastifyRequest) => Promise<T | null>;

export interface ProxyViaOptions {
  /** The 404 message. Default `'Not found'`. */
  readonly notFoundMessage?: string;
  /** Upstream inactivity limit (ms). Default: none. */
  readonly timeoutMs?: number;
  /** Request header names copied to the pod. Default `DEFAULT_FORWARD_HEADERS`. */
  readonly forwardHeaders?: readonly string[];
}

/**
 * A route handler proxying to whatever `resolve` names, streaming the answer, with the helpers' failure rules
 * (one retry on a fresh resolution after a refused connection, then 502; 504 on a timeout).
 *
 * @example
 * app.get('/reports/:id', proxyVia(async (req) => myLookup((req.params as { id: string }).id)));
 */
export function proxyVia<T extends ProxyTarget = ProxyTarget>(resolve: ProxyResolver<T>, options: ProxyViaOptions = {}): RouteHandlerMethod {
  checkFunction(resolve, 'proxyVia: resolve', true);
  checkMessage(options.notFoundMessage, 'proxyVia: notFoundMessage');
  const missing = notFound(options.notFoundMessage ?? 'Not found');
  const settings = { timeoutMs: options.timeoutMs, forward: forwardList(options.forwardHeaders, 'proxyVia: forwardHeaders') };

  return async (request, reply) => {
    const step = async (): Promise<Step<'hit' | 'not_found'>> => {
      const target = await resolve(request);
      if (target === null) return { kind: 'reply', tag: 'not_found', send: () => replyError(reply, missing) };
      return { kind: 'proxy', address: target.address, tag: 'hit' };
    };
    const outcome = await resolveAndProxy(request, reply, settings, step, () => undefined);
    if (outcome.kind === 'reply') return outcome.send();
    if (outcome.kind === 'failed') return replyError(reply, outcome.error);
    return streamReply(reply, outcome.response);
  };
}
