"""geo: regions and where things are. It owns the region tree (district → … → micro-grid) and resource points in
PostGIS (models), locate (point → deepest region and its ancestors), region file imports and their validation,
coordinate systems (WGS-84 / GCJ-02 / BD-09) and vector tiles. It may import pgnative, never command/, dispatch/ or
web/; it takes a session as an argument."""
