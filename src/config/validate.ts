/**
 * @module config/validate: user input -> one deep-frozen `GatewayConfig`, or one `ConfigError` that lists every
 * problem at once (so a user fixes a file in one pass, not one error per run). Shapes are checked first; checks
 * across fields (pool references, duplicate routes, fallback loops, Redis and stickiness) run on the resolved
 * result once the shapes are right.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../errors.js';
import {
  configSchema,
  DEFAULT_POOL,
  describeType,
  isBackendId,
  SAME_SITE_NONE_MESSAGE,
  type BackendInput,
  type ConfigInput,
  type HealthInput,
  type PoolInput,
  type RedisInput,
  type StickyInput,
} from './schema.js';
import type {
  BackendConfig,
  BootHandshakeConfig,
  CustomStrategyFn,
  FallbackConfig,
  GatewayConfig,
  HealthSettings,
  MetricsConfig,
  OutlierConfig,
  PoolConfig,
  RedisConfig,
  RetriesConfig,
  RouteConfig,
  StickyConfig,
  StrategyName,
  TimeoutsConfig,
  TopologyConfig,
} from './types.js';

/** Values that win over the file, typically from CLI flags (`--port`, `--host`). */
export interface ConfigOverrides {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
}

/**
 * Checks `input` (a parsed config file or a JS object), applies defaults and returns a deep-frozen config.
 * Functions (`strategy`, health checks) are kept as given and not frozen.
 *
 * @throws {ConfigError} with one `{ path, message }` per problem.
 * @example
 * const config = validateConfig({ backends: [{ url: 'http://127.0.0.1:3000' }] }, { port: 9000 });
 * config.backends[0].id; // '1'
 */
export function validateConfig(input: unknown, overrides: ConfigOverrides = {}): GatewayConfig {
  const merged = applyOverrides(input, overrides);
  const result = configSchema.safeParse(merged, { reportInput: true });
  const issues = result.success ? [] : result.error.issues.flatMap((issue) => toConfigIssues(issue, []));
  issues.push(...duplicateIdIssues(merged));
  if (!result.success || issues.length > 0) throw new ConfigError(issues);
  const config = resolveConfig(result.data);
  const crossIssues = topologyIssues(result.data, config);
  if (crossIssues.length > 0) throw new ConfigError(crossIssues);
  return deepFreeze(config);
}

function applyOverrides(input: unknown, overrides: ConfigOverrides): unknown {
  if (!isRecord(input)) return input;
  const out: Record<string, unknown> = { ...input };
  // Overrides go through the schema like file values, so a bad `--port` is reported as `port`.
  if (overrides.port !== undefined) out.port = overrides.port;
  if (overrides.host !== undefined) out.host = overrides.host;
  return out;
}

// ---- zod issues -> ConfigIssue ---------------------------------------------------------------------------

type ZodIssue = z.core.$ZodIssue;

function toConfigIssues(issue: ZodIssue, prefix: readonly PropertyKey[]): ConfigIssue[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: joinPath([...path, key]), message: 'unknown field' }));
    case 'invalid_type':
      return [{ path: joinPath(path), message: typeMessage(issue.expected, issue.input, path.length === 0) }];
    case 'invalid_value':
      return [{ path: joinPath(path), message: enumMessage(issue.input, issue.values) }];
    case 'invalid_union':
      return unionIssues(issue.errors, issue.input, path);
    default:
      // Every other check in schema.ts sets its own message.
      return [{ path: joinPath(path), message: issue.message }];
  }
}

function typeMessage(expected: string, input: unknown, isRoot: boolean): string {
  if (input === undefined && !isRoot) return 'required';
  return `expected ${expected === 'record' ? 'object' : expected}, got ${describeType(input)}`;
}

function enumMessage(input: unknown, values: readonly unknown[]): string {
  const list = values.map(String).join(', ');
  if (typeof input !== 'string') return `expected one of ${list}, got ${describeType(input)}`;
  return `unknown value ${JSON.stringify(input)} (expected one of ${list})`;
}

/**
 * A union fails as a whole. When no branch accepts the input's type, say which types fit; otherwise report the
 * branch that got the type right (e.g. `sticky: { sameSite: 'x' }` reports `sticky.sameSite`).
 */
