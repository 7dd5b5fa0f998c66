// /duty: the centre's duty roster, the handover notes waiting for the caller's signature (签收), writing the note
// for the next operator on duty, and the handover book. `duty.*` socket events refresh it live.
import { auth } from "../app/auth.js";
import { $, h, fill } from "../app/dom.js";
import { t, fmtTime } from "../app/i18n.js";
import { get, post } from "../app/api.js";
import { openSocket } from "../app/socket.js";
import { liveBadge, startHeader } from "../app/header.js";
import { debounce } from "../app/timing.js";
import { toaster } from "../app/toast.js";

const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });

function item(ho, { signable = false } = {}) {
  const sign = signable ? [h("input", { class: "sign-note", placeholder: t("duty.sign_note"), maxlength: 4000 }),
    h("button", { type: "button", class: "btn btn-primary sign", onclick: (e) => signIt(ho, e.target) },
      t("duty.sign"))] : [];
  return h("article", { class: "duty-item" + (ho.signed_at ? "" : " unsigned"), "data-id": ho.id },
    h("footer", null, t("duty.from", { who: ho.from_name, at: fmtTime(ho.created_at) }),
      ho.to_name ? h("span", null, "→ " + ho.to_name) : null),
    h("p", { class: "note" }, ho.note),
    h("footer", null, ho.signed_at
      ? h("span", { class: "signed" }, t("duty.signed_by", { who: ho.signed_name, at: fmtTime(ho.signed_at) }),
        ho.sign_note ? " · " + ho.sign_note : "")
      : h("span", null, t("duty.unsigned")), sign));
}

async function signIt(ho, button) {
  button.disabled = true;
  const note = button.parentElement.querySelector(".sign-note").value.trim();
  try {
    await post(`/api/v1/duty/handovers/${ho.id}/sign`, { note: note || null });
    toast(t("duty.signed"));
  } catch (err) {
    toast(err.message, true);
  } finally {
    await load();
  }
}

async function load() {
  const [pending, book, roster] = await Promise.all([get("/api/v1/duty/handovers?pending=true"),
    get("/api/v1/duty/handovers"), get("/api/v1/duty/shifts")]);
  fill($("#pending"), pending.length ? pending.map((ho) => item(ho, { signable: true }))
    : h("p", { class: "hint" }, t("duty.none")));
  fill($("#history"), book.length ? book.map((ho) => item(ho)) : h("p", { class: "hint" }, t("duty.none")));
  fill($("#roster"), roster.shifts.length ? roster.shifts.map((s) => h("tr", { "data-user": s.username },
    h("td", { class: s.now ? "now" : "" }, s.name, s.now ? " · " + t("duty.now") : ""),
    h("td", null, fmtTime(s.starts_at) + " – " + fmtTime(s.ends_at)),
    h("td", null, s.phone ? h("a", { class: "tel", href: "tel:" + s.phone.replace(/[^0-9+]/g, "") }, s.phone) : "—")))
    : h("tr", null, h("td", { colspan: 3, class: "hint" }, t("duty.no_shifts"))));
  $("#next-name").textContent = roster.next.name || "—";
}

async function submit(e, form, path, body, done) {
  e.preventDefault();
  const error = form.querySelector(".form-error");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  error.hidden = true;
  try {
    await post(path, body());
    form.reset();
    toast(done);
    await load();
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  } finally {
    button.disabled = false;
  }
}

async function boot() {
  startHeader();
  $("#handover-form").addEventListener("submit", (e) => submit(e, $("#handover-form"), "/api/v1/duty/handovers",
    () => ({ note: $("#h-note").value }), t("duty.submitted")));
  $("#shift-form").addEventListener("submit", (e) => submit(e, $("#shift-form"), "/api/v1/duty/shifts",
    () => ({ username: $("#s-user").value.trim(), starts_at: new Date($("#s-start").value).toISOString(),
      ends_at: new Date($("#s-end").value).toISOString() }), t("duty.added")));
  const showLive = liveBadge($("#live-state"));
  const later = debounce(() => load().catch(() => {}), 200);
  openSocket({
    onEvent: (event) => { if (event.kind.startsWith("duty.")) { later(); } },
    onState: (state) => { showLive(state); if (state === "subscribed" || state === "reset") { later(); } },
  });
  await load();
}

if (auth.require()) {
  boot().catch((e) => toast(e.message, true));
}
