/**
 * @module singleton/fluxstack: the drop-in for @fluxstack/live-redis's `RedisClusterAdapter`, with the names of
 * @fluxstack/live's cluster types (declared here: keyway does not depend on @fluxstack/live). An app switches by
 * changing its import.
 */
export { RedisClusterAdapter, type ClusterAdapterStats, type RedisClusterAdapterOptions } from './redis-cluster-adapter.js';
export type {
  ClusterActionHandler,
  ClusterActionRequest,
  ClusterActionResponse,
  ClusterComponentState,
  ClusterDeltaHandler,
  ClusterSingletonClaim,
  ClusterSingletonOwner,
} from './messages.js';
export { RedisRoomAdapter, type RedisRoomAdapterOptions, type RoomEventHandler } from '../../rooms/fluxstack/index.js';
