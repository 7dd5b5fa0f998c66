// Alert areas (CAP <area>) of open incidents as shapes under the incident dots: a translucent fill in the status
// colour and a dashed outline. GET /api/v1/screen/areas (already scoped and simplified by the server).
import { get } from "../api.js";
import { STATUS_COLORS, matchColor } from "../status.js";

const EMPTY = { type: "FeatureCollection", features: [] };

export function addAreaLayer(map, { scale = 1, before = undefined } = {}) {
  const color = matchColor("status", STATUS_COLORS);
  map.addSource("areas", { type: "geojson", data: EMPTY });
  map.addLayer({ id: "areas-fill", type: "fill", source: "areas",
    paint: { "fill-color": color, "fill-opacity": 0.18 } }, before);
  map.addLayer({ id: "areas-line", type: "line", source: "areas",
    paint: { "line-color": color, "line-width": 2 * scale, "line-dasharray": [3, 2], "line-opacity": 0.9 } },
  before);
  return {
    async load() {
      try {
        map.getSource("areas").setData(await get("/api/v1/screen/areas"));
      } catch (e) { /* keep the last shapes; the next event or poll tries again */ }
    },
  };
}
