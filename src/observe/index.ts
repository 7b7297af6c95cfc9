/** @module observe: logging, the access log and Prometheus metrics. */
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
