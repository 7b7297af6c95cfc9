-- merge-3: a change to a room's shared state: fields set (their JSON text, never decoded here) or deleted, the
-- version bumped and the `state` message in the room's order, together; refused when `expected version` is given
-- and is not the stored one (updateState's optimistic check).
--
-- KEYS[1]  meta   KEYS[2]  history   KEYS[3]  state (field -> JSON text)
-- ARGV[1..4] as publish-2   ARGV[5]  body   ARGV[6]  expected version ('' any)
-- ARGV[7]  n fields to set, then n (field, json) pairs; then m, then m fields to delete; then the state's ttl ms
--          (0: it never expires; else every change sets it again)
-- Returns  {1, seq, version, epoch}   applied
--          {0, version}               the version is not the expected one
--          -1                         bad arguments
--! include room
local o = appendOptions()
if not o then return -1 end
local version = tonumber(redis.call('HGET', KEYS[1], 'ver')) or 0
if ARGV[6] ~= '' and tonumber(ARGV[6]) ~= version then return { 0, version } end
local n = whole(ARGV[7])
if not n then return -1 end
local at = 8
for _ = 1, n do
  redis.call('HSET', KEYS[3], ARGV[at], ARGV[at + 1])
  at = at + 2
end
local m = whole(ARGV[at])
if not m then return -1 end
for i = 1, m do redis.call('HDEL', KEYS[3], ARGV[at + i]) end
local ttl = whole(ARGV[at + m + 1])
if not ttl then return -1 end
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
version = redis.call('HINCRBY', KEYS[1], 'ver', 1)
local seq, epoch = append(KEYS[1], KEYS[2], o, 's', version, ARGV[5])
return { 1, seq, version, epoch }
