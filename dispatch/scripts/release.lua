-- release.lua: give back one order's worth of load for each worker (decline, timeout, resolution).
--
-- KEYS[1] live marker   KEYS[2] load (HASH)   KEYS[3] pending (ZSET token -> expiry ms)
-- ARGV[1] pending token   ARGV[2] pending ttl (ms)   ARGV[3 ..] worker ids
--
-- Loads never go below zero. Returns {"nolive"} without changing anything if the live state is missing (the
-- rebuild that restores it counts loads from PostgreSQL, which this caller's transaction is part of), else
-- {"ok", load1, load2, ...}, the new loads. The token goes into pending (the change is inside a transaction).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'nolive'} end
local t = redis.call('TIME')
local out = {'ok'}
for i = 3, #ARGV do
  local n = redis.call('HINCRBY', KEYS[2], ARGV[i], -1)
  if n < 0 then
    redis.call('HSET', KEYS[2], ARGV[i], 0)
    n = 0
  end
  out[#out + 1] = n
end
if #ARGV >= 3 then redis.call('ZADD', KEYS[3], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2]), ARGV[1]) end
return out
