// The service catalogue (服务事项清单): every item, withdrawn ones too, searched and filtered by group; the edit form
// with every field (materials one per line), new items by code, save (publishes a withdrawn item again) and withdraw.
// A refused save shows the server's reasons beside the form and changes nothing. A region admin only reads: the
// catalogue is district-wide (the API refuses their edits).
import { h, fill } from "../app/dom.js";
import { api } from "../app/api.js";
import { t } from "../app/i18n.js";
import { call, field, fillForm, say, table, values } from "./ui.js";

const A = "/api/v1/admin/catalogue";
const LEVELS = ["community", "street", "district"];
const TYPES = ["immediate", "promise", "joint", "answer"];
const CODE = /^[A-Za-z0-9_-]{1,32}$/;
const BODY = ["name", "group_name", "department", "category_code", "level", "item_type", "conditions", "office",
  "address", "hours", "time_limit_days", "phone", "online", "offline"];

const area = (name, key, attrs) => h("label", { class: "wide" }, t(key), h("textarea", { name, rows: 3, ...attrs }));
const check = (name, key) => h("label", { class: "check" }, h("input", { type: "checkbox", name }), t(key));
const limit = (d) => (d ? t("admin.svc.days_n", { n: d }) : t("admin.svc.on_the_spot"));

function itemForm(onSaved) {
  let editing = null;
  let readOnly = false;
  const title = h("h2", {}, t("admin.svc.new"));
  const errors = h("div", { class: "a-errors", id: "item-errors", role: "alert" });
  const groups = h("datalist", { id: "svc-groups" });
  const category = field("category_code", "admin.f.category", { options: [["", t("admin.svc.no_category")]] });
  const withdrawBtn = h("button", { class: "a-btn danger", type: "button", id: "item-withdraw", hidden: true,
    onclick: () => withdraw() }, t("admin.svc.withdraw"));
  const form = h("form", { class: "a-form", id: "item-form", novalidate: true },
    field("code", "admin.svc.f.code", { required: true, maxlength: 32, placeholder: "S057" }),
    field("name", "admin.svc.f.name", { required: true, maxlength: 200 }),
    field("group_name", "admin.svc.f.group", { required: true, maxlength: 32, list: "svc-groups" }),
    field("department", "admin.svc.f.department", { required: true, maxlength: 100 }),
    category,
    field("level", "admin.svc.f.level", { options: LEVELS.map((x) => [x, t("admin.svc.level." + x)]) }),
    field("item_type", "admin.svc.f.item_type", { options: TYPES.map((x) => [x, t("admin.item." + x)]) }),
    field("time_limit_days", "admin.svc.f.limit", { type: "number", min: 1, max: 365, placeholder: t("admin.svc.on_the_spot") }),
    area("conditions", "admin.svc.f.conditions", { maxlength: 4000 }),
    area("materials", "admin.svc.f.materials", { rows: 5, placeholder: t("admin.svc.materials_hint") }),
    field("office", "admin.svc.f.office", { maxlength: 200 }),
    field("address", "admin.svc.f.address", { maxlength: 300 }),
    field("hours", "admin.svc.f.hours", { maxlength: 100 }),
    field("phone", "admin.svc.f.phone", { maxlength: 32 }),
    check("online", "admin.svc.online"), check("offline", "admin.svc.offline"),
    h("div", { class: "row-btns" }, h("button", { class: "a-btn", type: "submit", id: "item-save" }, t("admin.save")),
      h("button", { class: "a-btn ghost", type: "button", onclick: () => reset() }, t("admin.clear")), withdrawBtn),
    errors, groups);
  const el = (name) => form.elements[name];
  function reset() {
    editing = null;
    form.reset();
    el("offline").checked = true;
    el("code").disabled = readOnly;
    title.textContent = t("admin.svc.new");
    withdrawBtn.hidden = true;
    fill(errors);
  }
  function edit(item) {
    reset();
    editing = item;
    fillForm(form, { ...item, materials: item.materials.join("\n") });
    el("code").disabled = true;
    title.textContent = t("admin.svc.edit", { code: item.code });
    withdrawBtn.hidden = !item.active;
  }
  function refused(err) {  // the server's reasons, each by the field it names
    const labels = Object.fromEntries(Array.from(form.elements).filter((x) => x.name)
      .map((x) => [x.name, (x.closest("label") && x.closest("label").firstChild.textContent) || x.name]));
    const lines = (Array.isArray(err.details) ? err.details : []).map((d) => {
      const name = (d.loc || []).find((p) => p in labels);
      if (name) { el(name).setAttribute("aria-invalid", "true"); }
      return h("li", {}, name ? labels[name] + "：" : "", d.msg || "");
    });
    fill(errors, h("p", { class: "bad-text" }, t("admin.refused", { why: err.message })), lines.length ? h("ul", {}, lines) : null);
    say(t("admin.refused", { why: err.message }), true);
  }
  async function withdraw() {
    if (!editing || !window.confirm(t("admin.svc.confirm_withdraw", { code: editing.code, name: editing.name }))) { return; }
    await call("DELETE", `${A}/${encodeURIComponent(editing.code)}`);
    say(t("admin.svc.withdrawn"));
    reset();
    onSaved();
  }
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    fill(errors);
    for (const x of form.querySelectorAll("[aria-invalid]")) { x.removeAttribute("aria-invalid"); }
    const v = values(form);
    const code = editing ? editing.code : v.code || "";
    if (!CODE.test(code)) { refused({ message: t("admin.svc.bad_code") }); el("code").setAttribute("aria-invalid", "true"); return; }
    const body = Object.fromEntries(BODY.map((k) => [k, v[k]]));
    body.materials = el("materials").value.split("\n").map((s) => s.trim()).filter(Boolean);
    let saved;
    try {
      saved = await api("PUT", `${A}/${encodeURIComponent(code)}`, { body });
    } catch (err) { refused(err); return; }
    say(t("admin.saved"));
    edit({ ...saved, active: true });
    onSaved();
  };
  async function setup(data, categories) {
    fill(groups, data.groups.map((g) => h("option", { value: g })));
    const select = category.querySelector("select");
    if (select.options.length === 1) {
      select.append(...categories.map((c) => h("option", { value: c.code }, `${c.name_zh}（${c.code}）`)));
    }
    if (!data.editable && !readOnly) {
      readOnly = true;
      for (const x of form.elements) { x.disabled = true; }
    }
  }
  reset();
  return { el: h("section", { class: "a-card" }, title, form), edit, reset, setup };
}

