"""dispatch: who goes, in Redis. It owns workers' positions, presence and availability, the nearest-available search
and the atomic claim (Lua scripts with KEYS/ARGV contracts, scripts/), position batching, ack timers, and every Redis
key name gridcmd uses (keys). It imports nothing of gridcmd (not command/, geo/ or web/); it takes a Redis client
as an argument."""