function unionIssues(branches: readonly ZodIssue[][], input: unknown, path: readonly PropertyKey[]): ConfigIssue[] {
  const isTypeMiss = (b: readonly ZodIssue[]) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0;
  const matched = branches.filter((b) => !isTypeMiss(b));
  if (matched.length > 0) return matched.flatMap((b) => b.flatMap((issue) => toConfigIssues(issue, path)));
  const expected = branches.map((b) => (b[0]?.code === 'invalid_type' ? b[0].expected : 'value'));
  return [{ path: joinPath(path), message: `expected ${expected.join(' or ')}, got ${describeType(input)}` }];
}

function joinPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * Checked on the raw input so duplicates are reported even when other fields of the backends are bad. Ids are
 * unique across all pools: the sticky cookie and admin paths name a backend by id alone.
 */
function duplicateIdIssues(input: unknown): ConfigIssue[] {
  if (!isRecord(input)) return [];
  const pools = isRecord(input.pools) ? input.pools : {};
  // A pool `default` beside top-level backends is refused by the schema; its ids would only add noise.
  const named = Object.entries(pools).filter(([name]) => input.backends === undefined || name !== DEFAULT_POOL);
  const lists = orderPools(input.backends, Object.fromEntries(named.map(([name, p]) => [name, isRecord(p) ? p.backends : undefined])));
  const first = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const { name, path, value } of lists) {
    if (!Array.isArray(value)) continue;
    value.forEach((backend: unknown, index) => {
      const given = isRecord(backend) ? backend.id : undefined;
      const rawId = given ?? defaultBackendId(name, index);
      if (!isBackendId(rawId)) return;
      const id = String(rawId);
      const idPath = `${at(path, 'backends')}.${index}.id`;
      const seen = first.get(id);
      if (seen === undefined) {
        first.set(id, idPath);
        return;
      }
      // An id left out defaults to the position, which can collide with an explicit id: say so.
      const how = given === undefined ? ', the default from its position' : '';
      issues.push({ path: idPath, message: `duplicate id ${JSON.stringify(id)}${how} (also ${seen})` });
    });
  }
  return issues;
}

/** `1`, `2`, ... in the pool `default` (as before pools existed); `<pool>-1`, ... elsewhere, so pools never clash. */
function defaultBackendId(pool: string, index: number): string | number {
  return pool === DEFAULT_POOL ? index + 1 : `${pool}-${index + 1}`;
}

interface PoolEntry<T> {
  readonly name: string;
  /** Where the pool's settings sit in the input; '' for the top level (the pool `default` it forms). */
  readonly path: string;
  readonly value: T;
}

/** Pools in config order, the pool `default` first whichever way it is written. */
function orderPools<T>(topLevel: T | undefined, named: Readonly<Record<string, T>>): PoolEntry<T>[] {
  const entries = Object.entries(named).map(([name, value]) => ({ name, path: `pools.${name}`, value }));
  const top = topLevel === undefined ? [] : [{ name: DEFAULT_POOL, path: '', value: topLevel }];
  return [...top, ...entries.filter((e) => e.name === DEFAULT_POOL), ...entries.filter((e) => e.name !== DEFAULT_POOL)];
}

function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

// ---- defaults and merging ------------------------------------------------------------------------------

function resolveConfig(input: ConfigInput): GatewayConfig {
  const top: PoolDefaults = {
    strategy: input.strategy ?? 'round-robin',
    hashKey: input.hashKey,
    health: mergeHealth(DEFAULT_HEALTH, input.health ?? {}),
    sticky: resolveSticky(input.sticky),
  };
  const topology = resolveTopology(input, top);
  return {
    host: input.host ?? '0.0.0.0',
    port: input.port ?? 8080,
    strategy: top.strategy,
    hashKey: top.hashKey,
    backends: topology.pools.flatMap((pool) => pool.backends),
    health: top.health,
    sticky: top.sticky,
    admin: { path: input.admin?.path ?? '/_lb', token: input.admin?.token },
    email: input.email === undefined ? undefined : (copyData(input.email) as Record<string, unknown>),
    timeouts: resolveTimeouts(input.timeouts ?? {}),
    trustedProxies: [...(input.trustedProxies ?? [])],
    preserveHost: input.preserveHost ?? true,
    shutdownGraceMs: input.shutdownGraceMs ?? 10_000,
    retries: resolveRetries(input.retries),
    outlier: resolveOutlier(input.outlier),
    whenAllDown: input.whenAllDown ?? 'reject',
    slowStartMs: input.slowStartMs ?? 0,
    drainTimeoutMs: input.drainTimeoutMs ?? 300_000,
    limits: {
      maxBodyBytes: input.limits?.maxBodyBytes,
      maxHeaderBytes: input.limits?.maxHeaderBytes ?? 16_384,
      wsMaxBytes: input.limits?.wsMaxBytes,
    },
    metrics: resolveMetrics(input.metrics),
    accessLog: resolveAccessLog(input.accessLog),
    alerts: {
      holdMs: input.alerts?.holdMs ?? 30_000,
      attempts: input.alerts?.attempts ?? 5,
      webhooks: (input.alerts?.webhooks ?? []).map((w) => ({ url: w.url, format: w.format ?? 'json', headers: { ...w.headers } })),
    },
    ...topology,
  };
}

