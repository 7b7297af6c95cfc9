/**
 * @module config/pools: pools as written (the top-level `backends` form the pool `default`, beside `pools.*`)
 * -> `PoolConfig`s, each inheriting strategy, hash key, health and stickiness from the top level field by field.
 */
import { DEFAULT_POOL, type BackendInput, type ConfigInput, type HealthInput, type PoolInput, type StickyInput } from './schema.js';
import type { BackendConfig, CustomStrategyFn, DestinationConfig, HealthSettings, PoolConfig, StickyConfig, StrategyName } from './types.js';

/** One pool's settings as found in the input. */
export interface PoolEntry<T> {
  readonly name: string;
  /** Where the pool's settings sit in the input; '' for the top level (the pool `default` it forms). */
  readonly path: string;
  readonly value: T;
}

/** Pools in config order, the pool `default` first whichever way it is written. */
export function orderPools<T>(topLevel: T | undefined, named: Readonly<Record<string, T>>): PoolEntry<T>[] {
  const entries = Object.entries(named).map(([name, value]) => ({ name, path: `pools.${name}`, value }));
  const top = topLevel === undefined ? [] : [{ name: DEFAULT_POOL, path: '', value: topLevel }];
  return [...top, ...entries.filter((e) => e.name === DEFAULT_POOL), ...entries.filter((e) => e.name !== DEFAULT_POOL)];
}

/** The parsed input's pools, in the order of `orderPools`. */
export function poolEntries(input: ConfigInput): PoolEntry<PoolInput>[] {
  return orderPools<PoolInput>(input.backends === undefined ? undefined : { backends: input.backends }, input.pools ?? {});
}

/** `field` under a pool's `path` (`at('', 'fallback')` is the top level's). */
export function at(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

/** `1`, `2`, ... in the pool `default` (as before pools existed); `<pool>-1`, ... elsewhere, so pools never clash. */
export function defaultBackendId(pool: string, index: number): string | number {
  return pool === DEFAULT_POOL ? index + 1 : `${pool}-${index + 1}`;
}

/** The top-level settings every pool inherits. */
export interface PoolDefaults {
  readonly strategy: StrategyName | CustomStrategyFn;
  readonly hashKey: string | undefined;
  readonly health: HealthSettings;
  readonly sticky: StickyConfig | false;
}

/** Health defaults are smart-stick's (`/`, `http-status`, 2000 ms), so its files behave the same. */
export const DEFAULT_HEALTH: HealthSettings = {
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
export function mergeHealth(base: HealthSettings, h: HealthInput): HealthSettings {
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

const DEFAULT_STICKY: StickyConfig = {
  cookie: 'keyway_sticky',
  // Left undefined on purpose: the gateway falls back to KEYWAY_STICKY_SECRET, then a random key.
  secret: undefined,
  maxAgeMs: undefined,
  secure: false,
  sameSite: 'Lax',
};

/** Fields given in `own` win over `base`. */
function mergeSticky(base: StickyConfig, own: Exclude<StickyInput, boolean>): StickyConfig {
  return {
    cookie: own.cookie ?? base.cookie,
    secret: own.secret ?? base.secret,
    maxAgeMs: own.maxAgeMs ?? base.maxAgeMs,
    secure: own.secure ?? base.secure,
    sameSite: own.sameSite ?? base.sameSite,
  };
}

/** The top-level `sticky`: on (with defaults) unless `false`. */
export function resolveSticky(sticky: StickyInput | undefined): StickyConfig | false {
  if (sticky === false) return false;
  return mergeSticky(DEFAULT_STICKY, typeof sticky === 'object' ? sticky : {});
}

/**
 * A pool inherits the top-level sticky settings field by field. Pools other than `default` get their own cookie
 * (`<cookie>_<pool>`) unless they name one, so a client pinned in one pool is not unpinned by another.
 */
function resolvePoolSticky(name: string, given: StickyInput | undefined, top: StickyConfig | false): StickyConfig | false {
  if (given === false || (given === undefined && top === false)) return false;
  const base = top === false ? DEFAULT_STICKY : top;
  const cookie = name === DEFAULT_POOL ? base.cookie : `${base.cookie}_${name}`;
  return mergeSticky({ ...base, cookie }, typeof given === 'object' ? given : {});
}

/** One pool with its inherited settings; `fallbackPool` is the top-level `fallback`, which never points at itself. */
export function resolvePool(entry: PoolEntry<PoolInput>, top: PoolDefaults, fallbackPool: string | undefined): PoolConfig {
  const { name, value: p } = entry;
  const health = p.health === undefined ? top.health : mergeHealth(top.health, p.health);
  const inherited = fallbackPool === undefined || fallbackPool === name ? null : fallbackPool;
  return {
    name,
    backends: (p.backends ?? []).map((b, index) => resolveBackend(b, defaultBackendId(name, index), name, health)),
    strategy: p.strategy ?? top.strategy,
    hashKey: p.hashKey ?? top.hashKey,
    sticky: resolvePoolSticky(name, p.sticky, top.sticky),
    health,
    fallback: p.fallback === false ? null : (p.fallback ?? inherited),
    destination: p.destination === undefined ? null : resolveDestination(p.destination),
  };
}

function resolveDestination(d: NonNullable<PoolInput['destination']>): DestinationConfig {
  const colon = d.from.indexOf(':');
  const where = d.from.slice(colon + 1);
  return {
    from: d.from.startsWith('path:') ? { kind: 'path', segment: Number(where) } : { kind: 'header', name: where.toLowerCase() },
    claimOnMiss: d.claimOnMiss ?? false,
    reassignOrphans: d.reassignOrphans ?? false,
    keyPrefix: d.keyPrefix ?? 'coordinator',
    layout: d.layout ?? 'keyway',
    strategy: d.strategy ?? 'least-loaded',
    cacheTtlMs: d.cache === false ? 0 : (d.cache?.ttlMs ?? 5000),
    cacheMax: d.cache === false ? 1 : (d.cache?.max ?? 10_000),
  };
}
