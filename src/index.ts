/**
 * keyway: run many instances of a Node.js service and have them behave like one.
 * Public surface: re-exports and `create*()` factories only.
 */
import { createAdminHandler } from './admin/index.js';
import { validateConfig, type GatewayConfig } from './config/index.js';
import { Gateway, type GatewayOptions } from './gateway/index.js';

/**
 * Validates `config` (the same shape as a config file) and builds a gateway with its admin routes.
 * Throws `ConfigError` listing every problem.
 *
 * @example
 * const gw = createGateway({ port: 8080, backends: [{ url: 'http://127.0.0.1:3001' }, { url: 'http://127.0.0.1:3002' }] });
 * const { port } = await gw.listen();
 */
export function createGateway(config: unknown, options: Omit<GatewayOptions, 'admin'> = {}): Gateway {
  const resolved: GatewayConfig = validateConfig(config);
  return new Gateway(resolved, { ...options, admin: createAdminHandler });
}

export { Gateway, type GatewayOptions, type GatewayEvents, type BackendStatus } from './gateway/index.js';
export * from './errors.js';
export type { Logger, Closeable } from './types.js';
export {
  validateConfig,
  loadConfigFile,
  loadConfig,
  maskConfig,
  STRATEGY_NAMES,
  type GatewayConfig,
  type BackendConfig,
  type HealthSettings,
  type StickyConfig,
  type Candidate,
  type PickContext,
  type CustomStrategyFn,
  type HealthCheckFn,
  type BackendInfo,
} from './config/index.js';
export { createStrategy, type Strategy } from './balancer/index.js';
export { buildHealthStatus, type HealthStatus } from './admin/index.js';
export {
  MemoryStore,
  MemoryBackend,
  RedisStore,
  createGatewayStore,
  type GatewayStore,
  type StoreEvent,
  type SharedState,
  type Verdict,
  type Register,
} from './replication/store/index.js';
export type { SharedViewStatus } from './replication/index.js';
export { Router, type RouteMatch } from './routing/index.js';
// keyway's own key layout here; `keyway-node/coordinator` gives the same classes on platformatic's by default.
export { Member } from './coordinator/member.js';
export { Registry } from './coordinator/registry.js';
export {
  REGISTRY_DEFAULTS,
  TTLCache,
  type CoordinatorLayout,
  ALLOCATION_STRATEGY_NAMES,
  LeastLoadedStrategy,
  RoundRobinStrategy as RoundRobinAllocation,
  RandomStrategy as RandomAllocation,
  createStrategy as createAllocationStrategy,
  type MemberOptions,
  type MemberEvents,
  type PeerLoad,
  type RegistryOptions,
  type RegistryEvents,
  type RegistryCacheOptions,
  type ResolveDestinationOptions,
  type ResolveResult,
  type DestinationReassignedEvent,
  type MemberAddress,
  type MemberDownReason,
  type AllocationStrategy,
  type AllocationContext,
  type AllocationStrategyName,
  type MemberInfo,
} from './coordinator/index.js';
export * from './coordinator/fastify/index.js';
// Cluster singletons (also `keyway-node/singleton`); the @fluxstack/live-redis adapter is `keyway-node/fluxstack` only.
export {
  SingletonGroup,
  Singleton,
  SINGLETON_DEFAULTS,
  type Action,
  type ActionContext,
  type CallOptions,
  type LostReason,
  type SingletonDefinition,
  type SingletonEventMap,
  type SingletonGroupOptions,
  type SingletonGroupStats,
  type SingletonRole,
  type StateObject,
} from './singleton/index.js';
// Cross-instance rooms (also `keyway-node/rooms`); the @fluxstack/live-redis room adapter is `keyway-node/fluxstack` only.
export {
  RoomGroup,
  Room,
  ROOM_DEFAULTS,
  type RoomGroupOptions,
  type RoomGroupStats,
  type RoomHandler,
  type RoomMember,
  type RoomMessage,
  type RoomOptions,
  type RoomState,
  type StateChange,
  type SubscribeOptions,
} from './rooms/index.js';
// Cluster mode (also `keyway-node/cluster`).
export {
  ClusterPrimary,
  startCluster,
  signalReady,
  isClusterWorker,
  CLUSTER_DEFAULTS,
  type ClusterOptions,
  type ClusterStatus,
  type ClusterEventMap,
  type WorkerStatus,
  type WorkerStats,
} from './cluster/index.js';
