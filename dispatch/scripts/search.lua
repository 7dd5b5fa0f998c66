-- search.lua: the eligible workers of one space within a circle, nearest first (read only; dispatch/shards.py).
--
-- KEYS[1] positions (GEO)   KEYS[2] seen (ZSET id -> unix s)   KEYS[3] duty (HASH)   KEYS[4] load (HASH)
-- KEYS[5] max load (HASH)
-- ARGV[1] lon   ARGV[2] lat   ARGV[3] radius in metres   ARGV[4] GEOSEARCH COUNT   ARGV[5] presence ttl (s)
--
-- Eligible as in assign.lua and claim.lua: has a max load, duty "available", seen within the ttl, load < max load.
-- Returns {hits, id1, dist1, id2, dist2, ...}: how many members GEOSEARCH returned (fewer than COUNT: the circle
-- was searched whole), then the eligible ones among them, nearest first. Claims nothing: the caller claims with
-- claim.lua on the owner's shard, which judges each worker again atomically.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[5])
local hits = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'm',
                        'ASC', 'COUNT', ARGV[4], 'WITHDIST')
local out = {tostring(#hits)}
local CHUNK = 1000  -- unpack() has a limit on how many values it spreads
for first = 1, #hits, CHUNK do
  local part = {}
  for i = first, math.min(#hits, first + CHUNK - 1) do part[#part + 1] = hits[i][1] end
  local max = redis.call('HMGET', KEYS[5], unpack(part))
  local duty = redis.call('HMGET', KEYS[3], unpack(part))
  local seen = redis.call('ZMSCORE', KEYS[2], unpack(part))
  local load = redis.call('HMGET', KEYS[4], unpack(part))
  for i = 1, #part do
    if max[i] and duty[i] == 'available' and seen[i] and tonumber(seen[i]) >= now - ttl
        and tonumber(load[i] or '0') < tonumber(max[i]) then
      out[#out + 1] = part[i]
      out[#out + 1] = hits[first + i - 1][2]
    end
  end
end
return out
