/** @module cluster/cluster-status: what `ClusterPrimary.status` (and the status endpoint) says. Types only. */
import type { WorkerStats } from './messages.js';
import type { WorkerState } from './worker-slot.js';

export interface WorkerStatus {
  readonly slot: number;
  readonly pid: number | undefined;
  readonly state: WorkerState;
  readonly restarts: number;
  readonly stats: WorkerStats | null;
}

export interface ClusterStatus {
  readonly port: number | undefined;
  readonly workers: readonly WorkerStatus[];
  /** Connections handed to workers since the start. */
  readonly dispatched: number;
  /** Connections closed because no worker was ready within the hold time (or too many waited). */
  readonly dropped: number;
}

