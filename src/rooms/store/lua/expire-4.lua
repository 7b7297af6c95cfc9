-- expire-4: removes members of an instance whose liveness ran out, each with a `leave` (reason expired) in the
-- room's order. Checked again here: an instance that renewed since (it was only paused) keeps its members, and a
-- member that moved to another instance stays.
--
-- KEYS[1]  meta   KEYS[2]  history   KEYS[3]  presence   KEYS[4]  instances
-- ARGV[1..4] as publish-2   ARGV[5]  instance   ARGV[6..] pairs of member, body
-- Returns  {removed, seq, epoch}   (seq 0 when none was removed)
--          -1   bad arguments
--! include room
local o = appendOptions()
if not o then return -1 end
local inst = ARGV[5]
local alive = tonumber(redis.call('HGET', KEYS[4], inst))
if alive and alive >= o.now then return { 0, 0, '' } end
local removed, seq, epoch = 0, 0, ''
for i = 6, #ARGV - 1, 2 do
  local value = redis.call('HGET', KEYS[3], ARGV[i])
  if value and instanceOf(value) == inst then
    redis.call('HDEL', KEYS[3], ARGV[i])
    seq, epoch = append(KEYS[1], KEYS[2], o, 'l', '', ARGV[i + 1])
    removed = removed + 1
  end
end
return { removed, seq, epoch }
