/**
 * @module gateway/gateway: composes config -> pools -> health -> balancer -> proxy into one listening server, and
 * owns its lifecycle (join the shared state, listen after the first health round, graceful close) and its runtime
 * operations (drain, disable, weights, backends added or removed, hot reload), which it shares with the other
 * replicas through the store.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AlertManager, createAlertChannels } from '../alerts/index.js';
import { stickySecretFromEnv, weightProblem, type BackendConfig, type GatewayConfig, type RedisConfig } from '../config/index.js';
import { BadRequestError, GatewayStateError } from '../errors.js';
import type { BootWatcher } from '../handshake/index.js';
import { AccessLog, GatewayMetrics, createLogger } from '../observe/index.js';
import { Answers, admissionError, closedBehindPending, isPath, responseOnSocket, type AdmissionLimits } from '../proxy/index.js';
import { SharedView, type AdminFact, type BackendFact, type SharedViewStatus } from '../replication/index.js';
import { Router } from '../routing/index.js';
import { createRedisClient, type RedisClient } from '../redis/index.js';
import { createGatewayStore, type GatewayStore } from '../replication/store/index.js';
import type { Logger } from '../types.js';
import { Upstream, type AdminState } from '../upstream/index.js';
import { specOf } from './backend-spec.js';
import { snapshot, type BackendStatus } from './backend-status.js';
import type { GatewayEvents } from './events.js';
import { createServer, onClientError, type ClientServer } from './http-server.js';
import { BackendChanges } from './backend-changes.js';
import type { ReloadSummary } from './reload-diff.js';
import { applyReload } from './reload.js';
import { sharedViewOptions } from './shared-view-options.js';
import { Topology } from './topology.js';
import { Traffic } from './traffic.js';
import { watchBoots, wirePoolEvents } from './wiring.js';

/** Handles requests under the admin path. Installed by `createGateway`. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface GatewayOptions {
  /** Injected logger (pino-compatible). Default: pino on stdout at `KEYWAY_LOG_LEVEL`. */
  readonly logger?: Logger | undefined;
  /** Builds the admin route handler; admin routes answer 404 without one. */
  readonly admin?: ((gateway: Gateway) => AdminHandler) | undefined;
  /** Re-reads the config for a hot reload (`POST <admin>/reload`, SIGHUP). Without it, reload needs a config. */
  readonly configSource?: (() => Promise<GatewayConfig>) | undefined;
  /**
   * Where replicas share state. Default: a Redis store when the config has `redis`, else an in-memory store of
   * this gateway's own. Several gateways in one process may share one `MemoryStore`. An injected store is not
   * closed by the gateway.
   */
  readonly store?: GatewayStore | undefined;
}

type State = 'new' | 'starting' | 'listening' | 'closing' | 'closed';

