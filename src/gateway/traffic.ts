/**
 * @module gateway/traffic: what happens to each request and upgrade: pick a backend, forward, feed passive health,
 * retry once elsewhere within the retry budget, count, and log. The hot path allocates one `Exchange` per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { GatewayConfig } from '../config/index.js';
import { BadRequestError, NoBackendError } from '../errors.js';
import type { AccessLog, GatewayMetrics } from '../observe/index.js';
import {
  Exchange,
  HttpForwarder,
  RetryBudget,
  WebSocketForwarder,
  sendError,
  writeRawError,
  type ExchangeHandler,
} from '../proxy/index.js';
import type { Upstream, UpstreamPool } from '../upstream/index.js';
import type { BackendPicker, Pick } from './backend-picker.js';

const NO_BACKEND = new NoBackendError('no healthy backend available');
const BAD_TARGET = new BadRequestError('bad request: the request target must be an absolute path');
const TOO_LARGE = new BadRequestError('payload too large', 413);

export interface TrafficParts {
  readonly config: GatewayConfig;
  readonly pool: UpstreamPool;
  readonly picker: BackendPicker;
  readonly metrics: GatewayMetrics | null;
  readonly accessLog: AccessLog | null;
}

export class Traffic implements ExchangeHandler {
  readonly #pool: UpstreamPool;
  readonly #picker: BackendPicker;
  readonly #metrics: GatewayMetrics | null;
  readonly #accessLog: AccessLog | null;
  readonly #http: HttpForwarder;
  readonly #ws: WebSocketForwarder;
  readonly #budget: RetryBudget | null;
  readonly #on5xx: boolean;
  readonly #maxBody: number | undefined;
  readonly #pick: Pick = { upstream: null, setCookie: undefined };
  /** Requests and tunnels in flight, for graceful shutdown. */
  inflight = 0;
  /** Set by the gateway when it starts shutting down. */
  closing = false;
  /** Called when `inflight` drops to 0 while closing. */
  onIdle: (() => void) | null = null;

  constructor(parts: TrafficParts) {
    const c = parts.config;
    this.#pool = parts.pool;
    this.#picker = parts.picker;
    this.#metrics = parts.metrics;
    this.#accessLog = parts.accessLog;
    this.#budget = c.retries.enabled ? new RetryBudget(c.retries.budgetPercent, c.retries.minPerSecond) : null;
    this.#on5xx = c.outlier !== false && c.outlier.on5xx;
    this.#maxBody = c.limits.maxBodyBytes;
    const headerOptions = { trustedProxies: new Set(c.trustedProxies), preserveHost: c.preserveHost };
    this.#http = new HttpForwarder(
      {
        ...headerOptions,
        connectMs: c.timeouts.connectMs,
        responseMs: c.timeouts.responseMs,
        upstreamIdleMs: c.timeouts.upstreamIdleMs,
        maxBodyBytes: c.limits.maxBodyBytes,
        idempotencyKey: c.retries.idempotencyKey,
      },
      this,
    );
    this.#ws = new WebSocketForwarder({
      ...headerOptions,
      connectMs: c.timeouts.connectMs,
      handshakeMs: c.timeouts.wsHandshakeMs,
      idleMs: c.timeouts.wsIdleMs,
      maxBytes: c.limits.wsMaxBytes,
    });
  }

  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.#maxBody !== undefined) {
      const declared = req.headers['content-length'];
      if (declared !== undefined && Number(declared) > this.#maxBody) return this.#refuse(req, res, TOO_LARGE);
    }
    const pick = this.#picker.pick(req, this.#pick, null);
    const upstream = pick.upstream;
    if (upstream === null) return this.#refuse(req, res, NO_BACKEND);
    const ex = new Exchange(req, res, upstream, pick.setCookie, this.closing, performance.now());
    this.#budget?.deposit();
    this.#begin(upstream);
    this.#http.start(ex);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      socket.on('error', () => socket.destroy());
      writeRawError(socket, this.closing ? NO_BACKEND : BAD_TARGET);
      return;
    }
    const pick = this.#picker.pick(req, this.#pick, null);
    const upstream = pick.upstream;
    if (upstream === null) {
      socket.on('error', () => socket.destroy());
      writeRawError(socket, NO_BACKEND);
      return;
    }
    this.#begin(upstream);
    const metrics = this.#metrics;
    let opened = false;
    this.#ws.forward(req, socket, head, upstream, pick.setCookie, {
      onOpen: () => {
        opened = true;
        upstream.websockets++;
        metrics?.websocketOpened(upstream.id);
      },
      onEnd: () => {
        if (opened) upstream.websockets--;
        this.#end(upstream);
      },
    });
  }

  /** Answers a request the gateway will not forward (400/413/503), counting it against no backend. */
  #refuse(req: IncomingMessage, res: ServerResponse, err: BadRequestError | NoBackendError): void {
    sendError(res, err, !req.complete || this.closing);
    req.resume();
    const status = err.statusCode ?? 500;
    this.#metrics?.requestFinished(null, status, undefined);
    this.#accessLog?.write({
      method: req.method ?? '',
      path: req.url ?? '',
      status,
      backend: null,
      durationMs: 0,
      bytesIn: 0,
      bytesOut: 0,
      remoteAddress: req.socket.remoteAddress,
      retries: 0,
    });
  }

  onResponse(ex: Exchange, status: number): void {
    // A request already in flight when shutdown began is answered with `Connection: close` too, so its client
    // does not reuse a connection the gateway is about to cut.
    if (this.closing) ex.closeConnection = true;
    this.#pool.recordResult(ex.upstream, !(this.#on5xx && status >= 500));
  }

  onAttemptFailed(ex: Exchange, _err: Error, retryable: boolean): boolean {
    const failed = ex.upstream;
    this.#pool.recordResult(failed, false);
    if (!retryable || ex.attempts > 1 || this.#budget === null || ex.res.destroyed) return false;
    (ex.tried ??= new Set()).add(failed.id);
    const next = this.#picker.pick(ex.req, this.#pick, ex.tried).upstream;
    if (next === null) return false;
    if (!this.#budget.tryWithdraw()) {
      this.#metrics?.retryBudgetExhausted();
      return false;
    }
    this.#metrics?.retried(failed.id);
    // The exchange moves: counters follow it, and the client is re-pinned if it was sticky.
    failed.inflight--;
    next.inflight++;
    next.requests++;
    ex.upstream = next;
    ex.setCookie = this.#picker.cookieFor(next); // undefined without stickiness
    this.#http.attempt(ex);
    return true;
  }

  onEnd(ex: Exchange): void {
    const upstream = ex.upstream;
    // 499 (nginx's "client closed request") when the client left before any answer.
    const status = ex.res.headersSent ? ex.res.statusCode : 499;
    this.#metrics?.requestFinished(upstream.id, status, ex.upstreamSeconds);
    this.#metrics?.bytes(upstream.id, ex.responseBytes, ex.bodyBytes);
    if (this.#accessLog !== null) {
      this.#accessLog.write({
        method: ex.req.method ?? '',
        path: ex.req.url ?? '',
        status,
        backend: upstream.id,
        durationMs: Math.round((performance.now() - ex.startedAt) * 1000) / 1000,
        bytesIn: ex.responseBytes,
        bytesOut: ex.bodyBytes,
        remoteAddress: ex.req.socket.remoteAddress,
        retries: ex.attempts - 1,
      });
    }
    this.#end(upstream);
  }

  #begin(upstream: Upstream): void {
    upstream.inflight++;
    upstream.requests++;
    this.inflight++;
  }

  #end(upstream: Upstream): void {
    upstream.inflight--;
    this.inflight--;
    if (this.inflight === 0 && this.closing) this.onIdle?.();
  }

  /** Cuts every open WebSocket (end of the shutdown grace period). */
  destroyTunnels(): void {
    this.#ws.destroyAll();
  }

  /** Closes idle upstream keep-alive sockets. */
  close(): void {
    this.#http.close();
  }
}
