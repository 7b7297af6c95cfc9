/**
 * @module replication/store: where gateway replicas keep what they share: in memory (one process) or in Redis,
 * built on the one Redis layer (`redis/`).
 */
import type { RedisConfig } from '../../config/types.js';
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { RedisStore, type RedisStoreOptions } from './redis-store.js';
import type { GatewayStore } from './types.js';

export type CreateGatewayStoreOptions = RedisStoreOptions & MemoryStoreOptions;

/**
 * The store for `config.redis`: a `RedisStore` when Redis is configured, else a `MemoryStore` (over
 * `options.backend` when given). Call `start()` before use and `close()` when done.
 */
export function createGatewayStore(config: RedisConfig | false, options: CreateGatewayStoreOptions = {}): GatewayStore {
  return config === false ? new MemoryStore(options) : new RedisStore(config, options);
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
