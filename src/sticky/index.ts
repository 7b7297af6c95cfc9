/** @module sticky: affinity keys and the signed sticky cookie. */
export { StickyCookieCodec } from './cookie-codec.js';
export { readCookie, buildSetCookie } from './cookies.js';
export { StickySessions } from './sticky-sessions.js';
export { compileKeyExtractor, readQueryParam, type KeyExtractor } from './affinity-key.js';
