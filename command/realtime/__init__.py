"""realtime: the live event stream. It owns the Redis stream fed from the event log (stream), the hand-off of
committed events to it (publish), the relay that re-publishes what a crash or a flush lost (relay) and who may see
which entry (stream_scope). Its Redis key names are dispatch.keys'. It may import the domain packages below it,
core, dispatch and geo (not reports or admin, its siblings); the domain packages never import it: they append
events, the owner of the transaction publishes them."""
