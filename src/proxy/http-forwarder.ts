/**
 * @module proxy/http-forwarder: forwards one HTTP request to a chosen backend and streams the answer back.
 * Bodies stream both ways with backpressure (pipe), so memory stays bounded whatever their size. The body is
 * piped only once the backend connection is up, so a refused connection leaves it unread and replayable.
 */
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { Answers } from './answers.js';
import { sendError, writeBackendHead } from './error-response.js';
import type { Exchange, ExchangeHandler } from './exchange.js';
import { filterResponseHeaders } from './response-headers.js';
import { buildRequestHeaders, type RequestHeaderOptions } from './request-headers.js';
import { mayRetry } from './retry-policy.js';
import {
  DeadlineExceeded,
  createUpstreamAgents,
  hostOf,
  openUpstreamRequest,
  type Deadlines,
  type UpstreamAgents,
} from './upstream-request.js';

export interface ForwarderOptions extends RequestHeaderOptions, Deadlines {
  /** A backend socket silent this long in the middle of a response is cut (ms). */
  readonly upstreamIdleMs: number;
  /** Largest request body (bytes); undefined for none. */
  readonly maxBodyBytes: number | undefined;
  /** Retry non-idempotent requests that carry `Idempotency-Key`. */
  readonly idempotencyKey: boolean;
}

const UNASKED_UPGRADE = new Error('the backend switched protocols unasked');

/** Raised on the upstream request when the streamed body passes `maxBodyBytes`. */
class BodyTooLarge extends Error {}

export class HttpForwarder<R = unknown> {
  readonly #options: ForwarderOptions;
  readonly #agents: UpstreamAgents;
  readonly #handler: ExchangeHandler<R>;

  constructor(options: ForwarderOptions, handler: ExchangeHandler<R>) {
    this.#options = options;
    this.#handler = handler;
    this.#agents = createUpstreamAgents();
  }

  /** Starts forwarding `ex` to `ex.upstream`. The handler hears about the response, failures and the end. */
  start(ex: Exchange<R>): void {
    ex.res.once('close', () => {
      // The client went away (or the exchange ended): nothing upstream should outlive it.
      if (!ex.res.writableFinished) ex.proxyReq?.destroy();
      this.#handler.onEnd(ex);
    });
    this.attempt(ex);
  }

