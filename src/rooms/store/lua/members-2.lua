-- members-2: the members of a room whose instance is alive, in one call (a member of a dead instance not yet
-- announced as expired is not listed).
--
-- KEYS[1]  presence   KEYS[2]  instances
-- Returns  {member, `<inst>|<meta json>`, ...}
--! include room
local now = nowMs()
local alive = {}
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) >= now then alive[all[i]] = true end
end
local out = {}
local members = redis.call('HGETALL', KEYS[1])
for i = 1, #members, 2 do
  if alive[instanceOf(members[i + 1])] then
    out[#out + 1] = members[i]
    out[#out + 1] = members[i + 1]
  end
end
return out
