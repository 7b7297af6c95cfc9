/**
 * @module config/types: the resolved, frozen configuration every other folder reads. Produced only by
 * `validateConfig()`; durations are milliseconds and say so in their names.
 */

/** Names accepted by `strategy`. Kept here (below balancer/) so validation can list them. */
export const STRATEGY_NAMES = ['round-robin', 'least-connections', 'random', 'p2c', 'consistent-hash'] as const;
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** What a strategy sees of a backend. `Upstream` satisfies it structurally. */
export interface Candidate {
  readonly id: string;
  /** Effective weight; 0 means "no new traffic" and such candidates are never offered. */
  readonly weight: number;
  /** In-flight requests plus open WebSockets. */
  readonly inflight: number;
}

/** Per-pick facts. Every field may be missing; a strategy must still pick. */
export interface PickContext {
  /** The request's key for key-based strategies (from `hashKey`), when it has one. */
  readonly hashKey?: string | undefined;
  /** Candidate ids not to pick (a retry on another backend). */
  readonly exclude?: ReadonlySet<string> | undefined;
}

/** A custom strategy, given as a function in a JS config. Returning null/undefined means "none fits" (503). */
export type CustomStrategyFn = (candidates: readonly Candidate[], ctx: PickContext) => Candidate | null | undefined;

/** The backend as a custom health check sees it. */
export interface BackendInfo {
  readonly id: string | number;
  readonly url: string;
}

/** A custom health check: resolve true when healthy. Throwing or rejecting counts as unhealthy. */
export type HealthCheckFn = (backend: BackendInfo) => boolean | Promise<boolean>;

export type HealthAlgorithm = 'http' | 'http-status';

/** Health settings after merging global `health`, then the pool's `health`, then the backend's own `health*` fields. */
export interface HealthSettings {
  /** Probe period. Config key `health.interval` (ms) or `health.intervalMs`. Default 10000. */
  readonly intervalMs: number;
  /** Probe path. Default `/` (smart-stick's). */
  readonly path: string;
  /** Probe method. Default `GET`. */
  readonly method: string;
  /** `http`: any HTTP response is healthy; `http-status`: only 2xx. Default `http-status` (smart-stick's). */
  readonly algorithm: HealthAlgorithm;
  /** Probe timeout (ms). Default 2000 (smart-stick's). */
  readonly timeoutMs: number;
  /** Extra probe headers; values are secrets and never shown. */
  readonly headers: Readonly<Record<string, string>>;
  /** Custom check replacing the HTTP probe. */
  readonly check: HealthCheckFn | undefined;
  /** Consecutive successes to turn healthy. Default 2. */
  readonly rise: number;
  /** Consecutive failures to turn unhealthy. Default 3. */
  readonly fall: number;
}

export interface BackendConfig {
  /** Stable string form of the id (cookie value, admin paths). */
  readonly id: string;
  /** The id as configured (number or string), shown in status output. */
  readonly rawId: string | number;
  /** `http://` or `https://` URL; a path prefix in it is prepended to every forwarded path. */
  readonly url: string;
  /** Relative weight, integer >= 0. Default 1. 0 takes no new traffic. */
  readonly weight: number;
  /** Email address alerted on state changes (issue 3). */
  readonly owner: string | undefined;
  readonly health: HealthSettings;
  /** The pool it belongs to (`default` for top-level `backends`). Ids are unique across all pools. */
  readonly pool: string;
}

export type SameSite = 'Strict' | 'Lax' | 'None';

export interface StickyConfig {
  /** Cookie name. Default `keyway_sticky`. */
  readonly cookie: string;
  /** HMAC key. From config, else `KEYWAY_STICKY_SECRET`, else random per process (with a warning). */
  readonly secret: string | undefined;
  /** Cookie Max-Age (ms); undefined makes a session cookie. */
  readonly maxAgeMs: number | undefined;
  /** Add `Secure`. Default false. */
  readonly secure: boolean;
  /** Default `Lax`. */
  readonly sameSite: SameSite;
}

export interface AdminConfig {
  /** Prefix of admin routes. Default `/_lb`. */
  readonly path: string;
  /** Bearer token; without it only loopback clients reach admin routes. Never shown. */
  readonly token: string | undefined;
}

