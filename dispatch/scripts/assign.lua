-- assign.lua: claim the nearest eligible workers around a point, atomically, in one round trip.
--
-- KEYS[1] live marker (string)     KEYS[2] positions (GEO)     KEYS[3] seen (ZSET id -> unix s)
-- KEYS[4] duty (HASH id -> state)  KEYS[5] load (HASH id -> n) KEYS[6] max load (HASH id -> n)
-- KEYS[7] pending (ZSET token -> expiry ms)     KEYS[8] warm-up (HASH until, need: see warmup.lua)
-- ARGV[1] lon   ARGV[2] lat   ARGV[3] radius in metres   ARGV[4] how many workers to claim
-- ARGV[5] presence ttl (s)    ARGV[6] pending token      ARGV[7] pending ttl (ms)
-- ARGV[8] n = number of excluded ids, ARGV[9 .. 8+n] excluded worker ids,
-- ARGV[9+n ..] preferred worker ids (the incident's own grid): eligible ones within the radius go first.
--
-- Eligible = has a max load, duty "available", seen within the presence ttl, load < max load.
-- Returns {"nolive"} if the live state is missing (being rebuilt): nothing is claimed.
-- Returns {"warming", until, present, need} while the presence warm-up after a rebuild lasts (warmup.lua has the
-- rule; the same test, inline): nothing is claimed, the caller holds the incident until the workers are back.
-- Otherwise {"ok", id1, dist1, id2, dist2, ...}: the claimed workers, preferred first, each group nearest
-- first; each claimed worker's load is incremented by one and, when anything was claimed, the token is put
-- in pending with its expiry (the caller removes it once its database transaction is known committed).
-- The marker must name this server's run id (live.lua: a promoted replica or a restarted server may lack the last
-- writes of the master that wrote it; the state is rebuilt from PostgreSQL first).
if redis.call('GET', KEYS[1]) ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') then return {'nolive'} end

local lon, lat, radius = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local need, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local warm = redis.call('HMGET', KEYS[8], 'until', 'need')
if warm[1] then
  local present = redis.call('ZCOUNT', KEYS[3], now - ttl, '+inf')
  if now < tonumber(warm[1]) and present < tonumber(warm[2]) then
    return {'warming', warm[1], tostring(present), warm[2]}
  end
  redis.call('DEL', KEYS[8])
end

local skip = {}
local nexcl = tonumber(ARGV[8])
for i = 9, 8 + nexcl do skip[ARGV[i]] = true end

-- Which of `ids` are eligible, judged together: one HMGET/ZMSCORE per key for the whole list instead of four
-- calls per worker (a script's calls into Redis are most of its cost).
local CHUNK = 1000  -- unpack() has a limit on how many values it spreads; widened scans can exceed it
local function eligible_many(ids)
  local ok = {}
  for first = 1, #ids, CHUNK do
    local part = {}
    for i = first, math.min(#ids, first + CHUNK - 1) do part[#part + 1] = ids[i] end
    local max = redis.call('HMGET', KEYS[6], unpack(part))
    local duty = redis.call('HMGET', KEYS[4], unpack(part))
    local seen = redis.call('ZMSCORE', KEYS[3], unpack(part))
    local load = redis.call('HMGET', KEYS[5], unpack(part))
    for i = 1, #part do
      ok[first + i - 1] = max[i] ~= false and duty[i] == 'available' and seen[i] ~= false
        and tonumber(seen[i]) >= now - ttl and tonumber(load[i] or '0') < tonumber(max[i])
    end
  end
  return ok
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
local pref_ids = {}
for i = 9 + nexcl, #ARGV do
  if not skip[ARGV[i]] then pref_ids[#pref_ids + 1] = ARGV[i] end
end
if #pref_ids > 0 then
  local pos = redis.call('GEOPOS', KEYS[2], unpack(pref_ids))
  local pref = {}
  for i, id in ipairs(pref_ids) do
    local p = pos[i]
    if p then
      local d = haversine(lon, lat, tonumber(p[1]), tonumber(p[2]))
      if d <= radius then pref[#pref + 1] = {id, d} end
    end
  end
  table.sort(pref, function(a, b) return a[2] < b[2] end)
  local ids = {}
  for i, p in ipairs(pref) do ids[i] = p[1] end
  local ok = eligible_many(ids)
  for i, p in ipairs(pref) do
    if got >= need then break end
    if ok[i] then take(p[1], p[2]) end
  end
end

-- Then everyone within the radius, nearest first. GEOSEARCH sorts every member inside the circle whatever COUNT
-- says, and a 3 km circle in a city holds over a thousand workers: start small and widen (x2) only while the
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
    local ids, dists = {}, {}
    for i = seen_n + 1, #hits do
      local id = hits[i][1]
      if not judged[id] then
        judged[id] = true
        if not skip[id] then
          ids[#ids + 1] = id
          dists[#dists + 1] = hits[i][2]
        end
      end
    end
    local ok = eligible_many(ids)
    for i = 1, #ids do
      if got >= need then break end
      if ok[i] then take(ids[i], dists[i]) end
    end
    if #hits < count then break end
    seen_n = #hits
    count = count * 4
  end
  if r >= radius then break end
  r = math.min(radius, r * 2)
end

if got > 0 then
  redis.call('ZADD', KEYS[7], now_ms + tonumber(ARGV[7]), ARGV[6])
end
return out
