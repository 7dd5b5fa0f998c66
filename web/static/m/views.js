// The order list and the incoming-order sheet. Everything typed by people (descriptions, reasons) goes in as
// text through dom.h, never as HTML.

import { h, fill } from "../app/dom.js";
import { t, label, fmtTime, fmtDistance } from "../app/i18n.js";
import { countdown } from "../app/countdown.js";
import { categoryName } from "../app/catalog.js";
import { OFFERED } from "./orders.js";

// What the worker sees while actions wait in the outbox: the status they asked for.
const WANTS = { accept: "accepted", decline: "declined", resolve: "done" };

export function effective(order, pending) {
  const mine = pending.filter((a) => a.orderId === order.id);
  let status = order.status;
  for (const a of mine) { if (WANTS[a.kind]) { status = WANTS[a.kind]; } }
  return { status, waiting: mine.length, arrived: order.arrived || mine.some((a) => a.kind === "arrive") };
}

export function orderCard(order, { pending, open, act }) {
  const state = effective(order, pending);
  const inc = order.incident || {};
  const offered = OFFERED.has(state.status);
  return h("article", { class: "card order-card" + (offered ? " offered" : ""), "data-order": order.id },
    h("header", { class: "card-head" },
      h("span", { class: "prio prio-" + inc.priority }, "P" + inc.priority),
      h("strong", { class: "cat" }, categoryName(inc.category_code)),
      h("span", { class: "status status-" + state.status }, label("order", state.status))),
    h("p", { class: "desc clamp" }, inc.description || ""),
    h("div", { class: "meta" },
      order.distance_m != null ? h("span", null, fmtDistance(order.distance_m)) : null,
      h("span", null, fmtTime(inc.created_at)),
      state.arrived ? h("span", { class: "tag" }, t("m.arrived")) : null,
      state.waiting ? h("span", { class: "tag tag-wait" }, t("m.waiting_send", { n: state.waiting })) : null,
      offered && order.ack_due_at ? countdown(order.ack_due_at) : null),
    h("div", { class: "card-actions" },
      offered ? h("button", { type: "button", class: "btn btn-go", onclick: () => act("accept", order) },
        t("m.accept")) : null,
      offered ? h("button", { type: "button", class: "btn", onclick: () => open(order.id, "decline") },
        t("m.decline")) : null,
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => open(order.id) }, t("m.details"))));
}

export function renderList(root, orders, ctx) {
  const visible = orders.filter((o) => !["declined", "done"].includes(effective(o, ctx.pending).status));
  if (!visible.length) {
    fill(root, h("div", { class: "empty" }, h("p", null, t("m.no_orders")),
      h("p", { class: "hint" }, ctx.onDuty ? t("m.no_orders_on_duty") : t("m.no_orders_off_duty"))));
    return;
  }
  fill(root, visible.map((o) => orderCard(o, ctx)));
}

// The sheet over everything while an offer waits: ring until the worker answers or looks at it.
export function renderIncoming(root, order, { act, open, later }) {
  if (!order) { root.hidden = true; root.replaceChildren(); return; }
  const inc = order.incident || {};
  fill(root, h("div", { class: "sheet" },
    h("h2", { id: "incoming-title" }, t("m.new_order")),
    h("div", { class: "card-head" },
      h("span", { class: "prio prio-" + inc.priority }, "P" + inc.priority),
      h("strong", { class: "cat" }, categoryName(inc.category_code))),
    h("p", { class: "desc" }, inc.description || ""),
    h("div", { class: "meta" },
      order.distance_m != null ? h("span", null, fmtDistance(order.distance_m)) : null,
      order.ack_due_at ? countdown(order.ack_due_at) : null),
    h("div", { class: "sheet-actions" },
      h("button", { type: "button", class: "btn btn-go btn-big", id: "incoming-accept",
        onclick: () => act("accept", order) }, t("m.accept")),
      h("button", { type: "button", class: "btn btn-big", onclick: () => open(order.id, "decline") },
        t("m.decline"))),
    h("div", { class: "sheet-actions" },
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => open(order.id) }, t("m.details")),
      h("button", { type: "button", class: "btn btn-ghost", onclick: later }, t("m.silence")))));
  root.hidden = false;
}
