// The liaison console: the department's work orders, live over the socket, with sign for, progress, send back,
// extension and feedback. Actions go through the shared outbox (Idempotency-Key per action, retried in order).

import { auth } from "../app/auth.js";
import { $ } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { get } from "../app/api.js";
import { openSocket } from "../app/socket.js";
import { loadCategories } from "../app/catalog.js";
import { createOutbox } from "../app/outbox.js";
import { createAlarm } from "../app/alarm.js";
import { startTicker } from "../app/countdown.js";
import { netBadge } from "../app/netbadge.js";
import { debounce } from "../app/timing.js";
import { toaster } from "../app/toast.js";
import { filterOf, renderFilters, renderList } from "./list.js";
import { renderPanel } from "./panel.js";
import { createNoticeBanner } from "../app/notices.js";

const PATHS = { sign: "sign", note: "notes", send_back: "send-back", extension: "extensions", done: "done" };
const toast = toaster($("#toast"), { ms: 5000 });

async function start(session) {
  $("#user-name").textContent = session.username;
  $("#logout").onclick = () => { auth.logout(); };
  get("/api/v1/departments/mine").then((d) => {
    $("#dept-name").textContent = d.name + " · " + t("dept.title");
    document.title = d.name + " · " + t("dept.title");
  }).catch(() => {});
  await loadCategories().catch(() => {});

  let orders = [];
  let filter = "todo";
  let selectedId = null;
  let known = null;  // order ids seen so far: a new one rings
  const net = netBadge($("#net"));
  const alarm = createAlarm({ repeatMs: 15000 });
  document.addEventListener("pointerdown", () => { alarm.enable().catch(() => {}); }, { once: true });

  const outbox = await createOutbox({
    user: session.username,
    onChange: (list) => net.waiting(list.length),
    // After an action the panel is drawn again (new state, new timeline entry, forms emptied).
    onSent: (action) => { toast(t("dept.sent_" + action.kind)); refresh({ redraw: true }).catch(() => {}); },
    onRefused: (action, err) => {
      toast(t("dept.refused", { why: err.message }));
      refresh({ redraw: true }).catch(() => {});
    },
  });

  function act(kind, order, body = {}, photos = []) {
    alarm.acknowledge();
    outbox.add({ kind, orderId: order.id, method: "POST", path: `/api/v1/dept/orders/${order.id}/${PATHS[kind]}`,
      body, photos });
    toast(t("dept.queued_" + kind));
  }

  function draw() {
    renderFilters($("#filters"), orders, filter, (f) => { filter = f; draw(); });
    renderList($("#orders"), orders, { filter, selectedId, pick, sign: (o) => act("sign", o, {}) });
  }

  function pick(id) {
    selectedId = id;
    draw();
    const order = orders.find((o) => o.id === id);
    renderPanel($("#panel"), order, { act, toast });
    $("#panel").dataset.status = order ? order.status : "";
    $("#panel").scrollTop = 0;
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
    if (selected && (redraw || selected.status !== $("#panel").dataset.status)) {
      renderPanel($("#panel"), selected, { act, toast });
      $("#panel").dataset.status = selected.status;
    }
  }

  // Socket events only say "something changed": one refetch per burst (the list carries the deadlines).
  const later = debounce(() => refresh().catch(() => {}), 250);
  const notices = createNoticeBanner($("#notices"), { onNew: (n) => toast(t("notice.new", { title: n.title })) });
  const socket = openSocket({
    onEvent: (event) => {
      if (event.kind.startsWith("notice.")) { notices.apply(event); } else { later(); }
    },
    onState: (state) => {
      if (state === "subscribed" || state === "reset") { later(); notices.refresh().catch(() => {}); outbox.flush(); }
      net.socket(state);
    },
  });
  window.gridcmd.dept = { outbox, socket, refresh, notices };
  startTicker();
  await refresh().catch(() => toast(t("login.error")));
}

if (auth.require()) {
  const session = auth.session() || {};
  if (session.role !== "liaison") {
    $("#orders").textContent = t("dept.not_liaison");
  } else {
    start(session);
  }
}
