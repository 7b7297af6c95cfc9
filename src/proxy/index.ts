/** @module proxy: HTTP and WebSocket forwarding, header rewriting, and error answers. */
export { HttpForwarder, type ForwarderOptions } from './http-forwarder.js';
export { WebSocketForwarder, closedBehindPending, responseOnSocket, type WebSocketOptions, type TunnelHooks } from './websocket-forwarder.js';
export { Exchange, type ExchangeHandler } from './exchange.js';
export { RetryBudget } from './retry-budget.js';
export { mayRetry, type AttemptFacts } from './retry-policy.js';
export { sendError } from './error-response.js';
export { Answers } from './answers.js';
export { admissionError, isPath, type AdmissionLimits } from './admission.js';
export type { RequestHeaderOptions } from './request-headers.js';
export { filterResponseHeaders } from './response-headers.js';
export { isHopByHop, connectionTokens } from './hop-by-hop.js';
export { createUpstreamAgents, hostOf, openUpstreamRequest, type UpstreamAgents } from './upstream-request.js';
