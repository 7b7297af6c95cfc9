-- addOwner-2: fan-out: one more member owns a destination.
--
-- KEYS[1]  the destination's owner set
-- KEYS[2]  epochs hash
-- ARGV[1]  key base `{p}:co:` (unused; the coordinator convention)
-- ARGV[2]  events channel
-- ARGV[3]  destinationId
-- ARGV[4]  memberId
-- Returns  1 added (`binding` published; a new epoch when the set was empty, as for a claim),
--          0 already an owner
--! include coordinator
local destinationId = ARGV[3]
local first = redis.call('SCARD', KEYS[1]) == 0
if redis.call('SADD', KEYS[1], ARGV[4]) == 0 then return 0 end
local epoch
if first then
  epoch = nextEpoch(KEYS[2], destinationId)
else
  epoch = tonumber(redis.call('HGET', KEYS[2], destinationId)) or 0
end
publish({ type = 'binding', destinationId = destinationId, epoch = epoch })
return 1
