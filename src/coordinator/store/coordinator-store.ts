/**
 * @module coordinator/store/coordinator-store: `CoordinatorStore` over Redis (standalone, Sentinel or Cluster). Every method is
 * one command: a Lua script that decides and writes (and publishes) atomically, or one plain read. Events travel on
 * one channel over a second connection, opened on the first `subscribe()`.
 */
import { KeywayError, StoreScriptError, StoreUnavailableError } from '../../errors.js';
import { closeClient, createRedisClient, defineScripts, runScript, scriptStatus, toStoreError, type RedisClient, type StoreScript } from '../../redis/index.js';
import type { Logger } from '../../types.js';
import { checkTtl, ttlToMs } from '../../replication/store/check-args.js';
import { encodeMetadata, parseLock, parseMembers, parseResolve } from './codec.js';
import { checkId, coordinatorKeys, type CoordinatorKeys } from './keys.js';
import { COORDINATOR_SCRIPTS } from './scripts.js';
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
  /** pino-compatible; narrowed with `child({ component: 'coordinator-store' })`. Default: silent. */
  readonly logger?: Logger;
  /** How long a call waits for the connection to become ready, and each command's timeout (ms). Default 3000. */
  readonly connectTimeoutMs?: number;
}

const S = COORDINATOR_SCRIPTS;
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
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #log: Logger | undefined;
  readonly #timeoutMs: number;
  #connecting: Promise<void> | undefined;
  #subscription: CoordinatorSubscription | undefined;
  #closing: Promise<void> | undefined;

  /**
   * `redis` is a `redis://`/`rediss://` URL (the store builds, and closes, its own connection) or an ioredis client
   * (standalone or Cluster; without ioredis' own `keyPrefix`), which `close()` leaves open.
   */
  constructor(redis: string | RedisClient, options: CoordinatorStoreOptions = {}) {
    this.keys = coordinatorKeys(options.keyPrefix ?? 'coordinator');
    this.#log = options.logger?.child({ component: 'coordinator-store' });
    this.#timeoutMs = options.connectTimeoutMs ?? 3000;
    checkTtl(this.#timeoutMs);
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
    defineScripts(this.#client, S);
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
    scriptStatus(S.removeMember, await this.#run(S.removeMember, keys, [memberId]));
  }

  async liveMembers(): Promise<MemberRecord[]> {
    return this.#parse(S.liveMembers, await this.#run(S.liveMembers, [this.keys.members], []), parseMembers);
  }

  async resolve(request: ResolveRequest): Promise<ResolveOutcome> {
    const { destinationId, claimOnMiss, reassignOrphans, candidate } = request;
    const suspect = request.suspect ?? null;
    if (suspect !== null) checkId('suspect', suspect);
    const keys = [this.keys.destination(destinationId), this.keys.epochs, this.keys.members];
    if (candidate !== null) checkId('candidate', candidate);
    const args = [destinationId, claimOnMiss ? '1' : '0', reassignOrphans ? '1' : '0', candidate ?? '', suspect ?? ''];
    return this.#parse(S.resolveDestination, await this.#run(S.resolveDestination, keys, args), parseResolve);
  }

  async addOwner(destinationId: string, memberId: string): Promise<void> {
    await this.#ownerScript(S.addOwner, destinationId, memberId);
  }

  async removeOwner(destinationId: string, memberId: string): Promise<void> {
    await this.#ownerScript(S.removeOwner, destinationId, memberId);
  }

  async hasBinding(destinationId: string): Promise<boolean> {
    const key = this.keys.destination(destinationId);
    await this.#ready();
    try {
      return (await this.#client.exists(key)) === 1;
    } catch (err) {
      throw toStoreError(err, EXISTS);
    }
  }

  async removeBinding(destinationId: string): Promise<void> {
    const keys = [this.keys.destination(destinationId), this.keys.epochs];
    scriptStatus(S.removeBinding, await this.#run(S.removeBinding, keys, [destinationId]));
  }

  async putLock(lock: LockRecord, ttlMs: number): Promise<void> {
    const { lockId, memberId, destinationId } = lock;
    const keys = [this.keys.lock(lockId), this.keys.memberLocks(memberId)];
    checkId('destinationId', destinationId);
    checkTtl(ttlMs);
    const args = [lockId, memberId, destinationId, encodeMetadata(lock.metadata), String(ttlToMs(ttlMs))];
    scriptStatus(S.putLock, await this.#run(S.putLock, keys, args));
  }

  async removeLock(lockId: string, memberId: string): Promise<void> {
    const keys = [this.keys.lock(lockId), this.keys.memberLocks(memberId)];
    scriptStatus(S.removeLock, await this.#run(S.removeLock, keys, [lockId, memberId]));
  }

  async resolveLock(lockId: string): Promise<{ lock: LockRecord; owner: MemberRecord | null } | null> {
    const reply = await this.#run(S.resolveLock, [this.keys.lock(lockId)], []);
    return this.#parse(S.resolveLock, reply, (r) => parseLock(lockId, r));
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
    scriptStatus(S.putMember, await this.#run(S.putMember, keys, args));
  }

  async #ownerScript(script: StoreScript, destinationId: string, memberId: string): Promise<void> {
    const keys = [this.keys.destination(destinationId), this.keys.epochs];
    checkId('memberId', memberId);
    scriptStatus(script, await this.#run(script, keys, [destinationId, memberId]));
  }

  /** Runs a coordinator script: ARGV starts with the key base and the channel (the scripts' convention). */
  async #run(script: StoreScript, keys: string[], args: string[]): Promise<unknown> {
    await this.#ready();
    try {
      return await runScript(this.#client, script, keys, [this.keys.base, this.keys.events, ...args]);
    } catch (err) {
      throw toStoreError(err, script);
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

  /**
   * Waits (at most `connectTimeoutMs`) for the command connection to be ready, connecting a lazy client first. No
   * command is sent: a ready connection costs nothing here.
   */
  async #ready(): Promise<void> {
    if (this.#closing) throw new StoreUnavailableError('coordinator store is closed');
    if (this.#client.status === 'ready') return;
    this.#connecting ??= waitReady(this.#client, this.#timeoutMs).finally(() => {
      this.#connecting = undefined;
    });
    await this.#connecting;
  }
}

/**
 * Connects `client` when nobody has yet, then waits for `ready` through reconnect attempts (a refused attempt is no
 * answer yet); `StoreUnavailableError` after `timeoutMs` or when the client ends.
 */
function waitReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'end') return Promise.reject(new StoreUnavailableError('redis connection is closed'));
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (err: Error): void => {
      lastError = err;
    };
    const done = (err?: Error): void => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const onEnd = (): void => done(new StoreUnavailableError('redis connection closed', lastError));
    const timer = setTimeout(() => {
      const why = lastError?.message ?? 'no answer';
      done(new StoreUnavailableError(`redis not ready within ${timeoutMs} ms: ${why}`, lastError));
    }, timeoutMs);
    client.on('error', onError);
    client.on('ready', onReady);
    client.on('end', onEnd);
    if (client.status === 'wait') client.connect().catch(() => undefined);
  });
}
