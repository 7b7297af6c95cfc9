-- expired-2: the members of instances whose liveness ran out (killed, paused, cut off). An expired instance
-- with no member left is forgotten here; its members are removed by expire-4, which the caller signs messages for.
--
-- KEYS[1]  presence   KEYS[2]  instances
-- ARGV[1]  most members returned
-- Returns  {instance, member, instance, member, ...}
--! include room
local now = nowMs()
local limit = tonumber(ARGV[1]) or 1000
local dead = {}
local any = false
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) < now then
    dead[all[i]] = 0
    any = true
  end
end
if not any then return {} end
local out = {}
local cursor = '0'
repeat
  local page = redis.call('HSCAN', KEYS[1], cursor, 'COUNT', 500)
  cursor = page[1]
  local kv = page[2]
  for i = 1, #kv, 2 do
    local inst = instanceOf(kv[i + 1])
    if dead[inst] ~= nil then
      dead[inst] = dead[inst] + 1
      if #out < limit * 2 then
        out[#out + 1] = inst
        out[#out + 1] = kv[i]
      end
    end
  end
until cursor == '0'
for inst, n in pairs(dead) do
  if n == 0 then redis.call('HDEL', KEYS[2], inst) end
end
return out
