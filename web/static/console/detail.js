// One incident in the console: what, where, who is on it, the nearest available workers (with distance) to
// dispatch or re-dispatch by hand, the check (核查) and close (结案) steps, its deadlines (with 督办) and its timeline.
import { $, fill, h } from "../app/dom.js";
import { fmtDistance, label, t } from "../app/i18n.js";
import { get, newKey, post } from "../app/api.js";
import { categoryName, departmentName, placeOf } from "../app/catalog.js";
import { attentionReasons, clockTime, priorityBadge, statusChip } from "../app/rows.js";
import { AVAILABILITY_COLORS, FINISHED, TERMINAL, statusColor } from "../app/status.js";
import { debounce } from "../app/timing.js";
import { deadlines, timeline } from "./timeline.js";
import { departmentActions, dispositionActions, extensionRows, resolutionActions, runner } from "./actions.js";

// States in which sending (another) worker makes sense.
const DISPATCHABLE = new Set(["located", "dispatched", "in_progress", "needs_attention", "returned", "reopened",
  "suspended"]);

function orderRow(o, workerName) {
  const who = o.assignee_kind === "worker"
    ? t("console.worker_named", { name: workerName(o.worker_id) })
    : t("console.department_named", { name: departmentName(o.department_code) });
  return h("tr", { "data-order-id": o.id, "data-status": o.status },
    h("td", {}, "#" + o.id), h("td", {}, who),
    h("td", {}, h("span", { class: "chip", style: "--chip:" + (o.status === "done" ? "#38d39f"
      : ["declined", "timed_out", "returned", "cancelled"].includes(o.status) ? "#6b7a8c" : "#ffd84d") },
    label("order", o.status))),
    h("td", { class: "num" }, fmtDistance(o.distance_m)));
}

