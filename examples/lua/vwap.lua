-- Volume-weighted average price over several symbols (or several trades of one symbol):
-- sum(price * volume) / sum(volume).
--
-- KEYS     pairs of keys: KEYS[2i-1] holds a price, KEYS[2i] the traded volume
-- ARGV[1]  decimals of the result (default 4)
--
-- Returns the VWAP as a string, or nil when the total volume is zero. Missing keys count as
-- zero volume; a key that does not hold a number is an error.

if #KEYS == 0 or #KEYS % 2 ~= 0 then
  return redis.error_reply('ERR VWAP needs pairs of price and volume keys')
end
local decimals = tonumber(ARGV[1] or '4')
if not decimals or decimals < 0 or decimals > 12 then
  return redis.error_reply('ERR decimals must be between 0 and 12')
end

local notional, volume = 0, 0
for i = 1, #KEYS, 2 do
  local price = redis.call('GET', KEYS[i])
  local vol = redis.call('GET', KEYS[i + 1])
  if price and vol then
    local p, v = tonumber(price), tonumber(vol)
    if not p or not v then
      return redis.error_reply('ERR not a number at ' .. KEYS[i] .. ' or ' .. KEYS[i + 1])
    end
    notional = notional + p * v
    volume = volume + v
  end
end

if volume == 0 then
  return false
end
return string.format('%.' .. decimals .. 'f', notional / volume)
