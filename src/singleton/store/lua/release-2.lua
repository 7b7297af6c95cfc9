-- release-2: give the lease up if it is still the caller's (compare-and-delete) and tell the other instances.
--
-- KEYS[1]  lease
-- KEYS[2]  meta
-- ARGV[1]  owner
-- ARGV[2]  token
-- ARGV[3]  events channel
-- Returns  1 released, 0 not the caller's (nothing changed)
--! include singleton
local heldToken, heldOwner = leaseOf(redis.call('GET', KEYS[1]))
if heldToken ~= ARGV[2] or heldOwner ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[3], 'r|' .. heldToken)
return 1
