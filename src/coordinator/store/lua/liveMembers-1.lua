-- liveMembers-1: the live members, pruning the index of the expired ones on the way.
--
-- KEYS[1]  members index
-- ARGV[1]  key base `{p}:co:` (member records and lock keys are built from it: same slot)
-- ARGV[2]  events channel
-- Returns  flat { memberId, address, load, ... } of the members whose record still exists. An index entry whose
--          record has expired is removed with the member's locks, publishing `member:down` (expired) and a
--          `lock` event per lock.
--
-- Alive means "record present": the record's PEXPIRE is the one expiry, judged by the server's clock, which the
-- resolution script reads too; the index score (expiry ms) is informative and orders nothing.
--! include coordinator
local out = {}
for _, memberId in ipairs(indexAll(KEYS[1])) do
  local m = readMember(memberId)
  if m then
    out[#out + 1] = m.id
    out[#out + 1] = m.address
    out[#out + 1] = m.load
  else
    indexRemove(KEYS[1], memberId)
    dropLocks(memberId, memberLocksKey(memberId))
    publish({ type = 'member:down', memberId = memberId, reason = 'expired' })
  end
end
return out
