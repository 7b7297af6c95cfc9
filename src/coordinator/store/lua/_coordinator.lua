-- Lua library `coordinator`, inlined where a script says `--! include coordinator` (a script cannot require).
-- @module coordinator/store/lua/coordinator: Lua helpers pasted at the top of every coordinator script.
--
-- Convention: every coordinator script takes `ARGV[1]` = the key base `{p}:co:` and `ARGV[2]` = the events
-- channel. Scripts declare in KEYS every key they can name up front; keys that depend on what a script reads (the
-- record of each owner in a set, each lock of a member) are built here from the base. That is safe on Redis
-- Cluster because the base holds the hash tag: every such key lies in the slot of the declared keys. The names
-- mirror `keys.ts`. What differs between the two layouts (the members index's type, the lock's fields) is in
-- `_layout.lua`: keyway's beside this file, platformatic's in `platformatic/`.
--! include now-ms
local BASE, CHANNEL = ARGV[1], ARGV[2]
--! include layout

local function memberKey(id) return BASE .. 'member:' .. id end
local function memberLocksKey(id) return BASE .. 'member-locks:' .. id end
local function lockKey(id) return BASE .. 'lock:' .. id end

-- The write and its notification happen in one script, so a subscriber never misses a change it could see.
local function publish(event) redis.call('PUBLISH', CHANNEL, cjson.encode(event)) end

-- A live member { id, address, load } (load kept as the decimal string written), or nil once its record expired.
local function readMember(id)
  local f = redis.call('HMGET', memberKey(id), 'address', 'load')
  if not f[1] then return nil end
  return { id = id, address = f[1], load = f[2] or '0' }
end

--! include compare-bytes
-- Whether member a is preferred to b: lower load, then lower id.
local function lighter(a, b)
  local la, lb = tonumber(a.load) or 0, tonumber(b.load) or 0
  if la ~= lb then return la < lb end
  return compareBytes(a.id, b.id) < 0
end

local function leastLoaded(list)
  local best = nil
  for _, m in ipairs(list) do
    if not best or lighter(m, best) then best = m end
  end
  return best
end

-- Deletes the locks memberId still owns (a lock id re-registered by another member is left alone) and its lock
-- set; a 'lock' event for each deleted lock.
local function dropLocks(memberId, setKey)
  for _, lockId in ipairs(redis.call('SMEMBERS', setKey)) do
    local key = lockKey(lockId)
    if lockOwner(key) == memberId then
      redis.call('DEL', key)
      publish({ type = 'lock', lockId = lockId })
    end
  end
  redis.call('DEL', setKey)
end

-- A new fencing epoch for destinationId in the epochs hash: one above the last, and never below the server clock
-- in ms (a hybrid logical clock). A master lost before replicating takes its last epochs with it; the master
-- promoted after it starts above them all, since a failover takes seconds and its clock has moved on by as much
-- (it would have to run behind the lost master's by more than the failover's length). So an epoch is never
-- handed out twice, even after a lost write or a deleted binding. Kept under 2^53: exact as a Lua and JS number,
-- and written with %.0f (tostring would print it in exponent form).
local function nextEpoch(epochsKey, destinationId)
  local last = tonumber(redis.call('HGET', epochsKey, destinationId)) or 0
  local epoch = math.max(last + 1, nowMs())
  redis.call('HSET', epochsKey, destinationId, string.format('%.0f', epoch))
  return epoch
end

local function positiveInt(raw)
  local n = tonumber(raw)
  if not n or n < 1 or n ~= math.floor(n) then return nil end
  return n
end
