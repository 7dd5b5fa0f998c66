// The operator console (/console): live queues, the map, a hotline call → incident, dispatch by hand, check and
// close, the timeline. Live over /ws (resume by last event id; `reset` → refetch), workers polled.
import { auth } from "../app/auth.js";
import { $, h } from "../app/dom.js";
import { label, t } from "../app/i18n.js";
import { get } from "../app/api.js";
import { openSocket } from "../app/socket.js";
import { IncidentStore } from "../app/store.js";
import { loadCategories, setDepartmentNames, setRegionNames } from "../app/catalog.js";
import { createMap } from "../app/mapview.js";
import { addIncidentLayer } from "../app/map/incidents.js";
import { addWorkerLayer } from "../app/map/workers.js";
import { startTicker } from "../app/countdown.js";
import { LEGEND_STATUSES, statusColor } from "../app/status.js";
import { liveBadge, startHeader } from "../app/header.js";
import { throttle } from "../app/timing.js";
import { toaster } from "../app/toast.js";
import { createQueues } from "./queue.js";
import { createForm } from "./create.js";
import { createDetail } from "./detail.js";
import { createHandoverBanner } from "./handover.js";
import { attachServiceItems } from "./service_item.js";
import { openStats } from "./stats.js";

const WORKER_POLL_MS = 10000;

const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });

function legend(container) {
  container.append(h("div", { class: "map-legend" }, LEGEND_STATUSES.map((s) =>
    h("span", {}, h("i", { style: "background:" + statusColor(s) }), label("status", s)))));
}

async function boot() {
  startHeader();
  startTicker();
  const store = new IncidentStore();
  const workers = new Map();
  const workerName = (id) => (workers.get(id) ? workers.get(id).name : "#" + id);

  async function snapshot() {
    store.beginSnapshot();
    const board = await get("/api/v1/screen/board");
    setRegionNames(board.names);
    setDepartmentNames(board.departments);
    store.finishSnapshot(board.incidents);
    return board;
  }

  const showLive = liveBadge($("#live-state"));
  const handover = createHandoverBanner($("#handover-banner"));
  attachServiceItems();
  handover.refresh().catch(() => {});
  let detail = null;
  // The socket opens first; events wait in the store until the snapshot is in (nothing falls in between).
  store.beginSnapshot();
  openSocket({
    onEvent: (event) => {
      handover.apply(event);
      store.apply(event);
      if (detail && detail.current != null && event.incident_id === detail.current) { detail.refreshSoon(); }
    },
    onState: (state) => {
      showLive(state);
      if (state === "reset") { snapshot().catch((e) => toast(e.message, true)); }
    },
  });

  const [config, board] = await Promise.all([get("/api/v1/screen/config"), snapshot(), loadCategories()]);
  if (board.region) { $("#region-name").textContent = board.region.name + " · "; }

  const { map, ready } = createMap($("#map"), config, { padding: 30 });
  window.gridcmd.map = map;
  await ready;
  $("#map-status").hidden = true;
  legend($(".console-map-wrap"));
  const workerLayer = addWorkerLayer(map);
  // While a call is being entered a click on the map places it, even on an existing incident's dot.
  const incidentLayer = addIncidentLayer(map, { onClick: (id) => { if (!form.isOpen) { select(id); } } });

  const queues = createQueues(store, { onSelect: (id) => select(id) });
  detail = createDetail({ workerName, toast, onCandidates: (ids) => workerLayer.highlight(ids),
    onChanged: () => {} });
  const form = createForm({
    map,
    onOpen: () => { detail.hide(); $("#side-empty").hidden = true; $("#pick-hint").hidden = false;
      map.getCanvas().parentElement.classList.add("picking"); },
    onClose: () => { $("#pick-hint").hidden = true; map.getCanvas().parentElement.classList.remove("picking");
      $("#side-empty").hidden = detail.current != null; },
    onCreated: (created) => {
      $("#pick-hint").hidden = true;
      map.getCanvas().parentElement.classList.remove("picking");
      toast(t("console.created", { id: created.id, n: created.orders.length }));
      select(created.id);
    },
  });

  function select(id) {
    if (form.isOpen) { form.close(); }
    $("#side-empty").hidden = true;
    queues.select(id);
    incidentLayer.select(id);
    detail.show(id);
    const inc = store.get(id);
    // Bring it into view only when it is not: a map that jumps on every click loses the operator.
    if (inc && Number.isFinite(inc.lon) && !map.getBounds().contains([inc.lon, inc.lat])) {
      map.easeTo({ center: [inc.lon, inc.lat], duration: 400 });
    }
  }

  $("#new-call").addEventListener("click", () => form.open());
  $("#open-stats").addEventListener("click", () => openStats(toast));
  $("#fit-region").addEventListener("click", () => {
    if (config.bounds) { map.fitBounds(config.bounds, { padding: 30, duration: 400 }); }
  });
  map.on("click", (e) => {
    if (!form.isOpen) { return; }
    form.pick(e.lngLat);
  });

  // The map's data at most every 200 ms: re-uploading the features is the costly part of an update.
  store.onChange(throttle(() => incidentLayer.set(store.list()), 200));
  incidentLayer.set(store.list());
  queues.render();

  async function pollWorkers() {
    try {
      const data = await get("/api/v1/workers");
      workers.clear();
      for (const w of data.items) { workers.set(w.id, w); }
      workerLayer.set(data.items);
    } catch (e) { /* the next poll tries again; the map keeps the last positions */ }
  }
  pollWorkers();
  window.setInterval(pollWorkers, WORKER_POLL_MS);
  window.gridcmd.console = { store, select, detail, ready: true };
}

if (auth.require()) {
  boot().catch((e) => { $("#map-status").textContent = e.message; });
}
