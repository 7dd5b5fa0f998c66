// 督查考核 (/supervise): pick a period and a level, see each unit's score, rank and indices against the previous
// period; drill from a district to its streets to their grids; take a score apart into its numerators and
// denominators and the incidents behind them; download every table as XLSX; the hotspots of the period; the
// level's assessment scheme and its versions (an admin adds one).
import { auth } from "../app/auth.js";
import { $, fill, h } from "../app/dom.js";
import { centreToday, label, lang, t, fmtTime } from "../app/i18n.js";
import { ApiError, get, post } from "../app/api.js";
import { loadCategories, categoryName } from "../app/catalog.js";
import { startHeader } from "../app/header.js";
import { toaster } from "../app/toast.js";
import { createCharts } from "./charts.js";
import { downloadBlob, downloadTable } from "./xlsx.js";
import { createHotspots } from "./hotspots.js";
import { createReplay } from "./replay.js";
import { createReports } from "./reports.js";
import { createSchemes } from "./schemes.js";

const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });
const BELOW = { district: "street", street: "grid", community: "grid" };
const REGION_LEVELS = ["district", "street", "community", "grid"];
const state = { period: "month", date: "", to: "", level: "district", scope: null, result: null, explain: null,
  indices: new Map() };

window.gridcmd = window.gridcmd || {};
window.gridcmd.supervise = { ready: false, state };

function indexName(code) {
  const i = state.indices.get(code);
  return i ? (lang === "en" ? i.name_en : i.name_zh) : code;
}

function fmtValue(code, fig) {
  const i = state.indices.get(code);
  if (fig.value == null) { return "—"; }
  if (i && i.kind === "quantity") { return String(+fig.value.toFixed(1)); }
  if (code === "supervision_count") { return String(fig.num); }
  return (fig.value * 100).toFixed(1) + "%";
}

// ▲/▼ against the previous period, green when it moved the good way.
function trend(code, value, prev, direction) {
  if (value == null || prev == null || value === prev) { return null; }
  const up = value > prev;
  const good = (direction || (state.indices.get(code) || {}).direction) === "down" ? !up : up;
  return h("span", { class: "sv-trend " + (good ? "good" : "bad"), title: t("sv.prev") + " " + prev },
    up ? "▲" : "▼");
}

function query(extra = {}) {
  const q = new URLSearchParams({ level: state.level, period: state.period, date: state.date, ...extra });
  if (state.period === "range" && state.to) { q.set("to", state.to); }
  if (state.scope) { q.set("scope", state.scope); }
  return q;
}

function renderCrumbs(chain) {
  const me = auth.session() || {};
  const items = [];
  if (!me.region_code) {
    items.push(h("a", { href: "#", onclick: (e) => { e.preventDefault(); drillTo(null, "district"); } }, t("sv.all")));
  }
  for (const r of chain) {
    items.push(h("a", { href: "#", "data-code": r.code,
      onclick: (e) => { e.preventDefault(); drillTo(r.code, BELOW[r.level] || "grid"); } },
    r.name || r.code));
  }
  fill($("#sv-crumbs"), items.flatMap((el, n) => (n ? [h("span", { class: "sep" }, "›"), el] : [el])));
}

function drillTo(scope, level) {
  state.scope = scope;
  state.level = level;
  $("#sv-level").value = level;
  load();
}

function renderTable(result) {
  const codes = result.scheme.indices.map((w) => w.code);
  const head = h("tr", {}, h("th", {}, t("sv.rank")), h("th", {}, t("sv.unit")), h("th", {}, t("sv.score")),
    h("th", {}, t("sv.delta")), h("th", {}, t("sv.received")),
    codes.map((c) => h("th", { title: (state.indices.get(c) || {}).note || c }, indexName(c))));
  const drillable = BELOW[result.level] && result.level !== "grid";
  const rows = result.rows.map((r) => {
    const delta = r.score != null && r.prev_score != null ? +(r.score - r.prev_score).toFixed(2) : null;
    return h("tr", { "data-unit": r.unit },
      h("td", { class: "num" }, r.rank == null ? "—" : r.rank),
      h("td", {}, drillable
        ? h("a", { href: "#", class: "sv-drill", onclick: (e) => { e.preventDefault(); drillTo(r.unit, BELOW[result.level]); } },
          r.name)
        : h("a", { href: "#", class: "sv-open", onclick: (e) => { e.preventDefault(); openExplain(r.unit); } }, r.name)),
      h("td", { class: "num" }, h("a", { href: "#", class: "sv-score",
        onclick: (e) => { e.preventDefault(); openExplain(r.unit); } }, r.score == null ? "—" : r.score.toFixed(2))),
      h("td", { class: "num" }, delta == null ? "—" : (delta > 0 ? "+" : "") + delta, trend("score", r.score,
        r.prev_score, "up")),
      h("td", { class: "num" }, r.received),
      codes.map((c) => {
        const fig = r.indices[c] || {};
        return h("td", { class: "num", title: fig.den == null ? String(fig.num) : fig.num + " / " + fig.den },
          fmtValue(c, fig), trend(c, fig.value, fig.prev_value));
      }));
  });
  fill($("#sv-table"), h("thead", {}, head), h("tbody", {}, rows));
  $("#sv-empty").hidden = result.rows.length > 0;
}

