// The worker app: sign in, go on duty (position sharing), orders pushed over the socket with sound and
// vibration, actions through the outbox (sent once, in order, whatever the network does), patrol findings.

import { auth } from "../app/auth.js";
import { t } from "../app/i18n.js";
import { onUnauthorized } from "../app/api.js";
import { loadCategories } from "../app/catalog.js";
import { openSocket } from "../app/socket.js";
import { $, h, fill } from "../app/dom.js";
import { startTicker } from "../app/countdown.js";
import { createAlarm } from "../app/alarm.js";
import { createOutbox } from "../app/outbox.js";
import { netBadge } from "../app/netbadge.js";
import { toaster } from "../app/toast.js";
import { createOrders, OFFERED } from "./orders.js";
import { createTracker } from "./location.js";
import { effective, renderIncoming, renderList } from "./views.js";
import { renderDetail } from "./detail.js";
import { renderReport } from "./report.js";
import { showSignin } from "./signin.js";
import { renderDevices } from "./devices.js";
import { createNoticeBanner } from "../app/notices.js";

const DUTY_KEY = "gridcmd.m.duty";
const GPS_ERRORS = { denied: "m.gps_denied", insecure: "m.gps_insecure", unsupported: "m.gps_unsupported" };

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/m/sw.js", { scope: "/m" }).catch(() => {});
}
// The call of a new order: the shared Web Audio alarm (sound starts only after a first tap) plus vibration.
const alarm = createAlarm({ repeatMs: 2500 });
let ringingFor = null;
document.addEventListener("pointerdown", () => { alarm.enable().catch(() => {}); });

function ring(order) {
  if (ringingFor === order.id) { return; }
  ringingFor = order.id;
  alarm.raise((order.incident || {}).priority <= 2);
  if (navigator.vibrate) { navigator.vibrate([300, 120, 300, 120, 600]); }
}

function silence() {
  if (ringingFor === null) { return; }
  ringingFor = null;
  alarm.acknowledge();
  if (navigator.vibrate) { navigator.vibrate(0); }
}

const toast = toaster($("#toast"), { ms: 4000 });

const PATHS = { accept: "accept", decline: "decline", arrive: "arrive", note: "notes", resolve: "resolve" };

