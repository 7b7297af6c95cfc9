/**
 * @module replication/store/memory-store: `GatewayStore` over an in-process `MemoryBackend`. Always available. Used when
 * `redis` is off, and in tests where several replicas share one backend.
 */
import { EventEmitter } from 'node:events';
import { StoreUnavailableError } from '../../errors.js';
import { checkRegister, checkVerdict } from './check-args.js';
import { MemoryBackend } from './memory-backend.js';
import type { GatewayStore, Register, RegisterKind, SharedState, StoreEvent, StoreEvents, Verdict } from './types.js';

export interface MemoryStoreOptions {
  /** The shared state; several stores over one backend see each other. Default: a new backend of its own. */
  readonly backend?: MemoryBackend;
  /**
   * The `from` of the register events this store publishes. Default: the register's `by`. (A verdict event's
   * `from` is always the verdict's `replicaId`.)
   */
  readonly replicaId?: string;
}

/**
 * A store in this process. Events are delivered asynchronously, once `start()` has subscribed.
 *
 * @example
 * const backend = new MemoryBackend();
 * const a = new MemoryStore({ backend });
 * const b = new MemoryStore({ backend });
 * await b.start();
 * b.on('event', (e) => console.log(e));
 * await a.putVerdict({ backendId: 'api-1', replicaId: 'a', up: false, sinceMs: Date.now() }, 30_000);
 */
export class MemoryStore extends EventEmitter<StoreEvents> implements GatewayStore {
  readonly kind = 'memory' as const;
  /** The backend this store reads and writes (share it to make another store see the same state). */
  readonly backend: MemoryBackend;
  readonly #replicaId: string | undefined;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.backend = options.backend ?? new MemoryBackend();
    this.#replicaId = options.replicaId;
  }

  /** True until `close()`. */
  get available(): boolean {
    return !this.#closed;
  }

  async start(): Promise<void> {
    this.#assertOpen();
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.backend.subscribe((event) => this.#deliver(event));
    this.emit('up');
  }

  async putVerdict(verdict: Verdict, ttlMs: number): Promise<boolean> {
    this.#assertOpen();
    checkVerdict(verdict, ttlMs);
    return this.backend.putVerdict(verdict, ttlMs, verdict.replicaId);
  }

  async putRegister(kind: RegisterKind, register: Register, ttlMs: number): Promise<boolean> {
    this.#assertOpen();
    checkRegister(kind, register, ttlMs);
    return this.backend.putRegister(kind, register, ttlMs, this.#replicaId ?? register.by);
  }

  async read(): Promise<SharedState> {
    this.#assertOpen();
    return this.backend.read();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #deliver(event: StoreEvent): void {
    if (this.#closed) return;
    try {
      this.emit('event', event);
    } catch (err) {
      // A throwing listener must not stop delivery to the other stores on this backend.
      if (this.listenerCount('error') > 0) this.emit('error', err instanceof Error ? err : new Error(String(err)));
      else queueMicrotask(() => { throw err; });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreUnavailableError('memory store is closed');
  }
}
