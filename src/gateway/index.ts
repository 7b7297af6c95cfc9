/** @module gateway: the composed load-balancing server. */
export { Gateway, type GatewayOptions, type GatewayEvents, type AdminHandler } from './gateway.js';
export { BackendPicker, type Pick } from './backend-picker.js';
export { snapshot, type BackendStatus } from './backend-status.js';
