/**
 * @module replication/store/write-stamp: the one last-writer-wins order, used by both stores and by every replica
 * (the Lua scripts apply the same order: `putRegister-1.lua`, on `redis/lua/_compare-bytes.lua`).
 */

/** Who wrote a register, and when: the order between writes. */
export interface WriteStamp {
  readonly atMs: number;
  readonly by: string;
}

/**
 * Orders writes by `atMs`, then `by` in UTF-8 byte order (the order the Lua scripts use, so every replica and both
 * stores agree on which of two writes is the last; JS `<` compares UTF-16 code units, which differs above
 * U+FFFF). Negative when `a` comes first.
 */
export function compareStamps(a: WriteStamp, b: WriteStamp): number {
  if (a.atMs !== b.atMs) return a.atMs < b.atMs ? -1 : 1;
  return Buffer.compare(Buffer.from(a.by, 'utf8'), Buffer.from(b.by, 'utf8'));
}

/** True when `next` is ordered after `held`, or nothing is held. */
export function isNewerStamp(next: WriteStamp, held: WriteStamp | undefined): boolean {
  return held === undefined || compareStamps(next, held) > 0;
}
