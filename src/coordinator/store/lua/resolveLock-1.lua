-- resolveLock-1: a lock and its owner's record in one round trip.
--
-- KEYS[1]  lock record
-- ARGV[1]  key base `{p}:co:` (the owner's record is built from it: same slot)
-- ARGV[2]  events channel (unused; the coordinator convention)
-- Returns  nil when there is no lock; { memberId, destinationId, metadata } when its owner is dead;
--          { memberId, destinationId, metadata, address, load } when it is alive
--! include coordinator
local owner, destinationId, metadata = readLock(KEYS[1])
if not owner then return nil end
local reply = { owner, destinationId, metadata }
local m = readMember(owner)
if m then
  reply[4] = m.address
  reply[5] = m.load
end
return reply
