-- Token bucket: CAPACITY tokens, refilled continuously at RATE tokens per second; a request
-- takes REQUESTED tokens if that many are available.
--
-- KEYS[1]  the bucket: a hash with fields tokens and ts (ms of the last refill)
-- ARGV[1]  capacity
-- ARGV[2]  refill rate, tokens per second
-- ARGV[3]  now, in Unix milliseconds
-- ARGV[4]  tokens requested (default 1)
--
-- Returns {allowed (1 or 0), tokens left (rounded down)}. The bucket expires once it would be
-- full again, so idle buckets cost no memory.

local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4] or '1')
if not (capacity and rate and now and requested) or capacity <= 0 or rate <= 0 or requested < 0 then
  return redis.error_reply('ERR usage: capacity rate_per_sec now_ms [requested]')
end

local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
local elapsed = math.max(0, now - last)
tokens = math.min(capacity, tokens + elapsed * rate / 1000)

local allowed = 0
if tokens >= requested then
  tokens = tokens - requested
  allowed = 1
end

redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
local refill_ms = math.ceil((capacity - tokens) * 1000 / rate)
redis.call('PEXPIRE', KEYS[1], math.max(1, refill_ms))
return {allowed, math.floor(tokens)}
