/**
 * @module proxy/answers: every fixed answer the gateway gives instead of a backend's, declared once. Messages are
 * fixed per answer, so internal URLs and socket errors never reach a client; one object per answer, so the hot path
 * allocates no error. (Admission's refusals sit with their checks in `admission.ts`.)
 */
import { BadRequestError, NoBackendError, NoRouteError, UpstreamError, UpstreamTimeoutError } from '../errors.js';

export const Answers = Object.freeze({
  /** 503: no backend of the pool (or its fallback) may take the request. */
  noBackend: new NoBackendError('no healthy backend available'),
  /** 404: no route matches and there is no default pool. */
  noRoute: new NoRouteError(),
  /** 404: a path the gateway keeps for itself (the boot handshake). */
  hidden: new NoRouteError('not found'),
  /** 413: the streamed body passed `limits.maxBodyBytes`. */
  tooLarge: new BadRequestError('payload too large', 413),
  /** 400: node refused to write the request upstream (a value it will not send). */
  unforwardable: new BadRequestError('bad request: the request cannot be forwarded'),
  /** 502: the backend refused, reset or sent garbage before answering. */
  upstreamFailed: new UpstreamError('bad gateway: the backend failed to answer'),
  /** 502: the backend's answer cannot be written to the client (impossible status, refused header). */
  badAnswer: new UpstreamError('bad gateway: the backend sent an answer that cannot be relayed'),
  /** 504: past `timeouts.connectMs` / `timeouts.responseMs`. */
  timeout: new UpstreamTimeoutError('gateway timeout: the backend did not answer in time'),
  /** 502: the backend failed the WebSocket handshake. */
  wsFailed: new UpstreamError('bad gateway: the backend failed to accept the WebSocket'),
  /** 504: past `timeouts.wsHandshakeMs`. */
  wsTimeout: new UpstreamTimeoutError('gateway timeout: the backend did not answer the WebSocket handshake'),
  /** 400: a destination pool's request names no destination. */
  noDestinationId: new BadRequestError('bad request: the request names no destination'),
  /** 404: the destination is bound to no member and may not be claimed. */
  unknownDestination: new NoRouteError('unknown destination'),
  /** 503: every owner of the destination is dead and none may take it over. */
  orphaned: new NoBackendError('no live member owns this destination'),
  /** 503: the coordinator's Redis cannot be reached. */
  coordinatorDown: new NoBackendError('the coordinator is unreachable'),
});
