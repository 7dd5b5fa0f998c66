-- stream_publish.lua: append one committed PostgreSQL event to the event stream, at most once per event id.
--
-- KEYS[1] event stream (XADD target)
-- KEYS[2] published index (ZSET: member = PostgreSQL event id, score = txid of the transaction that wrote it)
-- KEYS[3] relay watermark (STRING: a txid; every event written by an older transaction is already published)
-- ARGV[1] approximate MAXLEN of the stream (and the most ids the index keeps)
-- ARGV[2] PostgreSQL event id   ARGV[3] its txid   ARGV[4 ..] the entry's field, value pairs
--
-- Returns the new entry id, or false when the event was published before (in the index, or below the
-- watermark: the relay published it and forgot it). A stream that does not exist (first use, or Redis was
-- flushed) first gets an entry of kind `stream.epoch`: a client resuming across it knows it missed events.
local watermark = redis.call('GET', KEYS[3])
if watermark and tonumber(ARGV[3]) < tonumber(watermark) then return false end
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then return false end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XADD', KEYS[1], '*', 'kind', 'stream.epoch')
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
-- Without a relay moving the watermark the index would only grow: keep the newest MAXLEN ids.
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
return id
