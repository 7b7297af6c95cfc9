-- Lua library `layout` for @platformatic/coordinator's Valkey layout (`<p>:members`, `<p>:member:<id>`,
-- `<p>:destination:<id>`, `<p>:lock:<id>`), inlined through `_coordinator.lua` in its place, so that pods and
-- coordinators of either package share one Redis during a migration. The members index is a SET of member ids
-- (liveness is the record's own TTL, as platformatic reads it); a lock is a HASH whose `podId` and `destinationId`
-- fields sit beside the metadata's own fields (string values, as platformatic writes them), the two names written
-- last so metadata can never stand in for the owner.
local function indexAdd(key, id, _expiresAtMs) redis.call('SADD', key, id) end
local function indexRemove(key, id) return redis.call('SREM', key, id) end
local function indexAll(key) return redis.call('SMEMBERS', key) end

local function lockOwner(key) return redis.call('HGET', key, 'podId') end

local function writeLock(key, memberId, destinationId, metadataJson)
  local ok, metadata = pcall(cjson.decode, metadataJson)
  if not ok or type(metadata) ~= 'table' then return false end
  redis.call('DEL', key)
  for field, value in pairs(metadata) do
    if field ~= 'podId' and field ~= 'destinationId' and type(field) == 'string' then
      local text = type(value) == 'string' and value or cjson.encode(value)
      redis.call('HSET', key, field, text)
    end
  end
  redis.call('HSET', key, 'podId', memberId, 'destinationId', destinationId)
  return true
end

local function readLock(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil, '', '{}' end
  local owner, destinationId, metadata, any = nil, '', {}, false
  for i = 1, #flat, 2 do
    local field, value = flat[i], flat[i + 1]
    if field == 'podId' then owner = value
    elseif field == 'destinationId' then destinationId = value
    else metadata[field] = value; any = true end
  end
  -- cjson encodes an empty table as [] (it cannot tell); the codec wants an object.
  return owner, destinationId, any and cjson.encode(metadata) or '{}'
end
