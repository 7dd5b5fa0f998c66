// A pin on the configured base map (only when one is configured: the region tiles need a login). A pin's
// coordinates are in the base map's own datum (data-crs), sent as such; the intake converts to WGS-84.

import gcoord from "../vendor/gcoord/gcoord.esm-browser.prod.js";

const DATUM = { wgs84: gcoord.WGS84, gcj02: gcoord.GCJ02, bd09: gcoord.BD09 };

export function createPinMap(el, { center = [118.78, 32.05], onPin }) {
  const crs = el.dataset.crs in DATUM ? el.dataset.crs : "wgs84";
  const map = new maplibregl.Map({
    container: el,
    style: { version: 8, sources: { base: { type: "raster", tiles: [el.dataset.basemap], tileSize: 256 } },
      layers: [{ id: "bg", type: "background", paint: { "background-color": "#e9eef2" } },
        { id: "base", type: "raster", source: "base" }] },
    center, zoom: 13, attributionControl: false, dragRotate: false, touchPitch: false,
  });
  const marker = new maplibregl.Marker({ color: "#c0392b", draggable: true });
  const place = (lngLat) => {
    marker.setLngLat(lngLat).addTo(map);
    onPin({ lon: lngLat.lng, lat: lngLat.lat, crs });
  };
  map.on("click", (ev) => place(ev.lngLat));
  marker.on("dragend", () => place(marker.getLngLat()));
  return {
    // Show a GPS fix (WGS-84) on the map, in the map's datum.
    showFix(lon, lat) {
      const [x, y] = crs === "wgs84" ? [lon, lat] : gcoord.transform([lon, lat], gcoord.WGS84, DATUM[crs]);
      marker.setLngLat([x, y]).addTo(map);
      map.easeTo({ center: [x, y], zoom: Math.max(map.getZoom(), 15) });
    },
  };
}