let loads = 0;  // the latest load's number: an answer to an older request (filters changed meanwhile) is dropped

async function load() {
  const mine = ++loads;
  if (schemes) { schemes.levelChanged(); }
  const result = await get("/api/v1/assessment/scores?" + query());
  if (mine !== loads) { return state.result; }  // a later change's answer is (or will be) shown instead
  state.result = result;
  renderCrumbs(result.scope_chain || []);
  const p = result.period;
  fill($("#sv-meta"), `${p.start} – ${p.last_day}`, " · ", result.scheme.name,
    result.published ? h("span", { class: "sv-published" }, " · " + t("sv.published")) : null);
  fill($("#sv-ranking-title"), t("sv.ranking") + " · " + t("sv.level." + result.level));
  renderTable(result);
  // Publishing is for a closed period, by a supervisor or an admin; a published one is final.
  const role = (auth.session() || {}).role;
  $("#sv-publish").hidden = !(role === "supervisor" || role === "admin") || Boolean(result.published)
    || p.end > centreToday();
  charts.scores(result.rows, (row) => openExplain(row.unit));
  hotspots.load(query()).catch((e) => toast(e.message, true));
  return result;
}

async function openExplain(unit) {
  const ex = await get("/api/v1/assessment/explain?" + query({ unit }));
  state.explain = ex;
  $("#sv-explain-empty").hidden = true;
  $("#sv-explain").hidden = false;
  fill($("#sv-explain-title"), `${ex.name} · ${t("sv.score")} ${ex.score == null ? "—" : ex.score.toFixed(2)}`,
    ex.level === "worker" ? h("button", { type: "button", class: "btn btn-small", id: "sv-replay-open",
      onclick: () => replay.load(unit, state.date) }, t("sv.replay")) : null);
  charts.parts(ex.indices, indexName);
  const row = (state.result.rows.find((r) => r.unit === unit) || { indices: {} }).indices;
  const link = (code, which, n, ids) => (ids && ids.length
    ? h("a", { href: "#", class: "sv-ids", "data-index": code, "data-which": which,
      onclick: (e) => { e.preventDefault(); showIncidents(code, which, ids); } }, n)
    : (n == null ? "—" : String(n)));
  fill($("#sv-explain-table"),
    h("thead", {}, h("tr", {}, [t("sv.index"), t("sv.value"), t("sv.prev"), t("sv.num"), t("sv.den"), t("sv.weight")]
      .map((x) => h("th", {}, x)))),
    h("tbody", {}, Object.entries(ex.indices).map(([code, fig]) => {
      const prev = (row[code] || {}).prev_value;
      return h("tr", {}, h("td", {}, indexName(code)), h("td", { class: "num" }, fmtValue(code, fig)),
        h("td", { class: "num" }, prev == null ? "—" : fmtValue(code, { ...fig, value: prev })),
        h("td", { class: "num" }, link(code, "num", fig.num, fig.num_ids)),
        h("td", { class: "num" }, link(code, "den", fig.den, fig.den_ids)),
        h("td", { class: "num" }, fig.weight));
    })));
  $("#sv-incidents").hidden = true;
  $("#sv-incident").hidden = true;
}

function showIncidents(code, which, ids) {
  state.incidents = { code, which, ids };
  $("#sv-incidents").hidden = false;
  fill($("#sv-incidents-title"), `${indexName(code)} · ${t("sv." + which)} · ${ids.length}`);
  fill($("#sv-incident-list"), ids.slice(0, 500).map((id) => h("li", {},
    h("a", { href: "#", "data-id": id, onclick: (e) => { e.preventDefault(); showIncident(id); } }, "#" + id))));
}

