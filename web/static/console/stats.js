// Statistics and the ledger (台账) from the console: the figures of a period by category, region or department
// (GET /api/v1/stats) and the ledger downloaded as XLSX or CSV (GET /api/v1/ledger) with the operator's token.
import { auth } from "../app/auth.js";
import { h } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { get } from "../app/api.js";
import { categoryName, departmentName, regionName } from "../app/catalog.js";

const RATES = ["sign_rate", "response_rate", "resolution_rate", "on_time_rate", "rework_rate", "satisfaction_rate"];

const pct = (v) => (v == null ? "—" : (v * 100).toFixed(1) + "%");
const day = (d) => d.toISOString().slice(0, 10);

// The period's bounds as instants: from the start of the first day to the end of the last (local time).
function bounds(from, to) {
  const start = new Date(from + "T00:00:00");
  const end = new Date(to + "T00:00:00");
  end.setDate(end.getDate() + 1);
  return `from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(end.toISOString())}`;
}

function keyName(group, key) {
  if (group === "category") { return categoryName(key); }
  if (group === "department") { return departmentName(key); }
  if (group === "region") { return regionName(key); }
  return key;
}

function figures(data) {
  const rows = [...data.rows, { ...data.total, key: t("stats.total") }];
  return h("table", { class: "table", id: "stats-table" },
    h("tr", {}, h("th", {}, ""), h("th", {}, t("stats.received")), RATES.map((r) => h("th", {}, t("stats." + r)))),
    rows.map((row, i) => h("tr", {}, h("td", {}, i === rows.length - 1 ? row.key : keyName(data.group, row.key)),
      h("td", { class: "num" }, String(row.received)),
      RATES.map((r) => h("td", { class: "num" }, pct(row.rates[r]))))));
}

async function download(query, format, toast) {
  const response = await fetch(`/api/v1/ledger?${query}&format=${format}`,
    { headers: { Authorization: "Bearer " + auth.token() }, cache: "no-store" });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* keep the status text */ }
    toast(message, true);
    return;
  }
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
  const url = URL.createObjectURL(await response.blob());
  const a = h("a", { href: url, download: name ? name[1] : `ledger.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10000);
  toast(t("stats.downloaded"));
}

export function openStats(toast) {
  document.querySelector("dialog.action-dialog")?.remove();
  const today = new Date();
  const monthAgo = new Date(today.getTime() - 30 * 86400000);
  const from = h("input", { type: "date", id: "stats-from", value: day(monthAgo) });
  const to = h("input", { type: "date", id: "stats-to", value: day(today) });
  const group = h("select", { id: "stats-group" }, ["category", "region", "department", "total"].map((g) =>
    h("option", { value: g }, t("stats.by_" + g))));
  const out = h("div", { class: "stats-out", id: "stats-out" });
  const query = () => bounds(from.value, to.value);
  async function show() {
    try {
      out.replaceChildren(figures(await get(`/api/v1/stats?${query()}&group=${group.value}`)));
    } catch (e) { toast(e.message, true); out.replaceChildren(h("p", { class: "form-error" }, e.message)); }
  }
  const dlg = h("dialog", { class: "action-dialog stats-dialog", id: "dlg-stats" },
    h("h2", {}, t("stats.title")),
    h("div", { class: "row3" }, h("label", {}, t("stats.from"), from), h("label", {}, t("stats.to"), to),
      h("label", {}, t("stats.group"), group)),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-primary", id: "stats-show", onclick: show }, t("stats.show")),
      h("button", { type: "button", class: "btn", id: "ledger-xlsx", onclick: () => download(query(), "xlsx", toast) },
        t("stats.ledger_xlsx")),
      h("button", { type: "button", class: "btn", id: "ledger-csv", onclick: () => download(query(), "csv", toast) },
        t("stats.ledger_csv")),
      h("button", { type: "button", class: "btn btn-quiet", id: "stats-close", onclick: () => dlg.close() },
        t("console.cancel"))),
    out);
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  show();
}
