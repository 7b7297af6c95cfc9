/**
 * @module cluster/messages: what the primary and its workers say over IPC. Pure. Every message carries `kw` (its
 * kind); anything else on the channel (the app's own `process.send`) is not ours and is left alone.
 */

/** A worker's figures, sent every `statsIntervalMs`. */
export interface WorkerStats {
  readonly pid: number;
  /** CPU used since the previous sample, % of one core. */
  readonly cpuPercent: number;
  /** Event-loop utilisation since the previous sample, 0..1. */
  readonly elu: number;
  /** Event-loop delay p99 over the last interval (ms). */
  readonly delayP99Ms: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  /** Open client connections. */
  readonly connections: number;
  /** Requests being answered. */
  readonly inflight: number;
  readonly uptimeMs: number;
}

export type FromWorker =
  /** `bound`: per-request mode, the loopback port the worker's server really listens on. */
  | { readonly kw: 'listen'; readonly port: number; readonly bound?: number }
  | { readonly kw: 'ready' }
  | { readonly kw: 'stats'; readonly stats: WorkerStats }
  | { readonly kw: 'draining' }
  /** The connection `id` is this worker's now (the primary closes its descriptor). */
  | { readonly kw: 'took'; readonly id: number }
  /** Draining: the connection `id` was not read (the primary gives it to another worker). */
  | { readonly kw: 'refused'; readonly id: number };

export type ToWorker =
  /** The primary listens on `port`: the worker's server may say it is listening. */
  | { readonly kw: 'listening'; readonly port: number }
  /** A client connection, as the handle sent with it. */
  | { readonly kw: 'conn'; readonly id: number }
  /** Stop accepting, finish what is in flight within `graceMs`, then exit 0. */
  | { readonly kw: 'drain'; readonly graceMs: number };

/** `m` as one of the worker's messages, or null when it is not ours. */
export function fromWorker(m: unknown): FromWorker | null {
  if (m === null || typeof m !== 'object') return null;
  const kw = (m as { kw?: unknown }).kw;
  switch (kw) {
    case 'listen':
      return Number.isInteger((m as { port?: unknown }).port) ? (m as FromWorker) : null;
    case 'took':
    case 'refused':
      return Number.isInteger((m as { id?: unknown }).id) ? (m as FromWorker) : null;
    case 'ready':
    case 'draining':
      return m as FromWorker;
    case 'stats': {
      const s = (m as { stats?: unknown }).stats;
      return s !== null && typeof s === 'object' ? (m as FromWorker) : null;
    }
    default:
      return null;
  }
}

/** Environment variables a worker is started with. */
export const WORKER_ENV = {
  /** The worker's slot (0-based); set in every worker. */
  slot: 'KEYWAY_CLUSTER_SLOT',
  /** `explicit`: the app calls `clusterWorker.ready()` itself; else a worker is ready once it listens. */
  readiness: 'KEYWAY_CLUSTER_READY',
  /** How often the worker sends its stats (ms). */
  statsMs: 'KEYWAY_CLUSTER_STATS_MS',
  /** `request`: per-request mode (the worker binds a loopback port; the primary forwards each request). */
  balance: 'KEYWAY_CLUSTER_BALANCE',
} as const;
