-- run_id.lua: the run id of the server that holds KEYS[1] (the live marker of a space).
--
-- A script, not INFO from the client: on a Redis Cluster the client sends INFO to its default node, which need not
-- be the shard that owns the space; a script runs on the owner of its keys' slot, as live.lua does.
return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