export interface TimeoutsConfig {
  /** TCP connect to a backend (ms). Default 5000; exceeded -> 504. */
  readonly connectMs: number;
  /** From request sent to response headers received (ms). Default 30000; exceeded -> 504. */
  readonly responseMs: number;
  /** A backend socket silent this long in the middle of a response is cut (ms). Default 60000. */
  readonly upstreamIdleMs: number;
  /** A client must send its request headers within this (slowloris); else the connection is closed (ms). Default 10000. */
  readonly clientHeadersMs: number;
  /** A client must send its whole request (headers and body) within this; else 408 (ms). 0 = no limit. Default 300000. */
  readonly requestMs: number;
  /** An idle keep-alive client connection is closed after this (ms). Default 5000. */
  readonly clientIdleMs: number;
  /** The backend must answer a WebSocket upgrade within this; else 504 (ms). Default 10000. */
  readonly wsHandshakeMs: number;
  /** A WebSocket with no traffic either way for this long is closed (ms). 0 = never. Default 0. */
  readonly wsIdleMs: number;
}

export interface RetriesConfig {
  /** Retry failed requests once on another backend. Default true. */
  readonly enabled: boolean;
  /** Retries may add at most this percentage of requests (a budget, as in Envoy and Finagle). Default 20. */
  readonly budgetPercent: number;
  /** Retries always allowed per second regardless of traffic (the budget's floor). Default 3. */
  readonly minPerSecond: number;
  /** Also retry non-idempotent requests that carry an `Idempotency-Key` header. Default false. */
  readonly idempotencyKey: boolean;
}

export interface OutlierConfig {
  /** Consecutive failed requests that eject a backend. Default 5. */
  readonly consecutiveFailures: number;
  /** Count 5xx answers as failures too (connection errors always count). Default false. */
  readonly on5xx: boolean;
  /** First ejection lasts this; the n-th lasts n times this, capped by maxEjectionMs (ms). Default 30000. */
  readonly baseEjectionMs: number;
  /** Longest ejection (ms). Default 300000. */
  readonly maxEjectionMs: number;
  /** At most this percentage of backends may be ejected at once. Default 50. */
  readonly maxEjectionPercent: number;
}

export interface LimitsConfig {
  /** Largest request body accepted, declared or streamed (bytes); larger -> 413. Undefined = no limit. */
  readonly maxBodyBytes: number | undefined;
  /** Largest request head accepted (bytes); larger -> 431. Default 16384 (node's), at most 1 MiB. */
  readonly maxHeaderBytes: number;
  /** Most header fields a request may carry; more -> 431. Default 100 (Envoy's), at most 10000. */
  readonly maxHeaderCount: number;
  /** Client connections open at once; past it new ones are closed at accept. Undefined = no limit. */
  readonly maxConnections: number | undefined;
  /** Bytes a WebSocket may carry in both directions before it is closed. Undefined = no limit. */
  readonly wsMaxBytes: number | undefined;
}

export interface WebhookConfig {
  readonly url: string;
  /** `json` (keyway's payload) or `slack` (incoming-webhook `{ text }`). Default json. */
  readonly format: 'json' | 'slack';
  /** Extra request headers (an auth token, say). Values are never shown. */
  readonly headers: Readonly<Record<string, string>>;
}

export interface AlertsConfig {
  /** Alert only on a state that lasts longer than this, damping flaps (ms). Default 30000. */
  readonly holdMs: number;
  readonly webhooks: readonly WebhookConfig[];
  /** Delivery attempts per alert and channel before giving up. Default 5. */
  readonly attempts: number;
}

export interface MetricsConfig {
  /** Serve `GET <admin.path>/metrics`. Default true. */
  readonly enabled: boolean;
  /** Add node's process metrics (CPU, memory, event loop). Default false. */
  readonly processMetrics: boolean;
}