function resolveTimeouts(t: NonNullable<ConfigInput['timeouts']>): TimeoutsConfig {
  return {
    connectMs: t.connectMs ?? 5000,
    responseMs: t.responseMs ?? 30_000,
    upstreamIdleMs: t.upstreamIdleMs ?? 60_000,
    clientHeadersMs: t.clientHeadersMs ?? 10_000,
    requestMs: t.requestMs ?? 300_000,
    clientIdleMs: t.clientIdleMs ?? 5000,
    wsHandshakeMs: t.wsHandshakeMs ?? 10_000,
    wsIdleMs: t.wsIdleMs ?? 0,
  };
}

function resolveRetries(r: ConfigInput['retries']): RetriesConfig {
  const o = typeof r === 'object' ? r : {};
  return {
    enabled: typeof r === 'boolean' ? r : (o.enabled ?? true),
    budgetPercent: o.budgetPercent ?? 20,
    minPerSecond: o.minPerSecond ?? 3,
    idempotencyKey: o.idempotencyKey ?? false,
  };
}

function resolveOutlier(o: ConfigInput['outlier']): OutlierConfig | false {
  if (o === false) return false;
  return {
    consecutiveFailures: o?.consecutiveFailures ?? 5,
    on5xx: o?.on5xx ?? false,
    baseEjectionMs: o?.baseEjectionMs ?? 30_000,
    // As in Envoy, the cap is never below the first ejection.
    maxEjectionMs: o?.maxEjectionMs ?? Math.max(300_000, o?.baseEjectionMs ?? 30_000),
    maxEjectionPercent: o?.maxEjectionPercent ?? 50,
  };
}

function resolveMetrics(m: ConfigInput['metrics']): MetricsConfig {
  if (typeof m === 'boolean') return { enabled: m, processMetrics: false };
  return { enabled: m?.enabled ?? true, processMetrics: m?.processMetrics ?? false };
}

function resolveAccessLog(a: ConfigInput['accessLog']): false | { destination: string } {
  if (a === undefined || a === false) return false;
  return a === true ? { destination: 'stdout' } : { destination: a.destination };
}

/** Health defaults are smart-stick's (`/`, `http-status`, 2000 ms), so its files behave the same. */
const DEFAULT_HEALTH: HealthSettings = {
  intervalMs: 10_000,
  path: '/',
  method: 'GET',
  algorithm: 'http-status',
  timeoutMs: 2000,
  headers: {},
  check: undefined,
  rise: 2,
  fall: 3,
};

/** Fields given in `h` win over `base`; `headers` replaces the base headers, never merges (as in smart-stick). */
function mergeHealth(base: HealthSettings, h: HealthInput): HealthSettings {
  return {
    // `interval`/`timeout` are smart-stick's names; `*Ms` are keyway's. The schema forbids giving both.
    intervalMs: h.intervalMs ?? h.interval ?? base.intervalMs,
    path: h.path ?? base.path,
    method: h.method ?? base.method,
    algorithm: h.algorithm ?? base.algorithm,
    timeoutMs: h.timeoutMs ?? h.timeout ?? base.timeoutMs,
    headers: { ...(h.headers ?? base.headers) },
    check: h.check ?? base.check,
    rise: h.rise ?? base.rise,
    fall: h.fall ?? base.fall,
  };
}

/** Backend `health*` fields win over its pool's. Interval, rise and fall are the pool's only. */
function resolveBackend(b: BackendInput, defaultId: string | number, pool: string, base: HealthSettings): BackendConfig {
  const rawId = b.id ?? defaultId;
  return {
    id: String(rawId),
    rawId,
    url: b.url,
    weight: b.weight ?? 1,
    owner: b.owner,
    health: mergeHealth(base, {
      path: b.healthPath,
      method: b.healthMethod,
      algorithm: b.healthAlgorithm,
      timeoutMs: b.healthTimeout,
      headers: b.healthHeaders,
      check: b.healthCheck,
    }),
    pool,
  };
}

