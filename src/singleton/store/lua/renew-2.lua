-- renew-2: extend the lease if it is still the caller's, under the caller's token (compare-and-expire).
--
-- KEYS[1]  lease
-- KEYS[2]  meta
-- ARGV[1]  owner
-- ARGV[2]  token
-- ARGV[3]  leaseMs
-- Returns  {1, nowMs, seq}             renewed; seq is the last committed sequence number (an owner ahead of it
--                                      re-commits its state: Redis lost writes)
--          {0, nowMs}                  no lease (expired, or Redis lost it)
--          {-1, nowMs, token, owner}   someone else holds it
--          -1                          bad arguments
--! include singleton
local leaseMs = positive(ARGV[3])
if not leaseMs then return -1 end
local heldToken, heldOwner = leaseOf(redis.call('GET', KEYS[1]))
if not heldToken then return { 0, nowMs() } end
if heldToken ~= ARGV[2] or heldOwner ~= ARGV[1] then return { -1, nowMs(), heldToken, heldOwner } end
redis.call('PEXPIRE', KEYS[1], leaseMs)
return { 1, nowMs(), redis.call('HGET', KEYS[2], 'seq') or '0' }
