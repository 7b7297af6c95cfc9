/**
 * @module redis/redis-client: builds ioredis connections from `RedisConfig` (URL, Sentinel or Cluster) with
 * the gateway's failure policy: fail fast while disconnected, reconnect forever with capped backoff.
 */
import type { ConnectionOptions } from 'node:tls';
import { createRequire } from 'node:module';
import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

type IoRedis = typeof import('ioredis');
let loaded: IoRedis | undefined;
/**
 * ioredis, loaded on first use: a gateway without `redis` never pays its ~20 MB of RSS (the benchmarks count the
 * gateway's memory). It is a CommonJS package, so a synchronous require keeps every factory here synchronous.
 */
function ioredis(): IoRedis {
  loaded ??= createRequire(import.meta.url)('ioredis') as IoRedis;
  return loaded;
}
import type { RedisConfig } from '../config/types.js';

/** A command connection: one server (direct or found through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** Extra TLS options (a private CA, a client certificate) used whenever TLS is on. Default none. */
  readonly tls?: ConnectionOptions;
  /** Longest wait between two reconnect attempts (ms). Default 2000. */
  readonly maxReconnectDelayMs?: number;
}

/** The parts of `RedisConfig` a connection needs (the coordinator builds one from a bare URL). */
export type RedisConnectionConfig = Pick<
  RedisConfig,
  'url' | 'sentinels' | 'name' | 'cluster' | 'username' | 'password' | 'tls' | 'connectTimeoutMs'
>;

/** Backoff before reconnect attempt `attempt` (1-based): 50 ms doubling, capped, plus up to 10% jitter. */
export function reconnectDelayMs(attempt: number, capMs = 2000): number {
  const base = Math.min(capMs, 50 * 2 ** Math.min(attempt - 1, 16));
  return Math.round(base + Math.random() * base * 0.1);
}

/** Longest wait between two reconnect attempts for Sentinel and Cluster (ms): a new master is found this fast. */
const FAILOVER_RECONNECT_CAP_MS = 500;

/**
 * Builds the command connection for `config`, not yet connected (`lazyConnect`): call `connect()`.
 * Commands sent while it is not ready reject at once (`enableOfflineQueue: false`); a command in flight when
 * the link drops survives one reconnect attempt, then rejects; every command times out after
 * `connectTimeoutMs`.
 *
 * Failover is detected everywhere a new master can be found:
 * - a socket with replies pending and silent for `connectTimeoutMs` is dropped (`socketTimeout`), so a paused
 *   (SIGSTOP) master is treated like a dead one once that deadline passes, and the client asks again where the
 *   master is; closing it takes at most 100 ms (`disconnectTimeout`; a paused peer never answers the FIN);
 * - Sentinel: `failoverDetector` subscribes to the sentinels' `+switch-master` and leaves the old master at once;
 *   reconnects are capped at 500 ms;
 * - Cluster: the slot map is re-read every second (`slotsRefreshInterval`) and after a command timeout
 *   (`refreshSlotsOnTimeout`), so a promoted replica is found within about a second.
 *
 * @example
 * const client = createRedisClient(config.redis);
 * await client.connect();
 */
export function createRedisClient(config: RedisConnectionConfig, options: RedisClientOptions = {}): RedisClient {
  const failover = config.cluster !== undefined || config.sentinels !== undefined;
  const capMs = options.maxReconnectDelayMs ?? (failover ? FAILOVER_RECONNECT_CAP_MS : 2000);
  const common = {
    username: config.username,
    password: config.password,
    connectTimeout: config.connectTimeoutMs,
    commandTimeout: config.connectTimeoutMs,
    socketTimeout: config.connectTimeoutMs,
    disconnectTimeout: 100,
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    connectionName: 'keyway',
  } satisfies RedisOptions;
  const retryStrategy = (attempt: number): number => reconnectDelayMs(attempt, capMs);
  const tls = config.tls ? { ...options.tls } : undefined;

  if (config.cluster) {
    const clusterOptions: ClusterOptions = {
      redisOptions: { ...common, tls },
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: retryStrategy,
      // Off by default in ioredis 6 (whatever its typings say): without it a promoted replica is found only
      // when a connection closes, and a paused master closes none.
      slotsRefreshInterval: 1000,
      slotsRefreshTimeout: Math.min(config.connectTimeoutMs, 500),
    };
    const cluster = new (ioredis().Cluster)(config.cluster.map((n) => ({ host: n.host, port: n.port })), clusterOptions);
    refreshSlotsOnTimeout(cluster);
    return cluster;
  }
  const base: RedisOptions = { ...common, enableOfflineQueue: false, retryStrategy };
  if (config.sentinels) {
    // Sentinels are reached without the data nodes' credentials: a sentinel without `requirepass` refuses AUTH.
    return new (ioredis().Redis)({
      ...base,
      sentinels: config.sentinels.map((n) => ({ host: n.host, port: n.port })),
      name: config.name,
      tls,
      enableTLSForSentinelMode: config.tls,
      sentinelTLS: tls,
      sentinelRetryStrategy: retryStrategy,
      failoverDetector: true,
      // The detector's own links to the sentinels: back within 5 s, not ioredis' default minute. ioredis gives
      // them no error listener, so each failed attempt on a sentinel that is down prints one stderr line.
      sentinelReconnectStrategy: () => 5000,
    });
  }
  if (config.url) return new (ioredis().Redis)({ ...base, ...urlOptions(config.url, config, options.tls) });
  throw new TypeError('redis config needs one of url, sentinels or cluster');
}

