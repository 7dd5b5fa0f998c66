-- live.lua: is the live dispatch state complete on this server?
--
-- KEYS[1] live marker (string: the run id of the server on which a rebuild from PostgreSQL last completed)
-- Returns 1 when the marker names this server's run id, else 0. A replica promoted by Sentinel holds the old
-- master's marker (replicated) but maybe not the master's last writes (replication is asynchronous); a server
-- restarted from a dump file has a new run id too. Both must be rebuilt before anything is claimed
-- (assign.lua and claim.lua make the same test inline). INFO is read inside the script so that the test and the
-- marker are on the same server, whatever the client's connection pool did in between.
local here = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if redis.call('GET', KEYS[1]) == here then return 1 end
return 0
