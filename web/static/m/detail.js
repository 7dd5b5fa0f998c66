// One order: what and where, navigation hand-off, and the worker's actions (accept/decline, arrive, notes
// with photos, resolve). Actions go to the outbox (main.js); this module only draws and collects input.

import { h, fill } from "../app/dom.js";
import { t, label, fmtTime, fmtDistance } from "../app/i18n.js";
import { categoryName } from "../app/catalog.js";
import { countdown } from "../app/countdown.js";
import { eventPhotos, loadTimeline, where } from "../app/incident.js";
import { photoField } from "../app/photos.js";
import { reasonText } from "../app/reasons.js";
import { OFFERED } from "./orders.js";
import { navLinks } from "./nav.js";
import { effective } from "./views.js";

const DECLINE_REASONS = ["m.reason_busy", "m.reason_far", "m.reason_unfit"];

function section(title, ...children) {
  return h("section", { class: "card" }, h("h3", null, title), ...children);
}

// One step of the incident: when, what, the reason given.
function timelineEntry(e) {
  return [h("time", null, fmtTime(e.created_at)), " ", h("strong", null, label("event", e.kind)), " ",
    e.reason ? h("span", { class: "reason" }, reasonText(e.reason)) : null, eventPhotos(e)];
}

function textArea(name, placeholder, required) {
  return h("textarea", { name, rows: 3, maxlength: 1000, placeholder, required });
}

function declineForm(order, act, toast) {
  const reason = textArea("reason", t("m.decline_reason"), true);
  const chips = DECLINE_REASONS.map((key) => h("button", { type: "button", class: "chip",
    onclick: () => { reason.value = t(key); } }, t(key)));
  return h("form", { class: "stack", id: "decline-form", onsubmit: (ev) => {
    ev.preventDefault();
    if (!reason.value.trim()) { toast(t("m.decline_reason")); return; }
    act("decline", order, { reason: reason.value.trim() });
  } }, h("div", { class: "chips" }, chips), reason,
  h("button", { type: "submit", class: "btn btn-warn btn-block" }, t("m.decline_send")));
}

function workForm(order, state, act, toast) {
  const notePhotos = photoField({ t, max: 3, onError: (k) => toast(t(k)) });
  const note = textArea("note", t("m.note_placeholder"), false);
  const finalNote = textArea("resolve", t("m.resolve_placeholder"), true);
  const finalPhotos = photoField({ t, max: 3, onError: (k) => toast(t(k)) });
  return [
    state.arrived ? h("p", { class: "tag arrived-banner" }, t("m.arrived")) : h("button", { type: "button",
      class: "btn btn-primary btn-block", id: "arrive", onclick: () => act("arrive", order, {}) }, t("m.arrive")),
    section(t("m.progress"), h("form", { class: "stack", id: "note-form", onsubmit: (ev) => {
      ev.preventDefault();
      const photos = notePhotos.blobs();
      if (!note.value.trim() && !photos.length) { toast(t("m.note_empty")); return; }
      act("note", order, { text: note.value.trim() || null }, photos);
      note.value = "";
      notePhotos.clear();
    } }, note, notePhotos.el, h("button", { type: "submit", class: "btn btn-block" }, t("m.note_send")))),
    section(t("m.resolve"), h("form", { class: "stack", id: "resolve-form", onsubmit: (ev) => {
      ev.preventDefault();
      if (!finalNote.value.trim()) { toast(t("m.resolve_placeholder")); return; }
      act("resolve", order, { note: finalNote.value.trim() }, finalPhotos.blobs());
    } }, finalNote, finalPhotos.el, h("button", { type: "submit", class: "btn btn-go btn-block", id: "resolve" },
      t("m.resolve_send")))),
  ];
}

export function renderDetail(root, order, { pending, act, back, toast, focus }) {
  if (!order) { fill(root, h("p", { class: "empty" }, t("m.order_gone")), backButton(back)); return; }
  const inc = order.incident || {};
  const state = effective(order, pending);
  const offered = OFFERED.has(state.status);
  const due = offered && order.ack_due_at ? countdown(order.ack_due_at) : null;
  const name = categoryName(inc.category_code);
  fill(root,
    backButton(back),
    h("section", { class: "card" },
      h("header", { class: "card-head" },
        h("span", { class: "prio prio-" + inc.priority }, "P" + inc.priority),
        h("strong", { class: "cat" }, name),
        h("span", { class: "status status-" + state.status }, label("order", state.status))),
      h("p", { class: "desc", id: "order-desc" }, inc.description || ""),
      h("div", { class: "meta" },
        order.distance_m != null ? h("span", null, fmtDistance(order.distance_m)) : null,
        h("span", null, fmtTime(inc.created_at)), due,
        state.waiting ? h("span", { class: "tag tag-wait" }, t("m.waiting_send", { n: state.waiting })) : null)),
    section(t("m.navigate"), where(inc), h("div", { class: "nav-links" },
      navLinks(inc.lon, inc.lat, name).map((link) => h("a", { class: "btn", href: link.href, "data-app": link.app },
        t("m.nav_" + link.app), h("small", null, link.crs))))),
    offered ? h("div", { class: "row2" },
      h("button", { type: "button", class: "btn btn-go btn-big", id: "accept", onclick: () => act("accept", order) },
        t("m.accept"))) : null,
    offered ? section(t("m.decline"), declineForm(order, act, toast)) : null,
    ["accepted", "extended"].includes(state.status) ? workForm(order, state, act, toast) : null,
    section(t("m.timeline"), loadTimeline(order.incident_id, timelineEntry)));
  if (focus === "decline") { const f = root.querySelector("#decline-form textarea"); if (f) { f.focus(); } }
}

function backButton(back) {
  return h("button", { type: "button", class: "btn btn-ghost back", onclick: back }, "‹ " + t("m.back"));
}
