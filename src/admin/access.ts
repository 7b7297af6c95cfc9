/**
 * @module admin/access: who may call admin routes. Loopback clients may read; anyone else needs
 * `Authorization: Bearer <admin.token>`, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.');
}

/** Checks bearer tokens against a configured one without leaking its length or content through timing. */
export class AdminAccess {
  readonly #digest: Buffer | null;

  constructor(token: string | undefined) {
    this.#digest = token ? sha256(token) : null;
  }

  /** True when the request carries the configured bearer token. */
  hasToken(req: IncomingMessage): boolean {
    if (this.#digest === null) return false;
    const auth = req.headers.authorization;
    if (auth === undefined || !/^bearer /i.test(auth)) return false;
    return timingSafeEqual(sha256(auth.slice(7).trim()), this.#digest);
  }

  /** Reads: loopback, or the token. */
  mayRead(req: IncomingMessage): boolean {
    return isLoopback(req.socket.remoteAddress) || this.hasToken(req);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
