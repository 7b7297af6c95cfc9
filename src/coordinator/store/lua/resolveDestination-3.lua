-- resolveDestination-3: the resolution of one destination, decided and written in one script so
-- that concurrent first touches bind exactly one owner and a cold resolve costs one round trip.
--
-- KEYS[1]  the destination's owner set
-- KEYS[2]  epochs hash (destinationId -> fencing epoch)
-- KEYS[3]  members index
-- ARGV[1]  key base `{p}:co:` (owners' and candidates' records are built from it: same slot)
-- ARGV[2]  events channel
-- ARGV[3]  destinationId
-- ARGV[4]  claimOnMiss: '1' or '0'
-- ARGV[5]  reassignOrphans: '1' or '0'
-- ARGV[6]  candidate memberId, '' for none
-- ARGV[7]  suspect memberId, '' for none: a member the caller could not reach; dead for this call only (its record
--          and set entry stay; it is neither returned nor picked)
-- Returns  { 'owner', memberId, address, load, epoch }: a live owner (the candidate when it is one, else the
--            least loaded, ties by id); dead owners beside it are removed (`binding` published)
--          { 'claimed', memberId, address, load, epoch }: the set was empty and the candidate (or, when it is
--            dead, the least-loaded live member) was bound; a new epoch (`nextEpoch`), `binding` published
--          { 'reassigned', memberId, address, load, epoch, previousOwner... }: every owner was dead; the set
--            now holds the new member only; a new epoch (`nextEpoch`), `binding` published
--          { 'orphaned', epoch, owner... }: every owner is dead, and no reassignment (asked or possible)
--          { 'unbound' }: empty set, and no claim (asked or possible)
--          -1 bad arguments
--! include coordinator
local destinationId, candidate, suspect = ARGV[3], ARGV[6], ARGV[7] or ''
local claimOnMiss, reassignOrphans = ARGV[4] == '1', ARGV[5] == '1'

local function currentEpoch() return tonumber(redis.call('HGET', KEYS[2], destinationId)) or 0 end

-- The candidate when alive, else the least-loaded live member of the index (expired entries skipped).
local function pickLive()
  if candidate ~= '' and candidate ~= suspect then
    local m = readMember(candidate)
    if m then return m end
  end
  local live = {}
  for _, id in ipairs(indexAll(KEYS[3])) do
    local m = id ~= suspect and readMember(id) or nil
    if m then live[#live + 1] = m end
  end
  return leastLoaded(live)
end

-- Makes m the only owner; a new fencing epoch.
local function bind(m)
  redis.call('DEL', KEYS[1])
  redis.call('SADD', KEYS[1], m.id)
  local epoch = nextEpoch(KEYS[2], destinationId)
  publish({ type = 'binding', destinationId = destinationId, epoch = epoch })
  return epoch
end

local owners = redis.call('SMEMBERS', KEYS[1])
if #owners == 0 then
  local m = claimOnMiss and pickLive() or nil
  if not m then return { 'unbound' } end
  return { 'claimed', m.id, m.address, m.load, bind(m) }
end

local alive, dead = {}, {}
for _, id in ipairs(owners) do
  if id ~= suspect then
    local m = readMember(id)
    if m then alive[#alive + 1] = m else dead[#dead + 1] = id end
  end
end

if #alive > 0 then
  local epoch = currentEpoch()
  -- Only while some owner lives: a set whose owners all died is kept, so the orphan is seen (and reported).
  if #dead > 0 then
    for _, id in ipairs(dead) do redis.call('SREM', KEYS[1], id) end
    publish({ type = 'binding', destinationId = destinationId, epoch = epoch })
  end
  local pick = nil
  for _, m in ipairs(alive) do
    if m.id == candidate then pick = m end
  end
  pick = pick or leastLoaded(alive)
  return { 'owner', pick.id, pick.address, pick.load, epoch }
end

local m = reassignOrphans and pickLive() or nil
local reply
if m then
  reply = { 'reassigned', m.id, m.address, m.load, bind(m) }
else
  reply = { 'orphaned', currentEpoch() }
end
for _, id in ipairs(owners) do reply[#reply + 1] = id end
return reply
