/**
 * @module redis/channel-subscription: the one subscribe-with-retry every Redis user builds on. A pub/sub channel on
 * a connection of its own (duplicated from the command connection), subscribed again on every `ready` (after a
 * reconnect or a failover) and retried while the connection stays up; a late answer from an earlier connection is
 * ignored. Messages are parsed by the caller's codec; a malformed one is reported, never delivered.
 */
import { StoreUnavailableError } from '../errors.js';
import { closeClient, watchClient, type ClientWatch } from './connection-watch.js';
import { createSubscriber, type RedisClient } from './redis-client.js';

export interface ChannelSubscriptionOptions<E> {
  /** The first channel; more may be added with `add()` (all share the one connection and the one parser). */
  readonly channel: string;
  /** The message of `channel` as an event, or null when malformed. */
  parse(message: string, channel: string): E | null;
  onEvent(event: E): void;
  /** A message `parse` refused. */
  onMalformed(): void;
  /** Whether the channel is subscribed now; called on every change. */
  onState?(subscribed: boolean): void;
  /** A connection or subscribe error; the subscription goes on retrying by itself. */
  onError?(err: Error): void;
  /**
   * Sharded pub/sub (SSUBSCRIBE, Redis 7): on a Cluster each channel lives on the node of its slot, so channels
   * spread over the shards instead of every node carrying every message. Default false.
   */
  readonly sharded?: boolean;
}

/** How long a failed SUBSCRIBE waits before it is sent again on a connection that stayed up. */
const RETRY_MS = 200;

export class ChannelSubscription<E> {
  /** The subscriber connection (its `status` tells whether it is up). */
  readonly subscriber: RedisClient;
  readonly #o: ChannelSubscriptionOptions<E>;
  #watch: ClientWatch | null = null;
  #subscribed = false;
  #waiting: Promise<void>;
  #markSubscribed: () => void = () => undefined;
  #epoch = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #channels = new Set<string>();
  readonly #sharded: boolean;

  constructor(client: RedisClient, options: ChannelSubscriptionOptions<E>) {
    this.#o = options;
    this.#channels.add(options.channel);
    this.#waiting = this.#pending();
    this.#sharded = options.sharded === true;
    this.subscriber = createSubscriber(client, this.#sharded);
  }

  /** Whether the channel is subscribed on a ready connection. */
  get subscribed(): boolean {
    return this.#subscribed;
  }

  /** Connects (if nobody has) and keeps the channel subscribed until `close()`. Idempotent. */
  start(): void {
    if (this.#watch !== null || this.#closed) return;
    this.subscriber.on(this.#sharded ? 'smessage' : 'message', (channel: string, message: string) => this.#onMessage(channel, message));
    this.#watch = watchClient(this.subscriber, {
      onChange: (ready) => (ready ? this.#subscribe() : this.#lost()),
      onError: (err) => this.#o.onError?.(err),
    });
  }

  /** Resolves once subscribed; rejects with `StoreUnavailableError` after `timeoutMs` (the subscription goes on). */
  async whenSubscribed(timeoutMs: number): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError(`channel ${this.#o.channel} is closed`);
    if (this.#subscribed) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      // Unref'd: a subscription closed while still subscribing must not keep the process alive until it fires.
      timer = setTimeout(() => reject(new StoreUnavailableError(`channel not subscribed within ${timeoutMs} ms`)), timeoutMs).unref();
    });
    try {
      await Promise.race([this.#waiting, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Subscribes one more channel on the same connection (and again after every reconnect). Resolves once it is
   * subscribed, or at once while the connection is down (the next `ready` subscribes it with the rest).
   */
  async add(channel: string): Promise<void> {
    if (this.#channels.has(channel) || this.#closed) return;
    this.#channels.add(channel);
    if (this.#subscribed) await this.#send([channel]);
  }

  /** Stops delivering `channel` and unsubscribes it. */
  async remove(channel: string): Promise<void> {
    if (!this.#channels.delete(channel) || this.#closed) return;
    if (this.subscriber.status !== 'ready') return;
    await (this.#sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel)).catch(() => undefined);
  }

  /** Unsubscribes for good and closes the subscriber connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#watch?.stop();
    this.subscriber.removeAllListeners(this.#sharded ? 'smessage' : 'message');
    await closeClient(this.subscriber);
  }

  #pending(): Promise<void> {
    return new Promise((resolve) => {
      this.#markSubscribed = resolve;
    });
  }

  #subscribe(): void {
    clearTimeout(this.#retry);
    this.#setSubscribed(false);
    if (this.#closed || this.subscriber.status !== 'ready') return;
    const epoch = ++this.#epoch;
    this.#send([...this.#channels]).then(
      () => {
        if (epoch === this.#epoch && !this.#closed) this.#setSubscribed(true);
      },
      (err: Error) => {
        if (epoch !== this.#epoch) return;
        // The connection may stay up, so no `ready` would come to retry: try again shortly.
        this.#o.onError?.(err);
        this.#retry = setTimeout(() => this.#subscribe(), RETRY_MS).unref();
      },
    );
  }

  /** Sharded channels one per command: channels of different slots cannot share one SSUBSCRIBE. */
  async #send(channels: string[]): Promise<void> {
    if (!this.#sharded) {
      await this.subscriber.subscribe(...channels);
      return;
    }
    await Promise.all(channels.map((c) => this.subscriber.ssubscribe(c)));
  }

  #lost(): void {
    this.#epoch++;
    this.#setSubscribed(false);
  }

  #setSubscribed(subscribed: boolean): void {
    if (subscribed === this.#subscribed) return;
    this.#subscribed = subscribed;
    if (subscribed) this.#markSubscribed();
    else this.#waiting = this.#pending();
    this.#o.onState?.(subscribed);
  }

  #onMessage(channel: string, message: string): void {
    if (this.#closed || !this.#channels.has(channel)) return;
    const event = this.#o.parse(message, channel);
    if (event === null) this.#o.onMalformed();
    else this.#o.onEvent(event);
  }
}
