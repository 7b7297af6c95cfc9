/**
 * @module proxy/request-headers: the header list sent upstream. Keeps the client's order, case and repeated
 * fields (node:http takes a flat raw list), strips hop-by-hop fields and sets X-Forwarded-*.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { connectionTokens, isHopByHop } from './hop-by-hop.js';

export interface RequestHeaderOptions {
  /** Peers whose X-Forwarded-* fields are trusted and extended rather than replaced. */
  readonly trustedProxies: ReadonlySet<string>;
  /** Keep the client's Host (true) or send `hostHeader`. */
  readonly preserveHost: boolean;
}

/**
 * Builds the flat `[name, value, ...]` list for the upstream request. `backendHost` replaces Host when
 * `preserveHost` is off; `upgrade` keeps `Upgrade` and sends `Connection: upgrade` for a WebSocket.
 */
export function buildRequestHeaders(
  req: IncomingMessage,
  options: RequestHeaderOptions,
  backendHost: string,
  upgrade: boolean,
): string[] {
  const raw = req.rawHeaders;
  const listed = connectionTokens(req.headers.connection);
  const peer = req.socket.remoteAddress ?? '';
  const trusted = options.trustedProxies.size > 0 && options.trustedProxies.has(peer);
  const out: string[] = [];
  let host: string | undefined;
  let xff: string | undefined;
  let xfProto: string | undefined;
  let xfHost: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      host ??= value;
      continue;
    }
    if (lower === 'x-forwarded-for') {
      if (trusted) xff = xff === undefined ? value : `${xff}, ${value}`;
      continue;
    }
    if (lower === 'x-forwarded-proto') {
      if (trusted) xfProto ??= value;
      continue;
    }
    if (lower === 'x-forwarded-host') {
      if (trusted) xfHost ??= value;
      continue;
    }
    if (isHopByHop(lower)) {
      if (upgrade && lower === 'upgrade') out.push(name, value);
      continue;
    }
    if (listed !== null && listed.has(lower)) continue;
    out.push(name, value);
  }
  const sentHost = options.preserveHost && host !== undefined ? host : backendHost;
  out.push('host', sentHost);
  if (upgrade) out.push('connection', 'upgrade');
  out.push('x-forwarded-for', xff === undefined ? peer : `${xff}, ${peer}`);
  out.push('x-forwarded-proto', xfProto ?? ((req.socket as TLSSocket).encrypted ? 'https' : 'http'));
  out.push('x-forwarded-host', xfHost ?? host ?? '');
  return out;
}
