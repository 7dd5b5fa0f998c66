-- release.lua: take one order's worth of load off each worker, at most once per token. Used
--   * after a commit that ended orders (decline, timeout, resolution): the token was reserved in pending
--     before the commit;
--   * after a rollback of claims (undo): the token is the claim's own.
--
-- KEYS[1] load (HASH)   KEYS[2] pending (ZSET token -> expiry ms)
-- ARGV[1] token   ARGV[2 ..] worker ids
--
-- Applies only if the token is still pending: ZREM decides, so it happens at most once. A reconcile or
-- rebuild that ran in between set every load from PostgreSQL (which already counts the ended orders, and
-- never saw rolled-back claims) and cleared pending; the release must then do nothing.
-- Loads never go below zero. Returns 1 if applied, 0 if not.
--
-- Why ended orders are released only after their commit: a Redis load may count an order PostgreSQL does not
-- hold yet (claims happen before their commit) but never the reverse, so no claim can push a worker's
-- orders in PostgreSQL past their max load, not even for an instant.
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV do
  local n = redis.call('HINCRBY', KEYS[1], ARGV[i], -1)
  if n < 0 then redis.call('HSET', KEYS[1], ARGV[i], 0) end
end
return 1
