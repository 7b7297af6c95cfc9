-- renew-1: an instance with members in a room says it is alive for another ttl.
--
-- KEYS[1]  instances
-- ARGV[1]  instance   ARGV[2]  ttl ms
-- Returns  server ms now
--! include now-ms
local now = nowMs()
redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
return now
