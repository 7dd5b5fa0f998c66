// The department's work orders as a list with filters (待签收 / 办理中 / 已办结 / 已退回) and live countdowns:
// the sign-for limit while an order waits to be signed for, the resolve limit while it is in hand.

import { h, fill } from "../app/dom.js";
import { t, label, fmtTime } from "../app/i18n.js";
import { categoryName } from "../app/catalog.js";
import { countdown } from "../app/countdown.js";

export const FILTERS = {
  todo: ["sent", "delivered", "read"],
  doing: ["signed_for", "accepted", "extended"],
  done: ["done"],
  closed: ["returned", "cancelled", "declined", "timed_out"],
};

export function filterOf(status) {
  return Object.keys(FILTERS).find((f) => FILTERS[f].includes(status)) || "closed";
}

// The deadline that matters now, or null: [label key, ISO time].
export function deadlineOf(order) {
  const f = filterOf(order.status);
  if (f === "todo" && order.ack_due_at) { return ["dept.sign_limit", order.ack_due_at]; }
  if (f === "doing" && order.due_at) { return ["dept.resolve_limit", order.due_at]; }
  return null;
}



export function renderFilters(root, orders, current, choose) {
  const counts = { todo: 0, doing: 0, done: 0, closed: 0 };
  for (const o of orders) { counts[filterOf(o.status)] += 1; }
  fill(root, Object.keys(FILTERS).map((f) => h("button", { type: "button", role: "tab", "data-filter": f,
    "aria-selected": String(f === current), onclick: () => choose(f) },
  t("dept.filter_" + f), h("span", { class: "count" }, String(counts[f])))));
}

function row(order, selected, pick, sign) {
  const inc = order.incident || {};
  const deadline = deadlineOf(order);
  const todo = filterOf(order.status) === "todo";
  return h("article", { class: "d-row" + (selected ? " selected" : "") + (todo ? " todo" : ""), tabindex: 0,
    "data-order": order.id, onclick: () => pick(order.id),
    onkeydown: (ev) => { if (ev.key === "Enter") { pick(order.id); } } },
  h("div", { class: "d-row-head" },
    h("span", { class: "oid" }, "#" + order.id),
    h("span", { class: "prio prio-" + inc.priority }, "P" + inc.priority),
    h("strong", { class: "cat" }, categoryName(inc.category_code)),
    h("span", { class: "role" }, t("dept.role_" + (order.role || "lead"))),
    h("span", { class: "status status-" + order.status }, label("order", order.status))),
  h("p", { class: "desc clamp2" }, inc.description || ""),
  h("div", { class: "meta" },
    h("span", null, t("dept.received_at", { at: fmtTime(order.created_at) })),
    deadline ? h("span", null, t(deadline[0]), " ", countdown(deadline[1])) : null,
    todo ? h("button", { type: "button", class: "btn btn-primary btn-sm", "data-sign": order.id,
      onclick: (ev) => { ev.stopPropagation(); sign(order); } }, t("dept.sign")) : null));
}

export function renderList(root, orders, { filter, selectedId, pick, sign }) {
  const shown = orders.filter((o) => filterOf(o.status) === filter);
  if (!shown.length) { fill(root, h("p", { class: "empty" }, t("dept.none_" + filter))); return; }
  fill(root, shown.map((o) => row(o, o.id === selectedId, pick, sign)));
}