export interface GatewayConfig extends TopologyConfig {
  /** Listen address. Default `0.0.0.0`. */
  readonly host: string;
  /** Listen port. Default 8080; 0 picks a free port. */
  readonly port: number;
  readonly strategy: StrategyName | CustomStrategyFn;
  /** `header:<name>` | `cookie:<name>` | `query:<name>` | `ip`, or undefined. */
  readonly hashKey: string | undefined;
  /** Every backend of every pool, in config order. */
  readonly backends: readonly BackendConfig[];
  /** The global health settings (backends carry their merged copy). */
  readonly health: HealthSettings;
  /** `false` turns stickiness off. On by default. */
  readonly sticky: StickyConfig | false;
  readonly admin: AdminConfig;
  /** smart-stick's `email` block, kept as given for the alerts of a later issue. Never shown. */
  readonly email: Readonly<Record<string, unknown>> | undefined;
  readonly timeouts: TimeoutsConfig;
  /** Peers (IP addresses) whose `X-Forwarded-For` is appended to rather than replaced. Default []. */
  readonly trustedProxies: readonly string[];
  /** Forward the client's Host header (true, default) or the backend's. */
  readonly preserveHost: boolean;
  /** Graceful shutdown: how long in-flight requests may take before sockets are cut (ms). Default 10000. */
  readonly shutdownGraceMs: number;
  readonly retries: RetriesConfig;
  /** Passive health: eject backends whose requests keep failing. `false` turns it off. */
  readonly outlier: OutlierConfig | false;
  /** When no backend may take traffic: answer 503 (`reject`, default) or use them all (`fail-open`, Envoy's panic). */
  readonly whenAllDown: 'reject' | 'fail-open';
  /** A backend that (re)joins ramps from 10% to full weight over this (ms). 0 = off. Default 0. */
  readonly slowStartMs: number;
  /** A draining backend keeps its sticky clients at most this long, then takes no traffic (ms). Default 300000. */
  readonly drainTimeoutMs: number;
  readonly limits: LimitsConfig;
  readonly metrics: MetricsConfig;
  /** One JSON line per request to `stdout`, `stderr` or a file path; `false` (default) for none. */
  readonly accessLog: false | { readonly destination: string };
  readonly alerts: AlertsConfig;
}

/** A named group of backends with its own balancing, stickiness and health settings. */
export interface PoolConfig {
  readonly name: string;
  readonly backends: readonly BackendConfig[];
  /** Default: the top-level `strategy`. */
  readonly strategy: StrategyName | CustomStrategyFn;
  /** Default: the top-level `hashKey`. */
  readonly hashKey: string | undefined;
  /**
   * Default: the top-level `sticky`, with the cookie name suffixed `_<pool>` for pools other than `default`, so
   * a client pinned in one pool is not unpinned by another.
   */
  readonly sticky: StickyConfig | false;
  /** The pool's health settings (its backends carry their merged copy). Default: the top-level `health`. */
  readonly health: HealthSettings;
  /** Pool that serves when this one has no backend that may take traffic; null for none. Default: `fallback.pool`. */
  readonly fallback: string | null;
  /**
   * Route by destination (tenant, session, agent) to the coordinator member that owns it; the pool's backends are
   * then the coordinator's live members (issue 5). Null for an ordinary pool.
   */
  readonly destination: DestinationConfig | null;
}

/** Names accepted by `destination.strategy` (how a member is picked for a claim). */
export const DESTINATION_STRATEGIES = ['round-robin', 'least-loaded', 'random'] as const;

export interface DestinationConfig {
  /** Where the destination id is: `path:<n>` (the n-th path segment, from 1) or `header:<name>` (lower case). */
  readonly from: { readonly kind: 'path'; readonly segment: number } | { readonly kind: 'header'; readonly name: string };
  /** Bind an unknown destination to a member on first touch (else 404). Default false (platformatic's). */
  readonly claimOnMiss: boolean;
  /** Move a destination whose owners are all dead to a live member (else 503). Default false (platformatic's). */
  readonly reassignOrphans: boolean;
  /** The coordinator's key prefix (what its members use). Default `coordinator`. */
  readonly keyPrefix: string;
  /**
   * The coordinator's key layout, as its members write it: `keyway` (default; `{prefix}:co:...`) or `platformatic`
   * (@platformatic/coordinator's keys; not on Redis Cluster).
   */
  readonly layout: 'keyway' | 'platformatic';
  /** How a member is picked for a claim. Default `least-loaded`. */
  readonly strategy: (typeof DESTINATION_STRATEGIES)[number];
  /** Resolution cache entry lifetime (ms); 0 turns the cache off. Default 5000. */
  readonly cacheTtlMs: number;
  /** Resolution cache size. Default 10000. */
  readonly cacheMax: number;
}

/** One routing rule. Every condition given must match; a rule names at least one. */
export interface RouteConfig {
  /** Absolute path prefix, matched at a path boundary (`/api` matches `/api` and `/api/x`, not `/apix`). */
  readonly path: string | undefined;
  /** Host, lower case, without port; `*.example.com` matches any subdomain. */
  readonly host: string | undefined;
  /** Header (name lower case) that must be present, and equal `value` when one is given. */
  readonly header: { readonly name: string; readonly value: string | undefined } | undefined;
  readonly pool: string;
  /** Remove the matched path prefix before forwarding. Default false. */
  readonly stripPrefix: boolean;
}

