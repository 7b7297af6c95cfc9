-- publish-2: one event in a room's order: numbered, kept in the history and published, together.
--
-- KEYS[1]  meta   KEYS[2]  history
-- ARGV[1]  channel   ARGV[2]  history length (0 keeps none)   ARGV[3]  history max age ms (0 none)
-- ARGV[4]  '1' sharded pub/sub (SPUBLISH)
-- ARGV[5]  body `<mac>|<json>`
-- Returns  {seq, epoch}
--          -1   bad arguments
--! include room
local o = appendOptions()
if not o then return -1 end
local seq, epoch = append(KEYS[1], KEYS[2], o, 'e', '', ARGV[5])
return { seq, epoch }
