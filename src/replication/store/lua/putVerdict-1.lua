-- putVerdict-1: one replica's verdict on one backend; publishes only on a change.
--
-- KEYS[1]  verdicts hash
-- ARGV[1]  field `<backendId>|<replicaId>`
-- ARGV[2]  backendId
-- ARGV[3]  replicaId
-- ARGV[4]  up: '1' or '0'
-- ARGV[5]  sinceMs (decimal string, kept verbatim)
-- ARGV[6]  ttlMs (integer > 0)
-- ARGV[7]  pub/sub channel
-- ARGV[8]  event JSON to publish
-- Returns  1 stored and published (new, or `up`/`sinceMs` changed), 0 stored as a refresh, -1 bad arguments
--! include common
local ttl = tonumber(ARGV[6])
if not ttl or ttl < 1 or ttl ~= math.floor(ttl) or (ARGV[4] ~= '1' and ARGV[4] ~= '0') then return -1 end
local now = nowMs()
local up = ARGV[4] == '1'
local old = decodeFresh(redis.call('HGET', KEYS[1], ARGV[1]), now)
local changed = (not old) or old.up ~= up or old.sinceMs ~= ARGV[5]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode({
  backendId = ARGV[2], replicaId = ARGV[3], up = up, sinceMs = ARGV[5], expiresAtMs = now + ttl
}))
pruneExpired(KEYS[1], now)
extendTtl(KEYS[1], ttl)
if changed then
  redis.call('PUBLISH', ARGV[7], ARGV[8])
  return 1
end
return 0