export function createDetail({ workerName, onCandidates, toast, onChanged }) {
  const root = $("#detail");
  let currentId = null;
  let seq = 0;

  async function act(path, body, done) {
    try {
      await post(path, body, { idempotencyKey: newKey() });
    } catch (e) {
      toast(e.message, true);
      return false;
    }
    toast(done);
    onChanged();
    await refresh();
    return true;
  }

  // The dialog actions (actions.js): a refusal keeps the dialog open with the server's message.
  const run = runner(toast, async () => { onChanged(); await refresh(); });

  // Inputs that survive the panel's redraws (every event of the incident redraws it) while one is typed: the
  // same element is put back, with its value; render() gives it back the focus and the caret.
  const kept = new Map();
  function keptInput(id, inc, placeholder) {
    let el = kept.get(id);
    if (!el || el.dataset.incident !== String(inc.id)) {
      el = h("input", { class: "note", id, maxlength: 4000, placeholder, "data-incident": inc.id });
      kept.set(id, el);
    }
    return el;
  }

  // A step with the note typed for it; the note is cleared once the step is taken (the field is kept).
  async function noted(path, note, done) {
    if (await act(path, { note: note.value.trim() || null }, done)) { note.value = ""; }
  }

  function actions(inc) {
    const note = keptInput("action-note", inc, t("console.note_ph"));
    const buttons = [];
    if (inc.status === "resolved") {
      buttons.push(h("button", { type: "button", class: "btn btn-primary", id: "act-verify", onclick: () =>
        noted(`/api/v1/incidents/${inc.id}/verify`, note, t("console.verified")) },
      t("console.verify")));
    }
    if (inc.status === "verified" || inc.status === "callback_done") {
      buttons.push(h("button", { type: "button", class: "btn btn-primary", id: "act-close", onclick: () =>
        noted(`/api/v1/incidents/${inc.id}/close`, note, t("console.closed")) },
      t("console.close")));
    }
    const more = [...departmentActions(inc, run), ...resolutionActions(inc, run)];
    const side = dispositionActions(inc, run);
    if (!buttons.length && !more.length && !side.length) { return null; }
    return h("div", { class: "action-panel", id: "action-panel" },
      buttons.length ? h("div", { class: "actions" }, note, buttons) : null,
      more.length ? h("div", { class: "actions loop-actions" }, more) : null,
      side.length ? h("div", { class: "actions side-actions" }, side) : null);
  }

  // The caller's name and number for a call-back (only operators get them from the API: PIPL).
  function reporterLine(inc) {
    const r = inc.reporter;
    if (!r || (!r.name && !r.phone)) { return null; }
    const dial = (r.phone || "").replace(/[^0-9+]/g, "");
    return h("p", { class: "meta reporter", id: "detail-reporter" }, t("console.reporter"), " ", r.name || "",
      r.phone ? [" · ", dial ? h("a", { href: "tel:" + dial, id: "reporter-phone" }, r.phone) : r.phone] : null);
  }

  // 督办: anyone on the console may put an open incident under supervision, with a reason (required).
  function superviseForm(inc) {
    if (TERMINAL.has(inc.status)) { return null; }
    const reason = keptInput("supervise-reason", inc, t("console.supervise_ph"));
    return h("div", { class: "actions supervise" }, reason,
      h("button", { type: "button", class: "btn btn-warn", id: "act-supervise", onclick: async () => {
        if (!reason.value.trim()) { toast(t("console.supervise_needs_reason"), true); reason.focus(); return; }
        if (await act(`/api/v1/incidents/${inc.id}/supervise`, { reason: reason.value.trim() },
          t("console.supervised"))) { reason.value = ""; }
      } }, t("console.supervise")));
  }

  function candidateTable(inc, data) {
    const items = data.items;
    onCandidates(items.map((c) => c.worker_id));
    if (!items.length) { return h("p", { class: "meta", id: "no-candidates" }, t("console.no_candidates")); }
    return h("table", { class: "table", id: "candidates" },
      h("tr", {}, h("th", {}, t("console.worker")), h("th", {}, t("console.distance")),
        h("th", {}, t("console.availability")), h("th", {}, t("console.load")), h("th", {}, "")),
      items.map((c) => h("tr", { class: c.eligible ? "" : "ineligible", "data-worker-id": c.worker_id },
        h("td", {}, c.name, c.own_grid ? h("span", { class: "meta" }, " · " + t("console.own_grid")) : ""),
        h("td", { class: "num" }, fmtDistance(c.distance_m)),
        h("td", {}, h("i", { class: "dot", style: "background:" + (AVAILABILITY_COLORS[c.availability] || "#888") }),
          c.present ? label("availability", c.availability) : t("availability.away")),
        h("td", { class: "num" }, `${c.load}/${c.max_load ?? "?"}`),
        h("td", {}, c.holds_this_incident ? h("span", { class: "meta" }, t("console.on_it"))
          : h("button", { type: "button", class: "btn btn-small" + (c.eligible ? " btn-warn" : ""),
            disabled: !c.eligible, "data-dispatch": c.worker_id,
            onclick: () => act(`/api/v1/incidents/${inc.id}/dispatch`, { worker_id: c.worker_id },
              t("console.dispatched_to", { name: c.name })) }, t("console.dispatch"))))));
  }

  function render(inc, dl, cands, exts) {
    // Taking the children out blurs a focused input: note it, to put the focus and the caret back.
    const typing = root.contains(document.activeElement) && kept.get(document.activeElement.id) === document.activeElement
      ? { el: document.activeElement, start: document.activeElement.selectionStart,
        end: document.activeElement.selectionEnd } : null;
    fill(root,
      h("div", { class: "detail-head" }, priorityBadge(inc.priority),
        h("span", { class: "title" }, "#" + inc.id + " " + categoryName(inc.category_code)), statusChip(inc.status)),
      h("p", { class: "meta" }, clockTime(inc.created_at), " · ", label("channel", inc.channel), " · ",
        placeOf(inc) || inc.region_code || t("console.outside_regions")),
      reporterLine(inc),
      inc.service_item ? h("p", { class: "meta", id: "detail-service-item" }, t("console.service_item"), " ",
        inc.service_item.code, " ", inc.service_item.name || "") : null,
      inc.attention_reason && !FINISHED.has(inc.status) ? h("div", { class: "attention" },
        attentionReasons(inc.attention_reason).map((r) => h("div", {}, h("b", {}, r.label),
          r.detail ? h("span", { class: "attention-detail" }, " · " + r.detail) : null))) : null,
      h("div", { class: "description", id: "detail-description" }, inc.description),
      actions(inc),
      h("h3", {}, t("console.orders"), h("span", { class: "meta" }, String(inc.orders.length))),
      inc.orders.length ? h("table", { class: "table", id: "orders" }, inc.orders.map((o) => orderRow(o, workerName)))
        : h("p", { class: "meta" }, t("console.no_orders")),
      cands ? [h("h3", {}, t("console.candidates"), h("span", { class: "meta" },
        t("console.within", { d: fmtDistance(cands.radius_m) }))), candidateTable(inc, cands)] : null,
      exts.length ? [h("h3", {}, t("console.extensions")), extensionRows(exts, run)] : null,
      h("h3", {}, t("console.deadlines")), dl ? deadlines(dl.deadlines) : h("p", { class: "meta" }, "—"),
      superviseForm(inc),
      h("h3", {}, t("console.timeline")), timeline(inc.events, workerName));
    root.style.setProperty("--status", statusColor(inc.status));
    if (typing && root.contains(typing.el)) {
      typing.el.focus();
      typing.el.setSelectionRange(typing.start, typing.end);
    }
  }

  async function refresh() {
    if (currentId == null) { return; }
    const id = currentId;
    const mine = ++seq;
    try {
      const inc = await get(`/api/v1/incidents/${id}`);
      const [dl, cands, exts] = await Promise.all([
        get(`/api/v1/incidents/${id}/deadlines`).catch(() => null),
        DISPATCHABLE.has(inc.status) && !TERMINAL.has(inc.status)
          ? get(`/api/v1/incidents/${id}/candidates?limit=8`).catch(() => null) : Promise.resolve(null),
        // 延期 requests waiting for a decision (the list is the caller's region's; this incident's are kept).
        inc.orders.length ? get("/api/v1/supervision/extensions?status=pending")
          .then((r) => r.extensions.filter((x) => x.incident.id === id)).catch(() => []) : Promise.resolve([]),
      ]);
      if (mine !== seq || id !== currentId) { return; }
      if (!cands) { onCandidates([]); }
      render(inc, dl, cands, exts);
      root.hidden = false;
    } catch (e) {
      if (mine === seq) { fill(root, h("p", { class: "form-error" }, e.message)); root.hidden = false; }
    }
  }

  // Many events for one incident arrive together (an order accepted moves the incident too): refetch once.
  const refreshSoon = debounce(refresh, 250);
  return {
    show(id) { currentId = id; fill(root, h("p", { class: "meta" }, t("screen.loading"))); root.hidden = false; refresh(); },
    refreshSoon,
    hide() { currentId = null; root.hidden = true; onCandidates([]); },
    get current() { return currentId; },
  };
}
