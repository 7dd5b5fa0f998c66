// /petitions: petition staff register a petition on the spot, send the acceptance notice (受理告知), give it to a
// leader (领导包案), record the reply (答复意见) and the petitioner's answer (满意/不满意 → 复查); a leader works their
// own queue (extension once with a reason, the reply). Every deadline is the server's (working days).
import { auth } from "../app/auth.js";
import { $, h, fill } from "../app/dom.js";
import { t, label } from "../app/i18n.js";
import { get, post } from "../app/api.js";
import { startHeader } from "../app/header.js";
import { toaster } from "../app/toast.js";

const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });
let selected = null;
let leaders = null;  // null: not petition staff (the list of leaders is staff-only)

// The due dates are the close of a working day: show the local date.
const dayFmt = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
  timeZone: (document.querySelector('meta[name="timezone"]') || {}).content || undefined,
  year: "numeric", month: "2-digit", day: "2-digit" });
const day = (iso) => (iso ? dayFmt.format(new Date(iso)) : "—");

function nextDue(p) {
  if (p.state === "registered") { return [t("pet.step.notice"), p.notice_due_at]; }
  if (p.state === "noticed") { return [t("pet.step.reply"), p.reply_due_at]; }
  if (p.state === "reviewing") { return [t("pet.step.review"), p.review_due_at]; }
  return [null, null];
}

function row(p) {
  const [what, due] = nextDue(p);
  const late = due && new Date(due) < new Date();
  return h("tr", { "data-id": p.incident_id, class: selected === p.incident_id ? "selected" : "",
    onclick: () => { selected = p.incident_id; load(); } },
  h("td", null, "#" + p.incident_id),
  h("td", null, h("span", { class: "pet-state", "data-state": p.state }, label("pet.st", p.state))),
  h("td", null, p.description.slice(0, 40)),
  h("td", null, p.leader || "—"),
  h("td", { class: late ? "late" : "" }, what ? what + " " + day(due) : "—"));
}

function step(name, due, doneAt, text, who) {
  const late = doneAt ? due && new Date(doneAt) > new Date(due) : due && new Date(due) < new Date();
  return h("li", { class: doneAt ? "done" : "", "data-step": name },
    h("span", { class: "what" }, t("pet.step." + name)),
    h("span", { class: "text" }, [who, text].filter(Boolean).join(" · ")),
    h("span", { class: "due" + (late ? " late" : "") },
      [due ? t("pet.due", { day: day(due) }) : null, doneAt ? t("pet.done", { day: day(doneAt) }) : null]
        .filter(Boolean).join(" · ")));
}

function detail(p) {
  const who = p.petitioner ? `${p.petitioner.name}${p.petitioner.phone ? " " + p.petitioner.phone : ""}` : "";
  return [h("h3", null, `#${p.incident_id} · ${label("pet.st", p.state)} · ${label("pet.form", p.form)}`),
    h("p", { class: "pet-who", id: "d-petitioner" }, t("pet.petitioner") + ": " + (who || "—")),
    h("p", null, p.description),
    h("ol", { class: "pet-steps" },
      step("register", null, p.registered_at, null, null),
      step("notice", p.notice_due_at, p.noticed_at, p.notice_text),
      step("leader", null, p.leader_assigned_at, null, p.leader),
      p.extended_at ? step("extend", null, p.extended_at, p.extension_reason,
        t("pet.days", { n: p.extension_workdays })) : null,
      step("reply", p.reply_due_at, p.replied_at, p.reply_text),
      p.answered_at ? step("answer", null, p.answered_at, p.review_reason,
        p.satisfied ? t("pet.satisfied") : t("pet.unsatisfied")) : null,
      p.review_due_at ? step("review", p.review_due_at, p.reviewed_at, p.review_text) : null)];
}

function form(id, title, fields, submitLabel, send) {
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const el = h("form", { class: "panel-form", id }, h("h2", null, title), fields, error,
    h("button", { type: "submit", class: "btn btn-primary" }, submitLabel));
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    el.querySelector("button[type=submit]").disabled = true;
    try {
      await send(el);
      toast(t("pet.saved"));
      await load();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      el.querySelector("button[type=submit]").disabled = false;
    }
  });
  return el;
}

const val = (el, sel) => el.querySelector(sel).value.trim();
const act = (p, path, body) => post(`/api/v1/petitions/${p.incident_id}/${path}`, body);

