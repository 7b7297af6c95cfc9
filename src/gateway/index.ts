/** @module gateway: the composed load-balancing server. */
export { Gateway, type GatewayOptions, type AdminHandler } from './gateway.js';
export type { GatewayEvents } from './events.js';
export type { Pick } from './backend-picker.js';
export { snapshot, type BackendStatus } from './backend-status.js';