async function showIncident(id) {
  const inc = await get("/api/v1/incidents/" + id);
  const box = $("#sv-incident");
  box.hidden = false;
  fill(box, h("h3", {}, "#" + inc.id + " " + categoryName(inc.category_code)),
    h("dl", {},
      h("dt", {}, t("sv.status")), h("dd", { class: "sv-status" }, label("status", inc.status)),
      h("dt", {}, t("sv.created")), h("dd", {}, fmtTime(inc.created_at)),
      h("dt", {}, t("sv.region")), h("dd", {}, inc.region_code || "—"),
      h("dt", {}, t("sv.events")), h("dd", {}, String((inc.events || []).length))),
    h("p", { class: "sv-desc" }, inc.description));
  window.gridcmd.supervise.shownIncident = inc.id;
}

function tableOf(el) {
  const rows = [...el.querySelectorAll("tr")].map((tr) => [...tr.children].map((td) => td.textContent.trim()));
  return { headers: rows[0] || [], rows: rows.slice(1) };
}

let charts;
let hotspots;
let replay;
let schemes;

async function boot() {
  startHeader({ withDate: true });
  charts = createCharts();
  hotspots = createHotspots($("#sv-heat"), { toast });
  replay = createReplay($("#sv-replay"), { mapReady: () => hotspots.mapReady(), toast });
  state.date = centreToday();
  $("#sv-date").value = state.date;
  const onChange = () => {
    state.period = $("#sv-period").value;
    state.date = $("#sv-date").value || state.date;
    state.to = $("#sv-to").value;
    state.level = $("#sv-level").value;
    $("#sv-to-wrap").hidden = state.period !== "range";
    if (state.period === "range" && !state.to) { return; }
    load().catch(showError);
  };
  for (const id of ["#sv-period", "#sv-date", "#sv-to", "#sv-level"]) { $(id).addEventListener("change", onChange); }
  $("#sv-publish").addEventListener("click", async () => {
    if (!window.confirm(t("sv.publish_confirm"))) { return; }
    const body = { level: state.level, period: state.period, date: state.date };
    if (state.period === "range") { body.to = state.to; }
    if (state.scope) { body.scope = state.scope; }
    try {
      await post("/api/v1/assessment/publish", body);
      toast(t("sv.published"));
      await load();
    } catch (e) { showError(e); }
  });
  $("#sv-xlsx-ranking").addEventListener("click", () => downloadBlob(
    "/api/v1/assessment/scores?" + query({ format: "xlsx" }), "assessment.xlsx").catch(showError));
  $("#sv-xlsx-explain").addEventListener("click", () => downloadTable(
    $("#sv-explain-title").textContent, tableOf($("#sv-explain-table"))).catch(showError));
  $("#sv-xlsx-incidents").addEventListener("click", () => downloadTable($("#sv-incidents-title").textContent,
    { headers: ["ID"], rows: (state.incidents ? state.incidents.ids : []).map((id) => [id]) }).catch(showError));
  const [indices, me] = await Promise.all([get("/api/v1/assessment/indices"), get("/api/v1/auth/me"),
    loadCategories().catch(() => null)]);
  for (const i of indices.indices) { state.indices.set(i.code, i); }
  // The scheme panel: every role reads it; only an admin adds a version (the API refuses the others).
  schemes = createSchemes({ indices: state.indices, level: () => state.level,
    canEdit: (auth.session() || {}).role === "admin", toast, showError });
  auth.save({ ...(auth.session() || {}), region_code: me.region_code });
  if (me.region_code) {
    state.scope = me.region_code;
    const first = await get("/api/v1/assessment/scores?" + query());
    const mine = (first.scope_chain || []).slice(-1)[0];
    state.level = (mine && BELOW[mine.level]) || "grid";
    $("#sv-level").value = state.level;
  }
  await load();
  const role = (auth.session() || {}).role;
  const reports = createReports({ canWrite: role === "supervisor" || role === "admin", toast, showError });
  await reports.load();
  window.gridcmd.supervise.ready = true;
}

function showError(e) {
  toast(e instanceof ApiError && e.status === 403 ? t("screen.forbidden") : e.message, true);
}

window.gridcmd.supervise.REGION_LEVELS = REGION_LEVELS;
boot().catch(showError);
