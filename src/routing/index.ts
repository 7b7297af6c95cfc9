/** @module routing: request -> pool (routes, service routes, WebSocket pool, default pool). Pure, no I/O. */
export { Router, type RouteMatch, type RoutableRequest, type RouterOptions } from './router.js';
export { stripPathPrefix } from './route-rules.js';
