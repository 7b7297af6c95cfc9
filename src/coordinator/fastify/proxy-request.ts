/**
 * @module coordinator/fastify/proxy-request: the building blocks under the helpers, for routes the helpers do not
 * fit: send a Fastify request to a member, then stream the member's answer into the reply. `proxyRequest` keeps
 * @platformatic/coordinator's contract: it takes a minimal request (`{ method, url, body }` is enough) and resolves
 * to undici's response data (`statusCode`, `headers`, `body.json()`, `body.dump()`), so it runs on undici's
 * `request`, on a keep-alive agent of its own. The helpers send through `upstream-attempt.ts` instead.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, errors as undiciErrors, request as undiciRequest, type Dispatcher } from 'undici';
import { hostOf } from '../../proxy/index.js';
import { addressTarget } from '../../upstream/index.js';
import { CoordinatorAnswers } from './answers.js';
import { upstreamBody } from './request-body.js';
import { copyResponseHead, forwardList, upstreamRequestHeaders } from './upstream-headers.js';

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

/** undici's response data, as `proxyRequest` resolves it. */
export type ProxyResponse = Dispatcher.ResponseData;

// Idle sockets go before node's default 5 s server keep-alive timeout closes them under us (a reset on reuse).
let dispatcher: Agent | undefined;

/**
 * Sends `request` (method, path, body, allow-listed headers) to the member at `address` and resolves with undici's
 * response data; the body is still unread (consume it, or `body.dump()`). One attempt, no retry. Rejects with
 * `UpstreamError` (502) or `UpstreamTimeoutError` (504), whose message is safe to show.
 *
 * @example
 * app.post('/sessions/:id/stream', async (request, reply) => {
 *   const target = await registry.resolveDestination(request.params.id);
 *   if (!target) return reply.code(404).send({ error: 'Not found' });
 *   const upstream = await proxyRequest(target.address, request, { reply, timeoutMs: registry.requestTimeout });
 *   return streamReply(reply, upstream);
 * });
 */
export async function proxyRequest(address: string, request: FastifyRequest, options: ProxyRequestOptions = {}): Promise<ProxyResponse> {
  const target = addressTarget(address);
  if (target === null) throw CoordinatorAnswers.badGateway;
  const body = upstreamBody(request);
  const headers = upstreamRequestHeaders(request, body, forwardList(options.forwardHeaders, 'proxyRequest: forwardHeaders'));
  headers.host = hostOf(target);
  const path = options.upstreamPath ?? request.url;
  const timeout = options.timeoutMs ?? options.timeout;
  const abort = new AbortController();
  const raw = options.reply?.raw;
  const onClose = (): void => {
    if (raw !== undefined && !raw.writableFinished) abort.abort();
  };
  raw?.once('close', onClose);
  try {
    return await undiciRequest(`${target.protocol}//${headers.host}${target.basePath}${path.startsWith('/') ? path : `/${path}`}`, {
      method: request.method as Dispatcher.HttpMethod,
      headers,
      body: body.kind === 'none' ? undefined : body.kind === 'bytes' ? body.data : (body.stream as Readable),
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: abort.signal,
      dispatcher: (dispatcher ??= new Agent({ keepAliveTimeout: 4000 })),
    });
  } catch (err) {
    const timedOut = err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError;
    throw timedOut ? CoordinatorAnswers.gatewayTimeout : CoordinatorAnswers.badGateway;
  } finally {
    raw?.off('close', onClose);
  }
}

/**
 * Streams `upstream` (undici's response data from {@link proxyRequest}, or a node `IncomingMessage`) into `reply`:
 * its status and end-to-end headers, then its body as it arrives (never buffered). A failure in the middle of the
 * body cuts the client's response rather than ending it cleanly.
 */
export function streamReply(reply: FastifyReply, upstream: ProxyResponse | IncomingMessage): FastifyReply {
  copyResponseHead(reply, upstream);
  return reply.send('body' in upstream && upstream.body !== undefined && !isIncoming(upstream) ? upstream.body : upstream);
}

function isIncoming(value: ProxyResponse | IncomingMessage): value is IncomingMessage {
  return typeof (value as IncomingMessage).httpVersion === 'string';
}
