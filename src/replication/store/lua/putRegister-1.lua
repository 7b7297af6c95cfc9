-- putRegister-1: a last-writer-wins write, ordered by `(atMs, by)`; publishes when applied.
--
-- KEYS[1]  register hash (admin or backend)
-- ARGV[1]  id (the field)
-- ARGV[2]  value (opaque string)
-- ARGV[3]  atMs (decimal string, kept verbatim, compared as a number)
-- ARGV[4]  by (writer id; breaks `atMs` ties by byte order)
-- ARGV[5]  ttlMs (integer > 0)
-- ARGV[6]  pub/sub channel
-- ARGV[7]  event JSON to publish
-- Returns  1 applied and published, 0 ignored (a fresh write with the same or a later `(atMs, by)` is
--          stored), -1 bad arguments
--! include common
--! include compare-bytes
local at = tonumber(ARGV[3])
local ttl = tonumber(ARGV[5])
if not at or not ttl or ttl < 1 or ttl ~= math.floor(ttl) then return -1 end
local now = nowMs()
local old = decodeFresh(redis.call('HGET', KEYS[1], ARGV[1]), now)
if old then
  local oldAt = tonumber(old.atMs) or 0
  if oldAt > at then return 0 end
  if oldAt == at and compareBytes(tostring(old.by), ARGV[4]) >= 0 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({
  value = ARGV[2], atMs = ARGV[3], by = ARGV[4], expiresAtMs = now + ttl
}))
pruneExpired(KEYS[1], now)
extendTtl(KEYS[1], ttl)
redis.call('PUBLISH', ARGV[6], ARGV[7])
return 1
