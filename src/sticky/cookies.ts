/**
 * @module sticky/cookies: reading one cookie from a Cookie header without parsing all of them, and
 * building the Set-Cookie line for the sticky cookie.
 */
import type { StickyConfig } from '../config/index.js';

/** The value of cookie `name` in a `Cookie` header, or undefined. Values are not URL-decoded. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(name, from);
    if (at === -1) return undefined;
    const eq = at + name.length;
    const startsPair = at === 0 || header[at - 1] === ' ' || header[at - 1] === ';';
    if (startsPair && header[eq] === '=') {
      const end = header.indexOf(';', eq + 1);
      return header.slice(eq + 1, end === -1 ? undefined : end).trim();
    }
    from = at + 1;
  }
  return undefined;
}

/** `name=value; Path=/; HttpOnly; SameSite=Lax[; Secure][; Max-Age=s]`. */
export function buildSetCookie(config: StickyConfig, value: string): string {
  let line = `${config.cookie}=${value}; Path=/; HttpOnly; SameSite=${config.sameSite}`;
  if (config.secure || config.sameSite === 'None') line += '; Secure';
  if (config.maxAgeMs !== undefined) line += `; Max-Age=${Math.floor(config.maxAgeMs / 1000)}`;
  return line;
}
