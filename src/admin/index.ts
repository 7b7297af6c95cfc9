/** @module admin: status JSON and admin routes. */
export { createAdminHandler } from './admin-handler.js';
export { buildHealthStatus, type HealthStatus, type HealthStatusBackend } from './health-status.js';
export { AdminAccess, isLoopback } from './access.js';
