-- report.lua: store workers' position reports, each unless a newer one is already stored.
--
-- KEYS[1] positions (GEO)   KEYS[2] seen (ZSET id -> unix s)   KEYS[3] max load (HASH)
-- ARGV: one group of four per report, in order: worker id, lon, lat, report time (unix s)
--
-- A batch sent late by a phone that was offline must not overwrite a fresher fix, hence the compare; reports
-- of one worker in the same call are applied in order, as separate calls would be.
-- Returns {stored, registered} per report, flattened: stored 1 if the position was written; registered 1 if
-- the worker has live state (a max load entry) - if not, the caller registers the worker from PostgreSQL.
local out = {}
for i = 1, #ARGV, 4 do
  local id, ts = ARGV[i], tonumber(ARGV[i + 3])
  local stored = 0
  local prev = redis.call('ZSCORE', KEYS[2], id)
  if not prev or tonumber(prev) < ts then
    redis.call('GEOADD', KEYS[1], ARGV[i + 1], ARGV[i + 2], id)
    redis.call('ZADD', KEYS[2], ts, id)
    stored = 1
  end
  out[#out + 1] = stored
  out[#out + 1] = redis.call('HEXISTS', KEYS[3], id)
end
return out
