/**
 * @module gateway/gateway: composes config -> pool -> health -> balancer -> proxy into one listening server,
 * and owns its lifecycle: listen after the first health round, graceful close on shutdown.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createStrategy } from '../balancer/index.js';
import type { GatewayConfig } from '../config/index.js';
import { BadRequestError, GatewayStateError, NoBackendError } from '../errors.js';
import { HealthChecker } from '../health/index.js';
import { createLogger } from '../observe/index.js';
import { HttpForwarder, WebSocketForwarder, sendError, writeRawError, type ExchangeHooks } from '../proxy/index.js';
import { StickySessions, compileKeyExtractor } from '../sticky/index.js';
import type { Logger } from '../types.js';
import { UpstreamPool, type Upstream } from '../upstream/index.js';
import { BackendPicker, type Pick } from './backend-picker.js';
import { snapshot, type BackendStatus } from './backend-status.js';

/** Handles requests under the admin path; returns nothing. Installed by `createGateway`. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface GatewayOptions {
  /** Injected logger (pino-compatible). Default: pino on stdout at `KEYWAY_LOG_LEVEL`. */
  readonly logger?: Logger | undefined;
  /** Builds the admin route handler; admin routes answer 404 without one. */
  readonly admin?: ((gateway: Gateway) => AdminHandler) | undefined;
}

export interface GatewayEvents {
  'backend:down': [backend: BackendStatus];
  'backend:up': [backend: BackendStatus];
}

type State = 'new' | 'starting' | 'listening' | 'closing' | 'closed';

const NO_BACKEND = new NoBackendError('no healthy backend available');
const BAD_TARGET = new BadRequestError('bad request: the request target must be an absolute path');

export class Gateway extends EventEmitter<GatewayEvents> {
  readonly config: GatewayConfig;
  readonly #logger: Logger;
  readonly #pool: UpstreamPool;
  readonly #picker: BackendPicker;
  readonly #checker: HealthChecker;
  readonly #http: HttpForwarder;
  readonly #ws: WebSocketForwarder;
  readonly #server: http.Server;
  readonly #admin: AdminHandler | null;
  readonly #adminPath: string;
  readonly #pick: Pick = { upstream: null, setCookie: undefined };
  #state: State = 'new';
  #inflight = 0;
  #closing: Promise<void> | null = null;
  #drained: (() => void) | null = null;

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    super();
    this.config = config;
    this.#logger = (options.logger ?? createLogger()).child({ component: 'gateway' });
    this.#pool = new UpstreamPool(config.backends);
    this.#pool.on('backend:down', (u) => this.#onHealthChange('backend:down', u));
    this.#pool.on('backend:up', (u) => this.#onHealthChange('backend:up', u));
    const sticky = config.sticky === false ? null : new StickySessions(config.sticky, this.#stickySecret(config));
    const keyOf = config.hashKey === undefined ? null : compileKeyExtractor(config.hashKey);
    this.#picker = new BackendPicker(this.#pool, createStrategy(config.strategy), sticky, keyOf);
    this.#checker = new HealthChecker(this.#pool, { logger: this.#logger });
    const forwarding = {
      trustedProxies: new Set(config.trustedProxies),
      preserveHost: config.preserveHost,
      connectMs: config.timeouts.connectMs,
      responseMs: config.timeouts.responseMs,
    };
    this.#http = new HttpForwarder(forwarding);
    this.#ws = new WebSocketForwarder(forwarding);
    this.#adminPath = config.admin.path;
    this.#server = http.createServer((req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
    this.#server.on('clientError', onClientError);
    this.#admin = options.admin ? options.admin(this) : null;
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
    this.#server.listen(this.config.port, this.config.host);
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

  async #shutdown(): Promise<void> {
    const wasListening = this.#state === 'listening';
    this.#state = 'closing';
    await this.#checker.close();
    if (wasListening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await this.#drain(this.config.shutdownGraceMs);
      this.#ws.destroyAll();
      this.#server.closeAllConnections();
      await closed;
    }
    this.#http.close();
    this.#state = 'closed';
  }

  /** Resolves when nothing is in flight (requests and WebSockets), or after `graceMs`. */
  async #drain(graceMs: number): Promise<void> {
    if (this.#inflight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, graceMs).unref();
      this.#drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#drained = null;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    if (url.charCodeAt(0) !== 47 /* / */ || url.charCodeAt(1) === 47) {
      sendError(res, BAD_TARGET, true);
      return;
    }
    if (this.#isAdmin(url)) {
      if (this.#admin) this.#admin(req, res);
      else sendError(res, NO_BACKEND, false);
      return;
    }
    const pick = this.#picker.pick(req, this.#pick);
    const upstream = pick.upstream;
    if (upstream === null) {
      sendError(res, NO_BACKEND, !req.complete || this.#state === 'closing');
      req.resume();
      return;
    }
    const hooks: ExchangeHooks = { setCookie: pick.setCookie, closeConnection: this.#state === 'closing' };
    this.#begin(upstream);
    this.#http.forward(req, res, upstream, hooks, () => this.#end(upstream));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '';
    if (this.#state === 'closing' || url.charCodeAt(0) !== 47 || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      socket.on('error', () => socket.destroy());
      writeRawError(socket, this.#state === 'closing' ? NO_BACKEND : BAD_TARGET);
      return;
    }
    const pick = this.#picker.pick(req, this.#pick);
    const upstream = pick.upstream;
    if (upstream === null) {
      socket.on('error', () => socket.destroy());
      writeRawError(socket, NO_BACKEND);
      return;
    }
    this.#begin(upstream);
    this.#ws.forward(req, socket, head, upstream, pick.setCookie, () => this.#end(upstream));
  }

  #isAdmin(url: string): boolean {
    const p = this.#adminPath;
    if (!url.startsWith(p)) return false;
    const next = url.charCodeAt(p.length);
    return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
  }

  #begin(upstream: Upstream): void {
    upstream.inflight++;
    upstream.requests++;
    this.#inflight++;
  }

  #end(upstream: Upstream): void {
    upstream.inflight--;
    this.#inflight--;
    if (this.#inflight === 0 && this.#drained !== null) this.#drained();
  }

  /** The health checker already logs transitions; this only re-emits them as gateway events. */
  #onHealthChange(event: 'backend:down' | 'backend:up', upstream: Upstream): void {
    this.emit(event, snapshot(upstream));
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

/** Malformed HTTP from a client: answer 400 (or 431 for oversized headers) and close; never crash. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET')) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify({ error: status === 431 ? 'request header fields too large' : 'bad request', code: 'KW_ERR_PROXY_BAD_REQUEST' });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
