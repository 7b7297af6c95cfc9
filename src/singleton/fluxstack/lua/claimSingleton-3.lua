-- claimSingleton-3: take a free singleton claim, hand out its next fencing token, and read the state a previous
-- owner left, all at once (the seed's SET NX EX followed by a separate GET of the state).
--
-- KEYS[1]  claim        `<instanceId>:<componentId>`, PX the claim TTL
-- KEYS[2]  token hash   field `token`: the last token handed out for this singleton; never expires
-- KEYS[3]  state        JSON `{state, updatedAt, token?}` the owners save
-- ARGV[1]  the claim value `<instanceId>:<componentId>`
-- ARGV[2]  claim TTL (ms, integer >= 1)
-- ARGV[3]  the largest token the claimer has seen for this singleton ('0' when none)
-- Returns  {1, token, stateJson}  claimed (stateJson is nil when no state is stored)
--          {0}                    someone holds the claim (an exact copy of our own value included, as in the seed)
--          -1                     bad arguments
--! include fence
local ttl = tonumber(ARGV[2])
if ARGV[1] == '' or not ttl or ttl < 1 then return -1 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return { 0 } end
local token = nextToken(KEYS[2], 'token', ARGV[3])
return { 1, token, redis.call('GET', KEYS[3]) }
