// The resident's request form (what the QR code opens; no login): category, description, location (GPS, a pin
// on the base map when one is configured, or typed coordinates with their datum), photos, phone → a tracking link.

import { t, fmtTime } from "../app/i18n.js";
import { api, ApiError, newKey } from "../app/api.js";
import { $, h, fill } from "../app/dom.js";
import { categoryList, categoryName, loadCategories } from "../app/catalog.js";
import { photoField } from "../app/photos.js";
import { myRequests, remember } from "./mine.js";
import { createGuide } from "./guide.js";

const PHONE = /^\+?[0-9][0-9 -]{2,30}$/;
const form = $("#request-form");
let fix = null;         // {lon, lat, crs, accuracy?} from GPS or a pin
let key = null;         // the Idempotency-Key of this submission, kept across its retries
let filedFrom = null;   // the catalogue item the form was filled from (the guide below)
const uploaded = new WeakMap();  // photo blob → upload id, so a retry does not upload it again
let pinMap = null;

function showError(message) {
  $("#form-error").textContent = message;
  $("#form-error").hidden = !message;
}

function showFix() {
  $("#fix").textContent = fix ? t("r.located", { lon: fix.lon.toFixed(6), lat: fix.lat.toFixed(6) })
    + (fix.accuracy ? " " + t("r.accuracy", { m: Math.round(fix.accuracy) }) : "") : t("r.no_location");
  $("#fix").classList.toggle("ok", !!fix);
}

$("#use-gps").onclick = () => {
  if (!navigator.geolocation) { showError(t("r.gps_unsupported")); return; }
  $("#fix").textContent = t("r.locating");
  navigator.geolocation.getCurrentPosition((pos) => {
    fix = { lon: pos.coords.longitude, lat: pos.coords.latitude, crs: "wgs84", accuracy: pos.coords.accuracy };
    showFix();
    if (pinMap) { pinMap.showFix(fix.lon, fix.lat); }
  }, () => { showError(t("r.gps_denied")); showFix(); }, { enableHighAccuracy: true, timeout: 20000 });
};

if ($("#pin-map") && window.maplibregl) {
  import("./pinmap.js").then(({ createPinMap }) => {
    pinMap = createPinMap($("#pin-map"), { onPin: (p) => { fix = p; showFix(); } });
  });
}

const photos = photoField({ t, max: 3, onError: (k) => showError(t(k)) });
$("#photo-slot").append(photos.el);
$("#description").addEventListener("input", () => { $("#desc-count").textContent = $("#description").value.length; });
form.addEventListener("input", () => { key = null; });  // changed content: a new submission, a new key

function location() {
  const lon = $("#lon").value.trim();
  const lat = $("#lat").value.trim();
  if (lon || lat) {
    const x = Number(lon);
    const y = Number(lat);
    if (!lon || !lat || !Number.isFinite(x) || !Number.isFinite(y) || Math.abs(x) > 180 || Math.abs(y) > 90) {
      throw new Error(t("r.bad_coords"));
    }
    return { lon: x, lat: y, crs: $("#crs").value };
  }
  if (!fix) { throw new Error(t("r.need_location")); }
  return { lon: fix.lon, lat: fix.lat, crs: fix.crs };
}

async function uploadPhotos() {
  const ids = [];
  for (const blob of photos.blobs()) {
    if (!uploaded.has(blob)) {
      const body = new FormData();
      body.append("file", blob, "photo.jpg");
      uploaded.set(blob, (await api("POST", "/api/v1/public/uploads", { form: body, auth: false })).id);
    }
    ids.push(uploaded.get(blob));
  }
  return ids;
}

function explain(err) {
  if (!(err instanceof ApiError)) { return err.message; }
  if (err.status === 0) { return t("r.offline"); }
  if (err.status === 429) { return t("r.too_many"); }
  if (err.status === 413) { return t("photo.too_big"); }
  return t("r.refused", { why: err.message });
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("");
  const category = $("#category").value;
  const description = $("#description").value.trim();
  const phone = $("#phone").value.trim();
  let where;
  try {
    if (!category) { throw new Error(t("r.need_category")); }
    if (!description) { throw new Error(t("r.need_description")); }
    if (phone && !PHONE.test(phone)) { throw new Error(t("r.bad_phone")); }
    where = location();
  } catch (e) { showError(e.message); return; }
  key = key || newKey();
  $("#submit").disabled = true;
  $("#submit").textContent = t("r.sending");
  try {
    const ids = await uploadPhotos();
    const body = { category, description, ...where, phone: phone || null, photos: ids };
    if (filedFrom && filedFrom.category_code === category) { body.service_item = filedFrom.code; }
    const done = await api("POST", "/api/v1/public/requests", { auth: false, idempotencyKey: key, body });
    remember({ public_id: done.public_id, token: done.token, url: done.tracking_url, category, description,
      at: new Date().toISOString() });
    key = null;
    filedFrom = null;
    showDone(done);
  } catch (e) {
    showError(explain(e));
  } finally {
    $("#submit").disabled = false;
    $("#submit").textContent = t("r.submit");
  }
});

function showDone(done) {
  const full = window.location.origin + done.tracking_url;
  form.hidden = true;
  fill($("#done"),
    h("h2", null, t("r.thanks")),
    h("p", null, t("r.keep_link")),
    h("p", { class: "r-link" }, h("a", { href: done.tracking_url, id: "track-link" }, full)),
    h("div", { class: "r-row" },
      h("a", { class: "r-btn r-primary", href: done.tracking_url, id: "see-progress" }, t("r.see_progress")),
      h("button", { type: "button", class: "r-btn", onclick: (ev) => {
        (navigator.clipboard ? navigator.clipboard.writeText(full) : Promise.reject())
          .then(() => { ev.target.textContent = t("r.copied"); })
          .catch(() => { window.getSelection().selectAllChildren($("#track-link")); });
      } }, t("r.copy"))),
    h("button", { type: "button", class: "r-btn r-ghost", onclick: () => {
      form.reset(); photos.clear(); fix = null; showFix(); form.hidden = false; $("#done").hidden = true;
      drawMine();
    } }, t("r.another")));
  $("#done").hidden = false;
  window.scrollTo(0, 0);
}

function drawMine() {
  const mine = myRequests();
  $("#mine").hidden = !mine.length;
  fill($("#mine"), h("h2", null, t("r.mine")), h("ul", null, mine.map((r) => h("li", null,
    h("a", { href: r.url }, categoryName(r.category)), " ", h("time", null, fmtTime(r.at)),
    h("div", { class: "r-mine-desc" }, r.description)))));
}

loadCategories().then(() => {
  $("#category").append(...categoryList().filter((c) => c.group === "service")
    .map((c) => h("option", { value: c.code }, categoryName(c.code))));
}).catch(() => showError(t("r.offline")));
showFix();
drawMine();

// The service catalogue: filing from an item fills the form with its category and name, and the request names
// the item (service_item) unless the resident then picks another category.
const guide = createGuide($("#guide"), {
  onFile(item) {
    filedFrom = item;
    const select = $("#category");
    if (item.category_code && [...select.options].some((o) => o.value === item.category_code)) {
      select.value = item.category_code;
    }
    const text = $("#description");
    text.value = t("guide.filed_from", { code: item.code, name: item.name }) + "\n" + text.value;
    text.dispatchEvent(new Event("input", { bubbles: true }));
    form.scrollIntoView({ behavior: "smooth" });
    text.focus();
  },
});
$("#guide").addEventListener("toggle", () => { if ($("#guide").open) { guide.load().catch(() => {}); } });
