// /counter: the desk of a service centre (窗口/服务专柜). Pick the catalogue item (its conditions and materials are
// shown, so the resident is told everything at once: 一次性告知), record the resident, then either close a 即办件 on
// the spot with its outcome or register a 承诺件 with the item's deadline; both open the printable receipt.
import { auth } from "../app/auth.js";
import { $, h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { get, post } from "../app/api.js";
import { startHeader } from "../app/header.js";
import { debounce } from "../app/timing.js";
import { toaster } from "../app/toast.js";

const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });
const PLACE = "gridcmd.counter.place";  // the desk's own place, kept in this browser
let items = [];
let chosen = null;
const onTheSpot = (item) => item.item_type === "immediate" || item.item_type === "answer";

function showItem(item) {
  chosen = item;
  for (const li of document.querySelectorAll("#items li")) { li.classList.toggle("selected", li.dataset.code === item.code); }
  $("#item").hidden = false;
  fill($("#item"), h("h2", null, `${item.code} ${item.name}`),
    h("p", null, `${t("ctr.type_" + item.item_type)} · ${item.department} · ${item.time_limit_days
      ? t("ctr.limit", { n: item.time_limit_days }) : t("ctr.same_day")}`),
    h("p", null, t("ctr.conditions") + ": " + item.conditions),
    h("p", null, t("ctr.materials") + ":"), h("ul", { id: "materials" }, item.materials.map((m) => h("li", null, m))),
    h("p", null, `${item.office} · ${item.address} · ${item.hours}`));
  $("#ctr-form").hidden = false;
  $("#c-spot").hidden = !onTheSpot(item);
  $("#outcome-label").hidden = !onTheSpot(item);
  $("#c-promise").hidden = onTheSpot(item);
}

function list() {
  const q = $("#q").value.trim();
  const shown = items.filter((i) => !q || (i.code + i.name + i.department + i.group_name).includes(q));
  $("#count").textContent = String(shown.length);
  fill($("#items"), shown.map((i) => h("li", { "data-code": i.code, class: chosen && chosen.code === i.code
    ? "selected" : "", onclick: () => showItem(i) },
  h("span", null, i.code), h("span", null, i.name), h("span", { class: "type" }, t("ctr.type_" + i.item_type)),
  h("span", { class: "type" }, i.group_name))));
}

async function submit(e) {
  e.preventDefault();
  const mode = e.submitter && e.submitter.id === "c-promise" ? "promise" : "on_the_spot";
  const error = $("#c-error");
  error.hidden = true;
  const lon = Number($("#c-lon").value);
  const lat = Number($("#c-lat").value);
  localStorage.setItem(PLACE, JSON.stringify({ lon, lat }));
  try {
    const done = await post("/api/v1/counter", {
      item_code: chosen.code, mode, lon, lat,
      description: `【办理事项 ${chosen.code}：${chosen.name}】${$("#c-desc").value.trim()}`,
      resident: { name: $("#c-name").value.trim() || null, phone: $("#c-phone").value.trim() || null },
      outcome: mode === "on_the_spot" ? $("#c-outcome").value.trim() || null : null });
    location.assign(done.receipt_url);
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
}

async function boot() {
  startHeader();
  const place = JSON.parse(localStorage.getItem(PLACE) || "null");
  if (place) { $("#c-lon").value = place.lon; $("#c-lat").value = place.lat; }
  $("#q").addEventListener("input", debounce(list, 150));
  $("#ctr-form").addEventListener("submit", submit);
  items = (await get("/api/v1/public/catalogue")).items;
  list();
}

if (auth.require()) {
  boot().catch((e) => toast(e.message, true));
}