function actions(p) {
  const staff = leaders !== null;
  const out = [];
  if (staff && p.state === "registered") {
    out.push(form("f-notice", t("pet.step.notice"), h("label", null, t("pet.notice_text"),
      h("textarea", { id: "a-notice", rows: 3, maxlength: 4000, required: true }, t("pet.notice_default"))),
    t("pet.send_notice"), (el) => act(p, "notice", { text: val(el, "#a-notice") })));
  }
  if (staff && ["registered", "noticed", "reviewing"].includes(p.state)) {
    out.push(form("f-leader", t("pet.step.leader"), h("label", null, t("pet.leader"),
      h("select", { id: "a-leader" }, leaders.map((l) => h("option", { value: l.id, selected: l.id === p.leader_user_id },
        l.name)))), t("pet.assign"), (el) => act(p, "leader", { leader_user_id: Number(val(el, "#a-leader")) })));
  }
  if (["registered", "noticed"].includes(p.state) && !p.extended_at) {
    out.push(form("f-extend", t("pet.step.extend"), [
      h("label", null, t("pet.workdays"), h("input", { id: "a-days", type: "number", min: 1, max: 60, value: 5 })),
      h("label", null, t("pet.reason"), h("input", { id: "a-ext-reason", maxlength: 500, required: true }))],
    t("pet.extend"), (el) => act(p, "extend", { workdays: Number(val(el, "#a-days")),
      reason: val(el, "#a-ext-reason") })));
  }
  if (["noticed", "reviewing"].includes(p.state)) {
    const name = p.state === "reviewing" ? "review" : "reply";
    out.push(form("f-reply", t("pet.step." + name), h("label", null, t("pet.reply_text"),
      h("textarea", { id: "a-reply", rows: 5, maxlength: 4000, required: true })),
    t("pet.record"), (el) => act(p, "reply", { text: val(el, "#a-reply") })));
  }
  if (staff && p.state === "replied") {
    out.push(form("f-answer", t("pet.step.answer"), [
      h("label", null, t("pet.answer"), h("select", { id: "a-satisfied" },
        h("option", { value: "yes" }, t("pet.satisfied")), h("option", { value: "no" }, t("pet.unsatisfied")))),
      h("label", null, t("pet.reason"), h("input", { id: "a-ans-reason", maxlength: 500 }))],
    t("pet.record"), (el) => act(p, "answer", { satisfied: val(el, "#a-satisfied") === "yes",
      reason: val(el, "#a-ans-reason") || null })));
  }
  return out;
}

async function load() {
  const mine = $("#mine").checked;
  const list = await get("/api/v1/petitions" + (mine ? "?mine=true" : ""));
  $("#count").textContent = t("pet.count", { n: list.length });
  fill($("#list"), list.length ? list.map(row) : h("tr", null, h("td", { colspan: 5, class: "hint" }, t("pet.none"))));
  if (selected === null) {
    $("#detail").hidden = true;
    fill($("#actions"));
    return;
  }
  const p = await get(`/api/v1/petitions/${selected}`);
  $("#detail").hidden = false;
  fill($("#detail"), detail(p));
  fill($("#actions"), actions(p));
}

async function register(e) {
  e.preventDefault();
  const error = $("#r-error");
  error.hidden = true;
  const received = $("#r-received").value;
  try {
    const p = await post("/api/v1/petitions", {
      form: $("#r-form").value, description: $("#r-desc").value.trim(),
      lon: Number($("#r-lon").value), lat: Number($("#r-lat").value),
      petitioner: { name: $("#r-name").value.trim(), phone: $("#r-phone").value.trim() || null },
      received_at: received ? new Date(received + "T09:00:00+08:00").toISOString() : null });
    $("#reg-form").reset();
    selected = p.incident_id;
    toast(t("pet.registered", { day: day(p.notice_due_at) }));
    await load();
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
}

async function boot() {
  startHeader();
  try {
    leaders = await get("/api/v1/petitions/leaders");
    $("#reg-form").hidden = false;
    $("#reg-form").addEventListener("submit", register);
  } catch {
    leaders = null;  // a leader: their own queue
    $("#mine").checked = true;
  }
  $("#mine").addEventListener("change", () => { selected = null; load().catch((e) => toast(e.message, true)); });
  const wanted = Number(new URLSearchParams(location.search).get("id"));
  if (wanted) { selected = wanted; }
  await load();
}

if (auth.require()) {
  boot().catch((e) => toast(e.message, true));
}
