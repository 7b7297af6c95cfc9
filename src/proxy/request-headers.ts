/**
 * @module proxy/request-headers: the header list sent upstream. Keeps the client's order, case and repeated
 * fields (node:http takes a flat raw list), strips hop-by-hop fields, sets X-Forwarded-*, and writes the body's
 * framing itself: the backend never sees a framing header the gateway did not verify and re-emit.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { connectionTokens, HOP_BY_HOP_NAMES } from './hop-by-hop.js';

export interface RequestHeaderOptions {
  /** Peers whose X-Forwarded-* fields are trusted and extended rather than replaced. */
  readonly trustedProxies: ReadonlySet<string>;
  /** Keep the client's Host (true) or send `hostHeader`. */
  readonly preserveHost: boolean;
}

/** What a request header is to the gateway; anything absent from the map is passed on as it is. */
const enum Role {
  Host = 1,
  ForwardedFor,
  ForwardedProto,
  ForwardedHost,
  /** Claims about the client's address from other proxies' conventions: kept only from a trusted peer. */
  ClientAddress,
  /** Framing: re-emitted from what llhttp parsed, never copied. */
  Framing,
  /** Request trailers are not forwarded, so announcing them would be a lie (and node throws on it). */
  Trailer,
  /** Describes the client's connection, not the request; only `upgrade` is kept, on a WebSocket handshake. */
  HopByHop,
}

const ROLES: ReadonlyMap<string, Role> = new Map<string, Role>([
  ['host', Role.Host],
  ['x-forwarded-for', Role.ForwardedFor],
  ['x-forwarded-proto', Role.ForwardedProto],
  ['x-forwarded-host', Role.ForwardedHost],
  ['forwarded', Role.ClientAddress],
  ['x-real-ip', Role.ClientAddress],
  ['x-client-ip', Role.ClientAddress],
  ['true-client-ip', Role.ClientAddress],
  ['x-forwarded-port', Role.ClientAddress],
  ['x-forwarded-server', Role.ClientAddress],
  ['x-cluster-client-ip', Role.ClientAddress],
  ['x-original-forwarded-for', Role.ClientAddress],
  ['cf-connecting-ip', Role.ClientAddress],
  ['fastly-client-ip', Role.ClientAddress],
  ['content-length', Role.Framing],
  ['transfer-encoding', Role.Framing],
  ['trailer', Role.Trailer],
  // `transfer-encoding` is hop-by-hop too, but already framing: the first role given to a name stays.
  ...HOP_BY_HOP_NAMES.filter((n) => n !== 'transfer-encoding').map((n): [string, Role] => [n, Role.HopByHop]),
]);

/** Methods for which node's client sends no body framing by default; a body-less request of any other gets `content-length: 0`. */
const NO_DEFAULT_BODY = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/**
 * Builds the flat `[name, value, ...]` list for the upstream request. `backendHost` replaces Host when
 * `preserveHost` is off; `upgrade` keeps `Upgrade` and sends `Connection: upgrade` for a WebSocket. The request
 * must have passed admission (at most one Host; Transfer-Encoding, if any, is exactly `chunked`).
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
    const role = ROLES.get(lower);
    if (role !== undefined) {
      if (role === Role.Host) host ??= value;
      else if (role === Role.HopByHop) {
        if (upgrade && lower === 'upgrade') out.push(name, value);
      } else if (!trusted || role >= Role.Framing) continue;
      else if (role === Role.ForwardedFor) xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (role === Role.ForwardedProto) xfProto ??= value;
      else if (role === Role.ForwardedHost) xfHost ??= value;
      else out.push(name, value);
      continue;
    }
    if (listed !== null && listed.has(lower)) continue;
    out.push(name, value);
  }
  const sentHost = options.preserveHost && host !== undefined ? host : backendHost;
  out.push('host', sentHost);
  if (upgrade) out.push('connection', 'upgrade');
  else pushFraming(req, out);
  out.push('x-forwarded-for', xff === undefined ? peer : `${xff}, ${peer}`);
  out.push('x-forwarded-proto', xfProto ?? ((req.socket as TLSSocket).encrypted ? 'https' : 'http'));
  out.push('x-forwarded-host', xfHost ?? host ?? '');
  return out;
}

/**
 * The body's framing as the gateway parsed it: chunked (node re-chunks what it writes), the Content-Length
 * llhttp enforced, or none. Without this, node's client writes the body of a GET or DELETE with no framing at all,
 * and the backend parses it as a second request.
 */
function pushFraming(req: IncomingMessage, out: string[]): void {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) out.push('transfer-encoding', 'chunked');
  else if (h['content-length'] !== undefined) out.push('content-length', h['content-length']);
  else if (!NO_DEFAULT_BODY.has(req.method ?? 'GET')) out.push('content-length', '0');
}

