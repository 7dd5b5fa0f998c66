// One incident as a list row (console queues, the wall's alarm list) and the small badges inside it. Text only:
// descriptions are what residents typed, so they go in as text nodes (dom.h), never as HTML.
import { h } from "./dom.js";
import { fmtClock, label, t } from "./i18n.js";
import { categoryName, placeOf } from "./catalog.js";
import { statusColor } from "./status.js";
import { maskPhones } from "./mask.js";
import { isWaiting } from "./reasons.js";

export function statusChip(status) {
  return h("span", { class: "chip", style: "--chip:" + statusColor(status), "data-status": status },
    label("status", status));
}

export function priorityBadge(priority) {
  const p = priority || 3;
  return h("span", { class: "prio prio-" + p, title: t("priority." + p) }, "P" + p);
}

// In the configured zone (app/i18n.js), like every time on every page.
export const clockTime = fmtClock;

// The attention box of the console reads the same codes as the timelines (app/reasons.js).
export { attentionReasons } from "./reasons.js";

// "Waiting for workers" beside the status, while dispatch waits for them after a live-state rebuild.
export function waitingChip(inc) {
  if (!inc.attention_reason || !isWaiting(inc.attention_reason)) { return null; }
  return h("span", { class: "chip waiting", "data-waiting": "true", title: label("attention", "waiting_for_workers") },
    t("console.waiting"));
}

// The latest move of one of the incident's orders: "网格员 已接单", "部门 已签收".
function orderNote(order) {
  if (!order) { return null; }
  return h("span", { class: "order-note", "data-order-status": order.status },
    t("order.kind_" + order.assignee_kind) + " " + label("order", order.status) + " · ");
}

// {masked: true} on shared screens: phone numbers in the description are masked.
export function incidentRow(inc, { selected = false, fresh = false, masked = false, onClick = null } = {}) {
  const text = masked ? maskPhones(inc.description) : inc.description;
  return h("li", { class: "incident-row" + (selected ? " selected" : "") + (fresh ? " fresh" : ""),
    "data-id": inc.id, "data-status": inc.status, onclick: onClick ? () => onClick(inc.id) : null },
  priorityBadge(inc.priority),
  h("span", { class: "cat" }, categoryName(inc.category_code)),
  h("span", { class: "when" }, clockTime(inc.created_at)),
  h("span", { class: "place" }, "#" + inc.id + " · ", statusChip(inc.status), " ", waitingChip(inc), " ",
    orderNote(inc.last_order), placeOf(inc)),
  h("span", { class: "desc" }, text));
}
