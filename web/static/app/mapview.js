// A MapLibre map of the watched region: region outlines as vector tiles built by PostGIS (/tiles/regions), an
// optional configured base map, nothing from any other host (no glyphs, no sprites: icons are drawn on a canvas
// by the layers that need them). Tile requests carry the bearer token in a header, never in the URL.
//
//   const { map, ready } = createMap(el, config, { scale, padding });   // config: GET /api/v1/screen/config

import { auth } from "./auth.js";

// Colours and widths per level (the legends use the same colours).
export const LEVELS = [
  { level: "microgrid", color: "#27435f", width: [12, 0.3, 16, 1.0], minzoom: 11.5 },
  { level: "grid", color: "#3b6a94", width: [10, 0.5, 16, 1.6], minzoom: 10 },
  { level: "community", color: "#46b0d6", width: [10, 1.0, 16, 2.6], minzoom: 0 },
  { level: "street", color: "#f0c04a", width: [10, 1.8, 16, 4.0], minzoom: 0 },
  { level: "district", color: "#8fe9ff", width: [10, 2.6, 16, 5.0], minzoom: 0 },
];

const BASEMAP_WAIT_MS = 3000;
const STREET_FILLS = ["#163a63", "#124545", "#2a2d5c", "#1b4330", "#3b2f4f", "#3a3524"];

export function regionStyle(origin, config, { scale = 1 } = {}) {
  const sources = {
    regions: {
      type: "vector",
      tiles: [origin + config.tiles.regions],
      // Vector sources must keep MapLibre's 512 tile size (a style with another is rejected whole).
      minzoom: 0, maxzoom: 16,
      bounds: config.bounds || [-180, -85, 180, 85],
    },
  };
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#07101c" } }];
  // The configured base map preset (天地图 vector + annotation, an intranet XYZ source…), dimmed under the regions;
  // none configured: region outlines alone.
  const base = config.basemap ? config.basemap.layers
    : (config.basemap_url ? [{ id: "basemap", tiles: [config.basemap_url], labels: false }] : []);
  const labels = [];  // annotation layers go above the region fills, so place names stay readable
  for (const b of base) {
    sources[b.id] = { type: "raster", tiles: b.tiles, tileSize: 256, maxzoom: 18 };
    (b.labels ? labels : layers).push({ id: b.id, type: "raster", source: b.id,
      paint: b.labels ? { "raster-opacity": 0.8 }
        : { "raster-opacity": 0.55, "raster-saturation": -0.6, "raster-brightness-max": 0.6 } });
  }
  const fill = (id, level, color, opacity) => ({ id, type: "fill", source: "regions", "source-layer": "regions",
    filter: ["==", ["get", "level"], level], paint: { "fill-color": color, "fill-opacity": opacity } });
  layers.push(fill("district-fill", "district", "#0f2944", 0.55));
  const streetColor = ["match", ["%", ["to-number", ["get", "code"], 0], STREET_FILLS.length]];
  STREET_FILLS.slice(0, -1).forEach((c, i) => streetColor.push(i, c));
  streetColor.push(STREET_FILLS[STREET_FILLS.length - 1]);
  layers.push(fill("street-fill", "street", streetColor, 0.55));
  for (const l of LEVELS) {
    if (l.level === "district") {  // a soft glow under the district edge
      layers.push({ id: "district-glow", type: "line", source: "regions", "source-layer": "regions",
        filter: ["==", ["get", "level"], "district"],
        paint: { "line-color": l.color, "line-width": 9 * scale, "line-blur": 6 * scale, "line-opacity": 0.35 } });
    }
    layers.push({ id: "line-" + l.level, type: "line", source: "regions", "source-layer": "regions",
      minzoom: l.minzoom, filter: ["==", ["get", "level"], l.level],
      layout: { "line-join": "round", "line-cap": "round" },
      paint: { "line-color": l.color, "line-width": ["interpolate", ["linear"], ["zoom"],
        l.width[0], l.width[1] * scale, l.width[2], l.width[3] * scale] } });
  }
  return { version: 8, name: "gridcmd", sources, layers: layers.concat(labels) };
}

export function createMap(container, config, { scale = 1, padding = 40, interactive = true } = {}) {
  const origin = window.location.origin;
  const map = new maplibregl.Map({
    container,
    style: regionStyle(origin, config, { scale }),
    bounds: config.bounds || undefined,
    center: config.bounds ? undefined : [118.78, 32.05],
    zoom: config.bounds ? undefined : 10,
    fitBoundsOptions: { padding },
    attributionControl: false,
    interactive,
    dragRotate: false,
    pitchWithRotate: false,
    touchPitch: false,
    transformRequest(url) {
      if (url.indexOf(origin + "/tiles/") === 0) {
        return { url, headers: { Authorization: "Bearer " + auth.token() } };
      }
      return { url };
    },
  });
  map.on("error", (ev) => {
    if (ev && ev.error && ev.error.status === 401) { auth.clear(); auth.toLogin(); }
  });
  const ready = new Promise((resolve) => {
    map.once("load", () => resolve(map));
    // A base map on another host that does not answer (an intranet without Internet, a 天地图 outage) must not keep
    // the page from starting: "load" waits for every first tile, so with one configured the style is enough after
    // BASEMAP_WAIT_MS.
    if (config.basemap || config.basemap_url) {
      map.once("style.load", () => window.setTimeout(() => resolve(map), BASEMAP_WAIT_MS));
    }
  });
  return { map, ready };
}

// Fit the map to bounds ([w, s, e, n]) without animation (a wall display has no one to watch it move).
export function fitTo(map, bounds, padding = 40) {
  if (bounds) { map.fitBounds(bounds, { padding, animate: false }); }
}
