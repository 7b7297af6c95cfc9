/**
 * @module singleton/fluxstack/redis-cluster-adapter: `RedisClusterAdapter`, a drop-in for @fluxstack/live-redis's
 * (same options, methods, results, error texts, keys and channels), with singleton ownership fenced in Lua: claims
 * carry a fencing token, renewals compare-and-expire, releases compare-and-delete, and a stale owner's state write
 * is refused.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { closeClient, isCluster, type RedisClient } from '../../redis/index.js';
import {
  claimScript,
  clusterKeys,
  defineAdapterScripts,
  releaseScript,
  renewScript,
  saveStateScript,
  type ClusterKeys,
} from './adapter-scripts.js';
import {
  MessageCodec,
  OutgoingSeqs,
  SeenSeqs,
  parseComponentState,
  parseSingletonState,
  type ActionRequestMessage,
  type ActionResponseMessage,
  type ClusterActionHandler,
  type ClusterActionRequest,
  type ClusterActionResponse,
  type ClusterComponentState,
  type ClusterDeltaHandler,
  type ClusterMessage,
  type ClusterSingletonClaim,
  type ClusterSingletonOwner,
  type DeltaMessage,
} from './messages.js';

/** What the adapter refused or dropped since it was made (keyway's addition). */
export interface ClusterAdapterStats {
  /** `saveSingletonState` calls refused because another instance holds the claim or took it after us. */
  readonly refusedWrites: number;
  /** Messages dropped for a missing or wrong signature (only counted when `secret` is set). */
  readonly forgedMessages: number;
  /** Messages dropped because they are not JSON or not one of the three message shapes. */
  readonly malformedMessages: number;
}

/**
 * The seed's options (their names and units kept, seconds included, so existing code compiles unchanged) plus
 * keyway's `secret` and `instanceId`.
 */
export interface RedisClusterAdapterOptions {
  /** Command connection, an ioredis `Redis` or `Cluster`. Never closed by the adapter. */
  redis: RedisClient;
  /** Subscribe connection. Default `redis.duplicate()`, made by `start()`. `shutdown()` closes it either way, as the seed does. */
  subscriber?: RedisClient;
  /**
   * Prefix of every key and channel. Default `'fluxstack:cluster:'`. On Redis Cluster give it a hash tag, such as
   * `'{fx}:cluster:'`: the scripts touch three keys of one singleton, which must share a slot.
   */
  prefix?: string;
  /** TTL of `state:*` and `singleton-state:*` (seconds; 0 = no expiry). Default 3600. */
  stateTtl?: number;
  /** TTL of a singleton claim (seconds). Default 30. Keep it well above `heartbeatInterval`. */
  singletonTtl?: number;
  /** How often owned claims are renewed (ms). Default 10000. */
  heartbeatInterval?: number;
  /** How long `forwardAction` waits for the owner's answer (ms). Default 5000. */
  actionTimeout?: number;
  /**
   * keyway: sign every message with HMAC-SHA256 under this secret; unsigned or mis-signed messages are dropped and
   * counted in `stats.forgedMessages`. Every instance on the prefix needs the same secret. Default none (plain JSON).
   */
  secret?: string;
  /** keyway: this instance's id (non-empty, no ':'). Default a random UUID. */
  instanceId?: string;
}

interface OwnedClaim {
  readonly componentId: string;
  /** The fencing token of the claim (a renewal that re-claims replaces it). */
  token: number;
  /** `performance.now()` when the last successful claim or renewal was sent: the local lease runs from there. */
  leaseStart: number;
  renewing: boolean;
}