  /** Runs one attempt of `ex` on `ex.upstream` (the first, or a retry after `onAttemptFailed`). */
  attempt(ex: Exchange<R>): void {
    const req = ex.req;
    const upstream = ex.upstream;
    ex.attempts++;
    ex.attemptStartedAt = performance.now();
    const headers = buildRequestHeaders(req, this.#options, hostOf(upstream.target), false);
    let proxyReq: http.ClientRequest;
    try {
      proxyReq = openUpstreamRequest(upstream.target, req.method ?? 'GET', req.url ?? '/', headers, this.#agents, this.#options);
    } catch {
      // node validates what it writes; whatever in the request it refuses is the client's to fix, never a crash.
      sendError(ex.res, Answers.unforwardable, true);
      return;
    }
    ex.proxyReq = proxyReq;
    let connected = false;
    proxyReq.once('socket', (socket) => {
      if (!socket.connecting) {
        connected = true;
        this.#pipeBody(ex);
      } else {
        socket.once('connect', () => {
          connected = true;
          if (ex.proxyReq === proxyReq) this.#pipeBody(ex);
        });
      }
    });
    const fail = (err: Error): void => {
      if (ex.proxyReq !== proxyReq || ex.res.headersSent || ex.res.destroyed) {
        if (ex.proxyReq === proxyReq && !ex.res.writableFinished) ex.res.destroy();
        return;
      }
      if (err instanceof BodyTooLarge) {
        sendError(ex.res, Answers.tooLarge, true);
        return;
      }
      const timedOut = err instanceof DeadlineExceeded && err.phase === 'response';
      const facts = { connected, reusedSocket: proxyReq.reusedSocket, bodyBytesSent: ex.bodyBytes, timedOut };
      const retryable = mayRetry(req, facts, this.#options.idempotencyKey);
      if (retryable) this.#unpipe(ex, proxyReq);
      if (this.#handler.onAttemptFailed(ex, err, retryable)) return;
      sendError(ex.res, err instanceof DeadlineExceeded ? Answers.timeout : Answers.upstreamFailed, !req.complete);
    };
    proxyReq.on('error', fail);
    // A 101 to a request that asked for no upgrade: node would cut the socket and report nothing, leaving the
    // client waiting. It is a failed attempt like any other.
    proxyReq.on('upgrade', (_res, socket: Duplex) => {
      socket.destroy();
      fail(UNASKED_UPGRADE);
    });
    proxyReq.on('response', (proxyRes) => {
      ex.upstreamSeconds = (performance.now() - ex.attemptStartedAt) / 1000;
      this.#handler.onResponse(ex, proxyRes.statusCode ?? 502);
      proxyReq.setTimeout(this.#options.upstreamIdleMs, () => proxyReq.destroy(new Error('upstream idle')));
      relayResponse(proxyRes, ex);
    });
  }

  /** Closes idle upstream sockets. In-flight requests keep theirs. */
  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #pipeBody(ex: Exchange): void {
    const req = ex.req;
    const proxyReq = ex.proxyReq;
    if (proxyReq === null) return;
    if (!ex.piping) {
      ex.piping = true;
      const max = this.#options.maxBodyBytes;
      req.on('data', (chunk: Buffer) => {
        ex.bodyBytes += chunk.length;
        if (max !== undefined && ex.bodyBytes > max) ex.proxyReq?.destroy(new BodyTooLarge());
      });
    }
    if (req.readableEnded) proxyReq.end();
    else req.pipe(proxyReq);
  }

  /** Detaches the body from a failed attempt and holds it (paused) for the next one. */
  #unpipe(ex: Exchange, proxyReq: http.ClientRequest): void {
    ex.req.unpipe(proxyReq);
    ex.req.pause();
  }
}

function relayResponse(proxyRes: IncomingMessage, ex: Exchange): void {
  const res: ServerResponse = ex.res;
  const status = proxyRes.statusCode ?? 502;
  const headers = filterResponseHeaders(proxyRes.rawHeaders, proxyRes.headers.connection, false, mayCarryTrailers(proxyRes, ex.req, status));
  if (ex.setCookie !== undefined) headers.push('set-cookie', ex.setCookie);
  if (ex.extraHeaders !== null) for (const h of ex.extraHeaders) headers.push(h);
  if (ex.closeConnection) headers.push('connection', 'close');
  if (!writeBackendHead(res, proxyRes, status, headers, !ex.req.complete)) return;
  proxyRes.on('data', (chunk: Buffer) => {
    ex.responseBytes += chunk.length;
  });
  proxyRes.pipe(res, { end: false });
  proxyRes.once('end', () => {
    if (proxyRes.rawTrailers.length > 0) {
      try {
        res.addTrailers(pairs(proxyRes.rawTrailers));
      } catch {
        // A trailer node refuses to write is dropped; the body already went out whole.
      }
    }
    res.end();
  });
  proxyRes.once('close', () => {
    // A backend that stops mid-body must not look like a complete response to the client.
    if (!proxyRes.complete) res.destroy();
  });
}

/** Whether the answer to the client will be chunked, the only framing that can carry trailers. */
function mayCarryTrailers(proxyRes: IncomingMessage, req: IncomingMessage, status: number): boolean {
  return (
    proxyRes.headers['content-length'] === undefined &&
    status >= 200 &&
    status !== 204 &&
    status !== 304 &&
    req.method !== 'HEAD' &&
    req.httpVersionMinor === 1
  );
}

function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
