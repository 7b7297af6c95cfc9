/**
 * @module cluster: an unchanged Node app on every core. The primary owns the port and hands each connection to the
 * least busy ready worker (figures over IPC); workers are respawned with backoff and a crash-loop breaker, taken
 * out of rotation when their figures stop, reloaded one at a time without dropping a connection, and drained on
 * shutdown.
 */
import { ClusterPrimary } from './cluster-primary.js';
import type { ClusterOptions } from './cluster-options.js';

export { ClusterPrimary, type ClusterEventMap } from './cluster-primary.js';
export type { ClusterStatus, WorkerStatus } from './cluster-status.js';
export { CLUSTER_DEFAULTS, type ClusterOptions } from './cluster-options.js';
export type { WorkerStats } from './messages.js';
export { signalReady, isClusterWorker } from './worker/bootstrap.js';
export { pickWorker, busyness, type Candidate } from './pick-worker.js';
export { RespawnPolicy, type RespawnOptions, type RespawnDecision } from './respawn-policy.js';

/** Starts a cluster and resolves once it listens (the first worker is ready). */
export async function startCluster(options: ClusterOptions): Promise<ClusterPrimary> {
  const primary = new ClusterPrimary(options);
  await primary.start();
  return primary;
}
