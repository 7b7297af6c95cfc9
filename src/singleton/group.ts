/**
 * @module singleton/group: `SingletonGroup`, one per process that joins: the command connection, one subscriber
 * connection for every channel of every singleton, the server clock, the signer and the counters.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, SingletonError } from '../errors.js';
import {
  ChannelSubscription,
  closeClient,
  createRedisClient,
  usesSentinel,
  type RedisClient,
} from '../redis/index.js';
import type { RedisConnectionConfig } from '../redis/redis-client.js';
import type { Logger } from '../types.js';
import type { StateObject } from './field-state.js';
import type { ChannelListener, GroupCounter, GroupLink } from './group-link.js';
import { MessageSigner } from './messages.js';
import { ServerClock } from './server-clock.js';
import { Singleton } from './singleton.js';
import { resolveDefinition, whole, type Action, type SingletonDefinition, type SingletonGroupOptions } from './singleton-options.js';
import { SingletonStore, checkSingletonName } from './store/index.js';

export interface SingletonGroupStats {
  /** Messages whose signature did not match (only with a `secret`). */
  readonly forged: number;
  /** Messages that could not be parsed. */
  readonly malformed: number;
  /** Requests dropped or refused because their deadline had passed. */
  readonly expired: number;
  /** Commits the script refused because a newer owner holds the lease. */
  readonly fenced: number;
}

/**
 * @example
 * const group = new SingletonGroup({ redis: 'redis://127.0.0.1:6379', keyPrefix: 'app' });
 * const counter = await group.singleton('counter', {
 *   initialState: { count: 0 },
 *   actions: { increment: (s, by: number) => (s.count += by) },
 * });
 * await counter.call('increment', 1); // runs on the owner, wherever it is
 */
