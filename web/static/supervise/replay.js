// A worker's day replayed on the hotspot map (巡查轨迹回放): the whole track as a line, a marker that moves along
// it with play/pause, speed and a slider, the incidents the worker reported on the way, and what the day amounts
// to (hours on duty, distance, grids passed) — from GET /api/v1/workers/{id}/track?date=.
import { $, fill, h } from "../app/dom.js";
import { t, fmtClock } from "../app/i18n.js";
import { get } from "../app/api.js";

const SPEEDS = [10, 60, 300, 1200];
const empty = { type: "FeatureCollection", features: [] };

function layers(map) {
  if (map.getSource("track")) { return; }
  map.addSource("track", { type: "geojson", data: empty });
  map.addSource("track-head", { type: "geojson", data: empty });
  map.addSource("track-found", { type: "geojson", data: empty });
  map.addLayer({ id: "track-line", type: "line", source: "track",
    paint: { "line-color": "#7cf0c5", "line-width": 2.5, "line-opacity": 0.85 } });
  map.addLayer({ id: "track-found", type: "circle", source: "track-found",
    paint: { "circle-radius": 6, "circle-color": "#ff9f1c", "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
  map.addLayer({ id: "track-head", type: "circle", source: "track-head",
    paint: { "circle-radius": 7, "circle-color": "#ffffff", "circle-stroke-color": "#38d39f", "circle-stroke-width": 3 } });
}

export function createReplay(box, { mapReady, toast }) {
  const st = { data: null, i: 0, playing: false, speed: SPEEDS[1], timer: null, frame: 0 };
  window.gridcmd.replay = st;

  function point(i) {
    const p = st.data.points[i];
    return { type: "Feature", geometry: { type: "Point", coordinates: [p[1], p[2]] }, properties: {} };
  }

  async function show(i) {
    const map = await mapReady();
    st.i = Math.max(0, Math.min(i, st.data.points.length - 1));
    map.getSource("track-head").setData({ type: "FeatureCollection", features: [point(st.i)] });
    $("#rp-slider").value = String(st.i);
    fill($("#rp-time"), fmtClock(new Date(st.data.points[st.i][0] * 1000).toISOString()));
    st.frame += 1;
  }

  function tick() {
    const pts = st.data.points;
    if (st.i >= pts.length - 1) { pause(); return; }
    // Advance by the time the speed covers in one 100 ms tick.
    const target = pts[st.i][0] + st.speed * 0.1;
    let j = st.i + 1;
    while (j < pts.length - 1 && pts[j][0] < target) { j += 1; }
    show(j);
  }

  function play() {
    if (!st.data || st.playing) { return; }
    if (st.i >= st.data.points.length - 1) { st.i = 0; }
    st.playing = true;
    st.timer = window.setInterval(tick, 100);
    $("#rp-play").textContent = t("sv.pause");
  }

  function pause() {
    st.playing = false;
    window.clearInterval(st.timer);
    if ($("#rp-play")) { $("#rp-play").textContent = t("sv.play"); }
  }

  async function load(workerId, day) {
    pause();
    const data = await get(`/api/v1/workers/${workerId}/track?date=${day}`);
    st.data = data;
    const map = await mapReady();
    layers(map);
    const coords = data.points.map((p) => [p[1], p[2]]);
    map.getSource("track").setData(coords.length > 1
      ? { type: "Feature", geometry: { type: "LineString", coordinates: coords }, properties: {} } : empty);
    map.getSource("track-found").setData({ type: "FeatureCollection", features: data.incidents_found.map((f) => ({
      type: "Feature", geometry: { type: "Point", coordinates: [f.lon, f.lat] }, properties: { id: f.id } })) });
    const s = data.summary;
    fill(box,
      h("h2", {}, t("sv.replay") + " · " + data.worker.name + " · " + data.date),
      h("p", { class: "rp-summary" },
        `${t("sv.duty")} ${(s.duty_s / 3600).toFixed(1)} h · ${t("sv.distance")} ${(s.distance_m / 1000).toFixed(2)} km · `
        + `${t("sv.grids")} ${s.grids.length} · ${t("sv.found")} ${data.incidents_found.length} · ${data.points_total} ${t("sv.points")}`),
      coords.length ? h("div", { class: "rp-controls" },
        h("button", { type: "button", class: "btn btn-small", id: "rp-play",
          onclick: () => (st.playing ? pause() : play()) }, t("sv.play")),
        h("select", { id: "rp-speed", onchange: (e) => { st.speed = Number(e.target.value); } },
          SPEEDS.map((v) => h("option", { value: String(v), selected: v === st.speed }, v + "×"))),
        h("input", { type: "range", id: "rp-slider", min: "0", max: String(coords.length - 1), value: "0",
          oninput: (e) => { pause(); show(Number(e.target.value)); } }),
        h("time", { id: "rp-time" })) : h("p", { class: "sv-muted" }, t("sv.no_track")));
    box.hidden = false;
    if (coords.length) {
      const lons = coords.map((c) => c[0]);
      const lats = coords.map((c) => c[1]);
      map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
        { padding: 30, animate: false, maxZoom: 16 });
      await show(0);
    }
    st.loaded = true;
  }

  return { load: (workerId, day) => load(workerId, day).catch((e) => toast(e.message, true)), play, pause };
}