/**
 * A second connection to the same place, for SUBSCRIBE (a subscribed connection runs no other command). It
 * does not resubscribe by itself: its owner subscribes on every `ready`, so it knows when events flow again.
 */
export function createSubscriber(client: RedisClient, sharded = false): RedisClient {
  if (isCluster(client)) return client.duplicate(undefined, { lazyConnect: true, shardedSubscribers: sharded });
  return client.duplicate({ lazyConnect: true, autoResubscribe: false, enableOfflineQueue: true });
}

/** Where `config` points, for logs: hosts and ports only, never credentials. */
export function describeRedis(config: RedisConfig): string {
  const nodes = (list: readonly { host: string; port: number }[]): string =>
    list.map((n) => `${n.host}:${n.port}`).join(',');
  if (config.cluster) return `cluster ${nodes(config.cluster)}`;
  if (config.sentinels) return `sentinel ${config.name ?? '?'} via ${nodes(config.sentinels)}`;
  if (!config.url) return 'redis (no address)';
  try {
    const url = new URL(config.url);
    return `${url.protocol}//${url.host}${url.pathname.length > 1 ? url.pathname : ''}`;
  } catch {
    return 'redis (unparsable url)';
  }
}

/**
 * `redis://[user[:password]@]host[:port][/db]`, `rediss://` for TLS. Credentials in the config win over those
 * in the URL. Parsed here rather than by ioredis so that explicit options are never overridden by the URL.
 */
function urlOptions(raw: string, config: RedisConnectionConfig, extraTls: ConnectionOptions | undefined): RedisOptions {
  const url = new URL(raw);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new TypeError(`redis url must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new TypeError('redis url path must be a database number');
  const useTls = url.protocol === 'rediss:' || config.tls;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 6379 : Number(url.port),
    db,
    username: config.username ?? (url.username === '' ? undefined : decodeURIComponent(url.username)),
    password: config.password ?? (url.password === '' ? undefined : decodeURIComponent(url.password)),
    tls: useTls ? { ...extraTls } : undefined,
  };
}

/**
 * A command timeout on a Cluster means the slot's master may be paused or gone: the slot map is re-read at once
 * (one refresh at a time) instead of at the next tick, so the next command goes to a promoted replica.
 */
function refreshSlotsOnTimeout(cluster: Cluster): void {
  let refreshing = false;
  const original = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = (command, stream, node) => {
    const result = original(command, stream, node);
    command.promise.catch((err: Error) => {
      if (refreshing || !/timed out|timeout/i.test(err.message)) return;
      refreshing = true;
      cluster.refreshSlotsCache(() => {
        refreshing = false;
      });
    });
    return result;
  };
}

/** Whether `client` is a Cluster connection (without loading ioredis for a question about one of its objects). */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/**
 * Whether `client` is found through Sentinel, whose master always has a replica to fail over to. A Cluster may run
 * without replicas (each WAIT would then cost its whole timeout), so callers wait for replicas there only when told.
 */
export function usesSentinel(client: RedisClient): boolean {
  if (isCluster(client)) return false;
  const sentinels = (client as { options?: { sentinels?: unknown } }).options?.sentinels;
  return Array.isArray(sentinels) && sentinels.length > 0;
}
