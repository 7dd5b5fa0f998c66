-- undo.lua: reverse a claim or release whose database transaction rolled back.
--
-- KEYS[1] load (HASH)   KEYS[2] pending (ZSET)
-- ARGV[1] pending token   ARGV[2] delta per worker (-1 undoes a claim, +1 undoes a release)   ARGV[3 ..] worker ids
--
-- Applies only if the token is still pending: ZREM decides, so the undo happens at most once. A reconcile
-- that ran in between set every load from PostgreSQL and cleared pending; the undo must then do nothing.
-- Loads never go below zero. Returns 1 if applied, 0 if not.
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
local delta = tonumber(ARGV[2])
for i = 3, #ARGV do
  local n = redis.call('HINCRBY', KEYS[1], ARGV[i], delta)
  if n < 0 then redis.call('HSET', KEYS[1], ARGV[i], 0) end
end
return 1
