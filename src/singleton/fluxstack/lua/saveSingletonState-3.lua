-- saveSingletonState-3: a fenced write of a singleton's state (the seed's was an unconditional SET, so a stale
-- owner could overwrite the new owner's state).
--   * Held by another instance: refused.
--   * Held by the writer (the exact claim value): written. Its token may lag the current one only while its own
--     heartbeat's re-claim is in flight; nobody else can have claimed in between, or that re-claim is refused.
--   * Held by nobody: refused when the writer's token is older than the last one handed out (someone claimed the
--     singleton after it), else written. A writer with no token writes, as in the seed: state saved before any
--     claim is what the next claim recovers.
--
-- KEYS[1]  claim        `<instanceId>:<componentId>`
-- KEYS[2]  token hash   field `token`: the last token handed out
-- KEYS[3]  state        JSON `{state, updatedAt, token?}`
-- ARGV[1]  the writer's claim value ('' when the writer believes it holds no claim)
-- ARGV[2]  the writer's token ('0' when none)
-- ARGV[3]  the state JSON to store
-- ARGV[4]  state TTL (ms; '0' = no expiry)
-- Returns  1 written
--          0 refused: another instance holds the claim
--          2 refused: nobody holds it and the writer's token is older than the current token
--          -1 bad arguments
local ours, ttl = tonumber(ARGV[2]), tonumber(ARGV[4])
if not ours or not ttl or ttl < 0 then return -1 end
local holder = redis.call('GET', KEYS[1])
if holder then
  if holder ~= ARGV[1] then return 0 end
elseif ours > 0 and (tonumber(redis.call('HGET', KEYS[2], 'token')) or 0) > ours then
  return 2
end
if ttl > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[3], ARGV[3])
end
return 1
