-- claim.lua: claim the given workers (an operator's choice), atomically, under the same rules as assign.lua.
--
-- KEYS[1] live marker   KEYS[2] seen (ZSET)   KEYS[3] duty (HASH)   KEYS[4] load (HASH)   KEYS[5] max load (HASH)
-- KEYS[6] pending (ZSET token -> expiry ms)
-- ARGV[1] presence ttl (s)   ARGV[2] pending token   ARGV[3] pending ttl (ms)   ARGV[4 ..] worker ids
--
-- Each worker is claimed (load + 1) if eligible; all or nothing is NOT implied: each id is judged on its own.
-- Returns {"nolive"} if the live state is missing, else {"ok", status1, status2, ...} in the order of the ids,
-- status one of: claimed | unknown (no live state for this worker) | off_duty | busy | away (no recent
-- position) | full (at max load). The token goes into pending when anything was claimed.
-- The marker must name this server's run id (live.lua: a promoted replica or a restarted server may lack the last
-- writes of the master that wrote it; the state is rebuilt from PostgreSQL first).
if redis.call('GET', KEYS[1]) ~= string.match(redis.call('INFO', 'server'), 'run_id:(%x+)') then return {'nolive'} end

local ttl = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function status(id)
  local max = redis.call('HGET', KEYS[5], id)
  if not max then return 'unknown' end
  local duty = redis.call('HGET', KEYS[3], id)
  if duty ~= 'available' then
    if duty == 'busy' then return 'busy' end
    return 'off_duty'
  end
  local seen = redis.call('ZSCORE', KEYS[2], id)
  if not seen or tonumber(seen) < now - ttl then return 'away' end
  if tonumber(redis.call('HGET', KEYS[4], id) or '0') >= tonumber(max) then return 'full' end
  return 'claimed'
end

local out = {'ok'}
local any = false
for i = 4, #ARGV do
  local s = status(ARGV[i])
  if s == 'claimed' then
    redis.call('HINCRBY', KEYS[4], ARGV[i], 1)
    any = true
  end
  out[#out + 1] = s
end
if any then redis.call('ZADD', KEYS[6], now_ms + tonumber(ARGV[3]), ARGV[2]) end
return out
