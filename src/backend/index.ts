/**
 * @module backend: `keyway-node/backend`, the helper a backend process imports to answer the gateway's boot
 * handshake. Imports only node built-ins, never gateway code, so it stays small in the backend's bundle.
 */
export {
  createBootHandshake,
  processBootId,
  DEFAULT_BOOT_PATH,
  BOOT_PROTOCOL_VERSION,
  type BootHandshake,
  type BootHandshakeOptions,
  type BootHandshakeBody,
  type NextFunction,
  type FastifyInstanceLike,
  type FastifyRouteOptionsLike,
  type FastifyReplyLike,
} from './boot-handshake.js';
export { canonicalJson, hashSetting } from './canonical-json.js';
