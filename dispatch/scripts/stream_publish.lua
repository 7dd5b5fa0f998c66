-- stream_publish.lua: append committed PostgreSQL events to the event stream, in order, each at most once per
-- event id.
--
-- KEYS[1] event stream (XADD target)
-- KEYS[2] published index (ZSET: member = PostgreSQL event id, score = txid of the transaction that wrote it)
-- KEYS[3] relay watermark (STRING: a txid; every event written by an older transaction is already published)
-- ARGV[1] approximate MAXLEN of the stream (and the most ids the index keeps)
-- ARGV[2 ..] one group per event: PostgreSQL event id, its txid, n = the number of field and value strings,
--            then the entry's n field, value strings.
--
-- Returns, per event, the new entry id, or false when the event was published before (in the index, or below
-- the watermark: the relay published it and forgot it). A stream that does not exist (first use, or Redis was
-- flushed) first gets an entry of kind `stream.epoch`: a client resuming across it knows it missed events.
local watermark = tonumber(redis.call('GET', KEYS[3]) or '-1')
local out = {}
local i = 2
while i <= #ARGV do
  local event_id, txid, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local first = i + 3
  i = first + n
  local id = false
  if tonumber(txid) >= watermark and not redis.call('ZSCORE', KEYS[2], event_id) then
    if redis.call('EXISTS', KEYS[1]) == 0 then
      redis.call('XADD', KEYS[1], '*', 'kind', 'stream.epoch')
    end
    id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, first, first + n - 1))
    redis.call('ZADD', KEYS[2], txid, event_id)
  end
  out[#out + 1] = id
end
-- Without a relay moving the watermark the index would only grow: keep the newest MAXLEN ids.
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
return out
