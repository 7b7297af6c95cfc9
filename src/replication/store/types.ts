/**
 * @module replication/store/types: what gateway replicas share, and the one interface both stores (memory and Redis)
 * implement. Nothing here knows about upstreams or HTTP: facts are ids, booleans and opaque JSON strings.
 *
 * Two shapes of shared fact:
 * - a **verdict**: one replica's health verdict on one backend. Each replica writes only its own; it is
 *   re-written (refreshed) periodically and expires when its replica stops refreshing it.
 * - a **register**: a last-writer-wins value per id (admin state of a backend, a backend added or removed at
 *   runtime). Order is `(atMs, by)`: a write older than what is stored is ignored, so replicas re-seeding a
 *   store that lost its data (a Redis restart without persistence) cannot roll a newer fact back.
 */
import type { EventEmitter } from 'node:events';
import type { Closeable } from '../../types.js';

/** One replica's health verdict on one backend. */
export interface Verdict {
  readonly backendId: string;
  readonly replicaId: string;
  readonly up: boolean;
  /** When this replica's verdict last changed (epoch ms); refreshes keep it. */
  readonly sinceMs: number;
}

/** The registers the gateway keeps. */
export type RegisterKind = 'admin' | 'backend';

/** A last-writer-wins value. */
export interface Register {
  readonly id: string;
  /** Opaque to the store (JSON written by the replication layer). */
  readonly value: string;
  /** Write time (epoch ms) and writer: the order between writes. */
  readonly atMs: number;
  readonly by: string;
}

/** Everything fresh in the store at one moment. Expired entries are never returned. */
export interface SharedState {
  readonly verdicts: readonly Verdict[];
  readonly admin: readonly Register[];
  readonly backend: readonly Register[];
}

/**
 * A change published to every replica. Replicas ignore their own (`from`) and never republish what they
 * learn: a message only says "this changed", and the receiver applies the fact carried in it.
 */
export type StoreEvent =
  | { readonly type: 'verdict'; readonly from: string; readonly verdict: Verdict }
  | { readonly type: 'register'; readonly from: string; readonly kind: RegisterKind; readonly register: Register };

export interface StoreEvents {
  /** A shared change made by some replica (including this one; filter on `from`). */
  event: [event: StoreEvent];
  /** The store became reachable (first connect, or after an outage: time to resynchronise). */
  up: [];
  /** The store became unreachable. Emitted once per outage. */
  down: [err: Error];
  /** A background failure nobody awaits (a refresh that failed while up, say). */
  error: [err: Error];
}

export interface GatewayStore extends Closeable, EventEmitter<StoreEvents> {
  /** `memory` or `redis`, for status output. */
  readonly kind: 'memory' | 'redis';
  /** Whether the store is reachable now. The memory store always is. */
  readonly available: boolean;
  /**
   * Writes `verdict` as its replica's, living `ttlMs`. Publishes a `verdict` event only when it differs from
   * what was stored for that replica and backend (`up` or `sinceMs`), or nothing was. Resolves true when it
   * published. Rejects when the store is unreachable.
   */
  putVerdict(verdict: Verdict, ttlMs: number): Promise<boolean>;
  /**
   * Writes `register` unless what is stored under its id is newer (`atMs`, then `by`); lives `ttlMs` from now.
   * Publishes a `register` event when applied. Resolves true when applied.
   */
  putRegister(kind: RegisterKind, register: Register, ttlMs: number): Promise<boolean>;
  /** Everything fresh, in one round trip where the store allows. Expired entries are pruned or skipped. */
  read(): Promise<SharedState>;
  /** Subscribes to events; resolves once subscribed (events before that are covered by the next `read`). */
  start(): Promise<void>;
}
