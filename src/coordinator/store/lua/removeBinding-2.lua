-- removeBinding-2: forget a destination: its owner set and its epoch (a later claim still gets a greater epoch:
-- `nextEpoch` never issues one below the server clock).
--
-- KEYS[1]  the destination's owner set
-- KEYS[2]  epochs hash
-- ARGV[1]  key base `{p}:co:` (unused; the coordinator convention)
-- ARGV[2]  events channel
-- ARGV[3]  destinationId
-- Returns  1 removed (`binding` published with epoch 0), 0 nothing was there
--! include coordinator
local destinationId = ARGV[3]
local removed = redis.call('DEL', KEYS[1]) + redis.call('HDEL', KEYS[2], destinationId)
if removed == 0 then return 0 end
publish({ type = 'binding', destinationId = destinationId, epoch = 0 })
return 1
