-- Fraud check: a transaction is HIGH_RISK when the account's risk score reaches a threshold or
-- when it already made too many transactions within a sliding time window; otherwise it is
-- APPROVED and recorded in the window.
--
-- KEYS[1]  risk score of the account (a string holding a number; missing = 0)
-- KEYS[2]  the account's recent transactions: a sorted set, score = time in ms
-- ARGV[1]  now, in Unix milliseconds
-- ARGV[2]  window length in milliseconds
-- ARGV[3]  most transactions allowed within the window
-- ARGV[4]  risk score at or above which a transaction is refused
-- ARGV[5]  the transaction id
--
-- Returns {decision, transactions in the window before this one, risk score}.

local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max_count = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local txid = ARGV[5]
if not (now and window and max_count and threshold and txid) then
  return redis.error_reply('ERR usage: now_ms window_ms max_count risk_threshold txid')
end

local risk = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[2])

if risk >= threshold or count >= max_count then
  return {'HIGH_RISK', count, tostring(risk)}
end

redis.call('ZADD', KEYS[2], now, txid)
redis.call('PEXPIRE', KEYS[2], window)
return {'APPROVED', count, tostring(risk)}
