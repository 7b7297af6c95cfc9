-- readState-3: everything in one round trip, with the server's clock to judge expiry.
--
-- KEYS[1]  verdicts hash
-- KEYS[2]  admin register hash
-- KEYS[3]  backend register hash
-- ARGV     none
-- Returns  { nowMs, HGETALL KEYS[1], HGETALL KEYS[2], HGETALL KEYS[3] }; the caller skips expired fields
--          (a read writes nothing: the next write prunes).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return { now, redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]) }
