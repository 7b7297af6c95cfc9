/**
 * @module store/lua/common: Lua helpers pasted at the top of each script (a script cannot `require`).
 *
 * Why `TIME` and not a "now" passed in ARGV: expiry is judged by one clock, the Redis server's, so clock skew
 * between replicas can neither expire a fresh verdict early nor keep a dead one alive. Redis 7 replicates
 * scripts by their effects, so a script may call `TIME` before writing. `sinceMs` and `atMs` still come from
 * the writers: they are facts about the writer, and `atMs` orders register writes.
 *
 * Numbers written by a replica (`sinceMs`, `atMs`) are kept as the decimal strings JavaScript produced:
 * cjson prints numbers with 14 significant digits, which would round large or fractional values.
 */

/** `nowMs()`: the Redis server's clock in epoch milliseconds. */
export const LUA_NOW_MS = `
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** `compareBytes(a, b)`: -1, 0 or 1 as `a` sorts before, with or after `b` in byte order. */
export const LUA_COMPARE_BYTES = `-- Byte order, not Lua's '<' on strings: that one calls strcoll() and so follows the server's locale.
local function compareBytes(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  if #a == #b then return 0 end
  return #a < #b and -1 or 1
end
`;

/** `nowMs()`, `decodeFresh(raw, now)`, `pruneExpired(key, now)`, `extendTtl(key, ttlMs)`. */
export const LUA_COMMON = `${LUA_NOW_MS}
-- The decoded entry when it is well formed and not expired, else nil.
local function decodeFresh(raw, now)
  if not raw then return nil end
  local ok, entry = pcall(cjson.decode, raw)
  if not ok or type(entry) ~= 'table' or type(entry.expiresAtMs) ~= 'number' then return nil end
  if entry.expiresAtMs <= now then return nil end
  return entry
end

-- Redis 7.0 has no per-field TTL: expired (or unreadable) fields are removed on each write. The hashes hold
-- one field per backend (and replica), so a full scan stays small.
local function pruneExpired(key, now)
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if not decodeFresh(all[i + 1], now) then redis.call('HDEL', key, all[i]) end
  end
end

-- The hash lives at least as long as its longest-lived field, so an abandoned prefix vanishes on its own.
local function extendTtl(key, ttlMs)
  if redis.call('PTTL', key) < ttlMs then redis.call('PEXPIRE', key, ttlMs) end
end
`;
