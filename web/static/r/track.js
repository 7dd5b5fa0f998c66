// The tracking page (/r/t/<public id>#k=<token>): the status and its steps, refreshed every 30 s, and the rating
// once the request is resolved. The server shows nothing private; what the resident wrote comes from this device.
// The token lives in the #fragment, which the browser never sends, and goes to the API in a header: it appears in
// no URL a server or proxy logs (docs/security.md).

import { t, fmtTime } from "../app/i18n.js";
import { api, ApiError } from "../app/api.js";
import { h, fill } from "../app/dom.js";
import { categoryName, loadCategories } from "../app/catalog.js";
import { findMine } from "./mine.js";

const root = document.getElementById("track");
const publicId = root.dataset.publicId;
const token = readToken();
const STEPS = [
  ["r.step_received", ["reported", "located", "needs_attention", "returned", "suspended"]],
  ["r.step_dispatched", ["dispatched"]],
  ["r.step_handling", ["in_progress", "reopened"]],
  ["r.step_resolved", ["resolved", "verified"]],
  ["r.step_closed", ["callback_done", "closed"]],
];
const RATINGS = ["satisfied", "basically_satisfied", "dissatisfied"];
const path = `/api/v1/track/${encodeURIComponent(publicId)}`;

// The language switch keeps the token (the page is useless without it), in the fragment.
const langLink = document.getElementById("lang-link");
langLink.href = "?" + new URLSearchParams({ lang: new URLSearchParams(langLink.search).get("lang") }) +
  "#" + new URLSearchParams({ k: token });

// #k=<token>; a link printed before tracking tokens left the query string (?k=) still works, and the token is
// moved into the fragment at once so the address bar, bookmarks and later reloads no longer send it.
function readToken() {
  const fromHash = new URLSearchParams(window.location.hash.slice(1)).get("k");
  if (fromHash) { return fromHash; }
  const query = new URLSearchParams(window.location.search);
  const legacy = query.get("k");
  if (!legacy) { return ""; }
  query.delete("k");
  const rest = query.toString();
  window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") +
    "#" + new URLSearchParams({ k: legacy }));
  return legacy;
}

// A resident reads steps, not the centre's internal states ("needs attention" is still "received" to them).
function wording(status) {
  const step = STEPS.find(([, states]) => states.includes(status));
  return step ? t(step[0]) : t("r.state_" + status);
}

function stepper(status) {
  const at = STEPS.findIndex(([, states]) => states.includes(status));
  return h("ol", { class: "r-steps" }, STEPS.map(([key], i) => h("li", {
    class: i < at ? "done" : i === at ? "now" : "" }, t(key))));
}

// Newest first, one line per step reached (internal moves within a step are not the resident's business).
function history(timeline) {
  const out = [];
  for (const s of timeline) {
    if (!out.length || wording(out[out.length - 1].status) !== wording(s.status)) { out.push(s); }
  }
  return out.reverse();
}

function ratingForm() {
  const comment = h("textarea", { rows: 3, maxlength: 1000, placeholder: t("r.rate_comment"), id: "rate-comment" });
  const error = h("p", { class: "r-error", role: "alert", hidden: true });
  const send = async (rating) => {
    error.hidden = true;
    try {
      await api("POST", `${path}/rating`, { auth: false,
        body: { token, rating, comment: comment.value.trim() || null } });
      load();
    } catch (e) {
      error.textContent = e instanceof ApiError && e.status === 0 ? t("r.offline") : t("r.refused", { why: e.message });
      error.hidden = false;
    }
  };
  return h("section", { class: "r-card", id: "rate" },
    h("h2", null, t("r.rate_title")),
    h("div", { class: "r-rates" }, RATINGS.map((r) => h("button", { type: "button", class: "r-btn r-rate-" + r,
      "data-rating": r, onclick: () => send(r) }, t("rating." + r)))),
    comment, error);
}

function render(view) {
  const mine = findMine(view.public_id);
  fill(root,
    h("section", { class: "r-card" },
      h("p", { class: "r-cat" }, categoryName(view.category.code) || view.category.name_zh),
      h("p", { class: "r-status status-" + view.status, id: "status" }, wording(view.status)),
      stepper(view.status),
      h("p", { class: "r-hint" }, t("r.filed_at", { at: fmtTime(view.created_at) }),
        view.resolved_at ? " · " + t("r.resolved_at", { at: fmtTime(view.resolved_at) }) : "")),
    mine ? h("section", { class: "r-card" }, h("h2", null, t("r.you_wrote")),
      h("p", { class: "r-mine-desc", id: "my-description" }, mine.description)) : null,
    view.can_rate ? ratingForm() : null,
    view.rating ? h("section", { class: "r-card", id: "rated" }, h("h2", null, t("r.rated")),
      h("p", { class: "r-rated r-rate-" + view.rating }, t("rating." + view.rating))) : null,
    h("section", { class: "r-card" }, h("h2", null, t("r.history")),
      h("ol", { class: "r-history" }, history(view.timeline).map((s) => h("li", null,
        h("time", null, fmtTime(s.at)), " ", wording(s.status))))));
}

let timer = null;
async function load() {
  window.clearTimeout(timer);
  try {
    render(await api("GET", path, { auth: false, headers: { "X-Tracking-Token": token } }));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      fill(root, h("section", { class: "r-card" }, h("p", null, t("r.not_found"))));
      return;
    }
    if (!root.querySelector(".r-card")) { fill(root, h("p", { class: "r-error" }, t("r.offline"))); }
  }
  scheduleNext();
}

// Keep it current, but not while the resident is typing a comment (a redraw would lose it).
function scheduleNext() {
  timer = window.setTimeout(() => {
    if (document.activeElement && document.activeElement.id === "rate-comment") { scheduleNext(); } else { load(); }
  }, 30000);
}

loadCategories().catch(() => {}).finally(load);
