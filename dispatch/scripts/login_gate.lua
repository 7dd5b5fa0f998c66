-- login_gate.lua: may this login attempt be checked? Counts it against the account before the password is.
--
-- KEYS[1] the account's throttle (HASH failures, until)   KEYS[2] the address's throttle (HASH failures, until)
-- ARGV[1] now (unix ms)   ARGV[2] failures allowed per account   ARGV[3] first throttle (ms)
-- ARGV[4] longest throttle (ms)   ARGV[5] how long failures are remembered (ms)
--
-- Returns 0 when the attempt may go on, else the ms to wait (the account or the address is throttled).
-- An admitted attempt counts as a failure of the account at once, and a success clears the account (DEL): so
-- attempts sent all at once cannot all pass before the first failure is written. From the failure that reaches
-- the limit on, the account waits first * 2^(failures - limit) ms, at most the longest. Addresses are counted
-- after the fact (login_failed.lua), as successes must not count: 320 workers log in from one address.
local now = tonumber(ARGV[1])
local wait = math.max(tonumber(redis.call('HGET', KEYS[1], 'until') or '0') - now,
                      tonumber(redis.call('HGET', KEYS[2], 'until') or '0') - now, 0)
if wait > 0 then return wait end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local limit = tonumber(ARGV[2])
local lock = 0
if failures >= limit then
  lock = math.floor(math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (failures - limit)))
  redis.call('HSET', KEYS[1], 'until', now + lock)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + lock)
return 0
