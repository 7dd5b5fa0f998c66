// Overdue and supervised (督办) items with live countdowns, from GET /api/v1/screen/board's `deadlines`:
// supervised first, then the most overdue, then what falls due next.
import { $, clipToFit, fill, h } from "../app/dom.js";
import { label, t } from "../app/i18n.js";
import { categoryName, placeOf } from "../app/catalog.js";
import { countdown } from "../app/countdown.js";

const MAX_ROWS = 20;

function tag(d) {
  if (d.supervision_level > 0) {
    return h("span", { class: "tag tag-supervised" }, t("screen.supervised_level", { n: d.supervision_level }));
  }
  return d.overdue ? h("span", { class: "tag tag-overdue" }, t("screen.overdue_tag"))
    : h("span", { class: "tag tag-due" }, t("screen.due_soon"));
}

export function renderDeadlines(deadlines) {
  const rows = deadlines.slice(0, MAX_ROWS).map((d) => h("li", {
    class: "deadline-row" + (d.supervision_level > 0 ? " supervised" : ""), "data-incident-id": d.incident.id },
  tag(d),
  h("span", { class: "cat" }, "#" + d.incident.id + " " + categoryName(d.incident.category_code)),
  countdown(d.due_at),
  h("span", { class: "what" }, label("deadline", d.kind),
    d.order_id ? " · " + t("console.order_no", { id: d.order_id }) : "", " · ", placeOf(d.incident))));
  fill($("#deadline-list"), rows);
  clipToFit($("#deadline-list"));  // a fresh list: every row starts shown
  $("#deadline-count").textContent = String(deadlines.length);
  $("#deadline-empty").hidden = deadlines.length > 0;
}
