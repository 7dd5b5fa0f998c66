// /contacts: the contact book (通讯录) of the operator's region with click-to-call (tel:), a notice (通知) sent to
// the ticked workers and departments or to regions, and the sent notices' read receipts, live: a `notice.read`
// event (routed to the sender's region) refreshes the counts and the receipts shown.
import { auth } from "../app/auth.js";
import { $, h, fill } from "../app/dom.js";
import { t, fmtTime } from "../app/i18n.js";
import { get, post } from "../app/api.js";
import { openSocket } from "../app/socket.js";
import { liveBadge, startHeader } from "../app/header.js";
import { debounce } from "../app/timing.js";
import { toaster } from "../app/toast.js";

const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });
const chosen = { workers: new Map(), departments: new Map() };  // id/code → name
let shownReceipts = null;

function tel(phone) {
  return phone ? h("a", { class: "tel", href: "tel:" + phone.replace(/[^0-9+]/g, ""),
    title: t("contacts.call", { phone }) }, phone) : "—";
}

function pick(kind, key, name) {
  return h("input", { type: "checkbox", class: "pick", title: t("contacts.choose"), "aria-label": t("contacts.choose"),
    "data-kind": kind, "data-key": String(key), checked: chosen[kind].has(key),
    onchange: (e) => {
      if (e.target.checked) { chosen[kind].set(key, name); } else { chosen[kind].delete(key); }
      drawChosen();
    } });
}

function table(title, head, rows) {
  return h("section", { class: "book-part" }, h("h2", null, title, h("span", { class: "count" }, rows.length)),
    rows.length ? h("table", null, h("thead", null, h("tr", null, head.map((x) => h("th", null, x)))),
      h("tbody", null, rows)) : h("p", { class: "hint" }, t("contacts.none")));
}

function drawBook(book) {
  fill($("#book"),
    table(t("contacts.workers"), ["", t("contacts.name"), t("contacts.kind"), t("contacts.grid"), t("contacts.phone"), ""],
      book.workers.map((w) => h("tr", { "data-worker": w.id }, h("td", null, pick("workers", w.id, w.name)),
        h("td", null, w.name), h("td", null, t("worker_kind." + w.kind)), h("td", null, w.grid_name || w.grid || "—"),
        h("td", null, tel(w.phone)),
        h("td", { class: w.on_duty ? "on" : "off" }, t(w.on_duty ? "contacts.on_duty" : "contacts.off_duty"))))),
    table(t("contacts.departments"), ["", t("contacts.dept_name"), t("contacts.region"), t("contacts.phone")],
      book.departments.map((d) => h("tr", { "data-department": d.code },
        h("td", null, pick("departments", d.code, d.name)), h("td", null, d.name),
        h("td", null, d.region_name || d.region_code), h("td", null, tel(d.phone))))),
    table(t("contacts.liaisons"), [t("contacts.name"), t("contacts.department"), t("contacts.phone")],
      book.liaisons.map((l) => h("tr", { "data-liaison": l.id }, h("td", null, l.name),
        h("td", null, l.department_name), h("td", null, tel(l.phone))))));
}

function drawChosen() {
  const chips = [];
  for (const kind of ["workers", "departments"]) {
    for (const [key, name] of chosen[kind]) {
      chips.push(h("span", { class: "chip" }, name, h("button", { type: "button", "aria-label": "×",
        onclick: () => { chosen[kind].delete(key); drawChosen(); syncTicks(); } }, "×")));
    }
  }
  fill($("#n-to"), chips.length ? chips : h("span", { class: "hint" }, t("notice.to_none")));
}

function syncTicks() {
  document.querySelectorAll("input.pick").forEach((box) => {
    const key = box.dataset.kind === "workers" ? Number(box.dataset.key) : box.dataset.key;
    box.checked = chosen[box.dataset.kind].has(key);
  });
}

async function loadBook() {
  const q = $("#q").value.trim();
  drawBook(await get("/api/v1/contacts" + (q ? "?q=" + encodeURIComponent(q) : "")));
}

async function loadSent() {
  const list = await get("/api/v1/notices/sent");
  fill($("#sent"), list.length ? list.map((n) => h("li", { "data-id": n.id,
    class: n.id === shownReceipts ? "selected" : "", onclick: () => showReceipts(n.id) },
  h("span", { class: "notice-prio", "data-priority": n.priority }, t("notice.prio_" + n.priority)),
  h("strong", null, n.title), h("time", null, fmtTime(n.created_at)),
  h("span", { class: "read-count" + (n.read === n.total ? " all" : "") },
    t("notice.read_count", { read: n.read, total: n.total })))) : h("p", { class: "hint" }, t("notice.none_sent")));
}

async function showReceipts(id) {
  shownReceipts = id;
  const r = await get(`/api/v1/notices/${id}`);
  document.querySelectorAll("#sent li").forEach((li) => li.classList.toggle("selected", Number(li.dataset.id) === id));
  fill($("#receipts"), h("h3", null, t("notice.receipts"), " · ", r.title, " ",
    h("span", { class: "read-count" }, t("notice.read_count", { read: r.read, total: r.total }))),
  h("p", { class: "receipt-body" }, r.body),
  h("ul", { class: "receipt-list" }, r.recipients.map((p) => h("li", { class: p.read_at ? "read" : "unread",
    "data-user": p.username }, h("span", null, p.name), h("span", { class: "muted" }, p.department_name || ""),
  h("span", { class: "state" }, p.read_at ? t("notice.read_at", { at: fmtTime(p.read_at) }) : t("notice.not_read"))))));
}

async function send(e) {
  e.preventDefault();
  const regions = $("#n-regions").value.split(/[,，\s]+/).filter(Boolean);
  const body = { title: $("#n-title").value, body: $("#n-body").value, priority: Number($("#n-priority").value),
    workers: [...chosen.workers.keys()], departments: [...chosen.departments.keys()], regions };
  $("#n-send").disabled = true;
  $("#n-error").hidden = true;
  try {
    const sent = await post("/api/v1/notices", body);
    toast(t("notice.sent_ok", { n: sent.total }));
    $("#notice-form").reset();
    chosen.workers.clear(); chosen.departments.clear();
    drawChosen(); syncTicks();
    await loadSent();
    await showReceipts(sent.id);
  } catch (err) {
    $("#n-error").textContent = t("notice.refused", { why: err.message });
    $("#n-error").hidden = false;
  } finally {
    $("#n-send").disabled = false;
  }
}

async function boot() {
  startHeader();
  drawChosen();
  $("#q").addEventListener("input", debounce(() => loadBook().catch((e) => toast(e.message, true)), 250));
  $("#notice-form").addEventListener("submit", send);
  const showLive = liveBadge($("#live-state"));
  const refresh = debounce(() => {
    loadSent().catch(() => {});
    if (shownReceipts != null) { showReceipts(shownReceipts).catch(() => {}); }
  }, 200);
  openSocket({
    onEvent: (event) => { if (event.kind === "notice.read" || event.kind === "notice.sent") { refresh(); } },
    onState: (state) => { showLive(state); if (state === "subscribed" || state === "reset") { refresh(); } },
  });
  await Promise.all([loadBook(), loadSent()]);
}

if (auth.require()) {
  boot().catch((e) => toast(e.message, true));
}
