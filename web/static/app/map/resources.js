// Emergency resources (应急资源一张图): one symbol layer per kind, each switchable. The points come as GeoJSON
// for the watched region (GET /api/v1/screen/resources), so they show at a whole district's zoom too (the
// `resources` vector tiles start at z12). The icons are drawn on a canvas here (a coloured badge with one
// character), so the map needs no sprite sheet and no glyph server.

export const RESOURCE_KINDS = [
  { kind: "hospital", color: "#2fa4ff", glyph: "医", on: true },
  { kind: "police_station", color: "#5b7cff", glyph: "警", on: true },
  { kind: "shelter", color: "#2fbf71", glyph: "避", on: true },
  { kind: "hydrant", color: "#ff4d4f", glyph: "消", on: false },
  { kind: "aed", color: "#ff5ca8", glyph: "A", on: false },
  { kind: "camera", color: "#a67cff", glyph: "摄", on: false },
];

function icon(color, glyph, size) {
  const ratio = window.devicePixelRatio || 1;
  const px = Math.round(size * ratio);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = px;
  const c = canvas.getContext("2d");
  const r = px * 0.22, m = px * 0.06;
  c.beginPath();
  c.roundRect(m, m, px - 2 * m, px - 2 * m, r);
  c.fillStyle = color;
  c.fill();
  c.lineWidth = Math.max(1, px * 0.07);
  c.strokeStyle = "rgba(255,255,255,0.9)";
  c.stroke();
  c.fillStyle = "#ffffff";
  c.font = `700 ${Math.round(px * 0.56)}px "Noto Sans CJK SC", "Source Han Sans SC", sans-serif`;
  c.textAlign = "center";
  c.textBaseline = "middle";
  c.fillText(glyph, px / 2, px / 2 + px * 0.03);
  return { image: c.getImageData(0, 0, px, px), ratio };
}

export function addResourceLayers(map, { scale = 1, before = undefined, visible = null } = {}) {
  map.addSource("resources", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  const state = {};
  for (const r of RESOURCE_KINDS) {
    const { image, ratio } = icon(r.color, r.glyph, 22 * scale);
    map.addImage("res-" + r.kind, image, { pixelRatio: ratio });
    state[r.kind] = visible ? !!visible[r.kind] : r.on;
    map.addLayer({ id: "res-" + r.kind, type: "symbol", source: "resources",
      filter: ["==", ["get", "kind"], r.kind],
      layout: { "icon-image": "res-" + r.kind, "icon-allow-overlap": true, "icon-ignore-placement": true,
        "icon-size": ["interpolate", ["linear"], ["zoom"], 11, 0.75, 14, 0.95, 16, 1.1],
        visibility: state[r.kind] ? "visible" : "none" } }, before);
  }
  return {
    setData(geojson) { map.getSource("resources").setData(geojson); },
    set(kind, on) {
      state[kind] = !!on;
      map.setLayoutProperty("res-" + kind, "visibility", on ? "visible" : "none");
    },
    isOn(kind) { return !!state[kind]; },
    get state() { return { ...state }; },
    // A badge for legends and toggles, the same drawing as on the map.
    badge(kind, size = 20) {
      const r = RESOURCE_KINDS.find((k) => k.kind === kind);
      const canvas = document.createElement("canvas");
      const { image } = icon(r.color, r.glyph, size);
      canvas.width = image.width; canvas.height = image.height;
      canvas.getContext("2d").putImageData(image, 0, 0);
      canvas.style.width = canvas.style.height = size + "px";
      canvas.className = "res-badge";
      return canvas;
    },
  };
}
