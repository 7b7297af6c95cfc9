/**
 * @module gateway/gateway: composes config -> pool -> health -> balancer -> proxy into one listening server, and
 * owns its lifecycle (listen after the first health round, graceful close) and its runtime operations (drain,
 * disable, weights, backends added or removed, hot reload).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AlertManager, createAlertChannels } from '../alerts/index.js';
import { createStrategy } from '../balancer/index.js';
import type { BackendConfig, GatewayConfig } from '../config/index.js';
import { BadRequestError, GatewayStateError, NoBackendError } from '../errors.js';
import { HealthChecker } from '../health/index.js';
import { AccessLog, GatewayMetrics, createLogger } from '../observe/index.js';
import { framingError, sendError } from '../proxy/index.js';
import { StickySessions, compileKeyExtractor } from '../sticky/index.js';
import type { Logger } from '../types.js';
import { Upstream, UpstreamPool, type AdminState } from '../upstream/index.js';
import { BackendPicker } from './backend-picker.js';
import { snapshot, type BackendStatus } from './backend-status.js';
import { DrainTracker } from './drain-tracker.js';
import { diffBackends, type ReloadSummary } from './reload-diff.js';
import { Traffic } from './traffic.js';

/** Handles requests under the admin path. Installed by `createGateway`. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface GatewayOptions {
  /** Injected logger (pino-compatible). Default: pino on stdout at `KEYWAY_LOG_LEVEL`. */
  readonly logger?: Logger | undefined;
  /** Builds the admin route handler; admin routes answer 404 without one. */
  readonly admin?: ((gateway: Gateway) => AdminHandler) | undefined;
  /** Re-reads the config for a hot reload (`POST <admin>/reload`, SIGHUP). Without it, reload needs a config. */
  readonly configSource?: (() => Promise<GatewayConfig>) | undefined;
}

export interface GatewayEvents {
  'backend:down': [backend: BackendStatus];
  'backend:up': [backend: BackendStatus];
  'backend:ejected': [backend: BackendStatus];
  'backend:returned': [backend: BackendStatus];
  /** A draining backend finished draining (idle or `drainTimeoutMs`) and now takes no traffic. */
  'backend:drained': [backend: BackendStatus];
  reload: [summary: ReloadSummary];
}

type State = 'new' | 'starting' | 'listening' | 'closing' | 'closed';

const NO_BACKEND = new NoBackendError('no healthy backend available');
const BAD_TARGET = new BadRequestError('bad request: the request target must be an absolute path');

