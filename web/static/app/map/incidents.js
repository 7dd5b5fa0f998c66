// Incidents on a map: a dot per incident, coloured by status and sized by priority, finished ones faded; new
// alarms pulse (an HTML marker with a CSS animation, so nothing redraws the map every frame) until acknowledged.
import { FINISHED, PRIORITY_RADIUS, STATUS_COLORS, matchColor } from "../status.js";

const EMPTY = { type: "FeatureCollection", features: [] };

function features(list) {
  return {
    type: "FeatureCollection",
    features: list.filter((i) => Number.isFinite(i.lon) && Number.isFinite(i.lat)).map((i) => ({
      type: "Feature", id: i.id,
      geometry: { type: "Point", coordinates: [i.lon, i.lat] },
      properties: { id: i.id, status: i.status, priority: i.priority || 3, done: FINISHED.has(i.status) ? 1 : 0 },
    })),
  };
}

export function addIncidentLayer(map, { scale = 1, onClick = null, before = undefined } = {}) {
  const radius = ["match", ["get", "priority"], 1, PRIORITY_RADIUS[1] * scale, 2, PRIORITY_RADIUS[2] * scale,
    3, PRIORITY_RADIUS[3] * scale, PRIORITY_RADIUS[4] * scale];
  const color = matchColor("status", STATUS_COLORS);
  map.addSource("incidents", { type: "geojson", data: EMPTY });
  map.addLayer({ id: "incidents-halo", type: "circle", source: "incidents", filter: ["==", ["get", "done"], 0],
    paint: { "circle-radius": ["*", radius, 2.2], "circle-color": color, "circle-opacity": 0.22,
      "circle-blur": 0.6 } }, before);
  map.addLayer({ id: "incidents", type: "circle", source: "incidents",
    paint: { "circle-radius": radius, "circle-color": color,
      "circle-opacity": ["case", ["==", ["get", "done"], 1], 0.55, 1],
      "circle-stroke-color": "#0b1522", "circle-stroke-width": 1.5 * scale } }, before);
  map.addLayer({ id: "incidents-selected", type: "circle", source: "incidents", filter: ["==", ["get", "id"], -1],
    paint: { "circle-radius": ["+", radius, 6 * scale], "circle-color": "rgba(0,0,0,0)",
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 3 * scale } }, before);
  if (onClick) {
    map.on("click", "incidents", (e) => { if (e.features && e.features[0]) { onClick(e.features[0].properties.id); } });
    map.on("mouseenter", "incidents", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "incidents", () => { map.getCanvas().style.cursor = ""; });
  }

  const pulses = new Map();  // incident id → marker

  return {
    set(list) { map.getSource("incidents").setData(features(list)); },
    select(id) { map.setFilter("incidents-selected", ["==", ["get", "id"], id == null ? -1 : id]); },
    pulse(incident) {
      if (pulses.has(incident.id) || !Number.isFinite(incident.lon)) { return; }
      const el = document.createElement("div");
      el.className = "alarm-pulse" + (incident.priority <= 1 ? " alarm-pulse-p1" : "");
      el.style.setProperty("--pulse-color", STATUS_COLORS[incident.status] || "#ff3b3b");
      el.dataset.incidentId = String(incident.id);
      const marker = new maplibregl.Marker({ element: el }).setLngLat([incident.lon, incident.lat]).addTo(map);
      pulses.set(incident.id, marker);
    },
    unpulse(id) {
      const m = pulses.get(id);
      if (m) { m.remove(); pulses.delete(id); }
    },
    clearPulses() { for (const m of pulses.values()) { m.remove(); } pulses.clear(); },
    get pulsing() { return Array.from(pulses.keys()); },
  };
}
