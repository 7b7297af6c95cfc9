-- removeOwner-2: one member stops owning a destination.
--
-- KEYS[1]  the destination's owner set
-- KEYS[2]  epochs hash
-- ARGV[1]  key base `{p}:co:` (unused; the coordinator convention)
-- ARGV[2]  events channel
-- ARGV[3]  destinationId
-- ARGV[4]  memberId
-- Returns  1 removed (`binding` published with the current epoch), 0 it was no owner
--! include coordinator
local destinationId = ARGV[3]
if redis.call('SREM', KEYS[1], ARGV[4]) == 0 then return 0 end
local epoch = tonumber(redis.call('HGET', KEYS[2], destinationId)) or 0
publish({ type = 'binding', destinationId = destinationId, epoch = epoch })
return 1
