// Accounts: the list (search, role), create and edit (a grid worker's kind, grids, phone, max load, duty hours),
// disable/enable, reset password, end sessions, and the XLSX/CSV import with its per-row report.
import { h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { call, field, fillForm, list, say, table, upload, values } from "./ui.js";

const A = "/api/v1/admin/users";
const ROLES = ["worker", "liaison", "operator", "supervisor", "admin"];
const KINDS = ["leader", "fulltime", "parttime", "micro"];

function accountForm(onSaved) {
  let editing = null;
  const title = h("h2", {}, t("admin.acc.new"));
  const form = h("form", { class: "a-form", id: "account-form" },
    field("username", "admin.f.username", { required: true, maxlength: 64 }),
    field("password", "admin.f.password", { type: "password", minlength: 6, autocomplete: "new-password" }),
    field("display_name", "admin.f.name", { maxlength: 100 }),
    field("phone", "admin.f.phone", { maxlength: 32 }),
    field("role", "admin.f.role", { options: ROLES.map((r) => [r, t("admin.role." + r)]) }),
    field("region_code", "admin.f.region", { maxlength: 64 }),
    field("department_code", "admin.f.department", { maxlength: 64 }),
    field("kind", "admin.f.kind", { options: KINDS.map((k) => [k, t("admin.kind." + k)]) }),
    field("grid_codes", "admin.f.grids", { placeholder: "G1, G2" }),
    field("max_load", "admin.f.max_load", { type: "number", min: 1, max: 50, value: "2" }),
    field("shift_start", "admin.f.shift_start", { type: "time" }),
    field("shift_end", "admin.f.shift_end", { type: "time" }),
    h("div", { class: "row-btns" },
      h("button", { class: "a-btn", type: "submit", id: "account-save" }, t("admin.save")),
      h("button", { class: "a-btn ghost", type: "button", onclick: () => reset() }, t("admin.clear"))));
  function reset() { editing = null; form.reset(); form.username.disabled = false; title.textContent = t("admin.acc.new"); }
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const v = values(form);
    const worker = v.role === "worker" ? { kind: v.kind, grid_codes: list(v.grid_codes), max_load: v.max_load || 2,
      shift_start: v.shift_start, shift_end: v.shift_end } : null;
    if (editing) {
      await call("PATCH", `${A}/${editing.id}`, { display_name: v.display_name, phone: v.phone || "",
        worker: editing.worker ? worker : null });
      // Role and scope (region, department): their own call, which ends the account's sessions at once.
      const region = editing.worker ? editing.region_code : v.region_code;
      if (v.role !== editing.role || region !== editing.region_code || v.department_code !== editing.department_code) {
        await call("PUT", `${A}/${editing.id}/role`, { role: v.role, region_code: region,
          department_code: v.department_code });
      }
    } else {
      await call("POST", A, { username: v.username, password: v.password, role: v.role, display_name: v.display_name,
        phone: v.phone, region_code: worker ? null : v.region_code, department_code: v.department_code, worker });
    }
    say(t("admin.saved"));
    reset();
    onSaved();
  };
  function edit(u) {
    editing = u;
    title.textContent = t("admin.acc.edit", { name: u.username });
    fillForm(form, { ...u, password: "", ...(u.worker ? { ...u.worker, grid_codes: u.worker.grid_codes.join(", ") } : {}) });
    form.username.disabled = true;
  }
  return { el: h("section", { class: "a-card" }, title, form), edit };
}

