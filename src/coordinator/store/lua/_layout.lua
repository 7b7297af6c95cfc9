-- Lua library `layout` (keyway's own, hash-tagged `{p}:co:` keys), inlined through `_coordinator.lua`.
-- The members index is a ZSET memberId -> expiry (ms, informative); a lock is a HASH with `memberId`,
-- `destinationId` and `metadata` (JSON) fields, so metadata can never stand in for the owner.
local function indexAdd(key, id, expiresAtMs) redis.call('ZADD', key, expiresAtMs, id) end
local function indexRemove(key, id) return redis.call('ZREM', key, id) end
local function indexAll(key) return redis.call('ZRANGE', key, 0, -1) end

local function lockOwner(key) return redis.call('HGET', key, 'memberId') end

-- Replaces the lock record; false when the metadata is no JSON object.
local function writeLock(key, memberId, destinationId, metadataJson)
  redis.call('DEL', key)
  redis.call('HSET', key, 'memberId', memberId, 'destinationId', destinationId, 'metadata', metadataJson)
  return true
end

-- owner, destinationId, metadata JSON (nil owner when there is no lock).
local function readLock(key)
  local f = redis.call('HMGET', key, 'memberId', 'destinationId', 'metadata')
  return f[1], f[2] or '', f[3] or '{}'
end
