/**
 * @module proxy/exchange: the state of one client request while it is forwarded, across attempts. One object per
 * request holds what the retry rule, the counters and the access log need, so no closures are made per attempt.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Upstream } from '../upstream/index.js';

/** `R` is what the handler routed the request to (the gateway: its pool), typed so no handler casts it back. */
export class Exchange<R = unknown> {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The backend of the current attempt. */
  upstream: Upstream;
  /** Set-Cookie line to add to the answer (stickiness), if any. */
  setCookie: string | undefined;
  /** Answer with `Connection: close` (graceful shutdown). */
  closeConnection: boolean;
  /** Attempts made so far (1 after the first started). */
  attempts = 0;
  /** Ids of backends already tried, for a retry elsewhere; null until a retry. */
  tried: Set<string> | null = null;
  /** Request body bytes consumed from the client. */
  bodyBytes = 0;
  /** Response body bytes relayed to the client. */
  responseBytes = 0;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  /** Seconds from the last attempt's start to its response headers. */
  upstreamSeconds: number | undefined = undefined;
  /** The current attempt's upstream request. */
  proxyReq: ClientRequest | null = null;
  /** When the current attempt started (`performance.now()`). */
  attemptStartedAt = 0;
  /** The body is being piped upstream (it can then no longer be replayed). */
  piping = false;
  /** Response header pairs the gateway adds (`[name, value, ...]`), or null. May be shared: read, never modify. */
  extraHeaders: string[] | null = null;
  /** Where the handler routed the request (the gateway keeps its pool here). */
  route: R;
  /** The destination id of a request routed by destination; null otherwise. */
  key: string | null = null;

  constructor(req: IncomingMessage, res: ServerResponse, route: R, upstream: Upstream, setCookie: string | undefined, closeConnection: boolean, now: number) {
    this.req = req;
    this.route = route;
    this.res = res;
    this.upstream = upstream;
    this.setCookie = setCookie;
    this.closeConnection = closeConnection;
    this.startedAt = now;
  }
}

/** What the gateway does at each turn of an exchange. */
export interface ExchangeHandler<R = unknown> {
  /** Response headers arrived from `ex.upstream` with `status`. */
  onResponse(ex: Exchange<R>, status: number): void;
  /**
   * The attempt on `ex.upstream` failed before any response byte. `retryable` says whether the request may be
   * replayed. Return true when the handler started another attempt (then nothing is answered yet).
   */
  onAttemptFailed(ex: Exchange<R>, err: Error, retryable: boolean): boolean;
  /** The client side closed (finished, failed or aborted). Called exactly once. */
  onEnd(ex: Exchange<R>): void;
}