export function catalogueTab(panel) {
  const rows = h("div", { class: "a-scroll", id: "catalogue" });
  const hint = h("p", { class: "a-hint", id: "catalogue-readonly", hidden: true }, t("admin.svc.read_only"));
  const q = h("input", { type: "search", placeholder: t("admin.svc.search"), id: "svc-search", maxlength: 64 });
  const group = h("select", { id: "svc-group" }, h("option", { value: "" }, t("admin.svc.all_groups")));
  let categories = null;
  async function load() {
    const params = new URLSearchParams();
    if (q.value.trim()) { params.set("q", q.value.trim()); }
    if (group.value) { params.set("group", group.value); }
    const [data, cats] = await Promise.all([call("GET", `${A}?${params}`),
      categories || call("GET", "/api/v1/categories").then((r) => r.items)]);
    categories = cats;
    form.setup(data, cats);
    hint.hidden = data.editable;
    newBtn.disabled = !data.editable;
    const chosen = group.value;
    fill(group, h("option", { value: "" }, t("admin.svc.all_groups")), data.groups.map((g) => h("option", { value: g }, g)));
    group.value = chosen;
    fill(rows, table(["admin.svc.f.code", "admin.svc.f.name", "admin.svc.f.group", "admin.svc.f.department",
      "admin.svc.f.level", "admin.svc.f.item_type", "admin.svc.f.limit", "admin.svc.f.ways", "admin.f.state", "admin.acts"],
    data.items, (x) => h("tr", { "data-item": x.code },
      h("td", {}, x.code), h("td", {}, x.name), h("td", {}, x.group_name), h("td", {}, x.department),
      h("td", {}, t("admin.svc.level." + x.level)), h("td", {}, t("admin.item." + x.item_type)),
      h("td", {}, limit(x.time_limit_days)),
      h("td", {}, x.online ? h("span", { class: "tag" }, t("admin.svc.online_short")) : null,
        x.offline ? h("span", { class: "tag" }, t("admin.svc.offline_short")) : null),
      h("td", {}, h("span", { class: "tag " + (x.active ? "ok" : "off") }, t(x.active ? "admin.svc.published" : "admin.svc.withdrawn_state"))),
      h("td", { class: "acts" }, h("button", { class: "a-btn sm ghost", onclick: () => form.edit(x) },
        t(data.editable ? "admin.edit" : "admin.svc.view"))))));
  }
  const form = itemForm(load);
  const newBtn = h("button", { class: "a-btn ghost", type: "button", id: "item-new", onclick: () => form.reset() }, t("admin.svc.new"));
  q.oninput = () => load();
  group.onchange = () => load();
  panel.append(h("div", { class: "a-cols" }, form.el,
    h("section", { class: "a-card" }, h("h2", {}, t("admin.tab.catalogue")), hint,
      h("div", { class: "a-tools" }, q, group, newBtn),
      rows)));
  load();
}
