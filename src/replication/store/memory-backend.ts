/**
 * @module replication/store/memory-backend: the in-process stand-in for a Redis server. Several `MemoryStore`s over one
 * `MemoryBackend` share its state and its events, as several gateway replicas share one Redis.
 */
import { verdictField } from './keys.js';
import { isNewerStamp } from './write-stamp.js';
import type { Register, RegisterKind, SharedState, StoreEvent, Verdict } from './types.js';

interface Expiring<T> {
  readonly fact: T;
  readonly expiresAtMs: number;
}

/** A subscriber: called once per published event, asynchronously (like pub/sub). */
export type MemoryListener = (event: StoreEvent) => void;

export interface MemoryBackendOptions {
  /** Clock for expiry (epoch ms). Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * State and pub/sub shared by `MemoryStore`s. Writes apply synchronously; events are delivered on a later
 * event-loop turn (`setImmediate`), in publish order, to every subscriber (including the writer's own store).
 */
export class MemoryBackend {
  readonly #now: () => number;
  readonly #verdicts = new Map<string, Expiring<Verdict>>();
  readonly #registers: Record<RegisterKind, Map<string, Expiring<Register>>> = {
    admin: new Map(),
    backend: new Map(),
  };
  readonly #listeners = new Set<MemoryListener>();

  constructor(options: MemoryBackendOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Stores `verdict` for `ttlMs`; publishes and returns true when `up` or `sinceMs` changed or none was fresh. */
  putVerdict(verdict: Verdict, ttlMs: number, from: string): boolean {
    const now = this.#now();
    const key = verdictField(verdict.backendId, verdict.replicaId);
    const old = this.#fresh(this.#verdicts.get(key), now);
    this.#verdicts.set(key, { fact: { ...verdict }, expiresAtMs: now + ttlMs });
    this.#prune(this.#verdicts, now);
    if (old && old.up === verdict.up && old.sinceMs === verdict.sinceMs) return false;
    this.#publish({ type: 'verdict', from, verdict: { ...verdict } });
    return true;
  }

  /** Stores `register` for `ttlMs` unless a fresh, newer-or-equal write is stored; publishes when applied. */
  putRegister(kind: RegisterKind, register: Register, ttlMs: number, from: string): boolean {
    const now = this.#now();
    const map = this.#registers[kind];
    const old = this.#fresh(map.get(register.id), now);
    if (old && !isNewerStamp(register, old)) return false;
    map.set(register.id, { fact: { ...register }, expiresAtMs: now + ttlMs });
    this.#prune(map, now);
    this.#publish({ type: 'register', from, kind, register: { ...register } });
    return true;
  }

  /** Every fresh fact, as copies. */
  read(): SharedState {
    const now = this.#now();
    return {
      verdicts: this.#freshFacts(this.#verdicts, now),
      admin: this.#freshFacts(this.#registers.admin, now),
      backend: this.#freshFacts(this.#registers.backend, now),
    };
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(listener: MemoryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #publish(event: StoreEvent): void {
    // Snapshot now: a store that subscribes after the write must not see it (as with Redis pub/sub).
    const listeners = [...this.#listeners];
    // A later turn of the event loop, as a message over a socket: a writer's `await put*()` resumes first.
    setImmediate(() => {
      for (const listener of listeners) listener(event);
    });
  }

  #fresh<T>(entry: Expiring<T> | undefined, now: number): T | undefined {
    return entry && entry.expiresAtMs > now ? entry.fact : undefined;
  }

  #freshFacts<T extends object>(map: Map<string, Expiring<T>>, now: number): T[] {
    const out: T[] = [];
    for (const entry of map.values()) if (entry.expiresAtMs > now) out.push({ ...entry.fact });
    return out;
  }

  #prune<T>(map: Map<string, Expiring<T>>, now: number): void {
    for (const [key, entry] of map) if (entry.expiresAtMs <= now) map.delete(key);
  }
}
