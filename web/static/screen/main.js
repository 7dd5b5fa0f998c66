// The wall display (/screen): the watched region's map with incidents, workers and resources; the live alarm list
// with its sound; overdue and supervised items counting down; today's figures and charts. Live over /ws (resume
// by last event id, `reset` → refetch); figures and deadlines also refetched on a timer.
//
// `?region=<code>` puts a region within the caller's on the screen (a district centre showing one street).
import { auth } from "../app/auth.js";
import { $ } from "../app/dom.js";
import { centreToday, t } from "../app/i18n.js";
import { get } from "../app/api.js";
import { openSocket } from "../app/socket.js";
import { IncidentStore } from "../app/store.js";
import { loadCategories, setRegionNames } from "../app/catalog.js";
import { createMap } from "../app/mapview.js";
import { addIncidentLayer } from "../app/map/incidents.js";
import { addAreaLayer } from "../app/map/areas.js";
import { addWorkerLayer } from "../app/map/workers.js";
import { addResourceLayers } from "../app/map/resources.js";
import { createAlarm } from "../app/alarm.js";
import { startTicker } from "../app/countdown.js";
import { liveBadge, startHeader } from "../app/header.js";
import { debounce, throttle } from "../app/timing.js";
import { renderKpis } from "./kpi.js";
import { createCharts } from "./charts.js";
import { createAlarmPanel } from "./alarms.js";
import { renderDeadlines } from "./deadlines.js";
import { addHeatLayer } from "../app/map/heat.js";
import { heatToggle, renderLegend, renderResourceToggles, renderWorkerInfo, savedHeatState,
  savedResourceState } from "./maplegend.js";

// Workers' positions: a GPS app or /m reports every few seconds; the wall shows a move within a second
// (a poll every half second: a report waits for the next poll, then one round trip and a redraw).
const WORKER_POLL_MS = 500;
const BOARD_POLL_MS = 30000;
const FIGURES_POLL_MS = 60000;
const HEAT_POLL_MS = 300000;  // the month's hotspots move slowly
// Everything is laid out for 1920 px wide and scaled with the viewport (screen.css does the same with rem).
const SCALE = Math.max(0.6, window.innerWidth / 1920);

function say(key) {
  const status = $("#status");
  status.textContent = t(key);
  status.hidden = false;
}

function soundControls(alarm, panel) {
  const enable = $("#sound-enable"), ack = $("#alarm-ack"), mute = $("#sound-mute");
  enable.addEventListener("click", () => { alarm.enable(); });
  ack.addEventListener("click", () => panel().acknowledge());
  mute.addEventListener("click", () => alarm.setMuted(!alarm.state.muted));
  return (state) => {
    enable.hidden = state.enabled;
    mute.setAttribute("aria-pressed", state.muted ? "true" : "false");
    mute.textContent = t(state.muted ? "screen.unmute" : "screen.mute");
  };
}

// This month's incidents by grid in the wall's region (the supervisor's hotspot map, /supervise).
async function heatOfMonth(config) {
  const q = new URLSearchParams({ date: centreToday(), period: "month" });
  if (config.region) { q.set("scope", config.region.code); }
  return (await get("/api/v1/hotspots/grids?" + q)).grids;
}

