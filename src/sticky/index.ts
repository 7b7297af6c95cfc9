/** @module sticky: affinity keys and the signed sticky cookie. */
export { StickyCookieCodec } from './cookie-codec.js';
export { readCookie } from './cookies.js';
export { StickySessions } from './sticky-sessions.js';
export { compileKeyExtractor, type KeyExtractor } from './affinity-key.js';
