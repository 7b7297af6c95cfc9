-- state-2: a room's shared state with its version and position, read together.
--
-- KEYS[1]  meta   KEYS[2]  state
-- Returns  {version, seq, epoch, {field, json, ...}}
local meta = redis.call('HMGET', KEYS[1], 'ver', 'seq', 'epoch')
return { tonumber(meta[1]) or 0, tonumber(meta[2]) or 0, meta[3] or '', redis.call('HGETALL', KEYS[2]) }
