/**
 * @module gateway/traffic: what happens to each request and upgrade: route it to a pool, pick a backend (or one of
 * the fallback pool when the pool has none), forward, feed passive health, retry once elsewhere within the retry
 * budget, count, and log. The hot path allocates one `Exchange` per request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { GatewayConfig } from '../config/index.js';
import type { KeywayError, NoBackendError, NoRouteError } from '../errors.js';
import { failOver } from '../coordinator/owner-failover.js';
import { channels, type AccessLog, type GatewayMetrics } from '../observe/index.js';
import {
  Answers,
  Exchange,
  HttpForwarder,
  RetryBudget,
  WebSocketForwarder,
  sendError,
  type ExchangeHandler,
} from '../proxy/index.js';
import { stripPathPrefix, type Router } from '../routing/index.js';
import { Upstream } from '../upstream/index.js';
import type { Pick } from './backend-picker.js';
import type { DestinationRouting } from './destination-routing.js';
import type { ServicePool } from './service-pool.js';
import type { Topology } from './topology.js';

export interface TrafficParts {
  readonly config: GatewayConfig;
  readonly topology: Topology;
  readonly router: Router;
  readonly metrics: GatewayMetrics | null;
  readonly accessLog: AccessLog | null;
}

export class Traffic implements ExchangeHandler<ServicePool> {
  readonly #topology: Topology;
  readonly #router: Router;
  /** Header naming the pool that had no backend when its fallback serves (lower case). */
  readonly #fallbackHeader: string;
  readonly #fallbackToClient: boolean;
  readonly #fallbackMarks = new Map<string, string[]>();
  readonly #metrics: GatewayMetrics | null;
  readonly #accessLog: AccessLog | null;
  readonly #http: HttpForwarder<ServicePool>;
  readonly #ws: WebSocketForwarder;
  readonly #budget: RetryBudget | null;
  readonly #on5xx: boolean;
  readonly #pick: Pick = { upstream: null, setCookie: undefined };
  /** The pool the last `#target` call chose from (the route's own or its fallback). */
  #served: ServicePool | null = null;
  /** Requests and tunnels in flight, for graceful shutdown. */
  inflight = 0;
  /** Set by the gateway when it starts shutting down. */
  closing = false;
  /** Called when `inflight` drops to 0 while closing. */
  onIdle: (() => void) | null = null;

  constructor(parts: TrafficParts) {
    const c = parts.config;
    this.#topology = parts.topology;
    this.#router = parts.router;
    this.#fallbackHeader = c.fallback.header;
    this.#fallbackToClient = c.fallback.toClient;
    this.#metrics = parts.metrics;
    this.#accessLog = parts.accessLog;
    this.#budget = c.retries.enabled ? new RetryBudget(c.retries.budgetPercent, c.retries.minPerSecond) : null;
    this.#on5xx = c.outlier !== false && c.outlier.on5xx;
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

  /** A request that passed admission (plain, or an upgrade to something other than WebSocket on a bound response). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const service = this.#route(req, false);
    if (service === null) return this.refuse(req, res, Answers.noRoute);
    if (service.destination !== null) {
      void this.#viaDestination(req, res, service);
      return;
    }
    const upstream = this.#target(req, service);
    if (upstream === null) return this.refuse(req, res, Answers.noBackend);
    const served = this.#served as ServicePool;
    const ex = new Exchange(req, res, served, upstream, this.#pick.setCookie, this.closing, performance.now());
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ req, pool: served.name, backend: upstream.id, websocket: false });
    if (served !== service) this.#markFallback(req, ex, service.name);
    this.#budget?.deposit();
    this.#begin(upstream);
    this.#http.start(ex);
  }

  /** A WebSocket upgrade that passed admission; `res` is bound to `socket` and answers every refusal. */
  handleUpgrade(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer): void {
    if (this.closing) return this.refuse(req, res, Answers.noBackend);
    const service = this.#route(req, true);
    if (service === null) return this.refuse(req, res, Answers.noRoute);
    if (service.destination !== null) {
      void this.#upgradeViaDestination(req, res, socket, head, service);
      return;
    }
    const upstream = this.#target(req, service);
    if (upstream === null) return this.refuse(req, res, Answers.noBackend);
    const served = this.#served as ServicePool;
    if (served !== service) this.#markFallback(req, null, service.name);
    this.#tunnel(req, res, socket, head, served, upstream, this.#pick.setCookie);
  }

  /**
   * The one choice of a backend for requests and upgrades alike: the pool's picker (stickiness, strategy), else its
   * fallback pool's. The pool that serves is left in `#served` and the cookie to set in `#pick`, so the hot path
   * allocates nothing here.
   */
  #target(req: IncomingMessage, service: ServicePool): Upstream | null {
    this.#served = service;
    let pick = service.picker.pick(req, this.#pick, null);
    if (pick.upstream === null && service.fallback !== null) {
      this.#served = service.fallback;
      pick = service.fallback.picker.pick(req, this.#pick, null);
    }
    if (channels.pick.hasSubscribers) {
      channels.pick.publish({ pool: this.#served.name, backend: pick.upstream?.id ?? null, fallback: this.#served !== service, retry: false });
    }
    return pick.upstream;
  }

  #tunnel(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer, service: ServicePool, upstream: Upstream, setCookie: string | undefined): void {
    this.#begin(upstream);
    const metrics = this.#metrics;
    const startedAt = performance.now();
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ req, pool: service.name, backend: upstream.id, websocket: true });
    let opened = false;
    this.#ws.forward(req, res, socket, head, upstream, setCookie, {
      onOpen: () => {
        opened = true;
        upstream.websockets++;
        service.pool.recordResult(upstream, true);
        metrics?.websocketOpened(upstream.id);
      },
      onFailed: () => service.pool.recordResult(upstream, false),
      onEnd: () => {
        if (opened) upstream.websockets--;
        this.#end(upstream);
        // One line per WebSocket, when it ends: 101 for a tunnel, else what the client was answered.
        const status = opened ? 101 : res.headersSent ? res.statusCode : 499;
        const durationMs = performance.now() - startedAt;
        if (channels.requestEnd.hasSubscribers) channels.requestEnd.publish({ req, pool: service.name, backend: upstream.id, status, durationMs, attempts: 1 });
        this.#accessLog?.write({
          method: req.method ?? '',
          path: req.url ?? '',
          status,
          backend: upstream.id,
          durationMs: Math.round(durationMs * 1000) / 1000,
          bytesIn: 0,
          bytesOut: 0,
          remoteAddress: req.socket.remoteAddress,
          retries: 0,
        });
      },
    });
  }

  /** A request to a destination pool: the owner comes from the coordinator (its cache first), then as usual. */
  async #viaDestination(req: IncomingMessage, res: ServerResponse, service: ServicePool): Promise<void> {
    const d = service.destination as DestinationRouting;
    const id = d.idOf(req);
    if (id === null) return this.refuse(req, res, Answers.noDestinationId);
    const target = await this.#resolve(d, id);
    if (!(target instanceof Upstream)) return this.refuse(req, res, target);
    if (res.destroyed) return;
    const ex = new Exchange(req, res, service, target, undefined, this.closing, performance.now());
    if (channels.requestStart.hasSubscribers) channels.requestStart.publish({ req, pool: service.name, backend: target.id, websocket: false });
    ex.key = id;
    this.#budget?.deposit();
    this.#begin(target);
    this.#http.start(ex);
  }

  async #upgradeViaDestination(req: IncomingMessage, res: ServerResponse, socket: Duplex, head: Buffer, service: ServicePool): Promise<void> {
    const d = service.destination as DestinationRouting;
    const id = d.idOf(req);
    const target = id === null ? Answers.noDestinationId : await this.#resolve(d, id);
    if (socket.destroyed) return;
    if (target instanceof Upstream) this.#tunnel(req, res, socket, head, service, target, undefined);
    else this.refuse(req, res, target);
  }

  /** The owner's upstream, or the error to answer with. Never rejects. */
  async #resolve(d: DestinationRouting, id: string, suspect: string | null = null): Promise<Upstream | NoRouteError | NoBackendError> {
    try {
      const target = await d.resolve(id, suspect);
      return target === 'unknown' ? Answers.unknownDestination : target === 'orphaned' ? Answers.orphaned : target;
    } catch {
      return Answers.coordinatorDown;
    }
  }

  /**
   * An attempt on a destination's owner failed: the one owner failover rule (`coordinator/owner-failover.ts`)
   * evicts its cached resolution and may send the request, once, to a fresh resolution. Returns whether it took over.
   */
  #retryDestination(ex: Exchange<ServicePool>, service: ServicePool, failed: Upstream, retryable: boolean, refused: boolean): boolean {
    const d = service.destination as DestinationRouting;
    const id = ex.key as string;
    const mayResend = retryable && ex.attempts === 1 && !ex.res.destroyed;
    const failure = { retryable: mayResend, refused, reusedSocket: ex.proxyReq?.reusedSocket === true };
    const decision = failOver(failure, { memberId: failed.id, address: failed.id }, {
      evict: () => d.evict(id, failed.id),
      resolve: (suspect) => this.#resolve(d, id, suspect),
      addressOf: (next) => (next instanceof Upstream ? next.id : null),
    });
    if (!mayResend) return false;
    void decision.then(({ resend, next }) => {
      if (ex.res.destroyed || ex.res.headersSent) return;
      if (!resend || !(next instanceof Upstream)) {
        sendError(ex.res, next instanceof Upstream || next === null ? Answers.upstreamFailed : next, !ex.req.complete);
        return;
      }
      failed.inflight--;
      next.inflight++;
      next.requests++;
      ex.upstream = next;
      this.#http.attempt(ex);
    });
    return true;
  }

  /**
   * The pool for `req`, with the matched prefix stripped from its URL when the route says so. A header that
   * claims a fallback is the gateway's to set: one sent by the client is dropped first.
   */
  #route(req: IncomingMessage, upgrade: boolean): ServicePool | null {
    if (req.headers[this.#fallbackHeader] !== undefined) dropHeader(req, this.#fallbackHeader);
    const match = this.#router.route(req as { url: string; headers: IncomingMessage['headers'] }, upgrade);
    if (match === null) return null;
    if (match.stripPrefix !== '') req.url = stripPathPrefix(req.url as string, match.stripPrefix);
    return this.#topology.service(match.pool) ?? null;
  }

  /** Tells the backend (and, if configured, the client) that the fallback pool serves for `pool`. */
  #markFallback(req: IncomingMessage, ex: Exchange<ServicePool> | null, pool: string): void {
    req.rawHeaders.push(this.#fallbackHeader, pool);
    if (ex === null || !this.#fallbackToClient) return;
    // One shared, read-only pair per pool: the forwarder copies from it, never into it.
    let mark = this.#fallbackMarks.get(pool);
    if (mark === undefined) this.#fallbackMarks.set(pool, (mark = [this.#fallbackHeader, pool]));
    ex.extraHeaders = mark;
  }

  /** Answers a request the gateway will not forward (4xx, 503), counting and logging it against no backend. */
  refuse(req: IncomingMessage, res: ServerResponse, err: KeywayError): void {
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

  onResponse(ex: Exchange<ServicePool>, status: number): void {
    // A request already in flight when shutdown began is answered with `Connection: close` too, so its client
    // does not reuse a connection the gateway is about to cut.
    if (this.closing) ex.closeConnection = true;
    ex.route.pool.recordResult(ex.upstream, !(this.#on5xx && status >= 500));
  }

  onAttemptFailed(ex: Exchange<ServicePool>, err: Error, retryable: boolean): boolean {
    const failed = ex.upstream;
    const service = ex.route;
    service.pool.recordResult(failed, false);
    if (service.destination !== null) return this.#retryDestination(ex, service, failed, retryable, (err as NodeJS.ErrnoException).code === 'ECONNREFUSED');
    // One retry per request; one more when this attempt was refused outright (nothing was sent), so a backend that
    // just died behind a retry that hit a stale keep-alive socket still leaves the request one more try.
    const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    if (!retryable || ex.attempts > (refused ? 2 : 1) || this.#budget === null || ex.res.destroyed) return false;
    (ex.tried ??= new Set()).add(failed.id);
    const next = service.picker.pick(ex.req, this.#pick, ex.tried).upstream;
    if (next === null) return false;
    if (!this.#budget.tryWithdraw()) {
      this.#metrics?.retryBudgetExhausted();
      return false;
    }
    this.#metrics?.retried(failed.id);
    if (channels.pick.hasSubscribers) channels.pick.publish({ pool: service.name, backend: next.id, fallback: false, retry: true });
    // The exchange moves: counters follow it, and the client is re-pinned if it was sticky.
    failed.inflight--;
    next.inflight++;
    next.requests++;
    ex.upstream = next;
    ex.setCookie = service.picker.cookieFor(next); // undefined without stickiness
    this.#http.attempt(ex);
    return true;
  }

  onEnd(ex: Exchange<ServicePool>): void {
    const upstream = ex.upstream;
    // 499 (nginx's "client closed request") when the client left before any answer.
    const status = ex.res.headersSent ? ex.res.statusCode : 499;
    this.#metrics?.requestFinished(upstream.id, status, ex.upstreamSeconds);
    this.#metrics?.bytes(upstream.id, ex.responseBytes, ex.bodyBytes);
    if (channels.requestEnd.hasSubscribers) {
      const durationMs = performance.now() - ex.startedAt;
      channels.requestEnd.publish({ req: ex.req, pool: ex.route.name, backend: upstream.id, status, durationMs, attempts: ex.attempts });
    }
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

/** Removes every `name` field (lower case) from the request's raw and parsed headers. */
function dropHeader(req: IncomingMessage, name: string): void {
  const raw = req.rawHeaders;
  const kept: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== name) kept.push(raw[i] as string, raw[i + 1] as string);
  }
  raw.length = 0;
  for (const v of kept) raw.push(v);
  delete req.headers[name];
}
