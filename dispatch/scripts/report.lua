-- report.lua: store a worker's position report unless a newer one is already stored.
--
-- KEYS[1] positions (GEO)   KEYS[2] seen (ZSET id -> unix s)   KEYS[3] max load (HASH)
-- ARGV[1] worker id   ARGV[2] lon   ARGV[3] lat   ARGV[4] report time (unix s)
--
-- A batch sent late by a phone that was offline must not overwrite a fresher fix, hence the compare.
-- Returns {stored, registered}: stored 1 if the position was written; registered 1 if the worker has live
-- state (a max load entry) - if not, the caller registers the worker from PostgreSQL.
local id, ts = ARGV[1], tonumber(ARGV[4])
local stored = 0
local prev = redis.call('ZSCORE', KEYS[2], id)
if not prev or tonumber(prev) < ts then
  redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], id)
  redis.call('ZADD', KEYS[2], ts, id)
  stored = 1
end
return {stored, redis.call('HEXISTS', KEYS[3], id)}
