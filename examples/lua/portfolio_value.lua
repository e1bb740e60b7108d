-- Portfolio valuation: the positions hash (symbol -> quantity) valued at the latest prices.
--
-- KEYS[1]  the positions hash
-- ARGV[1]  prefix of the price keys: the price of SYMBOL is at <prefix>SYMBOL
--
-- Returns {total, symbol1, value1, symbol2, value2, ...} with values as strings (2 decimals),
-- symbols in sorted order. A position without a price is valued at 0 and listed.
-- Note: the price keys are computed here, so they are not declared in KEYS (fine on a single
-- node; in a cluster, keep all of them in one hash slot with a {tag}).

local prefix = ARGV[1] or 'price:'
local positions = redis.call('HGETALL', KEYS[1])
local symbols = {}
local qty = {}
for i = 1, #positions, 2 do
  symbols[#symbols + 1] = positions[i]
  qty[positions[i]] = tonumber(positions[i + 1])
  if not qty[positions[i]] then
    return redis.error_reply('ERR quantity of ' .. positions[i] .. ' is not a number')
  end
end
table.sort(symbols)

local total = 0
local out = {''}
for _, sym in ipairs(symbols) do
  local price = tonumber(redis.call('GET', prefix .. sym) or '0')
  if not price then
    return redis.error_reply('ERR price of ' .. sym .. ' is not a number')
  end
  local value = qty[sym] * price
  total = total + value
  out[#out + 1] = sym
  out[#out + 1] = string.format('%.2f', value)
end
out[1] = string.format('%.2f', total)
return out
