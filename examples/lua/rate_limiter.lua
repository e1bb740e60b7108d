-- Sliding-window rate limiter on a sorted set: at most LIMIT requests in any WINDOW.
--
-- KEYS[1]  the sorted set of recent requests (score = time in ms)
-- ARGV[1]  now, in Unix milliseconds
-- ARGV[2]  window length in milliseconds
-- ARGV[3]  requests allowed per window
-- ARGV[4]  a unique id for this request
--
-- Returns {allowed (1 or 0), requests left in the window, ms until the oldest request leaves
-- the window (0 when allowed)}.

local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local id = ARGV[4]
if not (now and window and limit and id) or window <= 0 or limit < 0 then
  return redis.error_reply('ERR usage: now_ms window_ms limit request_id')
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - count - 1, 0}
end

local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local retry = 0
if oldest[2] then
  retry = tonumber(oldest[2]) + window - now
end
return {0, 0, retry}
