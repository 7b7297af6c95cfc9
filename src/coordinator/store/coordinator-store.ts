/**
 * @module coordinator/store/coordinator-store: `CoordinatorStore` over Redis (standalone, Sentinel or Cluster). Every method is
 * one command: a Lua script that decides and writes (and publishes) atomically, or one plain read. Events travel on
 * one channel over a second connection, opened on the first `subscribe()`.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { KeywayError, StoreScriptError, StoreUnavailableError } from '../../errors.js';
import {
  ReadyGate,
  closeClient,
  createRedisClient,
  defineScripts,
  isCluster,
  usesSentinel,
  runScript,
  runScriptConfirmed,
  scriptStatus,
  toStoreError,
  type RedisClient,
  type StoreScript,
} from '../../redis/index.js';
import type { Logger } from '../../types.js';
import { checkTtl, ttlToMs } from '../../replication/store/check-args.js';
import { encodeMetadata, parseLock, parseMembers, parseResolve } from './codec.js';
import { checkId, coordinatorKeys, type CoordinatorKeys, type CoordinatorLayout } from './keys.js';
import { scriptsFor, type COORDINATOR_SCRIPTS } from './scripts.js';
import { CoordinatorSubscription, type CoordinatorListener } from './subscription.js';
import type {
  CoordinatorStore,
  LockRecord,
  MemberRecord,
  ResolveOutcome,
  ResolveRequest,
} from './types.js';

export interface CoordinatorStoreOptions {
  /** Put inside the hash tag of every key (`{coordinator}:co:...`); what all members and registries share. Default `coordinator`. */
  readonly keyPrefix?: string;
  /** Which key layout (see `CoordinatorLayout`). Default `keyway`; `platformatic` shares data with @platformatic/coordinator. */
  readonly layout?: CoordinatorLayout;
  /** pino-compatible; narrowed with `child({ component: 'coordinator-store' })`. Default: silent. */
  readonly logger?: Logger;
  /** Each command's timeout, and the connect timeout of a connection the store builds (ms). Default 3000. */
  readonly connectTimeoutMs?: number;
  /**
   * How long one call may take in all (ms): it waits for the connection to be ready, and a command lost with its
   * connection is sent again once the client is ready again, until this deadline, each caller on its own clock.
   * Longer than a failover (Sentinel's `down-after-milliseconds` plus the election), so callers ride one out.
   * Default {@link DEFAULT_CALL_TIMEOUT_MS}.
   */
  readonly callTimeoutMs?: number;
  /**
   * Replicas that must hold a new fencing epoch (a claim, a reassignment, a first owner) before it is reported
   * confirmed: the script is followed by `WAIT <n> 100` in the same round trip, and an epoch fewer replicas
   * acknowledged is answered with `confirmed: false` (it may be lost if the master fails now). 0 for no wait.
   * Default 1 on a Sentinel connection, else 0 (set it for a Cluster with replicas).
   */
  readonly confirmReplicas?: number;
}

/** How long a claim waits for its replicas (ms); Redis checks on its 100 ms clock, so up to about 200 ms. */
export const CONFIRM_TIMEOUT_MS = 100;

/** 10 s: above a Sentinel or Cluster failover with a 2-5 s failure detection (about 4 s measured on loopback). */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/** Pause before a command lost with its connection is sent again (the client is reconnecting meanwhile). */
const RESEND_PAUSE_MS = 50;

/** For error messages of the one plain read. */
const EXISTS: StoreScript = { command: 'EXISTS', numberOfKeys: 1, lua: '' };

/**
 * @example
 * const store = new RedisCoordinatorStore('redis://127.0.0.1:6379', { keyPrefix: 'coordinator' });
 * const outcome = await store.resolve({ destinationId: 'tenant-1', claimOnMiss: true, reassignOrphans: true, candidate: null });
 * await store.close();
 */
export class RedisCoordinatorStore implements CoordinatorStore {
  readonly keys: CoordinatorKeys;
  readonly layout: CoordinatorLayout;
  readonly #s: typeof COORDINATOR_SCRIPTS;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #log: Logger | undefined;
  readonly #timeoutMs: number;
  readonly #callTimeoutMs: number;
  readonly #confirmReplicas: number;
  readonly #gate: ReadyGate;
  #subscription: CoordinatorSubscription | undefined;
  #closing: Promise<void> | undefined;