function resolveSticky(sticky: StickyInput | undefined): StickyConfig | false {
  if (sticky === false) return false;
  const s = sticky === true || sticky === undefined ? {} : sticky;
  return {
    cookie: s.cookie ?? 'keyway_sticky',
    // Left undefined on purpose: the gateway falls back to KEYWAY_STICKY_SECRET, then a random key.
    secret: s.secret,
    maxAgeMs: s.maxAgeMs,
    secure: s.secure ?? false,
    sameSite: s.sameSite ?? 'Lax',
  };
}

/** The top-level settings every pool inherits. */
interface PoolDefaults {
  readonly strategy: StrategyName | CustomStrategyFn;
  readonly hashKey: string | undefined;
  readonly health: HealthSettings;
  readonly sticky: StickyConfig | false;
}

/**
 * A pool inherits the top-level sticky settings field by field. Pools other than `default` get their own cookie
 * (`<cookie>_<pool>`) unless they name one, so a client pinned in one pool is not unpinned by another.
 */
function resolvePoolSticky(name: string, given: StickyInput | undefined, top: StickyConfig | false): StickyConfig | false {
  if (given === false || (given === undefined && top === false)) return false;
  const base = top === false ? (resolveSticky(true) as StickyConfig) : top;
  const own = typeof given === 'object' ? given : {};
  return {
    cookie: own.cookie ?? (name === DEFAULT_POOL ? base.cookie : `${base.cookie}_${name}`),
    secret: own.secret ?? base.secret,
    maxAgeMs: own.maxAgeMs ?? base.maxAgeMs,
    secure: own.secure ?? base.secure,
    sameSite: own.sameSite ?? base.sameSite,
  };
}

function resolvePool(entry: PoolEntry<PoolInput>, top: PoolDefaults, fallbackPool: string | undefined): PoolConfig {
  const { name, value: p } = entry;
  const health = p.health === undefined ? top.health : mergeHealth(top.health, p.health);
  const inherited = fallbackPool === undefined || fallbackPool === name ? null : fallbackPool;
  return {
    name,
    backends: p.backends.map((b, index) => resolveBackend(b, defaultBackendId(name, index), name, health)),
    strategy: p.strategy ?? top.strategy,
    hashKey: p.hashKey ?? top.hashKey,
    sticky: resolvePoolSticky(name, p.sticky, top.sticky),
    health,
    fallback: p.fallback === false ? null : (p.fallback ?? inherited),
  };
}

function poolEntries(input: ConfigInput): PoolEntry<PoolInput>[] {
  return orderPools<PoolInput>(input.backends === undefined ? undefined : { backends: input.backends }, input.pools ?? {});
}

function resolveTopology(input: ConfigInput, top: PoolDefaults): TopologyConfig {
  const fallback = resolveFallback(input.fallback);
  const pools = poolEntries(input).map((entry) => resolvePool(entry, top, fallback.pool));
  const names = new Set(pools.map((p) => p.name));
  const sr = input.serviceRoutes;
  const backends = pools.flatMap((p) => p.backends);
  return {
    pools,
    routes: (input.routes ?? []).map(
      (r): RouteConfig => ({
        path: r.path,
        host: r.host,
        header: r.header === undefined ? undefined : { name: r.header.name, value: r.header.value },
        pool: r.pool,
        stripPrefix: r.stripPrefix ?? false,
      }),
    ),
    defaultPool: input.defaultPool === undefined ? (names.has(DEFAULT_POOL) ? DEFAULT_POOL : null) : input.defaultPool,
    serviceRoutes: sr === true ? { prefix: '/api' } : sr === false || sr === undefined ? false : { prefix: sr.prefix },
    websocketPool: input.websocketPool ?? null,
    websocketPaths: [...(input.websocketPaths ?? ['/socket.io/'])],
    fallback,
    redis: input.redis === undefined ? false : resolveRedis(input.redis, backends),
    bootHandshake: resolveBootHandshake(input.bootHandshake, input.strictBootHandshake),
    strictBootHandshake: input.strictBootHandshake ?? false,
  };
}

function resolveFallback(f: ConfigInput['fallback']): FallbackConfig {
  const o = typeof f === 'string' ? { pool: f } : (f ?? {});
  return { pool: o.pool, header: o.header ?? 'x-keyway-fallback', toClient: o.toClient ?? false };
}

