// Deadline rules per category and region in working days or hours, and the working-day calendar in force
// (China's holiday schedule with its 调休 working weekends, plus local overrides per region or installation-wide).
import { h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { call, field, say, table, values } from "./ui.js";

const A = "/api/v1/admin";
const KINDS = ["resolve", "sign_for", "respond", "feedback"];

function limitText(r) {
  if (r.limit_workdays) { return t("admin.dl.workdays_n", { n: r.limit_workdays }); }
  if (r.same_day) { return t("admin.dl.same_day"); }
  return t("admin.dl.hours_n", { n: r.limit_hours });
}

export function deadlinesTab(panel) {
  const rows = h("div", { class: "a-scroll", id: "deadline-rules" });
  const form = h("form", { class: "a-form", id: "deadline-form" },
    field("kind", "admin.f.dl_kind", { options: KINDS.map((k) => [k, t("admin.dl.kind." + k)]) }),
    field("category_code", "admin.f.category", { maxlength: 64 }),
    field("region_code", "admin.f.region_or_default", { maxlength: 64 }),
    field("channel", "admin.f.channel", { options: [["", t("admin.any")], ...["counter", "app", "hotline", "patrol",
      "terminal", "sensor", "petition"].map((c) => [c, c])] }),
    field("unit", "admin.f.unit", { options: [["workdays", t("admin.dl.unit.workdays")], ["hours", t("admin.dl.unit.hours")],
      ["same_day", t("admin.dl.unit.same_day")]] }),
    field("amount", "admin.f.amount", { type: "number", min: 0.1, step: "any", value: "5" }),
    field("remind_before_hours", "admin.f.remind_before", { type: "number", min: 0, step: "any", value: "0" }),
    field("note", "admin.f.note", { maxlength: 200 }),
    h("div", { class: "row-btns" }, h("button", { class: "a-btn", type: "submit", id: "deadline-save" }, t("admin.add"))));
  async function load() {
    const data = await call("GET", `${A}/deadline-rules`);
    fill(rows, table(["admin.f.dl_kind", "admin.f.category", "admin.f.region", "admin.f.channel", "admin.f.limit",
      "admin.f.remind_before", "admin.f.note", "admin.acts"], data.rules, (r) => h("tr", {},
      h("td", {}, t("admin.dl.kind." + r.kind)), h("td", {}, r.category_code || t("admin.any")),
      h("td", {}, r.region_code || t("admin.default")), h("td", {}, r.channel || t("admin.any")),
      h("td", {}, limitText(r)), h("td", {}, r.remind_before_s ? (r.remind_before_s / 3600) + " h" : ""),
      h("td", {}, r.note || ""),
      h("td", {}, h("button", { class: "a-btn sm danger", onclick: async () => {
        await call("DELETE", `${A}/deadline-rules/${r.id}`); load(); } }, t("admin.delete"))))));
  }
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = values(form);
    const body = { kind: v.kind, category_code: v.category_code, region_code: v.region_code, channel: v.channel,
      remind_before_hours: v.remind_before_hours || 0, note: v.note };
    if (v.unit === "workdays") { body.limit_workdays = Math.round(v.amount); }
    if (v.unit === "hours") { body.limit_hours = v.amount; }
    if (v.unit === "same_day") { body.same_day = true; }
    await call("POST", `${A}/deadline-rules`, body);
    say(t("admin.saved"));
    load();
  };
  panel.append(h("div", { class: "a-cols" },
    h("section", { class: "a-card" }, h("h2", {}, t("admin.dl.new")), h("p", { class: "a-hint" }, t("admin.dl.hint")), form),
    h("section", { class: "a-card" }, h("h2", {}, t("admin.tab.deadlines")), rows)));
  load();
}

export function calendarTab(panel) {
  const now = new Date();
  const year = h("input", { type: "number", min: 2000, max: 2099, value: now.getFullYear(), id: "cal-year" });
  const month = h("select", { id: "cal-month" }, Array.from({ length: 12 }, (_, i) =>
    h("option", { value: i + 1, selected: i === now.getMonth() }, String(i + 1))));
  const region = h("input", { type: "text", placeholder: t("admin.f.region"), id: "cal-region", maxlength: 64 });
  const grid = h("div", { id: "calendar" });
  const overrides = h("div", { id: "overrides" });
  const form = h("form", { class: "a-form", id: "override-form" },
    field("day", "admin.f.day", { type: "date", required: true }),
    field("region_code", "admin.f.region_or_all", { maxlength: 64 }),
    field("workday", "admin.f.day_is", { options: [["false", t("admin.cal.off")], ["true", t("admin.cal.work")]] }),
    field("note", "admin.f.note", { maxlength: 200 }),
    h("div", { class: "row-btns" }, h("button", { class: "a-btn", type: "submit", id: "override-save" }, t("admin.save"))));
  async function load() {
    const params = new URLSearchParams({ year: year.value, month: month.value });
    if (region.value.trim()) { params.set("region", region.value.trim()); }
    const data = await call("GET", `${A}/calendar?${params}`);
    const first = new Date(data.days[0].day + "T00:00:00");
    const pad = (first.getDay() + 6) % 7;  // Monday first
    fill(grid,
      h("p", { class: "a-hint" }, data.covered ? t("admin.cal.covered", { from: data.covered_years[0], to: data.covered_years[1] })
        : t("admin.cal.uncovered", { year: data.year })),
      h("div", { class: "a-month" },
        [1, 2, 3, 4, 5, 6, 0].map((d) => h("div", { class: "dow" }, t("admin.dow." + d))),
        Array.from({ length: pad }, () => h("div", {})),
        data.days.map((d) => h("div", { class: `a-day ${d.workday ? "" : "off"} ${d.source}`, "data-day": d.day },
          h("b", {}, d.day.slice(8)), h("small", {}, t(d.workday ? "admin.cal.work" : "admin.cal.off")),
          h("small", {}, [t("admin.cal.src." + d.source), d.name ? " · " + d.name : ""].join(""))))));
    fill(overrides, table(["admin.f.day", "admin.f.region", "admin.f.day_is", "admin.f.note", "admin.acts"], data.overrides,
      (o) => h("tr", {}, h("td", {}, o.day), h("td", {}, o.region_code || t("admin.all_regions")),
        h("td", {}, t(o.workday ? "admin.cal.work" : "admin.cal.off")), h("td", {}, o.note || ""),
        h("td", {}, h("button", { class: "a-btn sm danger", onclick: async () => {
          await call("DELETE", `${A}/calendar/overrides/${o.id}`); load(); } }, t("admin.delete"))))));
  }
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = values(form);
    await call("PUT", `${A}/calendar/overrides`, { day: v.day, region_code: v.region_code, workday: v.workday === "true",
      note: v.note });
    say(t("admin.saved"));
    load();
  };
  for (const el of [year, month, region]) { el.onchange = () => load(); }
  panel.append(h("div", { class: "a-cols" },
    h("section", { class: "a-card" }, h("h2", {}, t("admin.cal.override")), h("p", { class: "a-hint" }, t("admin.cal.hint")), form,
      h("h2", {}, t("admin.cal.overrides")), overrides),
    h("section", { class: "a-card" }, h("h2", {}, t("admin.cal.in_force")), h("div", { class: "a-tools" }, year, month, region), grid)));
  load();
}