function importCard(onDone) {
  const report = h("div", { id: "import-report" });
  const input = h("input", { type: "file", name: "file", accept: ".xlsx,.csv", id: "import-file" });
  async function run(dryRun) {
    if (!input.files.length) { say(t("admin.pick_file"), true); return; }
    const form = new FormData();
    form.append("file", input.files[0]);
    form.append("dry_run", dryRun ? "true" : "false");
    const { status, body } = await upload(`${A}/import`, form);
    const result = status === 200 ? body : (body && body.error && body.error.details) || null;
    if (!result) { say(t("admin.refused", { why: body && body.error ? body.error.message : status }), true); return; }
    fill(report, h("p", { class: result.ok ? "ok-text" : "bad-text" },
      result.written ? t("admin.imp.written", { n: result.rows.length })
        : result.ok ? t("admin.imp.checked", { n: result.rows.length }) : t("admin.imp.refused")),
    table(["admin.imp.row", "admin.f.username", "admin.imp.result", "admin.imp.initial"], result.rows, (r) =>
      h("tr", {}, h("td", {}, r.row), h("td", {}, r.username || ""),
        h("td", { class: r.ok ? "ok-text" : "bad-text" }, r.ok ? t("admin.ok") : r.error),
        h("td", {}, r.initial_password || ""))));
    if (result.written) { onDone(); }
  }
  return h("section", { class: "a-card" }, h("h2", {}, t("admin.imp.title")),
    h("p", { class: "a-hint" }, t("admin.imp.hint")),
    h("div", { class: "a-tools" }, input,
      h("button", { class: "a-btn ghost", type: "button", onclick: () => run(true) }, t("admin.imp.check")),
      h("button", { class: "a-btn", type: "button", id: "import-run", onclick: () => run(false) }, t("admin.imp.run"))),
    report);
}

export function accountsTab(panel) {
  const rows = h("div", { class: "a-scroll", id: "accounts" });
  const q = h("input", { type: "search", placeholder: t("admin.search"), id: "acc-search" });
  const role = h("select", {}, h("option", { value: "" }, t("admin.all_roles")),
    ROLES.map((r) => h("option", { value: r }, t("admin.role." + r))));
  async function load() {
    const params = new URLSearchParams();
    if (q.value.trim()) { params.set("q", q.value.trim()); }
    if (role.value) { params.set("role", role.value); }
    const data = await call("GET", `${A}?${params}`);
    fill(rows, table(["admin.f.username", "admin.f.name", "admin.f.role", "admin.f.region", "admin.f.department",
      "admin.f.kind", "admin.f.grids", "admin.f.phone", "admin.f.max_load", "admin.f.duty", "admin.f.state", "admin.acts"],
    data.users, (u) => h("tr", { "data-user": u.username },
      h("td", {}, u.username), h("td", {}, u.display_name), h("td", {}, t("admin.role." + u.role)),
      h("td", {}, u.region_code || "—"), h("td", {}, u.department_code || ""),
      h("td", {}, u.worker ? t("admin.kind." + u.worker.kind) : ""),
      h("td", {}, u.worker ? u.worker.grid_codes.join(", ") : ""), h("td", {}, u.phone || ""),
      h("td", {}, u.worker ? u.worker.max_load : ""),
      h("td", {}, u.worker && u.worker.shift_start ? `${u.worker.shift_start}–${u.worker.shift_end || ""}` : ""),
      h("td", {}, h("span", { class: "tag " + (u.active ? "ok" : "off") }, t(u.active ? "admin.active" : "admin.disabled"))),
      h("td", { class: "acts" },
        h("button", { class: "a-btn sm ghost", onclick: () => form.edit(u) }, t("admin.edit")),
        h("button", { class: "a-btn sm " + (u.active ? "danger" : "ghost"), onclick: async () => {
          await call("POST", `${A}/${u.id}/${u.active ? "disable" : "enable"}`); load(); } },
        t(u.active ? "admin.disable" : "admin.enable")),
        h("button", { class: "a-btn sm ghost", onclick: async () => {
          const pw = window.prompt(t("admin.new_password", { name: u.username }));
          if (pw) { await call("POST", `${A}/${u.id}/password`, { password: pw }); say(t("admin.saved")); }
        } }, t("admin.reset_pw")),
        h("button", { class: "a-btn sm ghost", onclick: async () => {
          await call("POST", `${A}/${u.id}/sessions/end`); say(t("admin.sessions_ended")); } }, t("admin.end_sessions"))))));
  }
  const form = accountForm(load);
  q.oninput = () => load();
  role.onchange = () => load();
  panel.append(h("div", { class: "a-cols" }, h("div", {}, form.el, importCard(load)),
    h("section", { class: "a-card" }, h("h2", {}, t("admin.tab.accounts")), h("div", { class: "a-tools" }, q, role), rows)));
  load();
}
