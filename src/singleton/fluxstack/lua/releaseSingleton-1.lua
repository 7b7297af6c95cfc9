-- releaseSingleton-1: compare-and-delete. Delete the claim only while this instance holds it, so an instance that
-- already lost the claim cannot delete the new owner's (the seed's release and shutdown were an unconditional DEL).
--
-- KEYS[1]  claim  `<instanceId>:<componentId>`
-- ARGV[1]  `<instanceId>:`, the start of every claim value of this instance (instance ids hold no ':')
-- Returns  1 deleted, 0 absent or held by another instance
local holder = redis.call('GET', KEYS[1])
if ARGV[1] == '' or not holder or string.sub(holder, 1, #ARGV[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
