-- removeMember-3: deregistration: the record, its index entry and every lock it owns.
--
-- KEYS[1]  members index
-- KEYS[2]  member record
-- KEYS[3]  the member's lock set
-- ARGV[1]  key base `{p}:co:` (lock keys are built from it: same slot)
-- ARGV[2]  events channel
-- ARGV[3]  memberId
-- Returns  1 removed (`member:down` deregistered published, and a `lock` event per removed lock), 0 it was
--          not registered (its leftover locks are still removed)
--! include coordinator
local memberId = ARGV[3]
local removed = indexRemove(KEYS[1], memberId) + redis.call('DEL', KEYS[2])
dropLocks(memberId, KEYS[3])
if removed == 0 then return 0 end
publish({ type = 'member:down', memberId = memberId, reason = 'deregistered' })
return 1