function resolveRedis(r: RedisInput, backends: readonly BackendConfig[]): RedisConfig {
  const o = typeof r === 'string' ? { url: r } : r;
  const syncIntervalMs = o.syncIntervalMs ?? 2000;
  const longestInterval = backends.reduce((max, b) => Math.max(max, b.health.intervalMs), 0);
  return {
    url: o.url,
    sentinels: o.sentinels,
    name: o.name,
    cluster: o.cluster,
    username: o.username,
    password: o.password,
    tls: o.tls ?? (o.url !== undefined && new URL(o.url).protocol === 'rediss:'),
    keyPrefix: o.keyPrefix ?? 'keyway',
    required: o.required ?? false,
    connectTimeoutMs: o.connectTimeoutMs ?? 3000,
    syncIntervalMs,
    // A verdict outlives a few missed refreshes, whichever comes slower: syncs or probes.
    verdictTtlMs: o.verdictTtlMs ?? Math.max(3 * syncIntervalMs, 3 * longestInterval),
    stateTtlMs: o.stateTtlMs ?? 86_400_000,
    healthQuorum: o.healthQuorum,
    replicaId: o.replicaId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
  };
}

function resolveBootHandshake(b: ConfigInput['bootHandshake'], strict: boolean | undefined): BootHandshakeConfig | false {
  // `strictBootHandshake: true` alone turns the handshake on; with `bootHandshake: false` it is refused below.
  if (b === false || (b === undefined && strict !== true)) return false;
  const o = typeof b === 'object' ? b : {};
  return {
    path: o.path ?? '/.well-known/keyway/boot',
    intervalMs: o.intervalMs,
    timeoutMs: o.timeoutMs ?? 2000,
    expect: o.expect === undefined ? undefined : { ...o.expect },
  };
}

// ---- checks across fields ------------------------------------------------------------------------------

/** Checks that need the resolved pools: references, duplicates, loops, stickiness with Redis. */
function topologyIssues(input: ConfigInput, config: GatewayConfig): ConfigIssue[] {
  const entries = poolEntries(input);
  const issues = referenceIssues(input, config, entries);
  // A loop is only meaningful once every name resolves.
  if (issues.length === 0) issues.push(...fallbackLoopIssues(config.pools, entries));
  issues.push(...duplicateRouteIssues(config.routes));
  issues.push(...poolStickyIssues(config.pools, entries));
  issues.push(...redisIssues(input, config));
  if (input.strictBootHandshake === true && input.bootHandshake === false) {
    issues.push({ path: 'strictBootHandshake', message: 'needs bootHandshake, which is false' });
  }
  return issues;
}

function referenceIssues(input: ConfigInput, config: GatewayConfig, entries: readonly PoolEntry<PoolInput>[]): ConfigIssue[] {
  const names = config.pools.map((p) => p.name);
  const issues: ConfigIssue[] = [];
  const check = (path: string, name: string | null | undefined): void => {
    if (typeof name !== 'string' || names.includes(name)) return;
    issues.push({ path, message: `unknown pool ${JSON.stringify(name)} (expected one of ${names.join(', ')})` });
  };
  input.routes?.forEach((r, i) => check(`routes.${i}.pool`, r.pool));
  check('defaultPool', input.defaultPool);
  check('websocketPool', input.websocketPool);
  if (input.websocketPaths !== undefined && input.websocketPool === undefined) {
    issues.push({ path: 'websocketPaths', message: 'needs websocketPool' });
  }
  check(typeof input.fallback === 'string' ? 'fallback' : 'fallback.pool', config.fallback.pool);
  for (const { path, value } of entries) {
    if (typeof value.fallback === 'string') check(at(path, 'fallback'), value.fallback);
  }
  return issues;
}

/** `a -> b -> a` would bounce a request between two pools that both have no backend. Each loop reported once. */
function fallbackLoopIssues(pools: readonly PoolConfig[], entries: readonly PoolEntry<PoolInput>[]): ConfigIssue[] {
  const byName = new Map(pools.map((p) => [p.name, p]));
  const explicit = entries.filter((e) => typeof e.value.fallback === 'string');
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const start of pools) {
    const chain = [start.name];
    let next = start.fallback;
    while (next !== null && !chain.includes(next)) {
      chain.push(next);
      next = byName.get(next)?.fallback ?? null;
    }
    if (next === null) continue;
    const loop = chain.slice(chain.indexOf(next));
    const key = [...loop].sort().join('\0');
    if (seen.has(key)) continue;
    seen.add(key);
    // Every loop has a pool with its own `fallback` (the top-level one never points a pool at itself): blame it.
    const blamed = explicit.find((e) => loop.includes(e.name));
    const from = blamed === undefined ? 0 : loop.indexOf(blamed.name);
    const shown = [...loop.slice(from), ...loop.slice(0, from), loop[from]];
    issues.push({ path: blamed === undefined ? 'fallback.pool' : at(blamed.path, 'fallback'), message: `fallback loop ${shown.join(' -> ')}` });
  }
  return issues;
}

