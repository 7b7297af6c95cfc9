/**
 * @module replication/store/redis-store: `GatewayStore` over Redis (standalone, Sentinel or Cluster). Writes are Lua
 * scripts; events travel on one pub/sub channel over a second connection. The store is `available` while
 * both connections are ready and the channel is subscribed; it emits `down` once per outage and `up` on every
 * return, and reconnects in the background for as long as it is open.
 */
import { EventEmitter } from 'node:events';
import type { RedisConfig } from '../../config/types.js';
import { StoreScriptError, StoreUnavailableError } from '../../errors.js';
import {
  ChannelSubscription,
  closeClient,
  createRedisClient,
  defineScripts,
  describeRedis,
  runScript,
  scriptStatus,
  toStoreError,
  watchClient,
  type ClientWatch,
  type RedisClient,
  type RedisClientOptions,
  type StoreScript,
} from '../../redis/index.js';
import type { Logger } from '../../types.js';
import { checkRegister, checkVerdict, ttlToMs } from './check-args.js';
import { encodeEvent, parseEvent, parseState } from './codec.js';
import { registerKey, storeKeys, verdictField, type StoreKeys } from './keys.js';
import { SCRIPTS } from './scripts.js';
import type { GatewayStore, Register, RegisterKind, SharedState, StoreEvent, StoreEvents, Verdict } from './types.js';

export interface RedisStoreOptions extends RedisClientOptions {
  /** pino-compatible; narrowed with `child({ component: 'store' })`. Default: silent. */
  readonly logger?: Logger;
  /**
   * Use this command connection instead of building one from `config` (without ioredis' own `keyPrefix`: the
   * store builds its keys). It is not closed by `close()`; its subscriber duplicate is.
   */
  readonly client?: RedisClient;
}

/**
 * @example
 * const store = new RedisStore(config.redis, { logger });
 * store.on('event', (e) => { if (e.from !== config.redis.replicaId) apply(e); });
 * store.on('up', resync);
 * await store.start().catch((err) => logger.warn({ err }, 'redis unreachable, serving locally'));
 */
export class RedisStore extends EventEmitter<StoreEvents> implements GatewayStore {
  readonly kind = 'redis' as const;
  readonly keys: StoreKeys;
  readonly #config: RedisConfig;
  readonly #log: Logger | undefined;
  readonly #client: RedisClient;
  readonly #events: ChannelSubscription<StoreEvent>;
  readonly #ownsClient: boolean;
  #watch: ClientWatch | null = null;
  #up = false;
  #started = false;
  #closing: Promise<void> | undefined;
  #lastError: Error | undefined;
  readonly #lifetime = new AbortController();

