/**
 * @module store/coordinator-subscription: the coordinator channel on a connection of its own. The subscriber is
 * duplicated from the command connection on first use and subscribes again on every `ready` (after a reconnect
 * or a failover), so events flow for as long as the store is open.
 */
import type { CoordinatorEvent } from './coordinator-types.js';
import { parseCoordinatorEvent } from './coordinator-codec.js';
import { closeClient, watchClient, type ClientWatch } from './redis-watch.js';
import { createSubscriber, type RedisClient } from './redis-client.js';
import { StoreUnavailableError } from '../errors.js';
import type { Logger } from '../types.js';

export type CoordinatorListener = (event: CoordinatorEvent) => void;

export class CoordinatorSubscription {
  readonly #channel: string;
  readonly #log: Logger | undefined;
  readonly #subscriber: RedisClient;
  readonly #listeners = new Set<CoordinatorListener>();
  readonly #watch: ClientWatch;
  #subscribed: Promise<void>;
  #markSubscribed: () => void = () => undefined;
  #isSubscribed = false;
  #epoch = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #warnedMalformed = false;

  constructor(client: RedisClient, channel: string, log: Logger | undefined) {
    this.#channel = channel;
    this.#log = log;
    this.#subscribed = this.#pending();
    this.#subscriber = createSubscriber(client);
    this.#subscriber.on('message', (ch: string, message: string) => this.#onMessage(ch, message));
    this.#watch = watchClient(this.#subscriber, {
      onChange: (ready) => (ready ? this.#subscribe() : this.#lost()),
      onError: (err) => this.#log?.debug({ err: err.message }, 'coordinator subscriber connection error'),
    });
  }

  /** Adds `listener`; resolves once the channel is subscribed, or rejects after `timeoutMs` (still retrying). */
  async add(listener: CoordinatorListener, timeoutMs: number): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('coordinator store is closed');
    this.#listeners.add(listener);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      // Unref'd: a store closed while still subscribing must not keep the process alive until it fires.
      timer = setTimeout(() => reject(new StoreUnavailableError(`coordinator channel not subscribed within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    try {
      await Promise.race([this.#subscribed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#watch.stop();
    this.#listeners.clear();
    this.#subscriber.removeAllListeners('message');
    await closeClient(this.#subscriber);
  }

  #pending(): Promise<void> {
    return new Promise((resolve) => {
      this.#markSubscribed = resolve;
    });
  }

  #subscribe(): void {
    clearTimeout(this.#retry);
    if (this.#closed || this.#subscriber.status !== 'ready') return;
    const epoch = ++this.#epoch;
    this.#subscriber.subscribe(this.#channel).then(
      () => {
        if (epoch !== this.#epoch) return;
        this.#isSubscribed = true;
        this.#markSubscribed();
      },
      (err: Error) => {
        if (epoch !== this.#epoch) return;
        // The connection may stay up, so no `ready` would come to retry: try again shortly.
        this.#log?.debug({ err: err.message }, 'coordinator subscribe failed, retrying');
        this.#retry = setTimeout(() => this.#subscribe(), 200).unref();
      },
    );
  }

  #lost(): void {
    // A late answer from the lost connection is ignored; callers of add() wait for the next subscription.
    this.#epoch++;
    if (!this.#isSubscribed) return;
    this.#isSubscribed = false;
    this.#subscribed = this.#pending();
  }

  #onMessage(channel: string, message: string): void {
    if (channel !== this.#channel || this.#closed) return;
    const event = parseCoordinatorEvent(message);
    if (!event) {
      if (!this.#warnedMalformed) this.#log?.warn({ channel }, 'ignored a malformed coordinator message');
      this.#warnedMalformed = true;
      return;
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#log?.error({ err: (err as Error).message, type: event.type }, 'coordinator listener threw');
      }
    }
  }
}