/** Rules with the same conditions: the later one could never match. */
function duplicateRouteIssues(routes: readonly RouteConfig[]): ConfigIssue[] {
  const first = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  routes.forEach((r, i) => {
    const key = JSON.stringify([r.path ?? null, r.host ?? null, r.header?.name ?? null, r.header?.value ?? null]);
    const seen = first.get(key);
    if (seen === undefined) first.set(key, i);
    else issues.push({ path: `routes.${i}`, message: `same path, host and header as routes.${seen}, so it never matches` });
  });
  return issues;
}

/** SameSite=None needs Secure once merged with the top level; two pools sharing a cookie would unpin each other. */
function poolStickyIssues(pools: readonly PoolConfig[], entries: readonly PoolEntry<PoolInput>[]): ConfigIssue[] {
  const owner = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  pools.forEach((pool, i) => {
    const path = entries[i]?.path ?? '';
    if (pool.sticky === false) return;
    if (path !== '' && pool.sticky.sameSite === 'None' && !pool.sticky.secure) {
      issues.push({ path: `${path}.sticky.sameSite`, message: SAME_SITE_NONE_MESSAGE });
    }
    const other = owner.get(pool.sticky.cookie);
    if (other === undefined) owner.set(pool.sticky.cookie, pool.name);
    else issues.push({ path: `${at(path, 'sticky')}.cookie`, message: `cookie ${JSON.stringify(pool.sticky.cookie)} is also the pool "${other}"'s` });
  });
  return issues;
}

function redisIssues(input: ConfigInput, config: GatewayConfig): ConfigIssue[] {
  const redis = config.redis;
  if (redis === false) return [];
  const issues: ConfigIssue[] = [];
  // Without a shared key each replica signs with its own random one and rejects the others' cookies.
  if (!process.env.KEYWAY_STICKY_SECRET && config.pools.some((p) => p.sticky !== false && p.sticky.secret === undefined)) {
    issues.push({
      path: config.sticky === false ? stickySecretPath(config.pools) : 'sticky.secret',
      message: 'required with redis: replicas must share a secret to accept each other\'s sticky cookies (or set KEYWAY_STICKY_SECRET)',
    });
  }
  const longest = config.backends.reduce((max, b) => Math.max(max, b.health.intervalMs), 0);
  if (typeof input.redis === 'object' && input.redis.verdictTtlMs !== undefined && input.redis.verdictTtlMs <= longest) {
    issues.push({ path: 'redis.verdictTtlMs', message: `must be greater than the longest health interval (${longest} ms), or verdicts expire between probes` });
  }
  return issues;
}

/** With top-level stickiness off, the secret belongs in the first pool that turns it on. */
function stickySecretPath(pools: readonly PoolConfig[]): string {
  const pool = pools.find((p) => p.sticky !== false && p.sticky.secret === undefined);
  return pool === undefined ? 'sticky.secret' : `pools.${pool.name}.sticky.secret`;
}

// ---- copying and freezing ------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPlain(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (!isRecord(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Copies plain objects and arrays so freezing never touches the caller's objects; anything else is shared. */
function copyData(value: unknown, copies = new WeakMap<object, unknown>()): unknown {
  if (!isPlain(value)) return value;
  const done = copies.get(value);
  if (done !== undefined) return done; // a cycle in a JS config maps onto the copy, not forever
  const out: object = Array.isArray(value) ? [] : {};
  copies.set(value, out);
  for (const [key, child] of Object.entries(value)) {
    // defineProperty, not assignment: a JSON key "__proto__" must stay data, not become a prototype.
    Object.defineProperty(out, key, { value: copyData(child, copies), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Freezes plain objects and arrays, depth-first. Functions and class instances stay as the user made them. */
function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  if (!isPlain(value) || seen.has(value)) return value;
  seen.add(value);
  for (const child of Object.values(value)) deepFreeze(child, seen);
  return Object.freeze(value);
}
