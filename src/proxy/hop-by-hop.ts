/**
 * @module proxy/hop-by-hop: headers that describe one connection, not the message (RFC 9110 7.6.1), and
 * so are never forwarded. `Expect` is also dropped: node:http already answered `100 Continue` itself.
 */

/** Every hop-by-hop name, lower case. */
export const HOP_BY_HOP_NAMES: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'transfer-encoding',
  'upgrade',
  'expect',
];

const HOP_BY_HOP = new Set(HOP_BY_HOP_NAMES);

/** True for a lower-cased header name that is hop-by-hop. */
export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/**
 * Names listed in a `Connection` header (lower-cased), which are hop-by-hop for this message too.
 * Returns null when there are none beyond the standard ones, the common case, so nothing is allocated.
 */
export function connectionTokens(value: string | undefined): Set<string> | null {
  if (!value) return null;
  let tokens: Set<string> | null = null;
  for (const raw of value.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === '' || t === 'close' || t === 'keep-alive' || t === 'upgrade') continue;
    (tokens ??= new Set()).add(t);
  }
  return tokens;
}
