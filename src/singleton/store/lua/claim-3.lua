-- claim-3: take a singleton's lease when nobody holds it, or when it is held by the claimer itself (a holder that
-- lost track of its lease re-claims under a new token), or when the caller proved the holder unreachable.
--
-- KEYS[1]  lease   `<token> <owner>`, PX leaseMs
-- KEYS[2]  meta    hash: token (the last token handed out), owner, seq (the last committed sequence number)
-- KEYS[3]  state   hash: one field per top-level key of the state, its JSON
-- ARGV[1]  owner (instance id)
-- ARGV[2]  leaseMs
-- ARGV[3]  known token (the largest the claimer has seen; 0 none)
-- ARGV[4]  break token: take the lease if it still carries this token (its owner was found unreachable); 0 none
-- ARGV[5]  events channel
-- Returns  {1, token, nowMs, seq, {field, json, ...}}  claimed
--          {0, token, owner, pttlMs, nowMs}            held by someone else
--          -1                                          bad arguments
--! include singleton
local owner, leaseMs = ARGV[1], positive(ARGV[2])
if owner == '' or not leaseMs then return -1 end
local heldToken, heldOwner = leaseOf(redis.call('GET', KEYS[1]))
if heldToken and heldOwner ~= owner and heldToken ~= ARGV[4] then
  return { 0, heldToken, heldOwner, redis.call('PTTL', KEYS[1]), nowMs() }
end
local token = nextToken(KEYS[2], 'token', ARGV[3])
redis.call('HSET', KEYS[2], 'owner', owner)
redis.call('SET', KEYS[1], token .. ' ' .. owner, 'PX', leaseMs)
redis.call('PUBLISH', ARGV[5], 'a|' .. token .. '|' .. owner)
local seq = redis.call('HGET', KEYS[2], 'seq') or '0'
return { 1, token, nowMs(), seq, redis.call('HGETALL', KEYS[3]) }
