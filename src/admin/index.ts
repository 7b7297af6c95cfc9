/** @module admin: status JSON and admin routes. */
export { createAdminHandler } from './admin-handler.js';
export { buildHealthStatus, type HealthStatus, type HealthStatusBackend, type BackendListEntry } from './health-status.js';
