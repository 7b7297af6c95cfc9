/**
 * @module store: shared state for gateway replicas (memory or Redis) and the coordinator's Redis store, both built
 * on the one Redis layer (`redis/`).
 */
import type { RedisConfig } from '../config/types.js';
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { RedisStore, type RedisStoreOptions } from './redis-store.js';
import type { GatewayStore } from './types.js';
import { RedisCoordinatorStore, type CoordinatorStoreOptions } from './coordinator-store.js';
import type { CoordinatorStore } from './coordinator-types.js';
import type { RedisClient } from '../redis/index.js';

export type CreateGatewayStoreOptions = RedisStoreOptions & MemoryStoreOptions;

/**
 * The store for `config.redis`: a `RedisStore` when Redis is configured, else a `MemoryStore` (over
 * `options.backend` when given). Call `start()` before use and `close()` when done.
 */
export function createGatewayStore(config: RedisConfig | false, options: CreateGatewayStoreOptions = {}): GatewayStore {
  return config === false ? new MemoryStore(options) : new RedisStore(config, options);
}

/**
 * The destination coordinator's store over `redis`: a `redis://` URL (its connection is closed by `close()`) or an
 * ioredis client (left open).
 */
export function createCoordinatorStore(redis: string | RedisClient, options: CoordinatorStoreOptions = {}): CoordinatorStore {
  return new RedisCoordinatorStore(redis, options);
}

export { MemoryBackend, type MemoryBackendOptions, type MemoryListener } from './memory-backend.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { storeKeys, type StoreKeys } from './keys.js';
export type {
  GatewayStore,
  Verdict,
  Register,
  RegisterKind,
  SharedState,
  StoreEvent,
  StoreEvents,
} from './types.js';
export {
  RedisCoordinatorStore,
  type CoordinatorStoreOptions,
} from './coordinator-store.js';
export { coordinatorKeys, type CoordinatorKeys } from './coordinator-keys.js';
export type { CoordinatorListener } from './coordinator-subscription.js';
export type {
  CoordinatorEvent,
  CoordinatorStore,
  LockRecord,
  MemberRecord,
  ResolveOutcome,
  ResolveRequest,
} from './coordinator-types.js';
