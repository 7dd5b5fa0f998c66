"""intake: every channel becomes one incident. It owns the one intake call (validate → WGS-84 → locate → store
idempotently → dispatch), the closed loop's step in it (duplicates linked or merged, deadlines scheduled), patrol
findings, the counter desk (counter) and the photos reported with an alert; channels/ holds the adapters (the 12345
link and its outbox, Open311 GeoReport v2, CAP 1.2, the OsmAnd/Traccar position protocol), which translate and never
decide. It may import assign, orders, deadlines, core, geo, dispatch and pgnative."""
