-- Lua library `fence`, inlined where a script says `--! include fence` (needs `now-ms`).
--
-- nextToken(metaKey, field, known): the next fencing token of one singleton, stored in `metaKey`'s `field`.
-- It is max(last + 1, known + 1, server ms): it goes up by at least one per claim, and because it is never below
-- the server's clock in ms it also goes up after Redis restarts empty or fails over to a replica that missed the
-- last claims (the coordinator's epochs follow the same rule). `known` is the largest token the claimer has seen,
-- so a replica that lost the counter can never hand out a token some instance already saw.
--! include now-ms
local function nextToken(metaKey, field, known)
  local last = tonumber(redis.call('HGET', metaKey, field)) or 0
  local token = math.max(last + 1, (tonumber(known) or 0) + 1, nowMs())
  local text = string.format('%.0f', token)
  redis.call('HSET', metaKey, field, text)
  return text
end
