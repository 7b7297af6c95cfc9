-- removeLock-2: a member releases one of its locks.
--
-- KEYS[1]  lock record
-- KEYS[2]  the member's lock set
-- ARGV[1]  key base `{p}:co:` (unused; the coordinator convention)
-- ARGV[2]  events channel
-- ARGV[3]  lockId
-- ARGV[4]  memberId
-- Returns  1 removed (`lock` published), 0 no such lock or another member owns it (left alone)
--! include coordinator
local lockId, memberId = ARGV[3], ARGV[4]
local owner = lockOwner(KEYS[1])
if owner and owner ~= memberId then return 0 end
redis.call('SREM', KEYS[2], lockId)
if not owner then return 0 end
redis.call('DEL', KEYS[1])
publish({ type = 'lock', lockId = lockId })
return 1
