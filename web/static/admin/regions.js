// Regions: upload a region file (GeoJSON, Shapefile/zip, GeoPackage, KML/KMZ), read the validation report feature
// by feature, preview it on the map over the current regions (added / changed / unchanged / stored but not in the
// file), then apply the same file as one transaction, with a progress bar (upload, then the server's write).
import { h, fill } from "../app/dom.js";
import { get, newKey } from "../app/api.js";
import { t } from "../app/i18n.js";
import { createMap } from "../app/mapview.js";
import { say, table, upload } from "./ui.js";

const A = "/api/v1/admin/regions";
const COLORS = { added: "#16a34a", changed: "#f59e0b", unchanged: "#94a3b8", missing: "#dc2626" };

function bounds(features) {
  let [w, s, e, n] = [180, 90, -180, -90];
  const walk = (c) => {
    if (typeof c[0] === "number") { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); return; }
    c.forEach(walk);
  };
  features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
  return w <= e ? [[w, s], [e, n]] : null;
}

function previewLayers(map, preview, missing) {
  const data = { type: "FeatureCollection", features: [...preview.features,
    ...missing.map((m) => ({ type: "Feature", geometry: JSON.parse(m.geometry), properties: { ...m, status: "missing" } }))] };
  if (map.getSource("preview")) { map.getSource("preview").setData(data); } else {
    map.addSource("preview", { type: "geojson", data });
    const color = ["match", ["get", "status"], ...Object.entries(COLORS).flat(), "#888"];
    map.addLayer({ id: "preview-fill", type: "fill", source: "preview", paint: { "fill-color": color, "fill-opacity": 0.35 } });
    map.addLayer({ id: "preview-line", type: "line", source: "preview", paint: { "line-color": color, "line-width": 2.5 } });
  }
  const b = bounds(data.features);
  if (b) { map.fitBounds(b, { padding: 40, animate: false }); }
}

export function regionsTab(panel) {
  const input = h("input", { type: "file", id: "region-file", accept: ".geojson,.json,.zip,.shp,.gpkg,.kml,.kmz" });
  const crs = h("input", { type: "text", id: "region-crs", placeholder: t("admin.reg.crs"), maxlength: 100 });
  const report = h("div", { id: "region-report" });
  const bar = h("div", { class: "a-progress", id: "region-progress", hidden: true }, h("div", {}));
  const result = h("div", { id: "region-result" });
  const apply = h("button", { class: "a-btn", type: "button", id: "region-apply", disabled: true }, t("admin.reg.apply"));
  const mapEl = h("div", { class: "a-map", id: "region-map" });
  let checked = null;
  let mapReady = null;

  function form(extra = {}) {
    const f = new FormData();
    f.append("file", input.files[0]);
    if (crs.value.trim()) { f.append("crs", crs.value.trim()); }
    for (const [k, v] of Object.entries(extra)) { f.append(k, v); }
    return f;
  }
  function progress(share, busy = false) {
    bar.hidden = false;
    bar.classList.toggle("busy", busy);
    bar.firstChild.style.width = Math.round(share * 100) + "%";
  }

  async function check() {
    if (!input.files.length) { say(t("admin.pick_file"), true); return; }
    checked = null;
    apply.disabled = true;
    fill(result);
    fill(report);
    progress(0);
    const { status, body } = await upload(`${A}/check`, form(), (p) => progress(p * 0.5));
    progress(1);
    if (status !== 200) { fill(report, h("p", { class: "bad-text" }, body && body.error ? body.error.message : "HTTP " + status)); return; }
    const r = body.report;
    const statuses = {};
    body.preview.features.forEach((f) => { statuses[f.properties.status] = (statuses[f.properties.status] || 0) + 1; });
    fill(report,
      h("pre", { class: "a-report" }, r.lines.join("\n")),
      h("p", { class: r.ok ? "ok-text" : "bad-text", id: "region-verdict" }, r.ok
        ? t("admin.reg.ok", { n: r.features, added: statuses.added || 0, changed: statuses.changed || 0,
          same: statuses.unchanged || 0, missing: body.not_in_file.length })
        : t("admin.reg.bad", { n: r.problems.length })),
      r.problems.length ? table(["admin.reg.feature", "admin.f.code", "admin.reg.problem"], r.problems, (p) =>
        h("tr", { class: "bad-text" }, h("td", {}, p.feature === null ? "—" : "#" + p.feature), h("td", {}, p.code || ""),
          h("td", {}, p.reason))) : null,
      body.preview.features.length ? table(["admin.reg.feature", "admin.f.code", "admin.f.name", "admin.reg.level",
        "admin.reg.parent", "admin.reg.status"], body.preview.features.map((f) => f.properties), (p) => h("tr", {},
        h("td", {}, "#" + p.feature), h("td", {}, p.code), h("td", {}, p.name), h("td", {}, t("admin.level." + p.level)),
        h("td", {}, p.parent || ""), h("td", {}, h("span", { class: "tag", style: `background:${COLORS[p.status]};color:#fff` },
          t("admin.reg.st." + p.status))))) : null);
    if (r.ok) {
      checked = body.sha256;
      apply.disabled = false;
      const map = await mapReady;
      previewLayers(map, body.preview, body.not_in_file);
    }
  }

  apply.onclick = async () => {
    if (!checked) { return; }
    apply.disabled = true;
    const id = newKey();
    let sent = false;
    // Sent: the server checks again, then writes in one transaction, saying how far it has got (any process).
    const poll = window.setInterval(async () => {
      if (!sent) { return; }
      const p = await get(`${A}/progress/${id}`).catch(() => null);
      if (p && p.total) { progress(0.3 + 0.7 * (p.done / p.total), false); bar.dataset.done = `${p.done}/${p.total}`; }
    }, 300);
    const { status, body } = await upload(`${A}/apply`, form({ sha256: checked, progress_id: id }), (p) => {
      progress(p * 0.3);
      if (p >= 1) { sent = true; progress(0.3, true); }
    }).finally(() => window.clearInterval(poll));
    progress(1);
    bar.classList.remove("busy");
    if (status !== 200) {
      fill(result, h("p", { class: "bad-text" }, t("admin.reg.apply_failed", { why: body && body.error ? body.error.message : status })));
      return;
    }
    fill(result, h("p", { class: "ok-text", id: "region-applied" }, t("admin.reg.applied", { inserted: body.inserted,
      updated: body.updated, s: body.seconds })));
    say(t("admin.saved"));
    checked = null;
  };

  panel.append(h("div", { class: "a-cols" },
    h("section", { class: "a-card" }, h("h2", {}, t("admin.reg.title")), h("p", { class: "a-hint" }, t("admin.reg.hint")),
      h("div", { class: "a-tools" }, input, crs,
        h("button", { class: "a-btn ghost", type: "button", id: "region-check", onclick: check }, t("admin.reg.check")), apply),
      bar, result, report),
    h("section", { class: "a-card" }, h("h2", {}, t("admin.reg.preview")), mapEl,
      h("div", { class: "a-legend" }, Object.entries(COLORS).map(([k, c]) =>
        h("span", {}, h("i", { style: `background:${c}` }), t("admin.reg.st." + k)))))));
  mapReady = get("/api/v1/screen/config").then((config) => createMap(mapEl, config, { padding: 40 }).ready);
}