async function start(session) {
  $("#main").hidden = false;
  $("#m-title").textContent = t("m.app_name") + " · " + session.username;
  await loadCategories().catch(() => {});  // offline and never loaded: codes show instead of names
  let pending = [];
  let view = { name: "orders", orderId: null, focus: null };
  const net = netBadge($("#net"));  // drawn once the rest below exists
  const dismissed = new Set();
  let ready = false;  // the outbox reports before the rest below exists

  const orders = createOrders({
    workerId: session.worker_id,
    onChange: () => draw(),
    onOffer: () => { if (navigator.vibrate) { navigator.vibrate(200); } },
    onGone: (order, event) => {
      if (event.kind !== "order.declined" && event.kind !== "order.done") {
        toast(t("m.order_withdrawn", { id: order.id }));
      }
    },
  });

  const outbox = await createOutbox({
    user: session.username,
    onChange: (list) => { pending = list; if (ready) { net.waiting(list.length); draw(); } },
    onSent: (action) => {
      if (action.kind === "finding") { toast(t("m.report_sent")); }
      if (action.kind === "resolve") { toast(t("m.resolved")); }
      if (action.kind === "arrive") { orders.markArrived(action.orderId); }
      orders.refresh().catch(() => {});
    },
    onRefused: (action, err) => {
      // 409/404: the order moved on meanwhile (timed out, withdrawn, given to someone else).
      const why = err.status === 409 || err.status === 404 ? t("m.order_moved_on") : err.message;
      toast(t("m.refused", { what: t("m.action_" + action.kind), why }));
      orders.refresh().catch(() => {});
    },
  });

  const notices = createNoticeBanner($("#notices"), {
    onNew: (n) => { toast(t("notice.new", { title: n.title })); if (navigator.vibrate) { navigator.vibrate(200); } },
  });
  const socket = openSocket({
    onEvent: (event) => { orders.apply(event); notices.apply(event); },
    onState: (state) => {
      if (state === "subscribed" || state === "reset") {
        orders.refresh().catch(() => {}); notices.refresh().catch(() => {}); outbox.flush();
      }
      if (state === "subscribed") { tracker.resend(); }
      if (state === "unauthorized") { onUnauthorizedNow(); }
      net.socket(state);
    },
  });

  const tracker = createTracker({
    socket,
    onFix: (fix) => { $("#gps").textContent = t("m.gps_fix", { acc: Math.round(fix.accuracy || 0) }); },
    onError: (code) => { $("#gps").textContent = t(GPS_ERRORS[code] || "m.gps_error"); },
  });
  if (!window.isSecureContext) { $("#gps").textContent = t("m.gps_insecure"); }

  function act(kind, order, body = {}, photos = []) {
    silence();
    const base = { orderId: order.id, method: "POST" };
    if (kind === "resolve" && photos.length) {  // photos first, as a note, then the resolution
      outbox.add({ ...base, kind: "note", path: `/api/v1/orders/${order.id}/notes`, body: { text: null }, photos });
      photos = [];
    }
    outbox.add({ ...base, kind, path: `/api/v1/orders/${order.id}/${PATHS[kind]}`, body, photos });
    if (kind === "decline" || kind === "resolve") { view = { name: "orders" }; }
    if (kind === "accept" && view.name === "orders") { view = { name: "order", orderId: order.id }; }
    draw();
  }

  function open(orderId, focus = null) {
    silence();
    dismissed.add(orderId);
    view = { name: "order", orderId, focus };
    draw();
    window.scrollTo(0, 0);
  }

  function setDuty(on) {
    localStorage.setItem(DUTY_KEY, on ? "1" : "0");
    const button = $("#duty");
    button.setAttribute("aria-pressed", String(on));
    button.textContent = t(on ? "m.end_duty" : "m.start_duty");
    button.classList.toggle("on", on);
    if (on) { tracker.start(); } else {
      tracker.stop();
      $("#gps").textContent = t(window.isSecureContext ? "m.gps_off" : "m.gps_insecure");
    }
    draw();
  }
  $("#duty").onclick = () => {
    const on = localStorage.getItem(DUTY_KEY) !== "1";
    outbox.add({ kind: "duty", method: "POST", path: "/api/v1/workers/me/status",
      body: { status: on ? "available" : "off_duty" } });
    setDuty(on);
  };

  const tabs = { orders: "tab-orders", report: "tab-report", me: "tab-me" };
  for (const [name, id] of Object.entries(tabs)) {
    $("#" + id).onclick = () => { view = { name }; draw(); };
  }

  function currentOffer() {
    return orders.list().find((o) => OFFERED.has(effective(o, pending).status) && !dismissed.has(o.id)) || null;
  }

  function draw() {
    const ctx = { pending, act, open, toast, onDuty: localStorage.getItem(DUTY_KEY) === "1",
      back: () => { view = { name: "orders" }; draw(); }, focus: view.focus };
    for (const name of ["orders", "order", "report", "me"]) { $("#view-" + name).hidden = view.name !== name; }
    for (const [name, id] of Object.entries(tabs)) {
      $("#" + id).setAttribute("aria-selected", String(view.name === name || (name === "orders" && view.name === "order")));
    }
    if (view.name === "orders") { renderList($("#view-orders"), orders.list(), ctx); }
    if (view.name === "order") {
      const order = orders.get(view.orderId);
      const key = [view.orderId, pending.length, order && order.status, order && order.arrived].join(":");
      if (view.drawn !== key) {  // redraw when something changed, not while the worker types
        renderDetail($("#view-order"), order, ctx);
        view.drawn = key;
      }
    }
    if (view.name === "report" && !view.drawn) {
      renderReport($("#view-report"), { tracker, toast, submit: (body, photos) => {
        outbox.add({ kind: "finding", method: "POST", path: "/api/v1/workers/me/findings", body, photos });
        toast(t("m.report_queued"));
      } });
      view.drawn = true;
    }
    if (view.name === "me") { drawMe(); }
    const offer = currentOffer();
    renderIncoming($("#incoming"), offer, { act, open,
      later: () => { if (offer) { dismissed.add(offer.id); } silence(); draw(); } });
    if (offer) { ring(offer); } else { silence(); }
  }

  function drawMe() {
    // The summary is redrawn when the queue changes; the GPS-app section is built once per visit, so a redraw
    // (an order refreshed, a socket event) never wipes a device id being typed.
    if (!view.drawn) {
      fill($("#view-me"), h("section", { class: "card stack", id: "me-summary" }));
      renderDevices($("#view-me"));
      view.drawn = true;
    }
    const key = pending.map((a) => [a.kind, a.orderId, a.lastError].join("/")).join("|");
    if (view.summary === key) { return; }
    view.summary = key;
    fill($("#me-summary"),
      h("h3", null, session.username),
      h("p", null, t("m.pending_count", { n: pending.length })),
      h("ul", { class: "pending" }, pending.map((a) => h("li", null, t("m.action_" + a.kind),
        a.orderId ? " #" + a.orderId : "", a.lastError ? h("small", null, " · " + a.lastError) : null))),
      h("button", { type: "button", class: "btn btn-block", onclick: () => outbox.retryNow() }, t("m.retry_now")),
      h("button", { type: "button", class: "btn btn-warn btn-block", onclick: () => {
        if (pending.length && !window.confirm(t("m.signout_pending"))) { return; }
        tracker.stop();
        socket.close();
        auth.signOut().then(() => window.location.reload());  // back to the app's own sign-in
      } }, t("m.signout")));
  }

  function onUnauthorizedNow() {
    tracker.stop();
    socket.close();
    auth.clear();
    showSignin({ onSignedIn: () => window.location.reload() });
  }
  onUnauthorized(onUnauthorizedNow);

  ready = true;
  setDuty(localStorage.getItem(DUTY_KEY) === "1");
  startTicker();
  net.waiting(pending.length);
  orders.refresh().catch(() => {});
  window.gridcmd.m = { orders, outbox, tracker, socket };  // for tests and debugging
}

const session = auth.session();
if (session && session.role === "worker" && session.worker_id) {
  start(session);
} else {
  showSignin({ onSignedIn: (data) => start(data) });
}