export interface FallbackConfig {
  /** The pool every other pool falls back to, unless it names its own `fallback`. Default none. */
  readonly pool: string | undefined;
  /** Header (lower case) sent upstream, value = the pool that had no backend. Default `x-keyway-fallback`. */
  readonly header: string;
  /** Send the same header to the client. Default false. */
  readonly toClient: boolean;
}

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Shared state for gateway replicas. Exactly one of `url`, `sentinels`, `cluster` is set. */
export interface RedisConfig {
  /** `redis://` or `rediss://` (TLS) URL; credentials in it are secrets and never shown. */
  readonly url: string | undefined;
  /** Sentinel addresses; with `name`, the master set they watch. */
  readonly sentinels: readonly RedisNode[] | undefined;
  readonly name: string | undefined;
  /** Redis Cluster seed nodes. */
  readonly cluster: readonly RedisNode[] | undefined;
  /** Never shown. */
  readonly username: string | undefined;
  /** Never shown. */
  readonly password: string | undefined;
  /** TLS to Sentinel/Cluster nodes (a `rediss://` URL implies it). Default false. */
  readonly tls: boolean;
  /** Put inside a hash tag in every key (`{keyway}:gw:...`). Default `keyway`. */
  readonly keyPrefix: string;
  /** Refuse to start when Redis is unreachable at startup. Default false: serve locally and warn. */
  readonly required: boolean;
  /** How long startup waits for Redis (ms). Default 3000. */
  readonly connectTimeoutMs: number;
  /** Full re-read of the shared state, which heals a missed message (ms). Default 2000. */
  readonly syncIntervalMs: number;
  /** A replica's health verdict expires unless refreshed this often (ms). Default max(3 x syncIntervalMs, 3 x the largest health interval). */
  readonly verdictTtlMs: number;
  /** Admin facts (drain, disable, weights, runtime backends) expire this long after their last write (ms). Default 86400000. */
  readonly stateTtlMs: number;
  /** Replicas that must see a backend down for it to be down everywhere; undefined: the latest fresh verdict wins. */
  readonly healthQuorum: number | undefined;
  /** This replica's id in shared state. Default `<hostname>-<pid>-<random>`. */
  readonly replicaId: string;
}

export interface BootHandshakeConfig {
  /** Path each backend answers with its boot id and settings hashes. Default `/.well-known/keyway/boot`. */
  readonly path: string;
  /** How often each backend's handshake is read (ms). Default: the backend's health interval. */
  readonly intervalMs: number | undefined;
  /** Handshake request timeout (ms). Default 2000. */
  readonly timeoutMs: number;
  /**
   * Expected settings hashes by setting name. Undefined: the first backend of a pool to answer sets the
   * reference for that pool.
   */
  readonly expect: Readonly<Record<string, string>> | undefined;
}

/** Fields added to the gateway config by issue 4 (pools, routes, Redis, boot handshake). */
export interface TopologyConfig {
  /** Every pool; top-level `backends` become the pool `default`. Never empty. */
  readonly pools: readonly PoolConfig[];
  /** Ordered rules; the longest matching path prefix wins, then order. */
  readonly routes: readonly RouteConfig[];
  /** Pool for requests no route matches; null answers 404 JSON. Default `default` when that pool exists. */
  readonly defaultPool: string | null;
  /** `/<prefix>/<service>/...` goes to the pool named `<service>` when one exists. Default false. */
  readonly serviceRoutes: { readonly prefix: string } | false;
  /** Pool for WebSocket upgrades and `websocketPaths` (socket.io polling), before any route. Default none. */
  readonly websocketPool: string | null;
  /** Path prefixes that go to `websocketPool`. Default `['/socket.io/']`. */
  readonly websocketPaths: readonly string[];
  readonly fallback: FallbackConfig;
  /** Shared state for replicas; false (default) keeps all state in this process. */
  readonly redis: RedisConfig | false;
  /** Read each backend's boot id and settings hashes; false (default) for off. */
  readonly bootHandshake: BootHandshakeConfig | false;
  /** Refuse to start when a backend's settings differ (else it is marked `mismatch` and gets no traffic). Default false. */
  readonly strictBootHandshake: boolean;
}
