// One work order in the side panel: what, where, limits, the liaison's actions (sign for, progress with photos,
// send back with a reason, ask for an extension, feedback with photos when done) and the timeline.

import { h, fill } from "../app/dom.js";
import { t, label, fmtTime } from "../app/i18n.js";
import { categoryName } from "../app/catalog.js";
import { countdown } from "../app/countdown.js";
import { eventPhotos, loadTimeline, where } from "../app/incident.js";
import { photoField } from "../app/photos.js";
import { reasonText } from "../app/reasons.js";
import { filterOf } from "./list.js";

function block(title, ...children) {
  return h("section", { class: "d-block" }, h("h3", null, title), ...children);
}

// One step of the incident: when, what, who (the desk answers for its department), the reason given.
function timelineEntry(e) {
  return [h("time", null, fmtTime(e.created_at)), " ", h("strong", null, label("event", e.kind)),
    e.actor ? h("span", { class: "actor" }, " · " + e.actor) : null,
    e.reason ? h("div", { class: "reason" }, reasonText(e.reason)) : null, eventPhotos(e)];
}

function textForm({ id, placeholder, button, cls = "btn", photos = false, extra = null, toast, submit }) {
  const text = h("textarea", { rows: 3, maxlength: 4000, placeholder, name: "text" });
  const field = photos ? photoField({ t, max: 6, onError: (k) => toast(t(k)) }) : null;
  return h("form", { class: "stack", id, onsubmit: (ev) => {
    ev.preventDefault();
    if (!text.value.trim()) { toast(placeholder); return; }
    if (submit(text.value.trim(), field ? field.blobs() : []) !== false) {
      text.value = "";
      if (field) { field.clear(); }
    }
  } }, text, extra, field ? field.el : null, h("button", { type: "submit", class: cls }, button));
}

function extensionForm(order, act, toast) {
  const due = h("input", { type: "datetime-local", name: "due_at", required: true });
  return textForm({ id: "extension-form", placeholder: t("dept.extension_reason"), button: t("dept.extension_send"),
    toast, extra: h("label", { class: "inline" }, t("dept.extension_until"), due), submit: (reason) => {
      const when = due.value ? new Date(due.value) : null;
      if (!when || Number.isNaN(when.getTime()) || when <= new Date()) { toast(t("dept.extension_future")); return false; }
      act("extension", order, { reason, due_at: when.toISOString() });
      return true;
    } });
}

export function renderPanel(root, order, { act, toast }) {
  if (!order) { fill(root, h("p", { class: "hint" }, t("dept.pick_one"))); return; }
  const inc = order.incident || {};
  const state = filterOf(order.status);
  const limits = h("dl", { class: "limits" },
    order.ack_due_at ? [h("dt", null, t("dept.sign_limit")), h("dd", null, fmtTime(order.ack_due_at), " ",
      state === "todo" ? countdown(order.ack_due_at) : null)] : null,
    order.due_at ? [h("dt", null, t("dept.resolve_limit")), h("dd", null, fmtTime(order.due_at), " ",
      state === "doing" ? countdown(order.due_at) : null)] : null);
  const sendBack = textForm({ id: "send-back-form", placeholder: t("dept.send_back_reason"), button: t("dept.send_back"),
    cls: "btn btn-warn", toast, submit: (reason) => act("send_back", order, { reason }) });
  fill(root,
    h("header", { class: "d-panel-head" },
      h("span", { class: "oid" }, "#" + order.id),
      h("strong", { class: "cat" }, categoryName(inc.category_code)),
      h("span", { class: "status status-" + order.status }, label("order", order.status))),
    h("p", { class: "desc", id: "panel-desc" }, inc.description || ""),
    where(inc),
    limits,
    state === "todo" ? h("div", { class: "row-actions" },
      h("button", { type: "button", class: "btn btn-primary btn-big", id: "panel-sign",
        onclick: () => act("sign", order, {}) }, t("dept.sign"))) : null,
    state === "doing" ? [
      block(t("dept.progress"), textForm({ id: "note-form", placeholder: t("dept.progress_placeholder"),
        button: t("dept.progress_send"), photos: true, toast,
        submit: (text, photos) => act("note", order, { text }, photos) })),
      block(t("dept.done"), textForm({ id: "done-form", placeholder: t("dept.feedback_placeholder"),
        button: t("dept.done_send"), cls: "btn btn-go", photos: true, toast,
        submit: (feedback, photos) => act("done", order, { feedback }, photos) })),
      block(t("dept.extension"), extensionForm(order, act, toast)),
    ] : null,
    state === "todo" || state === "doing" ? block(t("dept.send_back"), sendBack) : null,
    block(t("dept.timeline"), loadTimeline(order.incident_id, timelineEntry)));
}