export class Gateway extends EventEmitter<GatewayEvents> {
  #config: GatewayConfig;
  readonly #logger: Logger;
  readonly #pool: UpstreamPool;
  readonly #picker: BackendPicker;
  readonly #checker: HealthChecker;
  readonly #traffic: Traffic;
  readonly #server: http.Server;
  readonly #admin: AdminHandler | null;
  readonly #adminPath: string;
  readonly #metrics: GatewayMetrics | null;
  readonly #accessLog: AccessLog | null;
  readonly #alerts: AlertManager | null;
  readonly #drains: DrainTracker;
  readonly #configSource: (() => Promise<GatewayConfig>) | undefined;
  #state: State = 'new';
  #closing: Promise<void> | null = null;

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    super();
    this.#config = config;
    this.#configSource = options.configSource;
    this.#logger = (options.logger ?? createLogger()).child({ component: 'gateway' });
    this.#pool = new UpstreamPool(config.backends, {
      slowStartMs: config.slowStartMs,
      outlier: config.outlier,
      whenAllDown: config.whenAllDown,
    });
    const sticky = config.sticky === false ? null : new StickySessions(config.sticky, this.#stickySecret(config));
    const keyOf = config.hashKey === undefined ? null : compileKeyExtractor(config.hashKey);
    this.#picker = new BackendPicker(this.#pool, createStrategy(config.strategy), sticky, keyOf);
    this.#checker = new HealthChecker(this.#pool, { logger: this.#logger });
    this.#metrics = config.metrics.enabled
      ? new GatewayMetrics({ source: { backends: () => this.#pool.all.map(metricsView) }, processMetrics: config.metrics.processMetrics })
      : null;
    this.#accessLog = config.accessLog === false ? null : new AccessLog({ destination: config.accessLog.destination });
    // A failed write turns the access log off (it says so once) rather than crash or buffer without bound.
    this.#accessLog?.on('error', (err) => this.#logger.error({ err: err.message }, 'access log failed; it is off until restart'));
    this.#alerts = this.#createAlerts(config);
    this.#traffic = new Traffic({ config, pool: this.#pool, picker: this.#picker, metrics: this.#metrics, accessLog: this.#accessLog });
    this.#drains = new DrainTracker(this.#pool, config.drainTimeoutMs, (u) => this.#onDrained(u));
    this.#wirePoolEvents();
    this.#adminPath = config.admin.path;
    this.#server = createServer(config, (req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#server.on('clientError', onClientError);
    this.#admin = options.admin ? options.admin(this) : null;
  }

  /** The config in force (backends reflect runtime changes after a reload). */
  get config(): GatewayConfig {
    return this.#config;
  }

  /** A snapshot of every backend: address, weight, health and counters. */
  get backends(): BackendStatus[] {
    return this.#pool.all.map(snapshot);
  }

  /** The live upstream objects, for the admin layer. Treat as read-only. */
  get upstreams(): readonly Upstream[] {
    return this.#pool.all;
  }

  /** The strategy's name (`custom` for a function). */
  get strategyName(): string {
    return this.#picker.strategyName;
  }

  /** Prometheus metrics, or null when `metrics.enabled` is false. */
  get metrics(): GatewayMetrics | null {
    return this.#metrics;
  }

  /** Whether every backend is down and `whenAllDown: 'fail-open'` spreads traffic over all of them. */
  get panicking(): boolean {
    return this.#pool.panicking;
  }

  /** The address the server listens on, once listening. */
  get address(): { port: number; host: string } | null {
    const a = this.#server.address();
    return a === null || typeof a === 'string' ? null : { port: a.port, host: a.address };
  }

  /** Runs the first health round, then listens. Resolves with the bound port. */
  async listen(): Promise<{ port: number; host: string }> {
    if (this.#state !== 'new') throw new GatewayStateError(`listen() called on a gateway that is ${this.#state}`);
    this.#state = 'starting';
    await this.#checker.start();
    this.#server.listen(this.#config.port, this.#config.host);
    await once(this.#server, 'listening');
    this.#state = 'listening';
    const address = this.address as { port: number; host: string };
    this.#logger.info({ port: address.port, host: address.host, backends: this.#pool.all.length }, 'gateway listening');
    return address;
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish for up to `shutdownGraceMs`, then cut
   * whatever remains (WebSockets included). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  // ---- runtime operations (admin API, reload) ------------------------------------------------------------

  /** Sets a backend's admin state. `draining` keeps pinned clients until idle or `drainTimeoutMs`. */
  setAdminState(id: string, state: AdminState): BackendStatus | null {
    const u = this.#pool.get(id);
    if (u === undefined) return null;
    this.#pool.setAdminState(u, state);
    if (state === 'draining') this.#drains.start(u);
    else this.#drains.stop(u);
    this.#logger.info({ backend: id, state }, 'backend admin state changed');
    return snapshot(u);
  }

  /** Sets a backend's configured weight (integer >= 0). */
  setWeight(id: string, weight: number): BackendStatus | null {
    const u = this.#pool.get(id);
    if (u === undefined) return null;
    this.#pool.setWeight(u, weight);
    // The config in force follows, so a later reload compares against what runs and restores the file's weight.
    this.#config = { ...this.#config, backends: this.#config.backends.map((b) => (b.id === id ? { ...b, weight } : b)) };
    this.#logger.info({ backend: id, weight }, 'backend weight changed');
    return snapshot(u);
  }

  /**
   * Adds a backend at runtime. It takes traffic once its first health probe passes. Returns null when the id
   * is taken.
   */
  addBackend(backend: BackendConfig): BackendStatus | null {
    if (this.#pool.get(backend.id) !== undefined) return null;
    const u = new Upstream(backend);
    u.healthy = false; // no traffic before the first probe says it is alive
    this.#pool.add(u);
    void this.#checker.track(u);
    this.#config = { ...this.#config, backends: [...this.#config.backends, backend] };
    this.#logger.info({ backend: backend.id, url: backend.url }, 'backend added');
    return snapshot(u);
  }

  /** Removes a backend at runtime. Requests in flight to it finish; new ones go elsewhere. */
  removeBackend(id: string): BackendStatus | null {
    const u = this.#pool.remove(id);
    if (u === undefined) return null;
    this.#checker.untrack(id);
    this.#drains.stop(u);
    this.#metrics?.forgetBackend(id);
    this.#config = { ...this.#config, backends: this.#config.backends.filter((b) => b.id !== id) };
    this.#logger.info({ backend: id }, 'backend removed');
    return snapshot(u);
  }

  /**
   * Applies a new config without dropping a connection: backends added, removed, re-weighted or replaced (a
   * changed URL or health settings). Other settings need a restart; they are listed in the summary and logged.
   * Without an argument, re-reads the config through `configSource`.
   */
  async reload(next?: GatewayConfig): Promise<ReloadSummary> {
    const config = next ?? (this.#configSource ? await this.#configSource() : null);
    if (config === null) throw new GatewayStateError('reload needs a config: this gateway was not started from a file');
    const diff = diffBackends(this.#config, config);
    for (const id of [...diff.removed, ...diff.replaced]) this.removeBackend(id);
    for (const b of config.backends) {
      if (diff.added.includes(b.id) || diff.replaced.includes(b.id)) this.addBackend(b);
    }
    for (const { id, weight } of diff.reweighted) this.setWeight(id, weight);
    // Keep the new order and the new backend settings as the config in force; the global health block is live
    // too (backends added later through the admin API inherit it).
    this.#config = { ...this.#config, backends: config.backends, health: config.health };
    if (diff.restartNeeded.length > 0) {
      this.#logger.warn({ fields: diff.restartNeeded }, 'reload: these settings changed and take effect only after a restart');
    }
    const summary = { added: diff.added, removed: diff.removed, replaced: diff.replaced, reweighted: diff.reweighted.map((r) => r.id), restartNeeded: diff.restartNeeded };
    this.#logger.info(summary, 'config reloaded');
    this.emit('reload', summary);
    return summary;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    const wasListening = this.#state === 'listening';
    this.#state = 'closing';
    this.#traffic.closing = true;
    await this.#checker.close();
    if (wasListening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await this.#drainInflight(this.#config.shutdownGraceMs);
      this.#traffic.destroyTunnels();
      this.#server.closeAllConnections();
      await closed;
    }
    this.#traffic.close();
    this.#drains.close();
    await this.#pool.close();
    await Promise.all([this.#alerts?.close(), this.#accessLog?.close()]);
    this.#state = 'closed';
  }

  /** Resolves when nothing is in flight (requests and WebSockets), or after `graceMs`. */
  async #drainInflight(graceMs: number): Promise<void> {
    if (this.#traffic.inflight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs).unref();
      this.#traffic.onIdle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#traffic.onIdle = null;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (!isOriginForm(url)) {
      sendError(res, BAD_TARGET, true);
      return;
    }
    if (this.#isAdmin(url)) {
      if (this.#admin) this.#admin(req, res);
      else sendError(res, NO_BACKEND, false);
      return;
    }
    this.#traffic.handleRequest(req, res);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!isOriginForm(req.url ?? '')) {
      socket.on('error', () => socket.destroy());
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#traffic.handleUpgrade(req, socket, head);
  }

  #isAdmin(url: string): boolean {
    const p = this.#adminPath;
    if (!url.startsWith(p)) return false;
    const next = url.charCodeAt(p.length);
    return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
  }

  #wirePoolEvents(): void {
    const pool = this.#pool;
    // The health checker logs transitions itself; these re-emit them and feed alerts and metrics.
    pool.on('backend:down', (u) => {
      this.emit('backend:down', snapshot(u));
      this.#alerts?.notify({ kind: 'down', backend: { id: u.rawId, url: u.url, owner: u.owner }, at: new Date() });
    });
    pool.on('backend:up', (u) => {
      this.emit('backend:up', snapshot(u));
      this.#alerts?.notify({ kind: 'up', backend: { id: u.rawId, url: u.url, owner: u.owner }, at: new Date() });
    });
    pool.on('backend:ejected', (u, until) => {
      this.#metrics?.ejected(u.id);
      this.#logger.warn({ backend: u.id, until: new Date(until).toISOString() }, 'backend ejected after consecutive failures');
      this.emit('backend:ejected', snapshot(u));
    });
    pool.on('backend:returned', (u) => {
      this.#logger.info({ backend: u.id }, 'backend returned from ejection');
      this.emit('backend:returned', snapshot(u));
    });
    pool.on('pool:panic', (panicking) => {
      if (panicking) this.#logger.error('no backend is healthy: failing open across all of them (whenAllDown: fail-open)');
      else this.#logger.info('a backend is healthy again: panic mode over');
    });
  }

  #onDrained(u: Upstream): void {
    this.#pool.setAdminState(u, 'disabled');
    this.#logger.info({ backend: u.id }, 'backend drained');
    this.emit('backend:drained', snapshot(u));
  }

  #createAlerts(config: GatewayConfig): AlertManager | null {
    const channels = createAlertChannels({
      email: config.email,
      webhooks: config.alerts.webhooks.map((w) => ({ url: w.url, format: w.format, headers: w.headers })),
      logger: this.#logger,
    });
    if (channels.length === 0) return null;
    return new AlertManager({ channels, holdMs: config.alerts.holdMs, retry: { attempts: config.alerts.attempts }, logger: this.#logger });
  }

  #stickySecret(config: GatewayConfig): string {
    if (config.sticky !== false && config.sticky.secret) return config.sticky.secret;
    const fromEnv = process.env.KEYWAY_STICKY_SECRET;
    if (fromEnv) return fromEnv;
    this.#logger.warn(
      'no sticky.secret or KEYWAY_STICKY_SECRET: using a random per-process secret, so sticky cookies will not survive a restart or be shared between gateways',
    );
    return randomBytes(32).toString('base64url');
  }
}

/** `/path`, not absolute-form (`http://host/`), authority-like `//host` or `*`: only these are forwarded. */
function isOriginForm(url: string): boolean {
  return url.charCodeAt(0) === 47 /* / */ && url.charCodeAt(1) !== 47;
}

function metricsView(u: Upstream) {
  return { id: u.id, healthy: u.healthy, ejected: u.ejectedUntil > 0, inflight: u.inflight - u.websockets, websockets: u.websockets, weight: u.weight };
}

/** The listening server, with the client-side timeouts and limits from the config. */
function createServer(config: GatewayConfig, onRequest: (req: IncomingMessage, res: ServerResponse) => void): http.Server {
  const t = config.timeouts;
  // node refuses a headers timeout longer than the request timeout.
  const headersTimeout = t.requestMs > 0 ? Math.min(t.clientHeadersMs, t.requestMs) : t.clientHeadersMs;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: t.requestMs,
      keepAliveTimeout: t.clientIdleMs,
      maxHeaderSize: config.limits.maxHeaderBytes,
      // How often node looks for connections past those timeouts; its default (30 s) lets slowloris linger.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    (req, res) => {
      // What llhttp lets through but must never reach a backend (duplicate Host, odd transfer codings).
      const refused = framingError(req);
      if (refused === null) return onRequest(req, res);
      sendError(res, refused, true);
      req.resume();
    },
  );
  return server;
}

/** Malformed HTTP from a client: answer 400 (431 for oversized headers, 408 for a timeout) and close; never crash. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // As node's own handler does: a response already on the wire (a bad chunk in a body the backend is answering)
  // must not have an error answer written into it; the connection is cut instead. `_httpMessage` is node's.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || err.code === 'ECONNRESET' || (inFlight != null && inFlight.headersSent)) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'request header fields too large' : status === 408 ? 'request timeout' : 'bad request';
  const body = JSON.stringify({ error: message, code: 'KW_ERR_PROXY_BAD_REQUEST' });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
