-- commit-5: commit one action's state change under the owner's fencing token, record its result for idempotent
-- retries, renew the lease, then publish the delta to the mirrors and the reply to the caller; all or nothing.
-- A reply is therefore never sent for a change that is not committed, and a stale owner commits nothing.
--
-- KEYS[1]  lease
-- KEYS[2]  meta     (seq, token of the last commit)
-- KEYS[3]  state    one field per top-level key, its JSON
-- KEYS[4]  done     hash: idempotency key -> result
-- KEYS[5]  doneAt   zset: idempotency key -> server ms it was recorded
-- ARGV[1]  owner            ARGV[2]  token
-- ARGV[3]  base seq (the committed seq the owner's state is at)
-- ARGV[4]  new seq (base + 1 for a change; base for none)
-- ARGV[5]  deadline, server ms (0 none): past it nothing is committed
-- ARGV[6]  leaseMs
-- ARGV[7]  idempotency key ('' none)   ARGV[8]  the result to record
-- ARGV[9]  how long results are kept (ms)   ARGV[10]  most results kept
-- ARGV[11] events channel   ARGV[12] delta message ('' none)
-- ARGV[13] reply channel    ARGV[14] reply message ('' none)
-- ARGV[15] '1' restore: replace the whole state (the owner is ahead of what Redis kept), '0' a change
-- ARGV[16] n fields to set, then n (field, json) pairs; then m, then m fields to delete
-- Returns  {1, nowMs}            committed
--          {-1, token}           fenced: the lease is not (owner, token); token is the holder's or ''
--          {-2, seq}             Redis is not at base seq (another commit, or lost writes)
--          {-3, nowMs}           the deadline passed
--          {-4, result}          this idempotency key was committed before; its result
--          -1                    bad arguments
--! include singleton
local heldToken, heldOwner = leaseOf(redis.call('GET', KEYS[1]))
if heldToken ~= ARGV[2] or heldOwner ~= ARGV[1] then return { -1, heldToken or '' } end
local now = nowMs()
local deadline = tonumber(ARGV[5]) or 0
if deadline > 0 and now > deadline then return { -3, now } end
local key = ARGV[7]
if key ~= '' then
  local previous = redis.call('HGET', KEYS[4], key)
  if previous then return { -4, previous } end
end
local stored = tonumber(redis.call('HGET', KEYS[2], 'seq')) or 0
local base, seq = tonumber(ARGV[3]), tonumber(ARGV[4])
local leaseMs, keepMs, keepMax = positive(ARGV[6]), positive(ARGV[9]), positive(ARGV[10])
if not base or not seq or not leaseMs or not keepMs or not keepMax then return -1 end
if ARGV[15] == '1' then
  if stored >= seq then return { -2, stored } end
  redis.call('DEL', KEYS[3])
elseif stored ~= base then
  return { -2, stored }
end
local i = 16
local n = tonumber(ARGV[i])
for j = 1, n do
  redis.call('HSET', KEYS[3], ARGV[i + 2 * j - 1], ARGV[i + 2 * j])
end
i = i + 2 * n + 1
local m = tonumber(ARGV[i])
for j = 1, m do
  redis.call('HDEL', KEYS[3], ARGV[i + j])
end
if seq ~= stored then redis.call('HSET', KEYS[2], 'seq', string.format('%.0f', seq), 'committed', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], leaseMs)
if key ~= '' then
  redis.call('HSET', KEYS[4], key, ARGV[8])
  redis.call('ZADD', KEYS[5], now, key)
  local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now - keepMs, 'LIMIT', 0, 64)
  local over = redis.call('ZCARD', KEYS[5]) - keepMax
  if over > 0 then
    for _, k in ipairs(redis.call('ZRANGE', KEYS[5], 0, over - 1)) do old[#old + 1] = k end
  end
  for _, k in ipairs(old) do
    redis.call('HDEL', KEYS[4], k)
    redis.call('ZREM', KEYS[5], k)
  end
end
if ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[11], ARGV[12]) end
if ARGV[14] ~= '' then redis.call('PUBLISH', ARGV[13], ARGV[14]) end
return { 1, now }
