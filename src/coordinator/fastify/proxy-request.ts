/**
 * @module coordinator/fastify/proxy-request: the building blocks under the helpers, for routes the helpers do not
 * fit: send a Fastify request to a member, then stream the member's answer into the reply.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { upstreamBody } from './request-body.js';
import { attemptUpstream } from './upstream-attempt.js';
import { copyResponseHead, forwardList } from './upstream-headers.js';

/** Options of {@link proxyRequest}. */
export interface ProxyRequestOptions {
  /** Path and query sent upstream. Default: the request's URL (`request.url`, query included). */
  readonly upstreamPath?: string;
  /**
   * Upstream inactivity limit (ms): waiting for the response head, and between body chunks. Default: none.
   * Pass `registry.requestTimeout` for the registry's setting.
   */
  readonly timeoutMs?: number | undefined;
  /** platformatic's name for {@link timeoutMs}; `timeoutMs` wins when both are given. */
  readonly timeout?: number | undefined;
  /** Request header names copied from the client. Default {@link DEFAULT_FORWARD_HEADERS}. */
  readonly forwardHeaders?: readonly string[];
  /** The route's reply: when given, a client that disconnects aborts the upstream request. */
  readonly reply?: FastifyReply;
}

/**
 * Sends `request` (method, path, body, allow-listed headers) to the member at `address` and resolves with the
 * response head; the body is still unread. One attempt, no retry. Rejects with `UpstreamError` (502) or
 * `UpstreamTimeoutError` (504), whose message is safe to show.
 *
 * @example
 * app.post('/sessions/:id/stream', async (request, reply) => {
 *   const target = await registry.resolveDestination(request.params.id);
 *   if (!target?.address) return reply.code(404).send({ error: 'Not found' });
 *   const upstream = await proxyRequest(target.address, request, { reply, timeoutMs: registry.requestTimeout });
 *   return streamReply(reply, upstream);
 * });
 */
export async function proxyRequest(address: string, request: FastifyRequest, options: ProxyRequestOptions = {}): Promise<IncomingMessage> {
  const attempt = await attemptUpstream(address, request, options.reply, upstreamBody(request), {
    path: options.upstreamPath ?? request.url,
    timeoutMs: options.timeoutMs ?? options.timeout,
    forward: forwardList(options.forwardHeaders, 'proxyRequest: forwardHeaders'),
  });
  if (!attempt.ok) throw attempt.error;
  return attempt.response;
}

/**
 * Streams `upstream` into `reply`: its status and end-to-end headers, then its body as it arrives (never
 * buffered). A failure in the middle of the body cuts the client's response rather than ending it cleanly.
 */
export function streamReply(reply: FastifyReply, upstream: IncomingMessage): FastifyReply {
  copyResponseHead(reply, upstream);
  return reply.send(upstream);
}
