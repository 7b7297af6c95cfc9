-- Lua library `common`, inlined where a script says `--! include common` (a script cannot require).
-- nowMs(), decodeFresh(raw, now), pruneExpired(key, now), extendTtl(key, ttlMs).
--! include now-ms
-- The decoded entry when it is well formed and not expired, else nil.
local function decodeFresh(raw, now)
  if not raw then return nil end
  local ok, entry = pcall(cjson.decode, raw)
  if not ok or type(entry) ~= 'table' or type(entry.expiresAtMs) ~= 'number' then return nil end
  if entry.expiresAtMs <= now then return nil end
  return entry
end

-- Redis 7.0 has no per-field TTL: expired (or unreadable) fields are removed on each write. The hashes hold
-- one field per backend (and replica), so a full scan stays small.
local function pruneExpired(key, now)
  local all = redis.call('HGETALL', key)
  for i = 1, #all, 2 do
    if not decodeFresh(all[i + 1], now) then redis.call('HDEL', key, all[i]) end
  end
end

-- The hash lives at least as long as its longest-lived field, so an abandoned prefix vanishes on its own.
local function extendTtl(key, ttlMs)
  if redis.call('PTTL', key) < ttlMs then redis.call('PEXPIRE', key, ttlMs) end
end
