-- forward-1: send an action request to whoever holds the lease now, stamped with its token and id, in one step
-- (the caller never acts on an owner it read earlier).
--
-- KEYS[1]  lease
-- ARGV[1]  requests channel
-- ARGV[2]  the request (signed by the caller)
-- Returns  {1, token, owner}    published to the holder
--          {0}                  no lease: the caller may claim
--          {-1, token, owner}   held, but nobody listens (the holder's process is gone): the caller may break it
--! include singleton
local heldToken, heldOwner = leaseOf(redis.call('GET', KEYS[1]))
if not heldToken then return { 0 } end
local listeners = redis.call('PUBLISH', ARGV[1], heldToken .. '|' .. heldOwner .. '|' .. ARGV[2])
if listeners == 0 then return { -1, heldToken, heldOwner } end
return { 1, heldToken, heldOwner }
