-- join-4: a member joins a room from an instance (or joins again, or moves to another instance): the presence
-- entry, the instance's liveness and the `join` message in the room's order, together.
--
-- KEYS[1]  meta   KEYS[2]  history   KEYS[3]  presence (member -> `<inst>|<meta json>`)
-- KEYS[4]  instances (inst -> server ms until which it is alive)
-- ARGV[1..4] as publish-2   ARGV[5]  body
-- ARGV[6]  member   ARGV[7]  instance   ARGV[8]  meta json   ARGV[9]  presence ttl ms
-- Returns  {seq, epoch, previous instance or ''}
--          -1   bad arguments
--! include room
local o = appendOptions()
local ttl = whole(ARGV[9])
if not o or not ttl or ARGV[6] == '' then return -1 end
local previous = redis.call('HGET', KEYS[3], ARGV[6])
redis.call('HSET', KEYS[3], ARGV[6], ARGV[7] .. '|' .. ARGV[8])
redis.call('HSET', KEYS[4], ARGV[7], o.now + ttl)
local seq, epoch = append(KEYS[1], KEYS[2], o, 'j', '', ARGV[5])
return { seq, epoch, previous and instanceOf(previous) or '' }
