// Departments (name, kind, jurisdiction regions, duty phone, liaisons) and categories with their routing rules
// (department kinds per category per region, whether grid workers are sent, the acknowledge timeout, priority).
import { h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { call, field, fillForm, list, say, table, values } from "./ui.js";

const A = "/api/v1/admin";
const prio = (p) => `P${p} ${t("priority." + p)}`;  // as the category's P1–P4, with the app's 特急…较低

export function departmentsTab(panel) {
  const rows = h("div", { class: "a-scroll", id: "departments" });
  const form = h("form", { class: "a-form", id: "department-form" },
    field("code", "admin.f.code", { required: true, maxlength: 64 }),
    field("name", "admin.f.name", { required: true, maxlength: 200 }),
    field("kind", "admin.f.dept_kind", { required: true, maxlength: 32, placeholder: "city, water, power…" }),
    field("region_code", "admin.f.region", { required: true, maxlength: 64 }),
    field("region_codes", "admin.f.jurisdiction", { placeholder: "S1, S2" }, "wide"),
    field("phone", "admin.f.duty_phone", { maxlength: 32 }),
    h("div", { class: "row-btns" }, h("button", { class: "a-btn", type: "submit", id: "department-save" }, t("admin.save"))));
  async function load() {
    const data = await call("GET", `${A}/departments`);
    fill(rows, table(["admin.f.code", "admin.f.name", "admin.f.dept_kind", "admin.f.region", "admin.f.jurisdiction",
      "admin.f.duty_phone", "admin.f.liaisons", "admin.acts"], data.departments, (d) => h("tr", { "data-dept": d.code },
      h("td", {}, d.code), h("td", {}, d.name), h("td", {}, d.kind), h("td", {}, d.region_code),
      h("td", {}, (d.region_codes || []).join(", ")), h("td", {}, d.phone || ""),
      h("td", {}, d.liaisons.map((u) => h("span", { class: "tag" }, `${u.display_name} ${u.phone || ""}`))),
      h("td", { class: "acts" }, h("button", { class: "a-btn sm ghost", onclick: () =>
        fillForm(form, { ...d, region_codes: (d.region_codes || []).join(", ") }) }, t("admin.edit"))))));
  }
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = values(form);
    await call("PUT", `${A}/departments/${encodeURIComponent(v.code)}`, { name: v.name, kind: v.kind,
      region_code: v.region_code, region_codes: list(v.region_codes), phone: v.phone });
    say(t("admin.saved"));
    form.reset();
    load();
  };
  panel.append(h("div", { class: "a-cols" },
    h("section", { class: "a-card" }, h("h2", {}, t("admin.dept.edit")), form),
    h("section", { class: "a-card" }, h("h2", {}, t("admin.tab.departments")), rows)));
  load();
}

