-- Lua library `room`, inlined where a script says `--! include room`: appending one message to a room's order.
-- Every message of a room, whatever its kind, takes the next sequence number, goes into the bounded history and is
-- published by the same script, so the channel's order is the numbers' order and every number in the history was
-- sent. The message is `<epoch>|<seq>|<kind>|<ver>|<body>`; `body` (`<mac>|<json>`) is built and signed by the
-- writer, the rest by the script (a script cannot sign).
--
-- meta: hash `seq` (the last number given), `ver` (the shared state's version), `trimAt` (server ms before which
-- no kept message can be past the age limit), `epoch` (server ms when the room's
-- numbering began: a Redis that lost the room starts a new epoch, and subscribers resync instead of waiting for
-- numbers that will never come). History: a stream whose ids are `<seq>-<server ms>`, so it is read by number and
-- trimmed by age without a second index.
--! include now-ms

local function whole(raw)
  local n = tonumber(raw)
  if not n or n < 0 or n ~= math.floor(n) then return nil end
  return n
end

-- Drops the history's entries older than `oldest` (server ms): a few per call, so each append stays O(1). Returns
-- the server ms of the oldest entry kept, or nil when none is (the next append looks again).
local function trimOld(hist, oldest)
  local some = redis.call('XRANGE', hist, '-', '+', 'COUNT', 16)
  for i = 1, #some do
    local d = string.find(some[i][1], '-', 1, true)
    local ms = tonumber(string.sub(some[i][1], d + 1))
    if ms >= oldest then
      if i > 1 then redis.call('XTRIM', hist, 'MINID', string.sub(some[i][1], 1, d - 1)) end
      return ms
    end
  end
  if #some > 0 then
    local last = some[#some][1]
    redis.call('XTRIM', hist, 'MINID', tostring(tonumber(string.sub(last, 1, string.find(last, '-', 1, true) - 1)) + 1))
  end
  return nil
end

-- Appends one message: the next number, the history entry, the publish. Returns seq, epoch.
-- `o` holds channel, maxLen, maxAgeMs, sharded ('1' for SPUBLISH) and now.
local function append(meta, hist, o, kind, ver, body)
  local got = redis.call('HMGET', meta, 'epoch', 'trimAt')
  local epoch, trimAt = got[1], tonumber(got[2])
  if not epoch then
    -- A new numbering: a history left from an older one (meta deleted by hand) would refuse the smaller ids.
    epoch = tostring(o.now)
    redis.call('HSET', meta, 'epoch', epoch)
    redis.call('DEL', hist)
  end
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  local message = epoch .. '|' .. seq .. '|' .. kind .. '|' .. ver .. '|' .. body
  if o.maxLen > 0 then
    redis.call('XADD', hist, 'MAXLEN', o.maxLen, seq .. '-' .. o.now, 'm', message)
    if o.maxAgeMs > 0 then
      -- Nothing can be too old before trimAt (the oldest entry's time + maxAgeMs): no history read until then.
      if not trimAt or trimAt < o.now then
        local kept = trimOld(hist, o.now - o.maxAgeMs)
        -- Nil: more than a page was too old; the next append trims on.
        redis.call('HSET', meta, 'trimAt', kept and kept + o.maxAgeMs or o.now)
      end
      redis.call('PEXPIRE', hist, o.maxAgeMs)
    end
  end
  if o.sharded then redis.call('SPUBLISH', o.channel, message) else redis.call('PUBLISH', o.channel, message) end
  return seq, epoch
end

-- The append options from ARGV[1..4]: channel, maxLen, maxAgeMs, sharded.
local function appendOptions()
  local maxLen, maxAgeMs = whole(ARGV[2]), whole(ARGV[3])
  if not maxLen or not maxAgeMs then return nil end
  return { channel = ARGV[1], maxLen = maxLen, maxAgeMs = maxAgeMs, sharded = ARGV[4] == '1', now = nowMs() }
end

-- `<inst>|<meta json>` of a presence field: the instance part.
local function instanceOf(value)
  local bar = string.find(value, '|', 1, true)
  if not bar then return value end
  return string.sub(value, 1, bar - 1)
end