  constructor(config: RedisConfig, options: RedisStoreOptions = {}) {
    super();
    this.#config = config;
    this.keys = storeKeys(config.keyPrefix);
    this.#log = options.logger?.child({ component: 'store' });
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? createRedisClient(config, options);
    this.#events = new ChannelSubscription(this.#client, {
      channel: this.keys.events,
      parse: (message) => parseEvent(message) ?? null,
      onEvent: (event) => this.emit('event', event),
      onMalformed: () => this.#malformed(),
      onState: () => this.#update(),
      onError: (err) => this.#connectionError(err),
    });
    defineScripts(this.#client, SCRIPTS);
  }

  /** True while commands can run and events flow. */
  get available(): boolean {
    return this.#up;
  }

  /**
   * Connects and subscribes. Rejects with `StoreUnavailableError` when that takes longer than
   * `connectTimeoutMs`, but keeps trying: `up` is emitted when it succeeds later.
   */
  async start(): Promise<void> {
    if (this.#closing) throw new StoreUnavailableError('redis store is closed');
    if (!this.#started) this.#connect();
    if (this.#up) return;
    await this.#waitUp(this.#config.connectTimeoutMs);
  }

  async putVerdict(verdict: Verdict, ttlMs: number): Promise<boolean> {
    checkVerdict(verdict, ttlMs);
    const { backendId, replicaId, up, sinceMs } = verdict;
    const event = encodeEvent({ type: 'verdict', from: replicaId, verdict });
    const args = [verdictField(backendId, replicaId), backendId, replicaId, up ? '1' : '0', String(sinceMs)];
    args.push(String(ttlToMs(ttlMs)), this.keys.events, event);
    return scriptStatus(SCRIPTS.putVerdict, await this.#run(SCRIPTS.putVerdict, [this.keys.verdicts], args));
  }

  async putRegister(kind: RegisterKind, register: Register, ttlMs: number): Promise<boolean> {
    checkRegister(kind, register, ttlMs);
    const event = encodeEvent({ type: 'register', from: this.#config.replicaId, kind, register });
    const { id, value, atMs, by } = register;
    const args = [id, value, String(atMs), by, String(ttlToMs(ttlMs)), this.keys.events, event];
    return scriptStatus(SCRIPTS.putRegister, await this.#run(SCRIPTS.putRegister, [registerKey(this.keys, kind)], args));
  }

  async read(): Promise<SharedState> {
    const keys = [this.keys.verdicts, this.keys.admin, this.keys.backend];
    const reply = await this.#run(SCRIPTS.readState, keys, []);
    try {
      return parseState(reply);
    } catch (err) {
      throw new StoreScriptError(`script ${SCRIPTS.readState.command} answered an unexpected shape`, err);
    }
  }

  /** Quits both connections (an injected command connection is left open). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#up = false;
    this.#lifetime.abort();
    this.#watch?.stop();
    this.#watch = null;
    await Promise.all([this.#events.close(), this.#ownsClient ? closeClient(this.#client) : undefined]);
  }

  #connect(): void {
    this.#started = true;
    this.#watch = watchClient(this.#client, { onChange: () => this.#update(), onError: (err) => this.#connectionError(err) });
    this.#events.start();
    this.#update();
  }

  #connectionError(err: Error): void {
    this.#lastError = err;
    this.#log?.debug({ err: err.message, redis: describeRedis(this.#config) }, 'redis connection error');
  }

  /** Emits `up`/`down` on each change of "both connections ready and subscribed". */
  #update(): void {
    if (this.#closing) return;
    const up = this.#client.status === 'ready' && this.#events.subscriber.status === 'ready' && this.#events.subscribed;
    if (up === this.#up) return;
    this.#up = up;
    if (up) {
      this.#log?.info({ redis: describeRedis(this.#config) }, 'redis store up');
      this.emit('up');
      return;
    }
    const err = new StoreUnavailableError(`redis unreachable (${describeRedis(this.#config)})`, this.#lastError);
    this.#log?.warn({ err: err.message, cause: this.#lastError?.message }, 'redis store down');
    this.emit('down', err);
  }

  #malformed(): void {
    const err = new StoreScriptError(`ignored a malformed message on ${this.keys.events}`);
    this.#log?.warn({ err: err.message }, 'malformed store event');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #waitUp(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.off('up', onUp);
        this.#lifetime.signal.removeEventListener('abort', onClosed);
        if (err) reject(err);
        else resolve();
      };
      const onUp = (): void => done();
      const onClosed = (): void => done(new StoreUnavailableError('redis store closed while starting'));
      const timer = setTimeout(() => {
        const where = describeRedis(this.#config);
        done(new StoreUnavailableError(`redis not reachable within ${timeoutMs} ms (${where})`, this.#lastError));
      }, timeoutMs);
      this.on('up', onUp);
      this.#lifetime.signal.addEventListener('abort', onClosed);
    });
  }

  async #run(script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
    if (this.#closing) throw new StoreUnavailableError('redis store is closed');
    try {
      return await runScript(this.#client, script, keys, args);
    } catch (err) {
      throw toStoreError(err, script);
    }
  }
}
