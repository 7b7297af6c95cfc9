/** @module replication/types: what a `SharedView` takes (its gateway side and options) and reports. */
import type { Logger } from '../types.js';
import type { AdminFact, BackendFact } from './facts.js';

/** What the gateway exposes to the shared view. Ids it does not know are ignored by the gateway. */
export interface ReplicaTarget {
  /** Apply the merged health verdict of a backend (called synchronously from localVerdict, and on remote changes). */
  applyHealth(backendId: string, up: boolean): void;
  /** Apply an admin fact learned from another replica or a resync. Never called for this replica's own writes. */
  applyAdmin(backendId: string, fact: AdminFact): void;
  /** Apply a backend added/removed by another replica. */
  applyBackend(backendId: string, fact: BackendFact): void;
}

export interface SharedViewOptions {
  /** This replica's id in shared state (writer of its verdicts and registers). */
  readonly replicaId: string;
  /** A verdict counts this long (ms) after it was written or last learned, unless refreshed. */
  readonly verdictTtlMs: number;
  /** Admin and backend registers live this long (ms) after their write. */
  readonly stateTtlMs: number;
  /** Own verdicts are refreshed and the whole store re-read this often (ms). */
  readonly syncIntervalMs: number;
  /** Replicas that must see a backend down; undefined: the latest fresh verdict wins. */
  readonly healthQuorum: number | undefined;
  /** `start()` rejects with `StoreUnavailableError` when the store cannot start. */
  readonly required: boolean;
  /** Narrowed with `child({ component: 'replication' })`. Default: no logging. */
  readonly logger?: Logger | undefined;
}

export interface SharedViewStatus {
  readonly store: 'memory' | 'redis';
  readonly available: boolean;
  readonly replicaId: string;
  /** Other replicas with a fresh verdict, sorted. */
  readonly peers: string[];
  /** ISO time of the last successful full read, null before the first. */
  readonly lastSyncAt: string | null;
}

export interface SharedViewEvents {
  /** After every successful full read (startup, sync tick, resync), once its facts are applied. */
  synced: [];
  /** The store went unreachable (once per outage); the view is served as last known. */
  outage: [err: Error];
  /** A read found facts this replica holds missing or older in the store; they were written again. */
  healed: [count: number];
}
