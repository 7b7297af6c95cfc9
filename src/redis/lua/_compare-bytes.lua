-- Lua library `compare-bytes`, inlined where a script says `--! include compare-bytes` (a script cannot require).
-- compareBytes(a, b): -1, 0 or 1 as a sorts before, with or after b in byte order.
-- Byte order, not Lua's '<' on strings: that one calls strcoll() and so follows the server's locale.
local function compareBytes(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y and -1 or 1 end
  end
  if #a == #b then return 0 end
  return #a < #b and -1 or 1
end
