// The incident's timeline (台账: every step, who, when, from → to, why) and its deadlines with countdowns.
import { h } from "../app/dom.js";
import { label, t } from "../app/i18n.js";
import { countdown } from "../app/countdown.js";
import { clockTime } from "../app/rows.js";
import { reasonText } from "../app/reasons.js";
import { statusColor } from "../app/status.js";

function eventLabel(kind) {
  return label("event", kind);
}

function states(ev) {
  if (!ev.from_state && !ev.to_state) { return null; }
  const prefix = ev.kind.startsWith("order.") ? "order" : "status";
  return h("span", { class: "t-states" }, ev.from_state ? label(prefix, ev.from_state) + " → " : "",
    ev.to_state ? label(prefix, ev.to_state) : "");
}

export function timeline(events, workerName) {
  return h("ol", { class: "timeline" }, events.map((ev) => h("li", {
    style: "--dot:" + (ev.kind.startsWith("order.") ? "#8fb8de" : statusColor(ev.to_state || "")) },
  h("div", { class: "t-head" },
    h("span", { class: "t-kind" }, eventLabel(ev.kind)),
    states(ev),
    h("span", { class: "t-when" }, clockTime(ev.created_at)),
    h("span", { class: "t-actor" }, ev.actor ? t("console.by", { who: ev.actor }) : "",
      ev.order_id ? " · " + t("console.order_no", { id: ev.order_id }) : "")),
  ev.reason ? h("div", { class: "t-reason" }, reasonText(ev.reason)) : null)));
}

export function deadlines(list) {
  const open = list.filter((d) => !d.met_at);
  if (!open.length) { return h("p", { class: "meta" }, t("console.no_deadlines")); }
  return h("table", { class: "table" },
    h("tr", {}, h("th", {}, t("console.deadline")), h("th", {}, t("console.due_at")), h("th", {}, ""),
      h("th", {}, t("console.supervision"))),
    open.map((d) => h("tr", {},
      h("td", {}, label("deadline", d.kind), d.order_id ? " · " + t("console.order_no", { id: d.order_id }) : ""),
      h("td", {}, clockTime(d.due_at)),
      h("td", {}, countdown(d.due_at)),
      h("td", {}, d.supervision_level > 0 ? t("console.supervision_level", { n: d.supervision_level }) : "—"))));
}
