/** @module proxy: HTTP and WebSocket forwarding, header rewriting, and error answers. */
export { HttpForwarder, hostOf, type ForwarderOptions, type ExchangeHooks } from './http-forwarder.js';
export { WebSocketForwarder } from './websocket-forwarder.js';
export { sendError, writeRawError } from './error-response.js';
export { buildRequestHeaders, type RequestHeaderOptions } from './request-headers.js';
export { filterResponseHeaders } from './response-headers.js';
export { isHopByHop, connectionTokens } from './hop-by-hop.js';
