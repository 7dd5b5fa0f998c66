// The closed-loop actions of the incident panel, one function per group. A button shows only when the lifecycle
// allows its move from the incident's state (`inc.moves`, from the server's transition table); every rule
// beyond that is the API's: a refusal is shown as it comes back (toast, and in the dialog).
import { h } from "../app/dom.js";
import { label, t } from "../app/i18n.js";
import { newKey, post } from "../app/api.js";
import { departmentList, regionList } from "../app/catalog.js";
import { TERMINAL } from "../app/status.js";
import { openDialog } from "./dialogs.js";

const can = (inc, move) => (inc.moves || []).includes(move);

function button(id, text, onclick, cls = "btn") {
  return h("button", { type: "button", class: cls, id, onclick }, text);
}

function reasonField(required = true) {
  return { name: "reason", label: t("console.reason"), kind: "textarea", required };
}

// Dispatch (派单) to departments: one lead and the supporting ones (联办件), the item type if it changes.
export function departmentActions(inc, run) {
  // From a state that may go on to dispatched, or while it is being handled (more departments join).
  if (!can(inc, "dispatched") && !["dispatched", "in_progress"].includes(inc.status)) { return []; }
  const depts = departmentList();
  return [button("act-departments", t("console.send_departments"), () => openDialog({
    id: "dlg-departments", title: t("console.send_departments"), submitLabel: t("console.send"),
    fields: [
      { name: "lead", label: t("console.lead_department"), kind: "select", required: true,
        options: [["", t("console.choose")], ...depts] },
      { name: "supports", label: t("console.support_departments"), kind: "checks", options: depts },
      { name: "item_type", label: t("console.item_type"), kind: "select",
        options: [["", t("console.keep")], ...["immediate", "promise", "joint", "answer"].map((k) =>
          [k, label("item_type", k)])] },
    ],
    submit: (v) => run(`/api/v1/incidents/${inc.id}/departments`, {
      lead: v.lead, supports: v.supports.filter((c) => c !== v.lead), item_type: v.item_type || null,
    }, t("console.sent_departments")),
  }), "btn btn-primary")];
}