  /**
   * `redis` is a `redis://`/`rediss://` URL (the store builds, and closes, its own connection) or an ioredis client
   * (standalone or Cluster; without ioredis' own `keyPrefix`), which `close()` leaves open.
   */
  constructor(redis: string | RedisClient, options: CoordinatorStoreOptions = {}) {
    this.layout = options.layout ?? 'keyway';
    if (this.layout !== 'keyway' && this.layout !== 'platformatic') {
      throw new TypeError(`layout must be 'keyway' or 'platformatic', got ${JSON.stringify(options.layout)}`);
    }
    this.keys = coordinatorKeys(options.keyPrefix ?? 'coordinator', this.layout);
    this.#s = scriptsFor(this.layout);
    this.#log = options.logger?.child({ component: 'coordinator-store' });
    this.#timeoutMs = options.connectTimeoutMs ?? 3000;
    checkTtl(this.#timeoutMs);
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    checkTtl(this.#callTimeoutMs);
    this.#ownsClient = typeof redis === 'string';
    if (typeof redis === 'string') {
      this.#client = createRedisClient({
        url: redis,
        sentinels: undefined,
        name: undefined,
        cluster: undefined,
        username: undefined,
        password: undefined,
        tls: false,
        connectTimeoutMs: this.#timeoutMs,
      });
      // Reconnection is the client's business; without a listener ioredis would print each failure.
      this.#client.on('error', (err: Error) => this.#log?.debug({ err: err.message }, 'coordinator redis error'));
    } else {
      this.#client = redis;
    }
    if (this.layout === 'platformatic' && isCluster(this.#client)) {
      throw new TypeError("layout 'platformatic' has no hash tag and cannot run on Redis Cluster: use layout 'keyway'");
    }
    defineScripts(this.#client, this.#s);
    this.#gate = new ReadyGate(this.#client);
    this.#confirmReplicas = options.confirmReplicas ?? (usesSentinel(this.#client) ? 1 : 0);
    if (!Number.isInteger(this.#confirmReplicas) || this.#confirmReplicas < 0) {
      throw new RangeError(`confirmReplicas must be a whole number >= 0, got ${options.confirmReplicas}`);
    }
  }

  /** Whether the command connection is ready now (a call made now is sent at once). */
  get available(): boolean {
    return !this.#closing && this.#gate.ready;
  }

  async putMember(member: MemberRecord, ttlMs: number): Promise<void> {
    await this.#putMember(member, ttlMs, 0);
  }

  async heartbeat(member: MemberRecord, ttlMs: number, lockTtlMs: number): Promise<void> {
    checkTtl(lockTtlMs);
    await this.#putMember(member, ttlMs, ttlToMs(lockTtlMs));
  }

  async removeMember(memberId: string): Promise<void> {
    const k = this.keys;
    const keys = [k.members, k.member(memberId), k.memberLocks(memberId)];
    scriptStatus(this.#s.removeMember, await this.#run(this.#s.removeMember, keys, [memberId]));
  }

  async liveMembers(): Promise<MemberRecord[]> {
    return this.#parse(this.#s.liveMembers, await this.#run(this.#s.liveMembers, [this.keys.members], []), parseMembers);
  }

  async resolve(request: ResolveRequest): Promise<ResolveOutcome> {
    const { destinationId, claimOnMiss, reassignOrphans, candidate } = request;
    const suspect = request.suspect ?? null;
    if (suspect !== null) checkId('suspect', suspect);
    const keys = [this.keys.destination(destinationId), this.keys.epochs, this.keys.members];
    if (candidate !== null) checkId('candidate', candidate);
    const args = [destinationId, claimOnMiss ? '1' : '0', reassignOrphans ? '1' : '0', candidate ?? '', suspect ?? ''];
    if (!claimOnMiss && !reassignOrphans) {
      return this.#parse(this.#s.resolveDestination, await this.#run(this.#s.resolveDestination, keys, args), parseResolve);
    }
    const { reply, confirmed } = await this.#runConfirmed(this.#s.resolveDestination, keys, args);
    const outcome = this.#parse(this.#s.resolveDestination, reply, parseResolve);
    if (confirmed || (outcome.kind !== 'claimed' && outcome.kind !== 'reassigned')) return outcome;
    this.#log?.warn({ destinationId, epoch: outcome.epoch, replicas: this.#confirmReplicas }, 'coordinator epoch not confirmed by a replica');
    return { ...outcome, confirmed: false };
  }

  async addOwner(destinationId: string, memberId: string): Promise<boolean> {
    const keys = [this.keys.destination(destinationId), this.keys.epochs];
    checkId('memberId', memberId);
    const { reply, confirmed } = await this.#runConfirmed(this.#s.addOwner, keys, [destinationId, memberId]);
    scriptStatus(this.#s.addOwner, reply);
    return confirmed;
  }

  async removeOwner(destinationId: string, memberId: string): Promise<void> {
    await this.#ownerScript(this.#s.removeOwner, destinationId, memberId);
  }

  async hasBinding(destinationId: string): Promise<boolean> {
    const key = this.keys.destination(destinationId);
    return (await this.#call(EXISTS, () => this.#client.exists(key))) === 1;
  }

  async removeBinding(destinationId: string): Promise<void> {
    const keys = [this.keys.destination(destinationId), this.keys.epochs];
    scriptStatus(this.#s.removeBinding, await this.#run(this.#s.removeBinding, keys, [destinationId]));
  }

  async putLock(lock: LockRecord, ttlMs: number): Promise<void> {
    const { lockId, memberId, destinationId } = lock;
    const keys = [this.keys.lock(lockId), this.keys.memberLocks(memberId)];
    checkId('destinationId', destinationId);
    checkTtl(ttlMs);
    const args = [lockId, memberId, destinationId, encodeMetadata(lock.metadata), String(ttlToMs(ttlMs))];
    scriptStatus(this.#s.putLock, await this.#run(this.#s.putLock, keys, args));
  }

  async removeLock(lockId: string, memberId: string): Promise<void> {
    const keys = [this.keys.lock(lockId), this.keys.memberLocks(memberId)];
    scriptStatus(this.#s.removeLock, await this.#run(this.#s.removeLock, keys, [lockId, memberId]));
  }

  async resolveLock(lockId: string): Promise<{ lock: LockRecord; owner: MemberRecord | null } | null> {
    const reply = await this.#run(this.#s.resolveLock, [this.keys.lock(lockId)], []);
    return this.#parse(this.#s.resolveLock, reply, (r) => parseLock(lockId, r));
  }

  /** Resolves once the channel is subscribed (rejects after `connectTimeoutMs`, and keeps trying). */
  async subscribe(listener: CoordinatorListener): Promise<void> {
    if (this.#closing) throw new StoreUnavailableError('coordinator store is closed');
    this.#subscription ??= new CoordinatorSubscription(this.#client, this.keys.events, this.#log);
    await this.#subscription.add(listener, this.#timeoutMs);
  }

  /** Closes the subscriber and, when the store built it, the command connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([
      this.#subscription?.close(),
      this.#ownsClient ? closeClient(this.#client) : undefined,
    ]).then(() => undefined);
    return this.#closing;
  }

  async #putMember(member: MemberRecord, ttlMs: number, lockTtlMs: number): Promise<void> {
    const { memberId, address, load } = member;
    const k = this.keys;
    const keys = [k.members, k.member(memberId), k.memberLocks(memberId)];
    checkId('address', address);
    if (typeof load !== 'number' || !Number.isFinite(load)) throw new TypeError('member load must be a finite number');
    checkTtl(ttlMs);
    const args = [memberId, address, String(load), String(ttlToMs(ttlMs)), String(lockTtlMs)];
    scriptStatus(this.#s.putMember, await this.#run(this.#s.putMember, keys, args));
  }

  async #ownerScript(script: StoreScript, destinationId: string, memberId: string): Promise<void> {
    const keys = [this.keys.destination(destinationId), this.keys.epochs];
    checkId('memberId', memberId);
    scriptStatus(script, await this.#run(script, keys, [destinationId, memberId]));
  }

  /** Runs a coordinator script: ARGV starts with the key base and the channel (the scripts' convention). */
  #run(script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
    const argv = [this.keys.base, this.keys.events, ...args];
    return this.#call(script, () => runScript(this.#client, script, keys, argv));
  }

  /** {@link #run} followed by the replica wait when one is asked; `confirmed` when enough replicas hold the write. */
  async #runConfirmed(script: StoreScript, keys: string[], args: string[]): Promise<{ reply: unknown; confirmed: boolean }> {
    const replicas = this.#confirmReplicas;
    if (replicas === 0) return { reply: await this.#run(script, keys, args), confirmed: true };
    const argv = [this.keys.base, this.keys.events, ...args];
    const { reply, acked } = await this.#call(script, () => runScriptConfirmed(this.#client, script, keys, argv, replicas, CONFIRM_TIMEOUT_MS));
    return { reply, confirmed: acked >= replicas };
  }

  /**
   * Sends `send` once the connection is ready, and again when it failed with the connection (Redis unreachable,
   * a command timeout on a paused master), until the caller's own deadline. Every script is safe to send twice:
   * each re-reads the state it decides on, so a repeat after a lost reply finds its own first write (a claim
   * answers `owner` with the same epoch). A script error is never repeated.
   */
  async #call<T>(script: StoreScript, send: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#callTimeoutMs;
    for (;;) {
      if (this.#closing) throw new StoreUnavailableError('coordinator store is closed');
      await this.#gate.wait(deadline);
      try {
        return await send();
      } catch (err) {
        const failure = toStoreError(err, script);
        if (!(failure instanceof StoreUnavailableError) || Date.now() + RESEND_PAUSE_MS >= deadline) throw failure;
        this.#log?.debug({ err: failure.message, command: script.command }, 'coordinator command lost with its connection, sending again');
        await delay(RESEND_PAUSE_MS);
      }
    }
  }

  #parse<T>(script: StoreScript, reply: unknown, parse: (reply: unknown) => T): T {
    if (typeof reply === 'number' && reply < 0) scriptStatus(script, reply);
    try {
      return parse(reply);
    } catch (err) {
      if (err instanceof KeywayError) throw err;
      throw new StoreScriptError(`script ${script.command} answered an unexpected shape`, err);
    }
  }
}

