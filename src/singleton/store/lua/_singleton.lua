-- Lua library `singleton`, inlined where a script says `--! include singleton`: the lease's encoding and the
-- hints the scripts publish on a singleton's events channel (TypeScript's side is `singleton/store/codec.ts`).
--
-- The lease is one string `<token> <owner>` with a PX expiry, so a compare-and-set is one GET and one compare.
--! include fence

local function leaseOf(raw)
  if not raw then return nil, nil end
  local space = string.find(raw, ' ', 1, true)
  if not space then return nil, nil end
  return string.sub(raw, 1, space - 1), string.sub(raw, space + 1)
end

local function positive(raw)
  local n = tonumber(raw)
  if not n or n < 1 or n ~= math.floor(n) then return nil end
  return n
end
