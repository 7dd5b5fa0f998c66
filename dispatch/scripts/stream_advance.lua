-- stream_advance.lua: move the relay watermark forward (never back) and forget published ids below it.
--
-- KEYS[1] relay watermark (STRING txid)   KEYS[2] published index (ZSET id -> txid)
-- ARGV[1] the new watermark: xmin of the snapshot in which the relay published every visible event
--
-- Below the watermark every event is published and no new one can appear (its transaction ended before the
-- snapshot), so the relay never scans those ids again and stream_publish.lua refuses them.
-- Returns 1 if the watermark moved, 0 if it was already at or past ARGV[1].
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[1])
return 1
