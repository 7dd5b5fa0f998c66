// The liaison console: the department's work orders, live over the socket, with sign for, progress, send back,
// extension and feedback. Actions go through the shared outbox (Idempotency-Key per action, retried in order).

import { t } from "/static/app/i18n.js";
import { get } from "/static/app/api.js";
import { openSocket } from "/static/app/socket.js";
import { loadCategories } from "/static/app/catalog.js";
import { createOutbox } from "/static/app/outbox.js";
import { createAlarm } from "/static/app/alarm.js";
import { startTicker } from "/static/app/countdown.js";
import { filterOf, renderFilters, renderList } from "./list.js";
import { renderPanel } from "./panel.js";

const auth = window.gridcmd.auth;
const $ = (id) => document.getElementById(id);
const PATHS = { sign: "sign", note: "notes", send_back: "send-back", extension: "extensions", done: "done" };

let toastTimer = null;
function toast(message) {
  const el = $("toast");
  el.textContent = message;
  el.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => { el.hidden = true; }, 5000);
}

async function start(session) {
  $("user-name").textContent = session.username;
  $("logout").onclick = () => { auth.clear(); auth.toLogin(); };
  get("/api/v1/departments/mine").then((d) => {
    $("dept-name").textContent = d.name + " · " + t("dept.title");
    document.title = d.name + " · " + t("dept.title");
  }).catch(() => {});
  await loadCategories().catch(() => {});

  let orders = [];
  let filter = "todo";
  let selectedId = null;
  let known = null;  // order ids seen so far: a new one rings
  let pendingCount = 0;
  let socketState = "connecting";
  const alarm = createAlarm({ repeatMs: 15000 });
  document.addEventListener("pointerdown", () => { alarm.enable().catch(() => {}); }, { once: true });

  const outbox = await createOutbox({
    user: session.username,
    onChange: (list) => { pendingCount = list.length; drawNet(); },
    // After an action the panel is drawn again (new state, new timeline entry, forms emptied).
    onSent: (action) => { toast(t("dept.sent_" + action.kind)); refresh({ redraw: true }).catch(() => {}); },
    onRefused: (action, err) => {
      toast(t("dept.refused", { why: err.message }));
      refresh({ redraw: true }).catch(() => {});
    },
  });

  function drawNet() {
    const state = navigator.onLine ? socketState : "offline";
    $("net").dataset.state = state;
    $("net").textContent = t("m.net_" + state) + (pendingCount ? " · " + t("m.waiting_send", { n: pendingCount }) : "");
  }
  window.addEventListener("online", drawNet);
  window.addEventListener("offline", drawNet);

  function act(kind, order, body = {}, photos = []) {
    alarm.acknowledge();
    outbox.add({ kind, orderId: order.id, method: "POST", path: `/api/v1/dept/orders/${order.id}/${PATHS[kind]}`,
      body, photos });
    toast(t("dept.queued_" + kind));
  }

  function draw() {
    renderFilters($("filters"), orders, filter, (f) => { filter = f; draw(); });
    renderList($("orders"), orders, { filter, selectedId, pick, sign: (o) => act("sign", o, {}) });
  }

  function pick(id) {
    selectedId = id;
    draw();
    const order = orders.find((o) => o.id === id);
    renderPanel($("panel"), order, { act, toast });
    $("panel").dataset.status = order ? order.status : "";
    $("panel").scrollTop = 0;
  }

  async function refresh({ redraw = false } = {}) {
    const data = await get("/api/v1/dept/orders?limit=200");
    orders = data.orders;
    const fresh = orders.filter((o) => filterOf(o.status) === "todo" && known && !known.has(o.id));
    if (fresh.length) {
      alarm.raise(fresh.some((o) => (o.incident || {}).priority <= 2));
      toast(t("dept.new_orders", { n: fresh.length }));
    }
    known = new Set(orders.map((o) => o.id));
    draw();
    const selected = orders.find((o) => o.id === selectedId);
    if (selected && (redraw || selected.status !== $("panel").dataset.status)) {
      renderPanel($("panel"), selected, { act, toast });
      $("panel").dataset.status = selected.status;
    }
  }

  // Socket events only say "something changed": one refetch per burst (the list carries the deadlines).
  let debounce = null;
  const later = () => { window.clearTimeout(debounce); debounce = window.setTimeout(() => refresh().catch(() => {}), 250); };
  const socket = openSocket({
    onEvent: later,
    onState: (state) => {
      if (state === "open" || state === "closed") { socketState = state === "open" ? "online" : "connecting"; }
      if (state === "subscribed" || state === "reset") { later(); outbox.flush(); }
      drawNet();
    },
  });
  window.gridcmd.dept = { outbox, socket, refresh };
  startTicker();
  await refresh().catch(() => toast(t("login.error")));
}

if (auth.require()) {
  const session = auth.session() || {};
  if (session.role !== "liaison") {
    document.getElementById("orders").textContent = t("dept.not_liaison");
  } else {
    start(session);
  }
}