// 即办/答复 on the spot; 核查, 返工, 回访, 结案 once it is resolved.
export function resolutionActions(inc, run) {
  const out = [];
  // located → resolved is the table's on-the-spot move (from dispatched it means every order reported done).
  if (inc.status === "located" && can(inc, "resolved")) {
    out.push(button("act-on-the-spot", t("console.on_the_spot"), () => openDialog({
      id: "dlg-on-the-spot", title: t("console.on_the_spot"), submitLabel: t("console.confirm"),
      fields: [{ name: "note", label: t("console.on_the_spot_note"), kind: "textarea", required: true }],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/on-the-spot`, { note: v.note }, t("console.resolved")),
    })));
  }
  if (can(inc, "verified")) {  // resolved: check it, or send it back for rework
    out.push(button("act-rework", t("console.rework"), () => openDialog({
      id: "dlg-rework", title: t("console.rework"), submitLabel: t("console.rework"), fields: [reasonField()],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/rework`, { reason: v.reason }, t("console.reworked")),
    }), "btn btn-warn"));
  }
  if (can(inc, "callback_done")) {
    out.push(button("act-callback", t("console.callback"), () => openDialog({
      id: "dlg-callback", title: t("console.callback"), submitLabel: t("console.save"),
      intro: inc.reporter && inc.reporter.phone ? t("console.callback_call", { phone: inc.reporter.phone }) : null,
      fields: [
        { name: "rating", label: t("console.satisfaction"), kind: "select", required: true,
          options: [["", t("console.choose")], ...["satisfied", "basically_satisfied", "dissatisfied"].map((r) =>
            [r, label("rating", r)])] },
        { name: "comment", label: t("console.comment"), kind: "textarea" },
        { name: "reopen", label: t("console.reopen_if_dissatisfied"), kind: "checkbox", value: true },
      ],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/callback`,
        { rating: v.rating, comment: v.comment || null, reopen: v.reopen }, t("console.called_back")),
    })));
  }
  return out;
}

// 移交属地, 合并 / 排除重复, 挂账, 作废, 上报上级.
export function dispositionActions(inc, run) {
  const out = [];
  if (inc.status === "located" || (can(inc, "located") && inc.status !== "reported")) {
    const regions = regionList().filter(([code]) => code !== inc.region_code);
    out.push(button("act-transfer", t("console.transfer"), () => openDialog({
      id: "dlg-transfer", title: t("console.transfer"), submitLabel: t("console.transfer"),
      fields: [{ name: "region_code", label: t("console.to_region"), kind: "select", required: true,
        options: [["", t("console.choose")], ...regions.map(([code, name]) => [code, `${name} (${code})`])] },
      reasonField()],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/transfer`, { region_code: v.region_code, reason: v.reason },
        t("console.transferred")),
    })));
  }
  if (can(inc, "merged")) {
    out.push(button("act-merge", t("console.merge"), () => openDialog({
      id: "dlg-merge", title: t("console.merge"), submitLabel: t("console.merge"),
      fields: [{ name: "into_id", label: t("console.merge_into"), kind: "number", required: true,
        value: (inc.duplicates || [])[0] ?? "" }, reasonField(false)],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/merge`,
        { into_id: Number(v.into_id), reason: v.reason || null }, t("console.merged")),
    })));
  }
  for (const other of inc.duplicates || []) {
    out.push(button(`act-dismiss-${other}`, t("console.not_duplicate", { id: other }), () =>
      run(`/api/v1/incidents/${inc.id}/duplicates/${other}/dismiss`, {}, t("console.dismissed")).catch(() => {}),
    "btn btn-quiet"));
  }
  const withReason = (move, id, title, path, done, cls) => {
    if (!can(inc, move)) { return; }
    out.push(button(id, title, () => openDialog({
      id: `dlg-${id.slice(4)}`, title, submitLabel: title, fields: [reasonField()],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/${path}`, { reason: v.reason }, done),
    }), cls));
  };
  withReason("suspended", "act-suspend", t("console.suspend"), "suspend", t("console.suspended"), "btn");
  withReason("cancelled", "act-cancel", t("console.cancel_incident"), "cancel", t("console.cancelled"),
    "btn btn-danger");
  if (!TERMINAL.has(inc.status)) {
    out.push(button("act-escalate", t("console.escalate"), () => openDialog({
      id: "dlg-escalate", title: t("console.escalate"), submitLabel: t("console.escalate"), fields: [reasonField()],
      submit: (v) => run(`/api/v1/incidents/${inc.id}/escalate`, { reason: v.reason }, t("console.escalated")),
    }), "btn btn-warn"));
  }
  return out;
}

// 延期 requests of this incident's department orders, waiting for a decision: grant or refuse with a reason.
export function extensionRows(extensions, run) {
  if (!extensions.length) { return null; }
  return h("table", { class: "table", id: "extensions" }, extensions.map((x) => h("tr", { "data-extension": x.id },
    h("td", {}, t("console.order_no", { id: x.order_id })),
    h("td", {}, x.reason),
    h("td", {}, t("console.until", { when: new Date(x.requested_due_at).toLocaleString() })),
    h("td", {},
      button(`act-grant-${x.id}`, t("console.grant"), () =>
        run(`/api/v1/supervision/extensions/${x.id}/grant`, {}, t("console.granted")).catch(() => {}),
      "btn btn-small btn-primary"),
      button(`act-refuse-${x.id}`, t("console.refuse"), () => openDialog({
        id: "dlg-refuse", title: t("console.refuse"), submitLabel: t("console.refuse"), fields: [reasonField()],
        submit: (v) => run(`/api/v1/supervision/extensions/${x.id}/refuse`, { reason: v.reason },
          t("console.refused")),
      }), "btn btn-small")))));
}

// Post one action; the toast says what happened or why it was refused. Throws on a refusal (dialogs stay open).
export function runner(toast, after) {
  return async (path, body, done) => {
    try {
      await post(path, body, { idempotencyKey: newKey() });
    } catch (e) {
      toast(e.message, true);
      throw e;
    }
    toast(done);
    await after();
  };
}
