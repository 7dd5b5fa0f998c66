// Grid workers on a map, from GET /api/v1/workers (names already masked by the server): a small dot coloured
// by availability; workers with no recent position report are not drawn.
import { AVAILABILITY_COLORS, matchColor } from "../status.js";

export function addWorkerLayer(map, { scale = 1, before = undefined } = {}) {
  map.addSource("workers", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "workers", type: "circle", source: "workers",
    paint: { "circle-radius": 4 * scale, "circle-color": matchColor("availability", AVAILABILITY_COLORS),
      "circle-stroke-color": "#06101c", "circle-stroke-width": 1 * scale } }, before);
  map.addLayer({ id: "workers-highlight", type: "circle", source: "workers", filter: ["in", ["get", "id"],
    ["literal", []]], paint: { "circle-radius": 9 * scale, "circle-color": "rgba(0,0,0,0)",
    "circle-stroke-color": "#4be38a", "circle-stroke-width": 2.5 * scale } }, before);
  let count = 0;
  return {
    set(workers) {
      const shown = workers.filter((w) => w.present && Number.isFinite(w.lon) && Number.isFinite(w.lat));
      count = shown.length;
      map.getSource("workers").setData({ type: "FeatureCollection", features: shown.map((w) => ({
        type: "Feature", id: w.id, geometry: { type: "Point", coordinates: [w.lon, w.lat] },
        properties: { id: w.id, availability: w.availability } })) });
    },
    highlight(ids) { map.setFilter("workers-highlight", ["in", ["get", "id"], ["literal", ids || []]]); },
    get count() { return count; },
  };
}
