/** @module coordinator/store: the coordinator's Redis store (members, owners, fencing epochs, locks), on `redis/`. */
import type { RedisClient } from '../../redis/index.js';
import { RedisCoordinatorStore, type CoordinatorStoreOptions } from './coordinator-store.js';
import type { CoordinatorStore } from './types.js';

/**
 * The destination coordinator's store over `redis`: a `redis://` URL (its connection is closed by `close()`) or an
 * ioredis client (left open).
 */
export function createCoordinatorStore(redis: string | RedisClient, options: CoordinatorStoreOptions = {}): CoordinatorStore {
  return new RedisCoordinatorStore(redis, options);
}

export { RedisCoordinatorStore, type CoordinatorStoreOptions } from './coordinator-store.js';
export { coordinatorKeys, type CoordinatorKeys, type CoordinatorLayout } from './keys.js';
export type { CoordinatorListener } from './subscription.js';
export type {
  CoordinatorEvent,
  CoordinatorStore,
  LockRecord,
  MemberRecord,
  ResolveOutcome,
  ResolveRequest,
} from './types.js';
