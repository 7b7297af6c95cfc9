/**
 * @module util/hash: a fast, well-distributed 32-bit string hash for hash rings and sharding. Not
 * cryptographic: never use it where an attacker gains from finding collisions.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over the string's UTF-16 code units, then murmur3's `fmix32` finaliser. FNV-1a alone spreads
 * short, similar keys (`a#1`, `a#2`) poorly in the high bits; the finaliser avalanches every input bit,
 * which is what a sorted hash ring needs. Deterministic across processes and platforms.
 *
 * @param str the key
 * @param seed varies the hash family; 0 by default
 * @returns an unsigned 32-bit integer
 * @example hash32('backend-1#0') // => a stable number in [0, 2 ** 32)
 */
export function hash32(str: string, seed = 0): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < str.length; i++) {
    h ^= str.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
