/**
 * @module coordinator/registry-options: the `Registry` constructor's options (the names @platformatic/coordinator
 * users already pass), their defaults, and their validation, done once before anything is created.
 */
import type { CoordinatorLayout } from './store/index.js';
import type { RedisClient } from '../redis/index.js';
import type { Logger } from '../types.js';
import { createStrategy, type AllocationStrategy, type AllocationStrategyName } from './allocation-strategies.js';

export interface RegistryCacheOptions {
  /** How long a resolution is served from memory (ms). Default 5000. */
  readonly ttl?: number;
  /** Most destinations cached; past it the least recently used is dropped. Default 10000. */
  readonly max?: number;
}

export interface RegistryOptions {
  /** A Redis URL (the registry opens and closes its connections) or a client it uses but never closes. */
  readonly redis: string | RedisClient;
  /** Namespace of every key and of the events channel; registries and members must agree. Default `'coordinator'`. */
  readonly keyPrefix?: string;
  /** Who takes a new or orphaned destination. Default `'round-robin'`. */
  readonly strategy?: AllocationStrategyName | AllocationStrategy;
  /** Local resolution cache, invalidated across registries by Redis pub/sub; `false` to resolve in Redis every time. */
  readonly cache?: RegistryCacheOptions | false;
  /** Upstream request timeout (ms) for the proxy helpers that read `registry.requestTimeout`. Not used here. */
  readonly requestTimeout?: number;
  /** How often the local member list is re-read from Redis, which also notices expired members (ms). Default 1000. */
  readonly memberListRefreshMs?: number;
  /** Redis connect and command timeout (ms) for connections the registry opens. Default: the store's. */
  readonly connectTimeoutMs?: number;
  /**
   * How long one call may wait in all through a reconnect or a failover before it rejects (ms), each caller on its
   * own clock. Default 10000 (`DEFAULT_CALL_TIMEOUT_MS`).
   */
  readonly callTimeoutMs?: number;
  /**
   * Replicas that must hold a new fencing epoch before a claim or reassignment is reported confirmed (`WAIT` in the
   * same round trip; `confirmed: false` otherwise). Default 1 on a Sentinel connection, else 0.
   */
  readonly confirmReplicas?: number;
  /**
   * The key layout: `keyway` (default; `{prefix}:co:...`, Redis Cluster-safe) or `platformatic`
   * (@platformatic/coordinator's own keys, so pods and coordinators of both packages share one Redis or Valkey).
   */
  readonly layout?: CoordinatorLayout;
  /** pino-compatible logger; narrowed with `child({ component: 'registry' })`. Default: silent. */
  readonly logger?: Logger;
}

/** Options after defaults and validation. */
export interface ResolvedRegistryOptions {
  readonly redis: string | RedisClient;
  readonly keyPrefix: string;
  readonly strategy: AllocationStrategy;
  readonly cache: { readonly ttlMs: number; readonly max: number } | false;
  readonly requestTimeout: number | undefined;
  readonly memberListRefreshMs: number;
  readonly connectTimeoutMs: number | undefined;
  readonly callTimeoutMs: number | undefined;
  readonly confirmReplicas: number | undefined;
  readonly layout: CoordinatorLayout | undefined;
  readonly logger: Logger | undefined;
}

export const REGISTRY_DEFAULTS = {
  keyPrefix: 'coordinator',
  strategy: 'round-robin',
  cacheTtlMs: 5000,
  cacheMax: 10_000,
  memberListRefreshMs: 1000,
} as const;

/** Applies defaults and throws a TypeError or RangeError naming the option path on a bad value. */
export function resolveRegistryOptions(options: RegistryOptions): ResolvedRegistryOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('Registry options must be an object');
  const { redis } = options;
  if (!(typeof redis === 'string' ? redis.length > 0 : typeof redis === 'object' && redis !== null)) {
    throw new TypeError('Registry option redis must be a Redis URL or a Redis client');
  }
  const keyPrefix = options.keyPrefix ?? REGISTRY_DEFAULTS.keyPrefix;
  if (typeof keyPrefix !== 'string' || keyPrefix === '') {
    throw new TypeError('Registry option keyPrefix must be a non-empty string');
  }
  return Object.freeze({
    redis,
    keyPrefix,
    strategy: createStrategy(options.strategy ?? REGISTRY_DEFAULTS.strategy),
    cache: resolveCache(options.cache),
    requestTimeout: optionalMs('requestTimeout', options.requestTimeout),
    memberListRefreshMs: timerMs('memberListRefreshMs', options.memberListRefreshMs ?? REGISTRY_DEFAULTS.memberListRefreshMs),
    connectTimeoutMs: optionalMs('connectTimeoutMs', options.connectTimeoutMs),
    callTimeoutMs: optionalMs('callTimeoutMs', options.callTimeoutMs),
    confirmReplicas: wholeNumber('confirmReplicas', options.confirmReplicas),
    layout: options.layout,
    logger: options.logger,
  });
}

function resolveCache(cache: RegistryCacheOptions | false | undefined): ResolvedRegistryOptions['cache'] {
  if (cache === false) return false;
  if (cache !== undefined && (cache === null || typeof cache !== 'object')) {
    throw new TypeError('Registry option cache must be an object ({ ttl?, max? }) or false');
  }
  const ttlMs = positiveMs('cache.ttl', cache?.ttl ?? REGISTRY_DEFAULTS.cacheTtlMs);
  const max = cache?.max ?? REGISTRY_DEFAULTS.cacheMax;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`Registry option cache.max must be an integer >= 1 (got ${String(max)})`);
  return { ttlMs, max };
}

function positiveMs(path: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Registry option ${path} must be a finite number of ms > 0 (got ${String(value)})`);
  }
  return value;
}

/** A timer period: Node clamps anything past 2^31 - 1 ms to 1 ms, so refuse it. */
function timerMs(path: string, value: unknown): number {
  const ms = positiveMs(path, value);
  if (ms > 2_147_483_647) throw new RangeError(`Registry option ${path} must be at most 2147483647 ms (got ${ms})`);
  return ms;
}

function optionalMs(path: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveMs(path, value);
}

function wholeNumber(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`Registry option ${path} must be a whole number >= 0, got ${String(value)}`);
  }
  return value;
}
