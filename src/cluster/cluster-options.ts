/**
 * @module cluster/cluster-options: the options of a cluster, their defaults and their validation, done once before
 * anything starts (a bad value throws naming the option and the reason).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Logger } from '../types.js';
import type { RespawnOptions } from './respawn-policy.js';

export interface ClusterOptions {
  /** The app's entry file, run unchanged in every worker. */
  readonly script: string;
  readonly args?: readonly string[];
  /** A number, or `auto` (one per core). Default `auto`. */
  readonly workers?: number | 'auto';
  /** The port the primary listens on. Default: the one the app asks for in `listen()`. */
  readonly port?: number;
  /** Default `0.0.0.0`... as the app's `listen()` would: all interfaces. */
  readonly host?: string;
  /**
   * `connection` (default): each client connection is handed to a worker, which sees the client's address; a
   * keep-alive client stays on one worker. `request`: the primary forwards each request (the keyway gateway), so
   * one keep-alive client is spread over every worker; `X-Forwarded-For` carries the client's address, idempotent
   * requests a worker refused or reset are retried on another, and a sticky cookie keeps socket.io on one worker.
   */
  readonly balance?: 'connection' | 'request';
  /** `listen` (default): a worker takes traffic once it listens; `explicit`: once it calls `signalReady()`. */
  readonly readiness?: 'listen' | 'explicit';
  /** The first worker must be ready within this (ms). Default 30000. */
  readonly readyTimeoutMs?: number;
  /** How often workers send their figures (ms). Default 250. */
  readonly statsIntervalMs?: number;
  /** A worker whose figures stop this long leaves rotation (ms). Default 2000. */
  readonly hungAfterMs?: number;
  /** ...and is replaced if it has not come back this long after (ms). Default 10000. */
  readonly replaceHungAfterMs?: number;
  /** How long a draining worker may finish its in-flight work, at reload and at shutdown (ms). Default 10000. */
  readonly graceMs?: number;
  readonly respawn?: Partial<RespawnOptions>;
  /** Added to every worker's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Serve `GET /status` (JSON) and `GET /metrics` (Prometheus) on this port (0: any free one). Default: none. */
  readonly statusPort?: number;
  /** Where the status endpoint listens. Default `127.0.0.1` (loopback only: it has no token). */
  readonly statusHost?: string;
  readonly logger?: Logger;
}

export interface ResolvedClusterOptions {
  readonly script: string;
  readonly args: readonly string[];
  readonly workers: number;
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly balance: 'connection' | 'request';
  readonly readiness: 'listen' | 'explicit';
  readonly readyTimeoutMs: number;
  readonly statsIntervalMs: number;
  readonly hungAfterMs: number;
  readonly replaceHungAfterMs: number;
  readonly graceMs: number;
  readonly respawn: RespawnOptions;
  readonly env: Readonly<Record<string, string>>;
  readonly statusPort: number | undefined;
  readonly statusHost: string;
}

export const CLUSTER_DEFAULTS = {
  readyTimeoutMs: 30_000,
  statsIntervalMs: 250,
  hungAfterMs: 2000,
  replaceHungAfterMs: 10_000,
  graceMs: 10_000,
  respawn: { initialMs: 100, maxMs: 30_000, maxCrashes: 10, windowMs: 60_000, stableMs: 30_000 },
} as const;

function whole(what: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new TypeError(`cluster option ${what} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
  return v;
}

export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  if (o === null || typeof o !== 'object') throw new TypeError('cluster options must be an object');
  if (typeof o.script !== 'string' || o.script === '') throw new TypeError('cluster option script must name the app\'s entry file');
  // Checked here: a missing file would otherwise be a crash loop that takes the breaker a minute to end.
  if (!existsSync(o.script)) throw new TypeError(`cluster option script: no such file ${o.script}`);
  const workers = o.workers === undefined || o.workers === 'auto' ? availableParallelism() : whole('workers', o.workers, 1);
  if (o.readiness !== undefined && o.readiness !== 'listen' && o.readiness !== 'explicit') {
    throw new TypeError(`cluster option readiness must be 'listen' or 'explicit', got ${JSON.stringify(o.readiness)}`);
  }
  if (o.balance !== undefined && o.balance !== 'connection' && o.balance !== 'request') {
    throw new TypeError(`cluster option balance must be 'connection' or 'request', got ${JSON.stringify(o.balance)}`);
  }
  const r = o.respawn ?? {};
  const d = CLUSTER_DEFAULTS.respawn;
  return Object.freeze({
    script: o.script,
    args: [...(o.args ?? [])],
    workers,
    port: o.port === undefined ? undefined : whole('port', o.port, 0),
    host: o.host,
    balance: o.balance ?? 'connection',
    readiness: o.readiness ?? 'listen',
    readyTimeoutMs: whole('readyTimeoutMs', o.readyTimeoutMs ?? CLUSTER_DEFAULTS.readyTimeoutMs, 1),
    statsIntervalMs: whole('statsIntervalMs', o.statsIntervalMs ?? CLUSTER_DEFAULTS.statsIntervalMs, 10),
    hungAfterMs: whole('hungAfterMs', o.hungAfterMs ?? CLUSTER_DEFAULTS.hungAfterMs, 50),
    replaceHungAfterMs: whole('replaceHungAfterMs', o.replaceHungAfterMs ?? CLUSTER_DEFAULTS.replaceHungAfterMs, 0),
    graceMs: whole('graceMs', o.graceMs ?? CLUSTER_DEFAULTS.graceMs, 0),
    respawn: {
      initialMs: whole('respawn.initialMs', r.initialMs ?? d.initialMs, 1),
      maxMs: whole('respawn.maxMs', r.maxMs ?? d.maxMs, 1),
      maxCrashes: whole('respawn.maxCrashes', r.maxCrashes ?? d.maxCrashes, 1),
      windowMs: whole('respawn.windowMs', r.windowMs ?? d.windowMs, 1),
      stableMs: whole('respawn.stableMs', r.stableMs ?? d.stableMs, 1),
    },
    env: { ...(o.env ?? {}) },
    statusPort: o.statusPort === undefined ? undefined : whole('statusPort', o.statusPort, 0),
    statusHost: o.statusHost ?? '127.0.0.1',
  });
}