export class Gateway extends EventEmitter<GatewayEvents> {
  #config: GatewayConfig;
  readonly #logger: Logger;
  readonly #topology: Topology;
  readonly #router: Router;
  readonly #store: GatewayStore;
  readonly #ownsStore: boolean;
  readonly #view: SharedView;
  readonly #boot: BootWatcher | null;
  readonly #traffic: Traffic;
  /** Admin, reload and replica changes to the backends. */
  readonly #changes: BackendChanges;
  readonly #server: http.Server;
  readonly #client: ClientServer;
  readonly #admission: AdmissionLimits;
  readonly #admin: AdminHandler | null;
  readonly #adminPath: string;
  /** The boot handshake path, which clients may not reach (it tells boot ids and settings hashes); or null. */
  readonly #bootPath: string | null;
  readonly #metrics: GatewayMetrics | null;
  readonly #accessLog: AccessLog | null;
  readonly #alerts: AlertManager | null;
  readonly #configSource: (() => Promise<GatewayConfig>) | undefined;
  /** The connection destination pools share; null without destination pools. */
  #redisClient: RedisClient | null = null;
  #state: State = 'new';
  #closing: Promise<void> | null = null;

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    super();
    this.#config = config;
    this.#configSource = options.configSource;
    this.#logger = (options.logger ?? createLogger()).child({ component: 'gateway' });
    this.#topology = new Topology(config, {
      logger: this.#logger,
      stickySecret: this.#stickySecret(config),
      decide: (u, healthy) => this.#view.localVerdict(u.id, healthy),
      onDrained: (u) => this.#onDrained(u),
      // Destination pools share one connection to the coordinator's Redis (validation made sure there is one).
      redisClient: () => (this.#redisClient ??= createRedisClient(config.redis as RedisConfig)),
      onMembersChanged: () => this.#topology.changed(),
    });
    this.#router = new Router(config);
    this.#ownsStore = options.store === undefined;
    this.#store = options.store ?? createGatewayStore(config.redis, { logger: this.#logger });
    this.#view = this.#createView(config);
    this.#boot = config.bootHandshake === false ? null : watchBoots(config.bootHandshake, this.#topology, this.#logger, this);
    this.#metrics = config.metrics.enabled
      ? new GatewayMetrics({ source: { backends: () => this.#topology.all.map(metricsView) }, processMetrics: config.metrics.processMetrics })
      : null;
    this.#changes = new BackendChanges({
      topology: this.#topology,
      boot: this.#boot,
      metrics: this.#metrics,
      logger: this.#logger,
      config: () => this.#config,
      setConfig: (next) => void (this.#config = next),
      watchingBoots: () => this.#state === 'starting' || this.#state === 'listening',
      forget: (id) => this.#view.forget(id),
    });
    this.#accessLog = config.accessLog === false ? null : new AccessLog({ destination: config.accessLog.destination });
    // A failed write turns the access log off (it says so once) rather than crash or buffer without bound.
    this.#accessLog?.on('error', (err) => this.#logger.error({ err: err.message }, 'access log failed; it is off until restart'));
    this.#alerts = this.#createAlerts(config);
    this.#traffic = new Traffic({ config, topology: this.#topology, router: this.#router, metrics: this.#metrics, accessLog: this.#accessLog });
    for (const s of this.#topology.services) wirePoolEvents(s, { gateway: this, alerts: this.#alerts, metrics: this.#metrics, logger: this.#logger });
    this.#adminPath = config.admin.path;
    this.#bootPath = config.bootHandshake === false ? null : config.bootHandshake.path;
    this.#admission = { maxHeaderCount: config.limits.maxHeaderCount, maxBodyBytes: config.limits.maxBodyBytes };
    this.#client = createServer(config, (req, res) => this.#onRequest(req, res));
    this.#server = this.#client.server;
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
    return this.#topology.all.map(snapshot);
  }

  /** The live upstream objects of every pool, for the admin layer. Treat as read-only. */
  get upstreams(): readonly Upstream[] {
    return this.#topology.all;
  }

  /** The default pool's strategy name (`custom` for a function). */
  get strategyName(): string {
    const first = this.#topology.service(this.#config.defaultPool ?? '') ?? this.#topology.services[0];
    return first === undefined ? 'none' : first.picker.strategyName;
  }

  /** Each pool's name, strategy and fallback, for status output. */
  get pools(): { name: string; strategy: string; fallback: string | null; backends: string[] }[] {
    return this.#topology.services.map((s) => ({
      name: s.name,
      strategy: s.picker.strategyName,
      fallback: s.fallback?.name ?? null,
      backends: s.pool.all.map((u) => u.id),
    }));
  }

  /** What this replica shares and with whom (store kind, reachability, peers seen). */
  get shared(): SharedViewStatus {
    return this.#view.status();
  }

  /** Prometheus metrics, or null when `metrics.enabled` is false. */
  get metrics(): GatewayMetrics | null {
    return this.#metrics;
  }

  /** Whether a pool has every backend down and `whenAllDown: 'fail-open'` spreads its traffic over all of them. */
  get panicking(): boolean {
    return this.#topology.panicking;
  }

  /** The address the server listens on, once listening. */
  get address(): { port: number; host: string } | null {
    const a = this.#server.address();
    return a === null || typeof a === 'string' ? null : { port: a.port, host: a.address };
  }

  /**
   * Joins the shared state (warns and goes on without it unless `redis.required`), runs the first health round
   * and boot handshake, then listens. Resolves with the bound port.
   */
  async listen(): Promise<{ port: number; host: string }> {
    if (this.#state !== 'new') throw new GatewayStateError(`listen() called on a gateway that is ${this.#state}`);
    this.#state = 'starting';
    try {
      await this.#view.start();
      await Promise.all(this.#topology.services.map((s) => s.checker.start()));
      await this.#coordinatorsReady();
      if (this.#boot !== null) {
        for (const u of this.#topology.all) void this.#boot.track(u, u.poolName);
        await this.#boot.checkAll();
        const refused = this.#config.strictBootHandshake ? this.#boot.strictCheck() : undefined;
        if (refused !== undefined) throw refused;
      }
      this.#server.listen(this.#config.port, this.#config.host);
      await once(this.#server, 'listening');
    } catch (err) {
      // Nothing may outlive a failed start: probes, timers and the store connection stop here.
      await this.close();
      throw err;
    }
    this.#state = 'listening';
    const address = this.address as { port: number; host: string };
    this.#logger.info({ port: address.port, host: address.host, backends: this.#topology.all.length, pools: this.#topology.services.length }, 'gateway listening');
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

  // ---- runtime operations (admin API, reload); each is shared with the other replicas -------------------

  /** Sets a backend's admin state. `draining` keeps pinned clients until idle or `drainTimeoutMs`. */
  setAdminState(id: string, state: AdminState): BackendStatus | null {
    const u = this.#topology.upstream(id);
    if (u === undefined) return null;
    this.#changes.setState(u, state);
    this.#view.setAdmin(id, { state: u.adminState, weight: u.configuredWeight });
    return snapshot(u);
  }

  /**
   * Sets a backend's configured weight, checked by the config file's rule (an integer from 0 to 1,000,000).
   *
   * @throws {BadRequestError} for any other value.
   */
  setWeight(id: string, weight: number): BackendStatus | null {
    const problem = weightProblem(weight);
    if (problem !== null) throw new BadRequestError(`weight: ${problem}`);
    const u = this.#topology.upstream(id);
    if (u === undefined) return null;
    this.#changes.setWeight(u, weight);
    this.#view.setAdmin(id, { state: u.adminState, weight: u.configuredWeight });
    return snapshot(u);
  }

  /**
   * Adds a backend at runtime to its pool (`backend.pool`). It takes traffic once its first health probe
   * passes. Returns null when the id is taken or the pool does not exist.
   */
  addBackend(backend: BackendConfig): BackendStatus | null {
    const u = this.#changes.add(backend);
    if (u === null) return null;
    this.#view.setBackend(backend.id, { removed: false, spec: specOf(backend) });
    return snapshot(u);
  }

  /** Removes a backend at runtime. Requests in flight to it finish; new ones go elsewhere. */
  removeBackend(id: string): BackendStatus | null {
    const u = this.#changes.remove(id);
    if (u === null) return null;
    this.#view.setBackend(id, { removed: true });
    return snapshot(u);
  }

  /**
   * Applies a new config without dropping a connection: backends added, removed, re-weighted or replaced (a
   * changed URL or health settings). Other settings need a restart; they are listed in the summary and logged.
   * Without an argument, re-reads the config through `configSource`. A reload is this replica's own: it is
   * not shared (each replica reloads its own file).
   */
  async reload(next?: GatewayConfig): Promise<ReloadSummary> {
    const config = next ?? (this.#configSource ? await this.#configSource() : null);
    if (config === null) throw new GatewayStateError('reload needs a config: this gateway was not started from a file');
    const applied = applyReload(() => this.#config, config, this.#changes, this.#topology, this.#logger);
    this.#config = applied.config;
    this.emit('reload', applied.summary);
    return applied.summary;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  /** Destination pools listen to their coordinator before traffic comes (not required unless `redis.required`). */
  async #coordinatorsReady(): Promise<void> {
    const registries = this.#topology.services.flatMap((s) => (s.destination === null ? [] : [s.destination.registry]));
    if (registries.length === 0) return;
    try {
      await Promise.all(registries.map((r) => r.ready()));
    } catch (err) {
      if (this.#config.redis !== false && this.#config.redis.required) throw err;
      this.#logger.warn({ err: (err as Error).message }, 'coordinator unreachable at startup: destination pools answer 503 until it is');
    }
  }

  #createView(config: GatewayConfig): SharedView {
    const target = {
      applyHealth: (id: string, up: boolean) => this.#changes.applyHealth(id, up),
      applyAdmin: (id: string, fact: AdminFact) => this.#changes.applyAdmin(id, fact),
      applyBackend: (id: string, fact: BackendFact) => this.#changes.applyBackend(id, fact),
    };
    return new SharedView(this.#store, target, sharedViewOptions(config, this.#logger));
  }

  async #shutdown(): Promise<void> {
    const wasListening = this.#state === 'listening';
    this.#state = 'closing';
    this.#traffic.closing = true;
    await Promise.all([...this.#topology.services.map((s) => s.checker.close()), this.#boot?.close(), this.#view.close()]);
    if (wasListening) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      this.#server.closeIdleConnections();
      await this.#drainInflight(this.#config.shutdownGraceMs);
      this.#traffic.destroyTunnels();
      this.#server.closeAllConnections();
      await closed;
    }
    this.#client.close();
    this.#traffic.close();
    await this.#topology.close();
    this.#redisClient?.disconnect();
    await Promise.all([this.#alerts?.close(), this.#accessLog?.close(), this.#ownsStore ? this.#store.close() : undefined]);
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
    this.#admit(req, res, null, null);
  }

  /** node hands an upgrade over as a bare socket; it gets a response bound to it and then the very same path. */
  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#client.forget(socket as Socket);
    if (closedBehindPending(socket)) return;
    this.#admit(req, responseOnSocket(req, socket), socket, head);
  }

  /**
   * The one path for requests and upgrades: admission, the admin path, hidden paths, then traffic. Only an
   * upgrade to WebSocket becomes a tunnel; any other Upgrade token is served as the plain request it also is.
   */
  #admit(req: IncomingMessage, res: ServerResponse, socket: Duplex | null, head: Buffer | null): void {
    const refused = admissionError(req, this.#admission, socket !== null);
    if (refused !== null) return this.#traffic.refuse(req, res, refused);
    const url = req.url as string;
    if (this.#isAdmin(url)) {
      if (this.#admin) this.#admin(req, res);
      else this.#traffic.refuse(req, res, Answers.noBackend);
      return;
    }
    if (this.#bootPath !== null && isPath(url, this.#bootPath)) return this.#traffic.refuse(req, res, Answers.hidden);
    if (socket !== null && isWebSocket(req)) this.#traffic.handleUpgrade(req, res, socket, head as Buffer);
    else this.#traffic.handleRequest(req, res);
  }

  #isAdmin(url: string): boolean {
    return isPath(url, this.#adminPath);
  }

  #onDrained(u: Upstream): void {
    this.#topology.serviceOf(u.id)?.pool.setAdminState(u, 'disabled');
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
    const fromEnv = stickySecretFromEnv();
    if (fromEnv) return fromEnv;
    if (config.pools.every((p) => p.sticky === false)) return randomBytes(32).toString('base64url');
    this.#logger.warn(
      'no sticky.secret or KEYWAY_STICKY_SECRET: using a random per-process secret, so sticky cookies will not survive a restart or be shared between gateways',
    );
    return randomBytes(32).toString('base64url');
  }
}

/** An upgrade to WebSocket (the token is case-insensitive; a list such as `websocket, foo` is not one). */
function isWebSocket(req: IncomingMessage): boolean {
  const u = req.headers.upgrade;
  return u !== undefined && u.length === 9 && u.toLowerCase() === 'websocket';
}

function metricsView(u: Upstream) {
  return { id: u.id, healthy: u.healthy, ejected: u.ejectedUntil > 0, inflight: u.inflight - u.websockets, websockets: u.websockets, weight: u.weight };
}
