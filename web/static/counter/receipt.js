// /counter/receipt/{id}: the receipt the resident takes home (回执), with the tracking QR code; printed from here.
import { auth } from "../app/auth.js";
import { $ } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { get } from "../app/api.js";

const dayTime = new Intl.DateTimeFormat(document.documentElement.lang || "zh-CN", {
  timeZone: (document.querySelector('meta[name="timezone"]') || {}).content || undefined, hour12: false,
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
const at = (iso) => (iso ? dayTime.format(new Date(iso)) : "—");

async function boot() {
  const id = location.pathname.split("/").pop();
  const r = await get(`/api/v1/counter/receipts/${id}`);
  $("#r-no").textContent = t("ctr.no", { id: r.incident_id });
  $("#r-item").textContent = `${r.item.code} ${r.item.name}（${r.item.department}）`;
  $("#r-type").textContent = t("ctr.type_" + r.item.item_type) + " · " + t("ctr.status_" + r.mode);
  $("#r-resident").textContent = [r.resident.name, r.resident.phone].filter(Boolean).join(" ") || "—";
  $("#r-desc").textContent = r.description;
  $("#r-at").textContent = at(r.created_at);
  $("#r-outcome-row").hidden = r.mode !== "on_the_spot";
  $("#r-outcome").textContent = (r.outcome || "—") + (r.closed_at ? ` （${t("ctr.closed_at")} ${at(r.closed_at)}）` : "");
  $("#r-due-row").hidden = r.mode !== "promise";
  $("#r-due").textContent = at(r.due_at) + " " + t("ctr.limit", { n: r.item.time_limit_days || 0 });
  $("#r-office").textContent = `${r.item.office} · ${r.item.address} · ${r.item.hours}`;
  $("#r-phone").textContent = r.item.phone;
  $("#r-qr").src = r.qr;
  $("#r-link").textContent = r.tracking_url;
  $("#r-sign").textContent = t("ctr.sign", { who: r.operator });
  $("#receipt").hidden = false;
  $("#print").addEventListener("click", () => window.print());
}

if (auth.require()) {
  boot().catch((e) => { $("#r-no").textContent = e.message; });
}
