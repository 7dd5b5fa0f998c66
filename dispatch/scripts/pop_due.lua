-- pop_due.lua: take the due ack timers, so that each one is handled by exactly one process.
--
-- KEYS[1] ack timers (ZSET order id -> due unix ms)
-- ARGV[1] most members to take
--
-- Returns the order ids whose due time (by the Redis server clock) has passed, removed from the set in the
-- same atomic step. A process that dies holding them loses only the timer: PostgreSQL still has the order
-- offered past its ack_due_at, and the sweeper re-drives it.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
