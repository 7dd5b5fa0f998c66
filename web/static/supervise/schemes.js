// The scheme panel (考核方案) on /supervise: the versions of the picked level's scheme (GET /api/v1/assessment/
// schemes), the one in force today marked, and the indices of a selected version; an admin adds a version
// ("新建版本": a copy of the one in force, edited, then POST /schemes). The server decides what is valid: its 422
// is shown with the field it names, and nothing changes. A version is never edited in place (docs/assessment.md).
import { $, fill, h } from "../app/dom.js";
import { centreToday, fmtTime, lang, t } from "../app/i18n.js";
import { ApiError, get, post } from "../app/api.js";

// The version in force on `day`: the latest effective by then, the later one on a tie (the list is in that order).
function inForce(versions, day) {
  let current = versions[0];
  for (const v of versions) { if (v.effective_from <= day) { current = v; } }
  return current;
}

// "indices[2].weight" from a domain error's `field` or a validation error's `loc` (["body", "indices", 2, "weight"]).
function fieldOf(d) {
  if (d.field) { return String(d.field); }
  return (d.loc || []).filter((p) => p !== "body")
    .map((p) => (typeof p === "number" ? `[${p}]` : "." + p)).join("").replace(/^\./, "");
}

export function createSchemes({ indices, level, canEdit, toast, showError }) {
  const box = $("#sv-schemes");
  const state = { level: level(), versions: [], selected: null, editing: null, error: null };
  window.gridcmd.schemes = state;

  const info = (code) => indices.get(code) || { code, name_zh: code, name_en: code, kind: "rate", direction: "up" };
  const nameOf = (code) => (lang === "en" ? info(code).name_en : info(code).name_zh);
  const dir = (d) => t(d === "down" ? "sv.scheme_down" : "sv.scheme_up");
  const current = () => inForce(state.versions, centreToday());

  function versionItem(v) {
    const now = v === current();
    const upcoming = v.effective_from > centreToday();
    return h("li", { class: "sv-scheme-version" + (v === state.selected ? " selected" : "") + (now ? " in-force" : ""),
      "data-id": v.id == null ? "default" : String(v.id) },
    h("a", { href: "#", onclick: (e) => { e.preventDefault(); state.selected = v; state.editing = null; render(); } },
      h("strong", {}, v.name),
      now ? h("span", { class: "sv-scheme-badge" }, t("sv.scheme_in_force")) : null,
      upcoming ? h("span", { class: "sv-scheme-badge upcoming" }, t("sv.scheme_upcoming")) : null),
    h("div", { class: "sv-meta" }, v.id == null ? t("sv.scheme_default")
      : t("sv.scheme_from") + " " + v.effective_from + " · " + (v.created_by || "—") + " · " + fmtTime(v.created_at)),
    v.note ? h("div", { class: "sv-scheme-note" }, v.note) : null);
  }

  function detail(v) {
    const total = v.indices.reduce((s, w) => s + w.weight, 0);
    return h("div", { class: "sv-scheme-detail" },
      h("h3", {}, v.name),
      h("table", { class: "sv-table", id: "sv-scheme-indices" },
        h("thead", {}, h("tr", {}, [t("sv.index"), t("sv.weight"), t("sv.scheme_direction"), t("sv.scheme_target")]
          .map((x) => h("th", {}, x)))),
        h("tbody", {}, v.indices.map((w) => h("tr", { "data-code": w.code },
          h("td", { title: w.code }, nameOf(w.code)), h("td", { class: "num" }, +w.weight.toFixed(2)),
          h("td", {}, dir(w.direction)), h("td", { class: "num" }, w.target == null ? "—" : w.target)))),
        h("tfoot", {}, h("tr", {}, h("td", {}, t("sv.scheme_total")), h("td", { class: "num" }, +total.toFixed(2)),
          h("td", { colspan: "2" })))));
  }

  // The editor works on a copy: { name, effective_from, note, rows: [{ code, weight, direction, target }] }.
  function startEditing() {
    const base = current();
    const tomorrow = new Date(Date.parse(centreToday() + "T00:00:00Z") + 86400000).toISOString().slice(0, 10);
    state.editing = { name: base.id == null ? "" : base.name, effective_from: tomorrow, note: "",
      rows: base.indices.map((w) => ({ code: w.code, weight: String(w.weight), direction: w.direction,
        target: w.target == null ? "" : String(w.target) })) };
    state.error = null;
    render();
  }

  function editor(ed) {
    const total = () => ed.rows.reduce((s, r) => s + (Number(r.weight) || 0), 0);
    const totalCell = h("td", { class: "num", id: "sv-scheme-total" }, +total().toFixed(2));
    const bad = state.error ? state.error.field : "";
    // An edit after a refusal takes the refusal away (the next save asks the server again).
    const edited = () => {
      if (!state.error) { return; }
      state.error = null;
      const form = $("#sv-scheme-form");
      for (const el of form.querySelectorAll(".invalid")) { el.classList.remove("invalid"); }
      const shown = $("#sv-scheme-error");
      if (shown) { shown.remove(); }
    };
    const input = (attrs, key, obj, onInput) => {
      const el = h("input", { ...attrs });
      el.value = obj[key];
      el.addEventListener("input", () => { obj[key] = el.value; edited(); if (onInput) { onInput(); } });
      return el;
    };
    const rows = ed.rows.map((r, n) => {
      const where = `indices[${n}]`;
      const invalid = bad === where || bad.startsWith(where + ".");
      const direction = h("select", { class: "sv-w-direction", "aria-label": t("sv.scheme_direction") },
        ["up", "down"].map((d) => h("option", { value: d, selected: r.direction === d }, dir(d))));
      direction.addEventListener("change", () => { r.direction = direction.value; edited(); });
      return h("tr", { "data-code": r.code, class: invalid ? "invalid" : null },
        h("td", { title: r.code }, nameOf(r.code)),
        h("td", {}, input({ type: "number", class: "sv-w-weight", step: "any", "aria-label": t("sv.weight") },
          "weight", r, () => fill(totalCell, +total().toFixed(2)))),
        h("td", {}, direction),
        h("td", {}, info(r.code).kind === "quantity"
          ? input({ type: "number", class: "sv-w-target", step: "any", "aria-label": t("sv.scheme_target") }, "target", r)
          : "—"),
        h("td", {}, h("button", { type: "button", class: "btn btn-small btn-quiet sv-w-remove",
          title: t("sv.scheme_remove"), "aria-label": t("sv.scheme_remove") + " " + nameOf(r.code),
          onclick: () => { ed.rows.splice(n, 1); render(); } }, "✕")));
    });
    const taken = new Set(ed.rows.map((r) => r.code));
    const free = [...indices.values()].filter((i) => i.levels.includes(state.level) && !taken.has(i.code));
    const pick = h("select", { id: "sv-scheme-add-code", "aria-label": t("sv.scheme_add") },
      free.map((i) => h("option", { value: i.code }, lang === "en" ? i.name_en : i.name_zh)));
    const add = h("button", { type: "button", class: "btn btn-small", id: "sv-scheme-add", disabled: !free.length,
      onclick: () => {
        const i = info(pick.value);
        ed.rows.push({ code: i.code, weight: "", direction: i.direction, target: "" });
        render();
      } }, t("sv.scheme_add"));
    const field = (key, labelKey, el) => h("label", { class: bad === key ? "invalid" : null }, t(labelKey), el);
    const form = h("form", { id: "sv-scheme-form", class: "sv-scheme-form", novalidate: true, autocomplete: "off" },
      h("h3", {}, t("sv.scheme_new") + " · " + t("sv.level." + state.level)),
      h("div", { class: "sv-scheme-fields" },
        field("name", "sv.scheme_name", input({ id: "sv-scheme-name", maxlength: "100" }, "name", ed)),
        field("effective_from", "sv.scheme_from", input({ id: "sv-scheme-from", type: "date" }, "effective_from", ed))),
      field("note", "sv.scheme_note", (() => {
        const el = h("textarea", { id: "sv-scheme-note", rows: "2", maxlength: "2000" });
        el.value = ed.note;
        el.addEventListener("input", () => { ed.note = el.value; edited(); });
        return el;
      })()),
      h("table", { class: "sv-table sv-scheme-edit", id: "sv-scheme-edit" },
        h("thead", {}, h("tr", {}, [t("sv.index"), t("sv.weight"), t("sv.scheme_direction"), t("sv.scheme_target"), ""]
          .map((x) => h("th", {}, x)))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("td", {}, t("sv.scheme_total")), totalCell, h("td", { colspan: "3" })))),
      h("div", { class: "sv-scheme-add" }, pick, add),
      h("p", { class: "sv-scheme-hint" }, t("sv.scheme_hint")),
      state.error ? h("p", { class: "sv-scheme-error", id: "sv-scheme-error", role: "alert" }, state.error.text) : null,
      h("div", { class: "sv-scheme-actions" },
        h("button", { type: "submit", class: "btn btn-primary", id: "sv-scheme-save" }, t("sv.scheme_save")),
        h("button", { type: "button", class: "btn", id: "sv-scheme-cancel",
          onclick: () => { state.editing = null; state.error = null; render(); } }, t("sv.scheme_cancel"))));
    form.addEventListener("submit", (e) => { e.preventDefault(); save(ed).catch(showError); });
    return form;
  }

  // What the field named by the server is called on the page.
  function fieldLabel(path) {
    const m = /^indices\[(\d+)\]/.exec(path);
    if (m) {
      const row = state.editing.rows[Number(m[1])];
      return t("sv.index") + " " + (row ? nameOf(row.code) : m[1]);
    }
    const keys = { name: "sv.scheme_name", effective_from: "sv.scheme_from", note: "sv.scheme_note",
      indices: "sv.scheme_indices" };
    return keys[path] ? t(keys[path]) : path;
  }

  async function save(ed) {
    const num = (x) => (String(x).trim() === "" ? null : Number(x));
    const body = { level: state.level, name: ed.name.trim(), effective_from: ed.effective_from || null,
      note: ed.note.trim() || null,
      indices: ed.rows.map((r) => ({ code: r.code, weight: num(r.weight), direction: r.direction,
        target: info(r.code).kind === "quantity" ? num(r.target) : null })) };
    try {
      const made = await post("/api/v1/assessment/schemes", body);
      state.editing = null;
      state.error = null;
      toast(t("sv.scheme_saved"));
      await load(made.id);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 422) { throw e; }
      const d = (e.details || [])[0] || {};
      const path = fieldOf(d);
      const what = d.msg || e.message;
      state.error = { field: path, text: (path ? fieldLabel(path) + ": " : "") + what };
      render();
    }
  }

  function render() {
    const canAdd = canEdit && !state.editing;
    fill($("#sv-schemes-title"), t("sv.schemes") + " · " + t("sv.level." + state.level));
    $("#sv-scheme-new").hidden = !canAdd;
    fill($("#sv-scheme-versions"), state.versions.slice().reverse().map(versionItem));
    fill($("#sv-scheme-body"), state.editing ? editor(state.editing)
      : state.selected ? detail(state.selected) : null,
    canEdit ? null : h("p", { class: "sv-scheme-hint" }, t("sv.scheme_readonly")));
  }

  async function load(selectId) {
    const asked = level();
    const { versions } = await get("/api/v1/assessment/schemes?level=" + encodeURIComponent(asked));
    if (asked !== level()) { return; }  // the level changed meanwhile: its own load shows it
    state.level = asked;
    state.versions = versions;
    state.selected = (selectId != null && versions.find((v) => v.id === selectId)) || current();
    render();
    state.loaded = (state.loaded || 0) + 1;
  }

  function open() {
    box.hidden = false;
    $("#sv-schemes-open").setAttribute("aria-expanded", "true");
    if (!state.editing || state.level !== level()) { state.editing = null; load().catch(showError); }
  }

  function close() {
    box.hidden = true;
    $("#sv-schemes-open").setAttribute("aria-expanded", "false");
  }

  $("#sv-schemes-open").addEventListener("click", () => (box.hidden ? open() : close()));
  $("#sv-scheme-close").addEventListener("click", close);
  $("#sv-scheme-new").addEventListener("click", startEditing);

  // The page's level changed: a shown panel follows it (an unsaved draft of another level is dropped).
  function levelChanged() {
    if (!box.hidden && level() !== state.level) { state.editing = null; state.error = null; load().catch(showError); }
  }

  return { open, close, levelChanged, load };
}
