-- leave-4: a member leaves, if it is this instance's: a leave from an instance the member has since moved away
-- from (a reconnect through another instance) must not remove it.
--
-- KEYS[1]  meta   KEYS[2]  history   KEYS[3]  presence   KEYS[4]  instances (unused; the key set of join-4)
-- ARGV[1..4] as publish-2   ARGV[5]  body   ARGV[6]  member   ARGV[7]  instance
-- Returns  {seq, epoch}   left
--          0              not a member of this instance
--          -1             bad arguments
--! include room
local o = appendOptions()
if not o then return -1 end
local value = redis.call('HGET', KEYS[3], ARGV[6])
if not value or instanceOf(value) ~= ARGV[7] then return 0 end
redis.call('HDEL', KEYS[3], ARGV[6])
local seq, epoch = append(KEYS[1], KEYS[2], o, 'l', '', ARGV[5])
return { seq, epoch }
