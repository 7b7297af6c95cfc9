/**
 * @module redis/ready-gate: waiting for a connection to be ready, each caller on its own deadline. A failover
 * takes seconds; a caller that arrives late in it must not be failed by a timer that started with the first one,
 * and thousands of waiting callers must not mean thousands of listeners on the client.
 */
import { StoreUnavailableError } from '../errors.js';
import type { RedisClient } from './redis-client.js';

/** Most callers that may wait at once; past it a caller is refused at once (bounded memory during an outage). */
export const MAX_READY_WAITERS = 10_000;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** One per client: resolves waiters on `ready`, rejects them on `end` or at their own deadline. */
export class ReadyGate {
  readonly #client: RedisClient;
  readonly #waiters = new Set<Waiter>();
  #lastError: Error | undefined;

  constructor(client: RedisClient) {
    this.#client = client;
    client.on('ready', () => this.#settle(null));
    client.on('end', () => this.#settle(new StoreUnavailableError('redis connection closed', this.#lastError)));
    client.on('error', (err: Error) => {
      this.#lastError = err;
    });
  }

  /** True when a command sent now would be written at once. */
  get ready(): boolean {
    return this.#client.status === 'ready';
  }

  /**
   * Resolves once the client is ready (at once when it is), connecting a lazy client first; rejects with
   * `StoreUnavailableError` once `deadline` (epoch ms) has passed or the client has ended for good.
   */
  wait(deadline: number): Promise<void> {
    const client = this.#client;
    if (client.status === 'ready') return Promise.resolve();
    if (client.status === 'end') return Promise.reject(new StoreUnavailableError('redis connection is closed', this.#lastError));
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(this.#timeoutError(0));
    if (this.#waiters.size >= MAX_READY_WAITERS) {
      return Promise.reject(new StoreUnavailableError(`redis not ready, and ${MAX_READY_WAITERS} callers already wait`));
    }
    if (client.status === 'wait') client.connect().catch(() => undefined);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(this.#timeoutError(left));
        }, left),
      };
      this.#waiters.add(waiter);
    });
  }

  #timeoutError(waitedMs: number): StoreUnavailableError {
    const why = this.#lastError?.message ?? 'no answer';
    return new StoreUnavailableError(`redis not ready within ${Math.round(waitedMs)} ms: ${why}`, this.#lastError);
  }

  #settle(err: Error | null): void {
    if (this.#waiters.size === 0) return;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) {
      clearTimeout(w.timer);
      if (err === null) w.resolve();
      else w.reject(err);
    }
  }
}
