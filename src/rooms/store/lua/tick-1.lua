-- tick-1: one instance's presence tick in a room: renews its liveness (when it has members here) and answers every
-- instance's, so the instance decides by itself whether somebody expired and whether it is the one to sweep.
--
-- KEYS[1]  instances (inst -> server ms until which it is alive)
-- ARGV[1]  instance   ARGV[2]  ttl ms   ARGV[3]  '1' to renew
-- Returns  {server ms now, {instance, alive until, ...}}
--! include now-ms
local now = nowMs()
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2])) end
return { now, redis.call('HGETALL', KEYS[1]) }
