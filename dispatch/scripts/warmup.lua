-- warmup.lua: is dispatch still waiting for the workers after a rebuild of the live state?
--
-- KEYS[1] seen (ZSET id -> unix s of the newest position report)   KEYS[2] warm-up (HASH until, need)
-- ARGV[1] presence ttl (s)
--
-- A rebuild (Redis flushed or restarted) restores everything from PostgreSQL but presence, which only the
-- workers' next reports bring back: claiming at once would find nobody. So the rebuild writes the warm-up: until
-- `until` (the rebuild's time + the presence ttl) or until `need` workers (a share of those on duty) are present
-- again, whichever comes first, claims of the nearest workers wait (assign.lua applies the same test inline).
-- Returns {} when there is no wait (the key is deleted once the wait is over), else {until, present, need}.
local warm = redis.call('HMGET', KEYS[2], 'until', 'need')
if not warm[1] then return {} end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local present = redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[1]), '+inf')
if now < tonumber(warm[1]) and present < tonumber(warm[2]) then
  return {warm[1], tostring(present), warm[2]}
end
redis.call('DEL', KEYS[2])
return {}