interface PendingAction {
  readonly resolve: (response: ClusterActionResponse) => void;
  readonly reject: (reason: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Cross-instance state mirroring, delta pub/sub, singleton ownership and action forwarding for @fluxstack/live.
 *
 * @example
 * const cluster = new RedisClusterAdapter({ redis: new Redis(url), secret: process.env.CLUSTER_SECRET });
 * const server = new LiveServer({ transport, cluster });
 */
export class RedisClusterAdapter {
  readonly instanceId: string;
  /**
   * The command connection. TS `private` rather than `#private` on purpose: the seed's white-box tests (and code
   * written against the seed) reach `adapter.redis` through a cast, e.g. to spy on `publish`.
   */
  private redis: RedisClient;
  #subscriber: RedisClient | undefined;
  #madeSubscriber = false;
  readonly #keys: ClusterKeys;
  readonly #stateTtlMs: number;
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #actionTimeoutMs: number;
  readonly #codec: MessageCodec;
  readonly #owned = new Map<string, OwnedClaim>();
  readonly #pending = new Map<string, PendingAction>();
  readonly #outgoing = new OutgoingSeqs();
  readonly #seen = new SeenSeqs();
  #deltaHandler: ClusterDeltaHandler | undefined;
  #actionHandler: ClusterActionHandler | undefined;
  #lostHandler: ((componentName: string) => void) | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #started = false;
  #scriptsDefined = false;
  #refusedWrites = 0;
  #forgedMessages = 0;
  #malformedMessages = 0;
  readonly #onMessage = (channel: string, raw: string): void => this.#receive(channel, raw);

  /** Validates the options; sends nothing to Redis and opens no connection (`start()` does). */
  constructor(options: RedisClusterAdapterOptions) {
    if (typeof options?.redis !== 'object' || options.redis === null) {
      throw new TypeError('RedisClusterAdapter option redis must be an ioredis client');
    }
    this.redis = options.redis;
    this.#subscriber = options.subscriber;
    const prefix = options.prefix ?? 'fluxstack:cluster:';
    if (typeof prefix !== 'string') throw new TypeError(`RedisClusterAdapter option prefix must be a string, got ${typeof prefix}`);
    this.#keys = clusterKeys(prefix);
    this.#stateTtlMs = Math.round(duration('stateTtl', options.stateTtl ?? 3600, true) * 1000);
    this.#claimTtlMs = Math.max(1, Math.round(duration('singletonTtl', options.singletonTtl ?? 30, false) * 1000));
    this.#heartbeatMs = duration('heartbeatInterval', options.heartbeatInterval ?? 10_000, false);
    this.#actionTimeoutMs = duration('actionTimeout', options.actionTimeout ?? 5_000, false);
    if (options.secret !== undefined && (typeof options.secret !== 'string' || options.secret === '')) {
      throw new TypeError('RedisClusterAdapter option secret must be a non-empty string');
    }
    this.#codec = new MessageCodec(options.secret);
    const id = options.instanceId ?? randomUUID();
    if (typeof id !== 'string' || id === '' || id.includes(':')) {
      throw new TypeError(`RedisClusterAdapter option instanceId must be a non-empty string without ':', got ${JSON.stringify(id)}`);
    }
    this.instanceId = id;
  }

  /** Counts of refused writes and dropped messages (a snapshot). */
  get stats(): ClusterAdapterStats {
    return { refusedWrites: this.#refusedWrites, forgedMessages: this.#forgedMessages, malformedMessages: this.#malformedMessages };
  }

  // State mirror: plain SETs, no ownership involved.

  async saveState(componentId: string, componentName: string, state: unknown): Promise<void> {
    const record: ClusterComponentState = { componentName, state, instanceId: this.instanceId, updatedAt: Date.now() };
    await this.#setWithTtl(this.#keys.state(componentId), JSON.stringify(record));
  }

  /** The stored state, or null when absent or not a JSON object. */
  async loadState(componentId: string): Promise<ClusterComponentState | null> {
    return parseComponentState(await this.redis.get(this.#keys.state(componentId)));
  }

  /** Deletes the state and forgets the component's delta sequence numbers (both directions). */
  async deleteState(componentId: string): Promise<void> {
    this.#outgoing.forget(componentId);
    this.#seen.forgetComponent(componentId);
    await this.redis.del(this.#keys.state(componentId));
  }

  // Deltas.

  /** Publishes to `{prefix}delta` with the component's next seq (1, 2, ... per component). */
  async publishDelta(componentId: string, componentName: string, delta: unknown): Promise<void> {
    const message: DeltaMessage = { type: 'delta', origin: this.instanceId, componentId, componentName, delta, seq: this.#outgoing.next(componentId) };
    const channel = this.#keys.deltaChannel;
    await this.redis.publish(channel, this.#codec.encode(channel, message));
  }

  onDelta(handler: ClusterDeltaHandler): void {
    this.#deltaHandler = handler;
  }

  // Singletons.

  /** Claims `componentName` for `componentId` under a new fencing token; `recoveredState` is the saved state, if any. */
  async claimSingleton(componentName: string, componentId: string): Promise<ClusterSingletonClaim> {
    const known = this.#owned.get(componentName)?.token ?? 0;
    const sentAt = performance.now();
    const value = `${this.instanceId}:${componentId}`;
    const won = await claimScript(this.#client(), this.#keys, componentName, value, this.#claimTtlMs, known);
    if (won === null) return { claimed: false };
    this.#owned.set(componentName, { componentId, token: won.token, leaseStart: sentAt, renewing: false });
    const recovered = parseSingletonState(won.stateJson);
    return recovered === null ? { claimed: true } : { claimed: true, recoveredState: recovered };
  }

  /** The claim's holder, or null when nobody holds it or its value is not `<instanceId>:<componentId>`. */
  async getSingletonOwner(componentName: string): Promise<ClusterSingletonOwner | null> {
    const raw = await this.redis.get(this.#keys.singleton(componentName));
    if (raw === null) return null;
    // Split at the first ':' (instance ids hold none), so a component id with ':' comes back whole.
    const colon = raw.indexOf(':');
    if (colon <= 0 || colon === raw.length - 1) return null;
    return { instanceId: raw.slice(0, colon), componentId: raw.slice(colon + 1) };
  }

  /** Forgets the claim and deletes it only if this instance still holds it. */
  async releaseSingleton(componentName: string): Promise<void> {
    const claim = this.#owned.get(componentName);
    this.#owned.delete(componentName);
    if (claim) this.#outgoing.forget(claim.componentId);
    await releaseScript(this.#client(), this.#keys, componentName, this.instanceId);
  }

  /** True when the claim in Redis is this instance's (one GET). */
  async verifySingletonOwnership(componentName: string): Promise<boolean> {
    const raw = await this.redis.get(this.#keys.singleton(componentName));
    return raw !== null && raw.startsWith(`${this.instanceId}:`);
  }

  /** Called once per lost claim: taken by another instance, refused write, or not renewed within `singletonTtl`. */
  onOwnershipLost(handler: (componentName: string) => void): void {
    this.#lostHandler = handler;
  }

  /**
   * Saves `{state, updatedAt, token?}`. Resolves even when the write is refused (another instance holds the claim,
   * or claimed it after us): @fluxstack/live calls this without awaiting. A refusal is counted in
   * `stats.refusedWrites`, and when this instance believed it owned the singleton, ownership is reported lost.
   */
  async saveSingletonState(componentName: string, state: unknown): Promise<void> {
    const claim = this.#owned.get(componentName);
    const record = claim ? { state, updatedAt: Date.now(), token: claim.token } : { state, updatedAt: Date.now() };
    const outcome = await saveStateScript(this.#client(), this.#keys, componentName, {
      value: claim ? `${this.instanceId}:${claim.componentId}` : '',
      token: claim?.token ?? 0,
      json: JSON.stringify(record),
      ttlMs: this.#stateTtlMs,
    });
    if (outcome === 'written') return;
    this.#refusedWrites++;
    if (claim) this.#lose(componentName, claim);
  }

  /** The saved state, or null when absent or corrupt. */
  async loadSingletonState(componentName: string): Promise<unknown> {
    return parseSingletonState(await this.redis.get(this.#keys.singletonState(componentName)));
  }

  // Actions.

  /** Publishes the request to the target's channel; resolves with its answer or rejects after `actionTimeout`. */
  forwardAction(request: ClusterActionRequest): Promise<ClusterActionResponse> {
    return new Promise<ClusterActionResponse>((resolve, reject) => {
      const id = request.requestId;
      const channel = this.#keys.actionsChannel(request.targetInstanceId);
      // Encoded first: a payload JSON.stringify cannot encode rejects here, before a timer or entry exists.
      const message: ActionRequestMessage = { type: 'action_request', origin: this.instanceId, request };
      const encoded = this.#codec.encode(channel, message);
      // Not unref()ed: a caller awaiting the answer should keep the process alive until the deadline.
      const timer = setTimeout(() => {
        if (this.#pending.get(id) === pending) this.#pending.delete(id);
        reject(new Error(`Cluster action timeout after ${this.#actionTimeoutMs}ms`));
      }, this.#actionTimeoutMs);
      const pending: PendingAction = { resolve, reject, timer };
      this.#pending.set(id, pending);
      this.redis.publish(channel, encoded).catch((err: unknown) => {
        clearTimeout(timer);
        if (this.#pending.get(id) === pending) this.#pending.delete(id);
        reject(err);
      });
    });
  }

  onActionForward(handler: ClusterActionHandler): void {
    this.#actionHandler = handler;
  }

  // Lifecycle.

  /** Subscribes to the delta channel and this instance's actions channel, then starts the heartbeat. Idempotent. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    if (this.#subscriber === undefined) {
      this.#subscriber = isCluster(this.redis) ? this.redis.duplicate() : this.redis.duplicate();
      this.#madeSubscriber = true;
    }
    const subscriber = this.#subscriber;
    subscriber.on('message', this.#onMessage);
    try {
      await subscriber.subscribe(this.#keys.deltaChannel, this.#keys.actionsChannel(this.instanceId));
    } catch (err) {
      subscriber.off('message', this.#onMessage);
      this.#started = false;
      throw err;
    }
    this.#heartbeat = setInterval(() => this.#renewAll(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /**
   * Stops the heartbeat, releases every claim this instance still holds (compare-and-delete), rejects pending
   * forwards with `Cluster adapter shutting down`, unsubscribes and closes the subscriber (an injected one too,
   * as the seed does). The command connection stays open.
   */
  async shutdown(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const names = [...this.#owned.keys()];
    this.#owned.clear();
    await Promise.all(names.map((name) => releaseScript(this.#client(), this.#keys, name, this.instanceId).catch(() => false)));
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error('Cluster adapter shutting down'));
    }
    this.#pending.clear();
    const subscriber = this.#subscriber;
    if (subscriber !== undefined) {
      subscriber.off('message', this.#onMessage);
      await subscriber.unsubscribe(this.#keys.deltaChannel, this.#keys.actionsChannel(this.instanceId)).catch(() => undefined);
      await closeClient(subscriber);
      // A subscriber the adapter made is made again by the next start(); an injected one stays closed.
      if (this.#madeSubscriber) this.#subscriber = undefined;
      this.#madeSubscriber = false;
    }
    this.#started = false;
  }

  // Incoming messages.

  #receive(channel: string, raw: string): void {
    const decoded = this.#codec.decode(channel, raw);
    if (!decoded.ok) {
      if (decoded.reason === 'forged') this.#forgedMessages++;
      else this.#malformedMessages++;
      return;
    }
    const message: ClusterMessage = decoded.message;
    if (message.origin === this.instanceId) return;
    if (message.type === 'delta') this.handleDelta(message);
    else if (message.type === 'action_request') void this.#answer(message.request);
    else this.#settle(message.response);
  }

  /**
   * Delivers a delta unless its seq is at or below the last one seen from its origin for its component (pub/sub
   * may redeliver on reconnect); a delta without seq is always delivered. TS `private`, not `#`, so the seed's
   * white-box dedup tests can call it with a parsed message.
   */
  private handleDelta(message: DeltaMessage): void {
    const handler = this.#deltaHandler;
    if (!handler || !message.componentId || !message.componentName) return;
    if (typeof message.seq === 'number' && !this.#seen.accept(message.origin, message.componentId, message.seq)) return;
    try {
      handler(message.componentId, message.componentName, message.delta, message.origin);
    } catch {
      // The handler runs inside the subscriber's 'message' listener; the seed swallows its throws too.
    }
  }

  async #answer(request: ClusterActionRequest): Promise<void> {
    const handler = this.#actionHandler;
    if (!handler) return;
    let response: ClusterActionResponse;
    try {
      response = { ...(await handler(request)), requestId: request.requestId };
    } catch (err) {
      response = { success: false, error: err instanceof Error ? err.message : String(err), requestId: request.requestId };
    }
    const reply: ActionResponseMessage = { type: 'action_response', origin: this.instanceId, response };
    const channel = this.#keys.actionsChannel(request.sourceInstanceId);
    await this.redis.publish(channel, this.#codec.encode(channel, reply)).catch(() => undefined);
  }

  #settle(response: ClusterActionResponse): void {
    const pending = this.#pending.get(response.requestId);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(response.requestId);
    pending.resolve(response);
  }

  // Heartbeat.

  /**
   * Renews each owned claim. A claim whose renewal is still in flight from an earlier tick is checked against the
   * local lease instead: not renewed within `singletonTtl` means it may have expired and been taken, so it is lost.
   */
  #renewAll(): void {
    for (const [name, claim] of this.#owned) {
      if (!claim.renewing) void this.#renew(name, claim);
      else if (performance.now() - claim.leaseStart >= this.#claimTtlMs) this.#lose(name, claim);
    }
  }

  async #renew(name: string, claim: OwnedClaim): Promise<void> {
    claim.renewing = true;
    const sentAt = performance.now();
    try {
      const value = `${this.instanceId}:${claim.componentId}`;
      const outcome = await renewScript(this.#client(), this.#keys, name, value, this.#claimTtlMs, claim.token);
      if (outcome.kind === 'lost') {
        this.#lose(name, claim);
      } else {
        claim.token = outcome.token;
        claim.leaseStart = sentAt;
      }
    } catch {
      // Redis unreachable (or slow): past the TTL the claim may have been taken elsewhere.
      if (performance.now() - claim.leaseStart >= this.#claimTtlMs) this.#lose(name, claim);
    } finally {
      claim.renewing = false;
    }
  }

  /** Forgets `claim` and tells the handler, once: a claim already released, replaced or lost is ignored. */
  #lose(name: string, claim: OwnedClaim): void {
    if (this.#owned.get(name) !== claim) return;
    this.#owned.delete(name);
    try {
      this.#lostHandler?.(name);
    } catch {
      // Called from a timer or a fire-and-forget write: nobody could catch it (the seed swallows it too).
    }
  }

  async #setWithTtl(key: string, value: string): Promise<void> {
    if (this.#stateTtlMs > 0) await this.redis.set(key, value, 'PX', this.#stateTtlMs);
    else await this.redis.set(key, value);
  }

  /** The command connection, with the scripts registered on first use (the constructor must not touch it). */
  #client(): RedisClient {
    if (!this.#scriptsDefined) {
      defineAdapterScripts(this.redis);
      this.#scriptsDefined = true;
    }
    return this.redis;
  }
}

/** A seconds or milliseconds option: a finite number > 0 (>= 0 when `zeroAllowed`). */
function duration(name: string, value: unknown, zeroAllowed: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !zeroAllowed)) {
    throw new RangeError(`RedisClusterAdapter option ${name} must be a finite number ${zeroAllowed ? '>= 0' : '> 0'}, got ${String(value)}`);
  }
  return value;
}
