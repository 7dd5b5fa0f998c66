-- assign.lua: claim the nearest eligible workers around a point, atomically, in one round trip.
--
-- KEYS[1] live marker (string)     KEYS[2] positions (GEO)     KEYS[3] seen (ZSET id -> unix s)
-- KEYS[4] duty (HASH id -> state)  KEYS[5] load (HASH id -> n) KEYS[6] max load (HASH id -> n)
-- KEYS[7] pending (ZSET token -> expiry ms)
-- ARGV[1] lon   ARGV[2] lat   ARGV[3] radius in metres   ARGV[4] how many workers to claim
-- ARGV[5] presence ttl (s)    ARGV[6] pending token      ARGV[7] pending ttl (ms)
-- ARGV[8] n = number of excluded ids, ARGV[9 .. 8+n] excluded worker ids,
-- ARGV[9+n ..] preferred worker ids (the incident's own grid): eligible ones within the radius go first.
--
-- Eligible = has a max load, duty "available", seen within the presence ttl, load < max load.
-- Returns {"nolive"} if the live state is missing (being rebuilt): nothing is claimed.
-- Otherwise {"ok", id1, dist1, id2, dist2, ...}: the claimed workers, preferred first, each group nearest
-- first; each claimed worker's load is incremented by one and, when anything was claimed, the token is put
-- in pending with its expiry (the caller removes it once its database transaction is known committed).
if redis.call('EXISTS', KEYS[1]) == 0 then return {'nolive'} end

local lon, lat, radius = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local need, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local skip = {}
local nexcl = tonumber(ARGV[8])
for i = 9, 8 + nexcl do skip[ARGV[i]] = true end

local function eligible(id)
  local max = redis.call('HGET', KEYS[6], id)
  if not max or redis.call('HGET', KEYS[4], id) ~= 'available' then return false end
  local seen = redis.call('ZSCORE', KEYS[3], id)
  if not seen or tonumber(seen) < now - ttl then return false end
  return tonumber(redis.call('HGET', KEYS[5], id) or '0') < tonumber(max)
end

-- Same formula and earth radius as Redis GEO, so preferred and searched distances compare.
local function haversine(lon1, lat1, lon2, lat2)
  local r = math.pi / 180
  local u = math.sin((lat2 - lat1) * r / 2)
  local v = math.sin((lon2 - lon1) * r / 2)
  local a = u * u + math.cos(lat1 * r) * math.cos(lat2 * r) * v * v
  return 2 * 6372797.560856 * math.asin(math.sqrt(a))
end

local out = {'ok'}
local got = 0
local function take(id, dist)
  redis.call('HINCRBY', KEYS[5], id, 1)
  skip[id] = true
  out[#out + 1] = id
  out[#out + 1] = tostring(dist)
  got = got + 1
end

-- Own-grid workers first (few: one grid's workers), nearest first.
local pref = {}
for i = 9 + nexcl, #ARGV do
  local id = ARGV[i]
  if not skip[id] then
    local pos = redis.call('GEOPOS', KEYS[2], id)[1]
    if pos then
      local d = haversine(lon, lat, tonumber(pos[1]), tonumber(pos[2]))
      if d <= radius then pref[#pref + 1] = {id, d} end
    end
  end
end
table.sort(pref, function(a, b) return a[2] < b[2] end)
for _, p in ipairs(pref) do
  if got >= need then break end
  if eligible(p[1]) then take(p[1], p[2]) end
end

-- Then everyone within the radius, nearest first. GEOSEARCH sorts every member inside the circle whatever COUNT
-- says, and a 3 km circle in a city holds over a thousand workers: start small and widen (x4) only while the
-- circle holds too few eligible workers. Members of a circle are exactly the nearest ones, so the outcome is that
-- of one search at the full radius. Within a circle, the scan widens while it keeps coming back full.
local judged = {}
local r = math.min(radius, 250)
while got < need do
  local count = math.max(16, need * 8)
  local seen_n = 0
  while got < need do
    local hits = redis.call('GEOSEARCH', KEYS[2], 'FROMLONLAT', lon, lat, 'BYRADIUS', r, 'm',
                            'ASC', 'COUNT', count, 'WITHDIST')
    for i = seen_n + 1, #hits do
      if got >= need then break end
      local id = hits[i][1]
      if not judged[id] then
        judged[id] = true
        if not skip[id] and eligible(id) then take(id, hits[i][2]) end
      end
    end
    if #hits < count then break end
    seen_n = #hits
    count = count * 4
  end
  if r >= radius then break end
  r = math.min(radius, r * 4)
end

if got > 0 then
  redis.call('ZADD', KEYS[7], now_ms + tonumber(ARGV[7]), ARGV[6])
end
return out
