"""intake: every channel becomes one incident. It owns the one intake call (validate → WGS-84 → locate → store
idempotently → dispatch), the closed loop's step in it (duplicates linked or merged, deadlines scheduled), patrol
findings and the photos reported with an alert; channels/ holds the adapters (the 12345 link now; Open311, CAP
later), which translate and never decide. It may import assign, orders, deadlines, core, geo, dispatch and
pgnative."""
