-- login_failed.lua: a wrong password (or unknown user) from one client address.
--
-- KEYS[1] the address's throttle (HASH failures, until)
-- ARGV[1] now (unix ms)   ARGV[2] failures allowed per address   ARGV[3] first throttle (ms)
-- ARGV[4] longest throttle (ms)   ARGV[5] how long failures are remembered (ms)
--
-- From the failure that reaches the limit on, the address waits first * 2^(failures - limit) ms, at most the
-- longest (login_gate.lua refuses it meanwhile). Returns the address's failures.
local now = tonumber(ARGV[1])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local limit = tonumber(ARGV[2])
local lock = 0
if failures >= limit then
  lock = math.floor(math.min(tonumber(ARGV[4]), tonumber(ARGV[3]) * 2 ^ (failures - limit)))
  redis.call('HSET', KEYS[1], 'until', now + lock)
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + lock)
return failures
