-- history-2: where a room's numbering is (seq, epoch) and the kept messages from `from` on, read together: what a
-- subscriber that saw a gap, reconnected or joined with `fromSeq` needs. An empty answer with seq >= from means
-- the messages from `from` on are no longer kept.
--
-- KEYS[1]  meta   KEYS[2]  history
-- ARGV[1]  from seq   ARGV[2]  most messages (0 for none: just the position)
-- Returns  {seq, epoch, {message, ...}}
local meta = redis.call('HMGET', KEYS[1], 'seq', 'epoch')
local out = {}
local count = tonumber(ARGV[2]) or 0
if count > 0 then
  local entries = redis.call('XRANGE', KEYS[2], ARGV[1], '+', 'COUNT', count)
  for i = 1, #entries do out[i] = entries[i][2][2] end
end
return { tonumber(meta[1]) or 0, meta[2] or '', out }