async function boot() {
  startHeader({ withDate: true });
  startTicker();
  const region = new URLSearchParams(window.location.search).get("region");
  const query = region ? "?region=" + encodeURIComponent(region) : "";
  const store = new IncidentStore();
  let panel = null;
  let showSound = () => {};
  const alarm = createAlarm({ onChange: (s) => showSound(s) });
  showSound = soundControls(alarm, () => panel);
  showSound(alarm.state);

  let config;
  try {
    [config] = await Promise.all([get("/api/v1/screen/config" + query), loadCategories()]);
  } catch (e) {
    say(e.status === 403 ? "screen.forbidden" : "login.error");
    return;
  }
  if (config.region) { $("#region-name").textContent = config.region.name + " · "; }

  let board = null;
  let resets = 0;
  async function snapshot() {
    store.beginSnapshot();
    board = await get("/api/v1/screen/board" + query);
    setRegionNames(board.names);
    store.finishSnapshot(board.incidents);
    renderDeadlines(board.deadlines);
    return board;
  }

  // The socket first, so no event falls between the snapshot and the stream (the store holds them meanwhile).
  const refreshBoard = debounce(() => snapshot().catch(() => {}), 1500);
  const refreshFigures = debounce(() => figures(), 3000);
  // CAP alert areas: refetched after incident events (the map exists by then; before, the first load covers it).
  const refreshAreas = debounce(() => { if (window.gridcmd.areas) { window.gridcmd.areas.load(); } }, 1000);
  store.beginSnapshot();
  const showLive = liveBadge($("#live-state"));
  const socket = openSocket({
    region: config.region ? config.region.code : null,
    onEvent: (event) => {
      store.apply(event);
      if (event.kind.startsWith("deadline.") || event.kind.startsWith("supervision.")) { refreshBoard(); }
      if (event.kind === "incident.created" || event.kind.startsWith("incident.")) { refreshFigures(); refreshAreas(); }
    },
    onState: (state) => {
      showLive(state);
      if (state === "reset") { resets += 1; snapshot().catch(() => {}); figures(); }
    },
  });
  await snapshot();

  const charts = createCharts(SCALE);
  async function figures() {
    try {
      const f = await get("/api/v1/screen/figures" + query);
      renderKpis(f, board ? board.counts : {});
      charts.update(f, board ? board.names : {}, board ? board.region : null);
    } catch (e) { /* the next poll tries again */ }
  }
  figures();
  window.setInterval(figures, FIGURES_POLL_MS);
  window.setInterval(refreshBoard, BOARD_POLL_MS);

  if (!config.bounds) { say("screen.no_regions"); }
  const { map, ready } = createMap($("#map"), config, { scale: SCALE, padding: 24 * SCALE, interactive: false });
  window.gridcmd.map = map;  // for tests
  await ready;
  if (config.bounds) { $("#status").hidden = true; }
  const resources = addResourceLayers(map, { scale: SCALE, visible: savedResourceState() });
  get("/api/v1/screen/resources" + query).then((g) => resources.setData(g)).catch(() => {});
  const areas = addAreaLayer(map, { scale: SCALE });
  areas.load();
  window.gridcmd.areas = areas;
  window.setInterval(() => areas.load(), BOARD_POLL_MS);
  const heat = addHeatLayer(map, { scale: SCALE, visible: savedHeatState() });
  const loadHeat = () => heatOfMonth(config).then((grids) => heat.setData(grids)).catch(() => {});
  const workerLayer = addWorkerLayer(map, { scale: SCALE });
  const incidents = addIncidentLayer(map, { scale: SCALE });
  renderLegend();
  renderResourceToggles(resources, SCALE, [heatToggle((on) => { heat.set(on); if (on) { loadHeat(); } })]);
  if (heat.isOn()) { loadHeat(); }
  window.setInterval(() => { if (heat.isOn()) { loadHeat(); } }, HEAT_POLL_MS);
  window.gridcmd.heat = heat;  // for tests

  panel = createAlarmPanel(store, { alarm, incidents, onPending: (n) => {
    $("#alarm-pending").textContent = String(n);
    $("#alarm-ack").disabled = n === 0;
  } });
  // The map's data at most every 200 ms: re-uploading the features is the costly part of an update.
  store.onChange(throttle(() => incidents.set(store.list()), 200));
  incidents.set(store.list());
  panel.render();

  let workers = [];
  let polling = false;
  async function pollWorkers() {
    if (polling) return;  // a slow answer is not stacked behind by the next tick
    polling = true;
    try {
      const data = await get("/api/v1/workers" + query);
      workers = data.items;
      workerLayer.set(workers);
      renderWorkerInfo(workers);
    } catch (e) { /* keep the last positions; the next poll tries again */ } finally { polling = false; }
  }
  pollWorkers();
  window.setInterval(pollWorkers, WORKER_POLL_MS);
  // For diagnostics and tests: the store, the socket, how many `reset` frames made it refetch, the workers shown.
  window.gridcmd.screen = { store, socket, get resets() { return resets; }, get workers() { return workers; },
    ready: true };
}

if (auth.require()) {
  boot().catch((e) => { say("login.error"); console.error(e); });
}
