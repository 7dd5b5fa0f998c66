// Hotspots of the period on /supervise: a heat map of incidents by grid (MapLibre heatmap over a point inside each
// grid, weighted by its count, on the region outlines), repeat complaints and repeat callers with their incidents,
// and "督办" that turns a cluster into one supervised case (supervisor, admin; operators only read).
import { auth } from "../app/auth.js";
import { $, fill, h } from "../app/dom.js";
import { t, fmtTime } from "../app/i18n.js";
import { get, post } from "../app/api.js";
import { categoryName } from "../app/catalog.js";
import { createMap, fitTo } from "../app/mapview.js";
import { addHeatLayer } from "../app/map/heat.js";

const CAN_SUPERVISE = new Set(["supervisor", "admin"]);

export function createHotspots(container, { toast }) {
  const role = (auth.session() || {}).role;
  let map = null;
  let heat = null;
  let starting = null;
  const state = { grids: [], clusters: [], callers: [], scope: null };
  window.gridcmd.hotspots = state;

  // One start however many loads ask at once (a second load used to get the map before its heat layer existed).
  function ensureMap() {
    if (!starting) {
      starting = (async () => {
        const config = await get("/api/v1/screen/config");
        const made = createMap(container, config, { padding: 16 });
        map = made.map;
        await made.ready;
        heat = addHeatLayer(map);
        return map;
      })();
      starting.catch(() => { starting = null; });
    }
    return starting;
  }

  function incidentLinks(ids) {
    return h("span", { class: "sv-hot-ids" }, ids.slice(0, 12).map((id) => h("span", {}, " #" + id)),
      ids.length > 12 ? " …" : "");
  }

  async function superviseCluster(cluster, button) {
    button.disabled = true;
    try {
      const reason = t("sv.clusters") + " · " + categoryName(cluster.category);
      const r = await post("/api/v1/hotspots/supervise", { incident_ids: cluster.incident_ids, reason });
      button.textContent = t("sv.supervised") + " #" + r.incident_id;
      state.supervised = r.incident_id;
    } catch (e) {
      button.disabled = false;
      toast(e.message, true);
    }
  }

  function renderLists() {
    const clusters = state.clusters.map((c) => h("li", { "data-key": c.key },
      h("b", {}, categoryName(c.category)), ` · ${c.count} ${t("sv.cases")} · ${fmtTime(c.first_at)}–${fmtTime(c.last_at)}`,
      incidentLinks(c.incident_ids),
      CAN_SUPERVISE.has(role) ? h("button", { type: "button", class: "btn btn-small btn-warn sv-supervise",
        onclick: (e) => superviseCluster(c, e.currentTarget) }, t("sv.supervise")) : null));
    const callers = state.callers.map((c) => h("li", {}, h("b", {}, c.phone), ` · ${c.count} ${t("sv.cases")}`,
      incidentLinks(c.incident_ids)));
    fill($("#sv-clusters"), clusters.length ? clusters : h("li", { class: "sv-muted" }, t("sv.no_clusters")));
    fill($("#sv-callers"), callers.length ? callers : h("li", { class: "sv-muted" }, "—"));
  }

  return {
    mapReady: ensureMap,
    async load(query) {
      // Loads overlap (a drill while the map is still starting): only the latest one may draw.
      const seq = (state.seq = (state.seq || 0) + 1);
      const q = new URLSearchParams(query);
      q.delete("level");
      q.delete("format");
      const [grids, repeats] = await Promise.all([get("/api/v1/hotspots/grids?" + q),
        get("/api/v1/hotspots/repeats?" + q)]);
      if (seq !== state.seq) { return; }
      state.grids = grids.grids;
      state.clusters = repeats.clusters;
      state.callers = repeats.callers;
      renderLists();
      const m = await ensureMap();
      const scope = q.get("scope") || "";
      if (scope !== state.scope) {  // drilled in or out: the map follows to the region shown
        const config = await get("/api/v1/screen/config" + (scope ? "?region=" + encodeURIComponent(scope) : ""));
        if (seq !== state.seq) { return; }
        state.scope = scope;
        fitTo(m, config.bounds, 16);
      }
      if (seq !== state.seq) { return; }
      heat.setData(state.grids);
      state.loaded = true;
    },
  };
}
