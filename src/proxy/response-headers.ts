/** @module proxy/response-headers: the upstream's response header list with hop-by-hop fields removed. */
import { connectionTokens, isHopByHop } from './hop-by-hop.js';

/**
 * Filters a flat raw header list. With `keepUpgrade` (a 101 answer) `Connection` and `Upgrade` stay, since
 * the client needs them to complete the WebSocket handshake. `Trailer` stays only with `keepTrailer`: trailers can
 * be relayed only on a chunked answer, and announcing them on any other is refused by node (it throws).
 */
export function filterResponseHeaders(raw: readonly string[], connection: string | undefined, keepUpgrade = false, keepTrailer = false): string[] {
  const listed = keepUpgrade ? null : connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (keepUpgrade && (lower === 'connection' || lower === 'upgrade')) {
      out.push(name, raw[i + 1] as string);
      continue;
    }
    if (isHopByHop(lower)) continue;
    if (listed !== null && listed.has(lower)) continue;
    if (!keepTrailer && lower === 'trailer') continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}
