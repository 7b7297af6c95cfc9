-- renewSingleton-2: the heartbeat. Compare-and-expire our claim; when it has vanished (expired, or deleted by hand)
-- and nobody claimed the singleton since our token, take it back under a new token. The seed did GET, then EXPIRE
-- or SET NX, in separate round trips, so the claim could change hands between them.
--
-- KEYS[1]  claim        `<instanceId>:<componentId>`, PX the claim TTL
-- KEYS[2]  token hash   field `token`: the last token handed out
-- ARGV[1]  our claim value
-- ARGV[2]  claim TTL (ms, integer >= 1)
-- ARGV[3]  our token
-- Returns  {1, token}  still ours: expiry pushed back, token unchanged
--          {2, token}  it had vanished and nobody took it since: re-claimed under this new token
--          {0}         lost: someone else holds it, or someone claimed it after us (a larger token exists)
--          -1          bad arguments
--! include fence
local ttl, ours = tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[1] == '' or not ttl or ttl < 1 or not ours then return -1 end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return { 1, ARGV[3] }
end
if holder then return { 0 } end
-- A larger token means another instance owned the singleton meanwhile (and may have saved newer state).
if (tonumber(redis.call('HGET', KEYS[2], 'token')) or 0) > ours then return { 0 } end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return { 2, nextToken(KEYS[2], 'token', ARGV[3]) }
