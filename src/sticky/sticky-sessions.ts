/**
 * @module sticky/sticky-sessions: the cookie side of affinity: which backend a request's cookie names,
 * and the Set-Cookie line that pins a client to a backend. Set-Cookie lines are built once per backend.
 */
import type { IncomingMessage } from 'node:http';
import type { StickyConfig } from '../config/index.js';
import { StickyCookieCodec } from './cookie-codec.js';
import { buildSetCookie, readCookie } from './cookies.js';

export class StickySessions {
  readonly config: StickyConfig;
  readonly #codec: StickyCookieCodec;
  readonly #setCookie = new Map<string, string>();

  /** `secret` is the resolved one (config, environment or generated); `config.secret` is ignored. */
  constructor(config: StickyConfig, secret: string) {
    this.config = config;
    this.#codec = new StickyCookieCodec(secret);
  }

  /** The backend id the request's sticky cookie names, when it carries a genuine one. */
  backendOf(req: IncomingMessage): string | null {
    const value = readCookie(req.headers.cookie, this.config.cookie);
    return value === undefined ? null : this.#codec.verify(value);
  }

  /** The Set-Cookie line pinning a client to backend `id`. */
  setCookieFor(id: string): string {
    let line = this.#setCookie.get(id);
    if (line === undefined) {
      line = buildSetCookie(this.config, this.#codec.sign(id));
      this.#setCookie.set(id, line);
    }
    return line;
  }
}
