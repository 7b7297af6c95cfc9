/** @module observe: logging, the access log, Prometheus metrics and diagnostics channels. */
export { createLogger, silentLogger } from './logger.js';
export { AccessLog, type AccessLogEntry, type AccessLogEvents, type AccessLogOptions } from './access-log.js';
export {
  GatewayMetrics,
  NO_BACKEND,
  UPSTREAM_BUCKETS,
  type BackendSnapshot,
  type GatewayMetricsOptions,
  type MetricsSource,
} from './metrics.js';
export {
  channels,
  CHANNEL_NAMES,
  type HealthTransitionMessage,
  type OwnershipMessage,
  type PickMessage,
  type RequestEndMessage,
  type RequestStartMessage,
} from './diagnostics.js';
