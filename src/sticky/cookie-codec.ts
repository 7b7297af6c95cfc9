/**
 * @module sticky/cookie-codec: signs and verifies the sticky cookie value `<id-b64url>.<mac-b64url>`.
 * The MAC is HMAC-SHA256 truncated to 128 bits; a forged, tampered or unknown value verifies as null,
 * so a client can never choose its backend by editing the cookie.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;
/** Verified values are cached; a cap keeps a flood of distinct forged values from growing memory. */
const VERIFY_CACHE_MAX = 4096;

export class StickyCookieCodec {
  readonly #secret: string;
  readonly #signed = new Map<string, string>();
  readonly #verified = new Map<string, string>();

  constructor(secret: string) {
    if (!secret) throw new TypeError('sticky secret must be a non-empty string');
    this.#secret = secret;
  }

  /** The cookie value naming backend `id`. Deterministic, so it is computed once per id. */
  sign(id: string): string {
    let value = this.#signed.get(id);
    if (value === undefined) {
      value = `${Buffer.from(id).toString('base64url')}.${this.#mac(id).toString('base64url')}`;
      this.#signed.set(id, value);
    }
    return value;
  }

  /** The backend id a cookie value names, or null when it is malformed or its MAC does not match. */
  verify(value: string): string | null {
    const cached = this.#verified.get(value);
    if (cached !== undefined) return cached;
    const dot = value.indexOf('.');
    if (dot <= 0 || dot === value.length - 1) return null;
    const id = Buffer.from(value.slice(0, dot), 'base64url').toString();
    const given = Buffer.from(value.slice(dot + 1), 'base64url');
    if (given.length !== MAC_BYTES) return null;
    if (!timingSafeEqual(given, this.#mac(id))) return null;
    // Only genuine values enter the cache, and there is one per backend, so the cap is for safety only.
    if (this.#verified.size >= VERIFY_CACHE_MAX) this.#verified.clear();
    this.#verified.set(value, id);
    return id;
  }

  #mac(id: string): Buffer {
    return createHmac('sha256', this.#secret).update(id).digest().subarray(0, MAC_BYTES);
  }
}
