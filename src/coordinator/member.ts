/**
 * @module coordinator/member: one pod of a stateful tier, as the coordinator sees it: it registers its address,
 * heartbeats with a load figure, owns destinations and locks. API compatible with `@platformatic/coordinator`'s
 * `Member`; every call is one Redis script of the coordinator store.
 */
import { EventEmitter } from 'node:events';
import type { RedisClient } from '../redis/index.js';
import { createCoordinatorStore, type CoordinatorLayout, type CoordinatorStore } from './store/index.js';
import type { Logger } from '../types.js';

export interface MemberOptions {
  /** A Redis URL (the member opens and closes its connection) or an ioredis client it uses but never closes. */
  readonly redis: string | RedisClient;
  /** This member's id, unique in the tier. */
  readonly memberId: string;
  /** Where registries send this member's traffic (e.g. `http://10.0.0.7:3000`). */
  readonly address: string;
  /** Namespace shared with the registries. Default `'coordinator'`. */
  readonly keyPrefix?: string;
  /** Record lifetime in SECONDS (platformatic's unit); the member is dead unless it heartbeats within it. Default 30. */
  readonly ttl?: number;
  /** The load figure each registration and heartbeat reports (e.g. open sessions). Default: always 0. */
  readonly getLoad?: () => number | Promise<number>;
  /** Heartbeat on its own every this many ms after `register()` (unref'd timer); must be below `ttl`. Default: off. */
  readonly heartbeatIntervalMs?: number;
  /** Lock lifetime in SECONDS, refreshed by each heartbeat. Default: `ttl`. */
  readonly lockTtl?: number;
  /** pino-compatible; narrowed with `child({ component: 'member' })`. Default: silent (warnings go to `process.emitWarning`). */
  readonly logger?: Logger;
  /** Redis connect and command timeout (ms). Default 3000. */
  readonly connectTimeoutMs?: number;
  /** How long one call may wait in all through a reconnect or a failover (ms). Default 10000. */
  readonly callTimeoutMs?: number;
  /** Replicas that must hold the epoch of a first owner added by `addToDestination`. Default 1 on Sentinel, else 0. */
  readonly confirmReplicas?: number;
  /** The key layout, as `Registry`'s `layout`: `keyway` (default) or `platformatic`. */
  readonly layout?: CoordinatorLayout;
}

/** A live member and its last reported load. */
export interface PeerLoad {
  readonly memberId: string;
  readonly address: string;
  readonly load: number;
}

export interface MemberEvents {
  /** A background heartbeat failed (only emitted when someone listens; else logged once per failure streak). */
  error: [Error];
}

/**
 * @example
 * const member = new Member({ redis: 'redis://127.0.0.1:6379', memberId: 'pod-a', address: 'http://10.0.0.7:3000',
 *   heartbeatIntervalMs: 10_000, getLoad: () => sessions.size });
 * await member.register();
 * await member.addToDestination('tenant-1');
 */
export class Member extends EventEmitter<MemberEvents> {
  readonly #memberId: string;
  readonly #address: string;
  readonly #ttlMs: number;
  readonly #lockTtlMs: number;
  readonly #intervalMs: number | undefined;
  readonly #getLoad: () => number | Promise<number>;
  readonly #log: Logger | undefined;
  readonly #store: CoordinatorStore;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #failing = false;
  #closing: Promise<void> | undefined;

