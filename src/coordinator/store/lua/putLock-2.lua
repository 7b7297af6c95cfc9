-- putLock-2: a lock routed to its member, tracked in that member's lock set.
--
-- KEYS[1]  lock record (a HASH, see `_layout.lua`)
-- KEYS[2]  the owning member's lock set
-- ARGV[1]  key base `{p}:co:` (a previous owner's lock set is built from it: same slot)
-- ARGV[2]  events channel
-- ARGV[3]  lockId
-- ARGV[4]  memberId (written after the metadata: metadata cannot override it)
-- ARGV[5]  destinationId
-- ARGV[6]  metadata JSON (stored verbatim)
-- ARGV[7]  ttlMs (integer > 0)
-- Returns  1 written (`lock` published), -1 bad arguments
--! include coordinator
local lockId, memberId = ARGV[3], ARGV[4]
local ttl = positiveInt(ARGV[7])
if not ttl then return -1 end
local previous = lockOwner(KEYS[1])
if previous and previous ~= memberId then redis.call('SREM', memberLocksKey(previous), lockId) end
if not writeLock(KEYS[1], memberId, ARGV[5], ARGV[6]) then return -1 end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SADD', KEYS[2], lockId)
-- The set lives as long as its longest lock (PTTL is -1 for a set just created).
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
publish({ type = 'lock', lockId = lockId })
return 1
