-- putMember-3: registration and heartbeat in one script, always writing the FULL record.
--
-- KEYS[1]  members index (see `_layout.lua`)
-- KEYS[2]  member record (HASH address, load)
-- KEYS[3]  the member's lock set
-- ARGV[1]  key base `{p}:co:` (lock keys are built from it: same slot)
-- ARGV[2]  events channel
-- ARGV[3]  memberId
-- ARGV[4]  address
-- ARGV[5]  load (decimal string)
-- ARGV[6]  ttlMs (integer > 0)
-- ARGV[7]  lockTtlMs: integer > 0 refreshes the TTL of every lock the member still owns (heartbeat); '0' leaves
--          the locks alone (registration)
-- Returns  1 when `member:up` was published (the record was absent, i.e. first registration or a heartbeat after
--          expiry, or its address changed), 0 for a refresh, -1 bad arguments
--! include coordinator
local memberId, address, load = ARGV[3], ARGV[4], ARGV[5]
local ttl = positiveInt(ARGV[6])
if not ttl or not tonumber(load) or (ARGV[7] ~= '0' and not positiveInt(ARGV[7])) then return -1 end
local now = nowMs()
local oldAddress = redis.call('HGET', KEYS[2], 'address')
-- Full record every time: a heartbeat that finds the record expired restores it, address included.
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'address', address, 'load', load)
redis.call('PEXPIRE', KEYS[2], ttl)
indexAdd(KEYS[1], memberId, now + ttl)
local lockTtl = tonumber(ARGV[7])
if lockTtl > 0 then
  for _, lockId in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    local key = lockKey(lockId)
    if lockOwner(key) == memberId then
      redis.call('PEXPIRE', key, lockTtl)
    else
      redis.call('SREM', KEYS[3], lockId)
    end
  end
  redis.call('PEXPIRE', KEYS[3], lockTtl)
end
if oldAddress == address then return 0 end
publish({ type = 'member:up', member = { memberId = memberId, address = address, load = tonumber(load) } })
return 1
