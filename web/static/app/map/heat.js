// Hotspots as a MapLibre heat map: a point inside each grid weighted by its incident count in a period
// (GET /api/v1/hotspots/grids, already scoped by the server). Used on /supervise and, as a switchable layer,
// on the wall.
const EMPTY = { type: "FeatureCollection", features: [] };

export function addHeatLayer(map, { scale = 1, visible = true, before = undefined } = {}) {
  const visibility = visible ? "visible" : "none";
  map.addSource("heat", { type: "geojson", data: EMPTY });
  map.addLayer({ id: "heat", type: "heatmap", source: "heat", layout: { visibility }, paint: {
    "heatmap-weight": ["interpolate", ["linear"], ["get", "w"], 0, 0, 1, 1],
    "heatmap-intensity": 2,
    "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 9, 26 * scale, 14, 80 * scale],
    "heatmap-opacity": 0.8,
    "heatmap-color": ["interpolate", ["linear"], ["heatmap-density"], 0, "rgba(0,0,0,0)", 0.2, "#1e5aa8",
      0.45, "#2fb7c4", 0.7, "#f0c04a", 1, "#ff4d4d"] } }, before);
  map.addLayer({ id: "heat-count", type: "circle", source: "heat", minzoom: 12, layout: { visibility }, paint: {
    "circle-radius": 3 * scale, "circle-color": "#ffffff", "circle-opacity": 0.7 } }, before);
  let on = visible;
  let shown = [];
  return {
    get grids() { return shown; },
    /** grids: [{code, name, count, lon, lat}] as the API returns them; the weight is relative to the largest. */
    setData(grids) {
      shown = grids;
      const max = Math.max(1, ...grids.map((g) => g.count));
      map.getSource("heat").setData({ type: "FeatureCollection", features: grids.map((g) => ({
        type: "Feature", geometry: { type: "Point", coordinates: [g.lon, g.lat] },
        properties: { code: g.code, name: g.name, count: g.count, w: g.count / max } })) });
    },
    isOn: () => on,
    set(value) {
      on = value;
      for (const id of ["heat", "heat-count"]) { map.setLayoutProperty(id, "visibility", on ? "visible" : "none"); }
    },
  };
}
