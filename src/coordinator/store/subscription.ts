/**
 * @module coordinator/store/subscription: the coordinator channel, on the one subscribe-with-retry of `redis/`
 * (its own connection, subscribed again after every reconnect or failover), fanned out to the store's listeners.
 */
import { ChannelSubscription, type RedisClient } from '../../redis/index.js';
import { StoreUnavailableError } from '../../errors.js';
import type { Logger } from '../../types.js';
import { parseCoordinatorEvent } from './codec.js';
import type { CoordinatorEvent } from './types.js';

export type CoordinatorListener = (event: CoordinatorEvent) => void;

export class CoordinatorSubscription {
  readonly #log: Logger | undefined;
  readonly #listeners = new Set<CoordinatorListener>();
  readonly #channel: ChannelSubscription<CoordinatorEvent>;
  #closed = false;
  #warnedMalformed = false;

  constructor(client: RedisClient, channel: string, log: Logger | undefined) {
    this.#log = log;
    this.#channel = new ChannelSubscription(client, {
      channel,
      parse: (message) => parseCoordinatorEvent(message) ?? null,
      onEvent: (event) => this.#dispatch(event),
      onMalformed: () => {
        if (!this.#warnedMalformed) this.#log?.warn({ channel }, 'ignored a malformed coordinator message');
        this.#warnedMalformed = true;
      },
      onError: (err) => this.#log?.debug({ err: err.message }, 'coordinator subscriber error, retrying'),
    });
    this.#channel.start();
  }

  /** Adds `listener`; resolves once the channel is subscribed, or rejects after `timeoutMs` (still retrying). */
  async add(listener: CoordinatorListener, timeoutMs: number): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('coordinator store is closed');
    this.#listeners.add(listener);
    try {
      await this.#channel.whenSubscribed(timeoutMs);
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw new StoreUnavailableError(`coordinator channel not subscribed within ${timeoutMs} ms`);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    await this.#channel.close();
  }

  #dispatch(event: CoordinatorEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#log?.error({ err: (err as Error).message, type: event.type }, 'coordinator listener threw');
      }
    }
  }
}
