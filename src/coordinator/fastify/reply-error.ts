/**
 * @module coordinator/fastify/reply-error: the `{ error, code }` JSON answer of every coordinator failure, the
 * Fastify counterpart of `proxy/error-response`. Messages are fixed per case, so member addresses and socket
 * errors never reach the client.
 */
import type { FastifyReply } from 'fastify';
import { BadRequestError, ErrorCodes, KeywayError, NoBackendError } from '../../errors.js';

/** Answers `err` as JSON, or cuts the response when it has already started (never presents it as whole). */
export function replyError(reply: FastifyReply, err: KeywayError): FastifyReply {
  if (reply.raw.destroyed || reply.raw.writableEnded) return reply;
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy();
    return reply;
  }
  return reply
    .code(err.statusCode ?? 500)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(JSON.stringify({ error: err.message, code: err.code }));
}

/** 404: the destination or lock is unknown (or, without reassignment, its owner is dead). */
export function notFound(message: string): KeywayError {
  return new KeywayError(ErrorCodes.PROXY_NO_ROUTE, message, { statusCode: 404 });
}

/** No live member can take the request: 503 by default. */
export function unavailable(message: string, statusCode = 503): KeywayError {
  return statusCode === 503 ? new NoBackendError(message) : new KeywayError(ErrorCodes.PROXY_NO_BACKEND, message, { statusCode });
}

/** 400: the id extractor threw or did not return a non-empty string. */
export function badId(what: string): KeywayError {
  return new BadRequestError(`Invalid ${what} id`);
}
