/** @module admin: status JSON and admin routes. */
export { createAdminHandler } from './admin-handler.js';
export { buildHealthStatus, buildBackendList, type HealthStatus, type HealthStatusBackend, type BackendListEntry } from './health-status.js';
export { AdminAccess, isLoopback } from './access.js';