  constructor(options: MemberOptions) {
    super();
    this.#memberId = nonEmpty('memberId', options.memberId);
    this.#address = nonEmpty('address', options.address);
    const ttl = positive('ttl', options.ttl ?? 30);
    this.#ttlMs = ttl * 1000;
    this.#lockTtlMs = positive('lockTtl', options.lockTtl ?? ttl) * 1000;
    if (options.heartbeatIntervalMs !== undefined) {
      this.#intervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs);
      if (this.#intervalMs >= this.#ttlMs) {
        throw new RangeError(`heartbeatIntervalMs (${this.#intervalMs}) must be below ttl (${this.#ttlMs} ms)`);
      }
    }
    if (options.getLoad !== undefined && typeof options.getLoad !== 'function') {
      throw new TypeError('getLoad must be a function');
    }
    this.#getLoad = options.getLoad ?? (() => 0);
    this.#log = options.logger?.child({ component: 'member', memberId: this.#memberId });
    this.#store = createCoordinatorStore(options.redis, {
      keyPrefix: options.keyPrefix ?? 'coordinator',
      logger: options.logger,
      connectTimeoutMs: options.connectTimeoutMs,
      callTimeoutMs: options.callTimeoutMs,
      confirmReplicas: options.confirmReplicas,
      layout: options.layout,
    });
  }

  get memberId(): string {
    return this.#memberId;
  }

  get address(): string {
    return this.#address;
  }

  /** Writes the full record (address, load) with its TTL; then heartbeats on its own when `heartbeatIntervalMs` is set. */
  async register(): Promise<void> {
    await this.#store.putMember(await this.#record(), this.#ttlMs);
    if (this.#intervalMs !== undefined && !this.#closing) this.#schedule(this.#intervalMs);
  }

  /** Rewrites the full record and refreshes its locks' TTL; restores the member if its record had expired. */
  async heartbeat(): Promise<void> {
    await this.#store.heartbeat(await this.#record(), this.#ttlMs, this.#lockTtlMs);
  }

  /** Stops heartbeating and removes the record and every lock of this member. */
  async deregister(): Promise<void> {
    this.#stop();
    await this.#beating;
    await this.#store.removeMember(this.#memberId);
  }

  /** Adds this member to the owners of `destinationId` (several members may own one destination). */
  async addToDestination(destinationId: string): Promise<void> {
    await this.#store.addOwner(destinationId, this.#memberId);
  }

  removeFromDestination(destinationId: string): Promise<void> {
    return this.#store.removeOwner(destinationId, this.#memberId);
  }

  /** Routes `lockId` to this member; `metadata` is kept beside it but can never change the owner. */
  registerLock(lockId: string, destinationId: string, metadata: Readonly<Record<string, unknown>> = {}): Promise<void> {
    return this.#store.putLock({ lockId, memberId: this.#memberId, destinationId, metadata }, this.#lockTtlMs);
  }

  /** Removes `lockId` if this member owns it. */
  unregisterLock(lockId: string): Promise<void> {
    return this.#store.removeLock(lockId, this.#memberId);
  }

  /** Every live member (this one included when registered) with its last reported load. */
  async listPeerLoad(): Promise<PeerLoad[]> {
    const members = await this.#store.liveMembers();
    return members.map(({ memberId, address, load }) => ({ memberId, address, load }));
  }

  /** Stops heartbeating and closes the connections it opened (without deregistering). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop();
      await this.#beating;
      await this.#store.close();
    })();
    return this.#closing;
  }

  async #record(): Promise<{ memberId: string; address: string; load: number }> {
    const load = await this.#getLoad();
    if (typeof load !== 'number' || !Number.isFinite(load)) {
      throw new TypeError(`getLoad() must return a finite number, got ${String(load)}`);
    }
    return { memberId: this.#memberId, address: this.#address, load };
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#beating = this.heartbeat().then(
        () => {
          this.#failing = false;
        },
        (err: unknown) => this.#report(err),
      );
      void this.#beating.finally(() => {
        this.#beating = undefined;
        if (this.#timer !== undefined) this.#schedule(delayMs);
      });
    }, delayMs).unref();
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #report(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.listenerCount('error') > 0) {
      this.emit('error', error);
      return;
    }
    if (this.#failing) return;
    this.#failing = true;
    if (this.#log) this.#log.warn({ err: error.message }, 'member heartbeat failed');
    else process.emitWarning(`keyway member ${this.#memberId}: heartbeat failed: ${error.message}`);
  }
}

function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
