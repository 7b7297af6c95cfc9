/**
 * @module singleton/singleton-options: the options of a singleton group and of one singleton, their defaults and
 * their validation, done once before anything is created (a bad value throws naming the option and the reason).
 */
import type { RedisConnectionConfig } from '../redis/redis-client.js';
import type { RedisClient } from '../redis/index.js';
import type { Logger } from '../types.js';
import type { StateObject } from './field-state.js';

/** What an action gets besides the state and the payload. */
export interface ActionContext {
  /** The singleton's name. */
  readonly name: string;
  /** The fencing token the owner holds while it runs this action. */
  readonly token: number;
  /** The instance that made the call (this one for a local call). */
  readonly caller: string;
  /** The call's deadline, in the Redis server's clock (ms since the epoch). */
  readonly deadline: number;
  /** The idempotency key (the call's own id when none was given). */
  readonly key: string;
}

/**
 * An action runs on the owner, one at a time in arrival order. It may change `state` in place (top-level keys are
 * what is compared and committed) and returns the call's result (JSON-serialisable). A throw rolls the state back.
 * Side effects outside the state are not fenced: keep actions to the state, or make the effect idempotent.
 */
export type Action<S extends StateObject> = (state: S, payload: never, context: ActionContext) => unknown;

export interface SingletonDefinition<S extends StateObject, A extends Record<string, Action<S>>> {
  /** The state while nothing was ever committed (a JSON object; copied with `structuredClone`). */
  readonly initialState: S;
  readonly actions: A;
  /** How long a lease lasts without renewal (ms). The owner renews every quarter of it. Default 1000. */
  readonly leaseMs?: number;
  /** A call's deadline when `call()` gives none (ms). Default 5000. */
  readonly deadlineMs?: number;
  /** Claim as soon as nobody owns it (at start, on a release, when the lease expires), not only on a call. Default true. */
  readonly eager?: boolean;
  /** Most actions queued on the owner; past it calls get `SINGLETON_OVERLOADED`. Default 10000. */
  readonly maxQueue?: number;
  /** Most calls one instance waits on at once for this singleton. Default 10000. */
  readonly maxPendingCalls?: number;
  /** How long committed results are kept for idempotent retries (ms). Default 600000 (10 min). */
  readonly idempotencyTtlMs?: number;
  /** Most committed results kept. Default 100000. */
  readonly maxIdempotencyKeys?: number;
  /**
   * For fault tests only: the owner keeps serving past its own estimate of the lease, so a test can show that the
   * commit script refuses a stale owner by itself. Never set it in production.
   */
  readonly testOnlyIgnoreLocalLease?: boolean;
}

export interface SingletonGroupOptions {
  /** A Redis URL, a connection config (Sentinel, Cluster), or an ioredis client (used, never closed). */
  readonly redis: string | Partial<RedisConnectionConfig> | RedisClient;
  /** Namespace of every key and channel. Default `keyway`. */
  readonly keyPrefix?: string;
  /** This process's id in the group; unique per process. Default a random one. */
  readonly instanceId?: string;
  /** Shared by the group: every message is signed with it and unsigned or forged ones are dropped. Default none. */
  readonly secret?: string;
  /**
   * Replicas that must hold a commit before its result is sent (`WAIT` in the commit's round trip). Default 1 on a
   * Sentinel connection, else 0.
   */
  readonly confirmReplicas?: number;
  /** Redis connect and command timeout for a connection the group opens (ms). Default 2000. */
  readonly connectTimeoutMs?: number;
  /** pino-compatible; narrowed with `child({ component: 'singleton' })`. Default silent. */
  readonly logger?: Logger;
}

export interface ResolvedDefinition {
  readonly initialState: () => StateObject;
  readonly actions: ReadonlyMap<string, Action<StateObject>>;
  readonly leaseMs: number;
  readonly deadlineMs: number;
  readonly eager: boolean;
  readonly maxQueue: number;
  readonly maxPendingCalls: number;
  readonly idempotencyTtlMs: number;
  readonly maxIdempotencyKeys: number;
  readonly testOnlyIgnoreLocalLease: boolean;
}

export const SINGLETON_DEFAULTS = {
  leaseMs: 1000,
  deadlineMs: 5000,
  eager: true,
  maxQueue: 10_000,
  maxPendingCalls: 10_000,
  idempotencyTtlMs: 600_000,
  maxIdempotencyKeys: 100_000,
} as const;

/** Applies defaults; throws a TypeError or RangeError naming the option of singleton `name`. */
export function resolveDefinition(name: string, d: SingletonDefinition<StateObject, Record<string, Action<StateObject>>>): ResolvedDefinition {
  const where = (option: string): string => `singleton ${JSON.stringify(name)} option ${option}`;
  if (d === null || typeof d !== 'object') throw new TypeError(`singleton ${JSON.stringify(name)} needs a definition object`);
  const state = d.initialState;
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new TypeError(`${where('initialState')} must be a JSON object`);
  }
  const initialJson = JSON.stringify(state);
  if (d.actions === null || typeof d.actions !== 'object') throw new TypeError(`${where('actions')} must be an object of functions`);
  const actions = new Map<string, Action<StateObject>>();
  for (const [k, fn] of Object.entries(d.actions)) {
    if (typeof fn !== 'function') throw new TypeError(`${where(`actions.${k}`)} must be a function`);
    actions.set(k, fn);
  }
  const leaseMs = whole(where('leaseMs'), d.leaseMs ?? SINGLETON_DEFAULTS.leaseMs, 100);
  return {
    initialState: () => JSON.parse(initialJson) as StateObject,
    actions,
    leaseMs,
    deadlineMs: whole(where('deadlineMs'), d.deadlineMs ?? SINGLETON_DEFAULTS.deadlineMs, 1),
    eager: d.eager ?? SINGLETON_DEFAULTS.eager,
    maxQueue: whole(where('maxQueue'), d.maxQueue ?? SINGLETON_DEFAULTS.maxQueue, 1),
    maxPendingCalls: whole(where('maxPendingCalls'), d.maxPendingCalls ?? SINGLETON_DEFAULTS.maxPendingCalls, 1),
    idempotencyTtlMs: whole(where('idempotencyTtlMs'), d.idempotencyTtlMs ?? SINGLETON_DEFAULTS.idempotencyTtlMs, 1000),
    maxIdempotencyKeys: whole(where('maxIdempotencyKeys'), d.maxIdempotencyKeys ?? SINGLETON_DEFAULTS.maxIdempotencyKeys, 1),
    testOnlyIgnoreLocalLease: d.testOnlyIgnoreLocalLease === true,
  };
}

/** A whole number >= `min`, or a RangeError naming `what`. */
export function whole(what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${what} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}
