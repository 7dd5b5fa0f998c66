// Live countdowns: an element made by `countdown(dueIso)` shows the time left ("还剩 12分05秒") or overdue
// ("超期 3小时05分"), and one shared 1-second ticker updates every such element on the page.
import { h } from "./dom.js";
import { fmtDuration, t } from "./i18n.js";

function update(el, now) {
  const left = Date.parse(el.dataset.due) - now;
  const overdue = left <= 0;
  el.classList.toggle("overdue", overdue);
  el.classList.toggle("soon", !overdue && left < 15 * 60 * 1000);  // under 15 minutes left
  el.textContent = overdue ? t("common.overdue_by", { d: fmtDuration(left) }) : t("common.left", { d: fmtDuration(left) });
}

export function countdown(dueIso) {
  const el = h("span", { class: "countdown", "data-due": dueIso });
  update(el, Date.now());
  return el;
}

let ticker = null;
export function startTicker() {
  if (ticker) { return; }
  ticker = window.setInterval(() => {
    const now = Date.now();
    for (const el of document.querySelectorAll(".countdown[data-due]")) { update(el, now); }
  }, 1000);
}
