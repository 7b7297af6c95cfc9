-- peek-3: what a mirror needs to follow a singleton: the lease, and on request the committed snapshot.
--
-- KEYS[1]  lease
-- KEYS[2]  meta
-- KEYS[3]  state
-- ARGV[1]  '1' to include the snapshot, '0' for the lease only
-- Returns  {token or '', owner or '', pttlMs, nowMs, lastToken, seq, {field, json, ...} or {}}
--! include singleton
local heldToken, heldOwner = leaseOf(redis.call('GET', KEYS[1]))
local fields = {}
if ARGV[1] == '1' then fields = redis.call('HGETALL', KEYS[3]) end
local meta = redis.call('HMGET', KEYS[2], 'token', 'seq')
return { heldToken or '', heldOwner or '', redis.call('PTTL', KEYS[1]), nowMs(), meta[1] or '0', meta[2] or '0', fields }