export class SingletonGroup implements GroupLink {
  readonly instanceId: string;
  readonly store: SingletonStore;
  readonly clock = new ServerClock();
  readonly signer: MessageSigner;
  readonly log: Logger | undefined;
  /** Namespace of every key and channel. */
  readonly keyPrefix: string;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #subscription: ChannelSubscription<string>;
  readonly #listeners = new Map<string, ChannelListener>();
  readonly #singletons = new Map<string, Singleton>();
  readonly #resubscribed = new Set<() => void>();
  readonly #counts: Record<GroupCounter, number> = { forged: 0, malformed: 0, expired: 0, fenced: 0 };
  #started: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SingletonGroupOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('SingletonGroup options must be an object');
    const keyPrefix = options.keyPrefix ?? 'keyway';
    checkSingletonName(keyPrefix, 'x');
    this.keyPrefix = keyPrefix;
    this.instanceId = options.instanceId ?? `${process.pid}-${randomBytes(6).toString('base64url')}`;
    if (typeof this.instanceId !== 'string' || !/^[\w.:-]{1,128}$/.test(this.instanceId)) {
      throw new TypeError(`SingletonGroup option instanceId must be 1-128 of [A-Za-z0-9_.:-], got ${JSON.stringify(options.instanceId)}`);
    }
    if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret.length < 16)) {
      throw new TypeError('SingletonGroup option secret must be a string of at least 16 characters');
    }
    const connectTimeoutMs = whole('SingletonGroup option connectTimeoutMs', options.connectTimeoutMs ?? 2000, 1);
    this.log = options.logger?.child({ component: 'singleton' });
    this.signer = new MessageSigner(options.secret);
    this.#ownsClient = !isClient(options.redis);
    this.#client = isClient(options.redis) ? options.redis : createRedisClient(connectionConfig(options.redis, connectTimeoutMs));
    if (this.#ownsClient) this.#client.on('error', (err: Error) => this.log?.debug({ err: err.message }, 'singleton redis error'));
    const confirmReplicas = whole(
      'SingletonGroup option confirmReplicas',
      options.confirmReplicas ?? (usesSentinel(this.#client) ? 1 : 0),
      0,
    );
    this.store = new SingletonStore(this.#client, keyPrefix, { waitMs: connectTimeoutMs, confirmReplicas });
    // The first channel is this instance's own; every singleton adds its channels to the same connection.
    this.#subscription = new ChannelSubscription<string>(this.#client, {
      channel: `${keyPrefix}:sg:instance:${this.instanceId}`,
      parse: (message, channel) => {
        this.#listeners.get(channel)?.onMessage(channel, message);
        return null;
      },
      onEvent: () => undefined,
      onMalformed: () => undefined,
      onState: (subscribed) => {
        if (!subscribed) return;
        for (const s of this.#singletons.values()) s.onReconnect();
        for (const f of this.#resubscribed) f();
      },
      onError: (err) => this.log?.debug({ err: err.message }, 'singleton subscriber error'),
    });
  }

  /** The command connection (rooms share it). */
  get client(): RedisClient {
    return this.#client;
  }

  /** Whether the group's subscriber connection is subscribed now. */
  get subscribed(): boolean {
    return this.#subscription.subscribed;
  }

  /** Calls `listener` every time the subscriber connection is subscribed again (after a reconnect). Returns its removal. */
  onResubscribed(listener: () => void): () => void {
    this.#resubscribed.add(listener);
    return () => this.#resubscribed.delete(listener);
  }

  /** Connects and subscribes (once); resolves when the group can be used. */
  async ready(): Promise<void> {
    if (this.#closing) throw new SingletonError(ErrorCodes.SINGLETON_CLOSED, '', 'singleton group is closed');
    await this.#start();
  }

  /** What was dropped or refused since the group started. */
  get stats(): SingletonGroupStats {
    return { ...this.#counts };
  }

  /**
   * Defines singleton `name` on this instance (every instance defines it the same way) and resolves once it follows
   * the committed state (and owns it, when eager and nobody did). The same name twice gives the same object.
   */
  async singleton<S extends StateObject, A extends Record<string, Action<S>>>(
    name: string,
    definition: SingletonDefinition<S, A>,
  ): Promise<Singleton<S>> {
    if (this.#closing) throw new SingletonError(ErrorCodes.SINGLETON_CLOSED, name, 'singleton group is closed');
    const existing = this.#singletons.get(name);
    if (existing !== undefined) return existing as unknown as Singleton<S>;
    const resolved = resolveDefinition(name, definition as unknown as SingletonDefinition<StateObject, Record<string, Action<StateObject>>>);
    const s = new Singleton(name, resolved, this);
    this.#singletons.set(name, s);
    await this.#start();
    await s.start();
    return s as unknown as Singleton<S>;
  }

  /** Closes every singleton (owners release, so others take over at once) and the connections it opened. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#singletons.values()].map((s) => s.close()));
      await this.#subscription.close();
      if (this.#ownsClient) await closeClient(this.#client);
    })();
    return this.#closing;
  }

  // ---- GroupLink ---------------------------------------------------------------------------------------------

  async listen(channel: string, listener: ChannelListener): Promise<void> {
    if (this.#listeners.get(channel) === listener) return;
    this.#listeners.set(channel, listener);
    await this.#subscription.add(channel);
  }

  async unlisten(channel: string): Promise<void> {
    if (!this.#listeners.delete(channel)) return;
    await this.#subscription.remove(channel);
  }

  count(what: GroupCounter): void {
    this.#counts[what]++;
  }

  warn(err: unknown, message: string): void {
    this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, message);
  }

  #start(): Promise<void> {
    // One start for every caller: a second caller must wait for the subscription too, not return before it.
    this.#started ??= this.#connect().catch((err: unknown) => {
      this.#started = undefined;
      throw err;
    });
    return this.#started;
  }

  async #connect(): Promise<void> {
    this.#subscription.start();
    await this.#subscription.whenSubscribed(10_000);
    const wall = Date.now();
    this.clock.sample(await this.store.time(), wall);
  }
}

function isClient(v: unknown): v is RedisClient {
  return typeof v === 'object' && v !== null && typeof (v as { defineCommand?: unknown }).defineCommand === 'function';
}

function connectionConfig(redis: string | Partial<RedisConnectionConfig>, connectTimeoutMs: number): RedisConnectionConfig {
  const none = { url: undefined, sentinels: undefined, name: undefined, cluster: undefined, username: undefined, password: undefined, tls: false };
  if (typeof redis === 'string') return { ...none, url: redis, connectTimeoutMs };
  if (redis === null || typeof redis !== 'object') throw new TypeError('SingletonGroup option redis must be a URL, a connection config or a client');
  return { ...none, ...redis, connectTimeoutMs: redis.connectTimeoutMs ?? connectTimeoutMs };
}
