-- Lua library `now-ms`, inlined where a script says `--! include now-ms` (a script cannot require).
-- nowMs(): the Redis server's clock in epoch milliseconds.
-- @module store/lua/common: Lua helpers pasted at the top of each script (a script cannot `require`).
--
-- Why `TIME` and not a "now" passed in ARGV: expiry is judged by one clock, the Redis server's, so clock skew
-- between replicas can neither expire a fresh verdict early nor keep a dead one alive. Redis 7 replicates
-- scripts by their effects, so a script may call `TIME` before writing. `sinceMs` and `atMs` still come from
-- the writers: they are facts about the writer, and `atMs` orders register writes.
--
-- Numbers written by a replica (`sinceMs`, `atMs`) are kept as the decimal strings JavaScript produced:
-- cjson prints numbers with 14 significant digits, which would round large or fractional values.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
