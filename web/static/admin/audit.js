// The audit log: every administrative change (who, when, what, before → after), filtered, exported as CSV/XLSX.
import { h, fill } from "../app/dom.js";
import { t, fmtTime } from "../app/i18n.js";
import { call, download, field, table, values } from "./ui.js";

const A = "/api/v1/admin/audit";
const ENTITIES = ["user", "department", "category", "routing_rule", "deadline_rule", "calendar_override", "regions",
  "service_item"];

function diff(before, after) {
  if (!before || !after) {  // created or deleted: the one state, compactly, without empty fields
    const one = before || after || {};
    const text = Object.entries(one).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length))
      .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ");
    return [before ? h("del", {}, text) : h("ins", {}, text)];
  }
  const keys = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  const out = [];
  for (const k of keys) {
    const a = JSON.stringify((before || {})[k]);
    const b = JSON.stringify((after || {})[k]);
    if (a === b) { continue; }
    out.push(h("div", {}, k + ": ", before ? h("del", {}, a ?? "") : null, before && after ? " → " : "", after ? h("ins", {}, b ?? "") : null));
  }
  return out;
}

export function auditTab(panel) {
  const rows = h("div", { class: "a-scroll", id: "audit" });
  const form = h("form", { class: "a-tools a-form", id: "audit-filter" },
    field("entity", "admin.f.entity", { options: [["", t("admin.any")], ...ENTITIES.map((e) => [e, t("admin.entity." + e)])] }),
    field("actor", "admin.f.actor", { maxlength: 64 }),
    field("action", "admin.f.action", { maxlength: 32 }),
    field("since", "admin.f.since", { type: "date" }),
    field("until", "admin.f.until", { type: "date" }));
  function params() {
    const v = values(form);
    const p = new URLSearchParams();
    for (const k of ["entity", "actor", "action"]) { if (v[k]) { p.set(k, v[k]); } }
    if (v.since) { p.set("since", new Date(v.since + "T00:00:00").toISOString()); }
    if (v.until) { p.set("until", new Date(v.until + "T23:59:59").toISOString()); }
    return p;
  }
  async function load() {
    const data = await call("GET", `${A}?${params()}`);
    fill(rows, table(["admin.f.at", "admin.f.actor", "admin.f.action", "admin.f.entity", "admin.f.entity_id",
      "admin.f.region", "admin.f.change"], data.entries, (e) => h("tr", {}, h("td", {}, fmtTime(e.at)), h("td", {}, e.actor),
      h("td", {}, t("admin.action." + e.action)), h("td", {}, t("admin.entity." + e.entity)), h("td", {}, e.entity_id),
      h("td", {}, e.region_code || ""), h("td", { class: "a-diff" }, diff(e.before, e.after)))));
  }
  form.onchange = () => load();
  form.onsubmit = (ev) => { ev.preventDefault(); load(); };
  panel.append(h("section", { class: "a-card" }, h("h2", {}, t("admin.tab.audit")), form,
    h("div", { class: "a-tools" },
      h("button", { class: "a-btn ghost", type: "button", onclick: () => download(`${A}/export?format=csv&${params()}`, "audit.csv") }, t("admin.export_csv")),
      h("button", { class: "a-btn ghost", type: "button", id: "audit-xlsx", onclick: () => download(`${A}/export?format=xlsx&${params()}`, "audit.xlsx") }, t("admin.export_xlsx"))),
    rows));
  load();
}