export function routingTab(panel) {
  const cats = h("div", { class: "a-scroll", id: "categories" });
  const rules = h("div", { class: "a-scroll", id: "routing" });
  const catForm = h("form", { class: "a-form", id: "category-form" },
    field("code", "admin.f.code", { required: true, maxlength: 64 }),
    field("name_zh", "admin.f.name_zh", { maxlength: 100 }),
    field("name_en", "admin.f.name_en", { maxlength: 100 }),
    field("group", "admin.f.group", { options: [["service", t("admin.group.service")], ["emergency", t("admin.group.emergency")]] }),
    field("default_priority", "admin.f.priority", { options: [1, 2, 3, 4].map((p) => [p, "P" + p]) }),
    field("item_type", "admin.f.item_type", { options: ["promise", "immediate", "joint", "answer"].map((x) =>
      [x, t("admin.item." + x)]) }),
    h("div", { class: "row-btns" }, h("button", { class: "a-btn", type: "submit", id: "category-save" }, t("admin.save"))));
  catForm.querySelector('[name=default_priority] option[value="3"]').defaultSelected = true;  // P3 unless told
  catForm.reset();
  const ruleForm = h("form", { class: "a-form", id: "routing-form" },
    field("category_code", "admin.f.category", { required: true, maxlength: 64 }),
    field("region_code", "admin.f.region_or_default", { maxlength: 64 }),
    field("department_kinds", "admin.f.dept_kinds", { placeholder: "city, police" }, "wide"),
    field("workers_needed", "admin.f.workers_needed", { type: "number", min: 0, max: 20, value: "1" }),
    field("ack_timeout_s", "admin.f.ack_timeout", { type: "number", min: 5, max: 86400, value: "60" }),
    field("radius_m", "admin.f.radius", { type: "number", min: 1, max: 100000, value: "3000" }),
    field("max_attempts", "admin.f.max_attempts", { type: "number", min: 1, max: 20, value: "3" }),
    field("priority", "admin.f.priority", { options: [["", t("admin.route.priority_default")],
      ...[1, 2, 3, 4].map((p) => [p, prio(p)])] }),
    h("div", { class: "row-btns" }, h("button", { class: "a-btn", type: "submit", id: "routing-save" }, t("admin.save"))));
  async function load() {
    const [c, r] = await Promise.all([call("GET", `${A}/categories`), call("GET", `${A}/routing-rules`)]);
    fill(cats, table(["admin.f.code", "admin.f.name_zh", "admin.f.name_en", "admin.f.group", "admin.f.priority",
      "admin.f.item_type", "admin.acts"], c.categories, (x) => h("tr", {}, h("td", {}, x.code), h("td", {}, x.name_zh),
      h("td", {}, x.name_en), h("td", {}, t("admin.group." + x.group)), h("td", {}, "P" + x.default_priority),
      h("td", {}, t("admin.item." + x.item_type)),
      h("td", {}, h("button", { class: "a-btn sm ghost", onclick: () => fillForm(catForm, x) }, t("admin.edit"))))));
    fill(rules, table(["admin.f.category", "admin.f.region", "admin.f.dept_kinds", "admin.f.workers_needed",
      "admin.f.ack_timeout", "admin.f.radius", "admin.f.priority", "admin.acts"], r.rules, (x) => h("tr", {},
      h("td", {}, x.category_code),
      h("td", {}, x.region_code || t("admin.default")), h("td", {}, x.department_kinds.join(", ")),
      h("td", {}, x.workers_needed ? x.workers_needed : t("admin.no_workers")), h("td", {}, x.ack_timeout_s + " s"),
      h("td", {}, x.radius_m + " m"), h("td", {}, x.priority ? prio(x.priority) : t("admin.route.priority_default")),
      h("td", { class: "acts" },
        h("button", { class: "a-btn sm ghost", onclick: () => fillForm(ruleForm, { ...x,
          department_kinds: x.department_kinds.join(", ") }) }, t("admin.edit")),
        h("button", { class: "a-btn sm danger", onclick: async () => {
          await call("DELETE", `${A}/routing-rules/${x.id}`); load(); } }, t("admin.delete"))))));
  }
  catForm.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = values(catForm);
    await call("PUT", `${A}/categories/${encodeURIComponent(v.code)}`, { name_zh: v.name_zh, name_en: v.name_en,
      group: v.group, default_priority: Number(v.default_priority), item_type: v.item_type });
    say(t("admin.saved"));
    catForm.reset();
    load();
  };
  ruleForm.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = values(ruleForm);
    await call("PUT", `${A}/routing-rules`, { category_code: v.category_code, region_code: v.region_code,
      department_kinds: list(v.department_kinds), workers_needed: v.workers_needed ?? 1,
      ack_timeout_s: v.ack_timeout_s ?? 60, radius_m: v.radius_m ?? 3000, max_attempts: v.max_attempts ?? 3,
      priority: v.priority === null ? null : Number(v.priority) });
    say(t("admin.saved"));
    ruleForm.reset();
    load();
  };
  panel.append(h("div", { class: "a-cols" },
    h("div", {}, h("section", { class: "a-card" }, h("h2", {}, t("admin.cat.edit")), catForm),
      h("section", { class: "a-card" }, h("h2", {}, t("admin.route.edit")), h("p", { class: "a-hint" }, t("admin.route.hint")), ruleForm)),
    h("div", {}, h("section", { class: "a-card" }, h("h2", {}, t("admin.cat.title")), cats),
      h("section", { class: "a-card" }, h("h2", {}, t("admin.route.title")), rules))));
  load();
}
