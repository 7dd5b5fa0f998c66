// A hotline call becomes an incident: category, description, caller, and a place picked on the map or typed as
// coordinates in the caller's map system (WGS-84 / GCJ-02 / BD-09; the server converts). The place is located
// as it is entered, so the operator sees which grid it falls in before sending. POST /api/v1/alerts with an
// Idempotency-Key made when the form opens: a double click or a retry after a timeout creates one incident.
import { $, fill, h } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { ApiError, get, newKey, post } from "../app/api.js";
import { category, categoryList, categoryName } from "../app/catalog.js";
import { debounce } from "../app/timing.js";

function fillCategories(select) {
  const groups = { emergency: [], service: [] };
  for (const c of categoryList()) { (groups[c.group] || groups.service).push(c); }
  fill(select, h("option", { value: "" }, t("console.choose_category")),
    Object.entries(groups).filter(([, list]) => list.length).map(([group, list]) =>
      h("optgroup", { label: t("console.group_" + group) },
        list.map((c) => h("option", { value: c.code }, categoryName(c.code))))));
}

function number(value) {
  const v = String(value).trim();
  return v === "" ? NaN : Number(v);
}

export function createForm({ map, onOpen, onClose, onCreated }) {
  const form = $("#create-form");
  const f = {
    category: $("#cf-category"), priority: $("#cf-priority"), description: $("#cf-description"),
    name: $("#cf-name"), phone: $("#cf-phone"), lon: $("#cf-lon"), lat: $("#cf-lat"), crs: $("#cf-crs"),
  };
  const located = $("#cf-located");
  const error = $("#cf-error");
  const submit = $("#cf-submit");
  let key = null;
  let marker = null;
  let locateSeq = 0;

  fillCategories(f.category);
  f.category.addEventListener("change", () => {
    const c = category(f.category.value);
    if (c) { f.priority.value = String(c.default_priority); }
  });

  function showPoint(lon, lat) {
    if (!marker) {
      const el = h("div", { class: "pick-marker" });
      marker = new maplibregl.Marker({ element: el, anchor: "bottom" });
    }
    marker.setLngLat([lon, lat]).addTo(map);
  }

  // Where the typed point falls (and, for GCJ-02/BD-09, where it is in WGS-84, for the marker).
  const locateSoon = debounce(async () => {
    const lon = number(f.lon.value), lat = number(f.lat.value);
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      located.textContent = "";
      return;
    }
    const seq = ++locateSeq;
    try {
      const r = await get(`/api/v1/locate?lon=${lon}&lat=${lat}&crs=${f.crs.value}`);
      if (seq !== locateSeq) { return; }
      showPoint(r.point.lon, r.point.lat);
      located.classList.toggle("outside", !r.region);
      located.textContent = r.region
        ? t("console.located_in", { place: r.chain.slice().reverse().slice(1).map((x) => x.name).join(" › ") })
        : t("console.outside_regions");
    } catch (e) {
      if (seq === locateSeq) { located.textContent = e.message; located.classList.add("outside"); }
    }
  }, 250);
  for (const input of [f.lon, f.lat, f.crs]) { input.addEventListener("input", locateSoon); }

  function setError(message) {
    error.textContent = message || "";
    error.hidden = !message;
  }

  function open() {
    key = newKey();
    form.reset();
    setError("");
    located.textContent = "";
    form.hidden = false;
    onOpen();
    f.category.focus();
  }

  function close() {
    form.hidden = true;
    if (marker) { marker.remove(); }
    onClose();
  }

  async function send(ev) {
    ev.preventDefault();
    const lon = number(f.lon.value), lat = number(f.lat.value);
    const missing = [];
    if (!f.category.value) { missing.push(t("console.category")); }
    if (!f.description.value.trim()) { missing.push(t("console.description")); }
    if (!Number.isFinite(lon) || !Number.isFinite(lat)) { missing.push(t("console.location")); }
    if (missing.length) { setError(t("console.missing", { fields: missing.join("、") })); return; }
    const body = { category: f.category.value, description: f.description.value.trim(), lon, lat,
      crs: f.crs.value, channel: "hotline", priority: Number(f.priority.value) };
    const name = f.name.value.trim(), phone = f.phone.value.trim();
    if (name || phone) { body.reporter = { name: name || null, phone: phone || null }; }
    const item = $("#cf-item");
    if (item && item.value && item.dataset.code && item.dataset.category === body.category) {
      body.service_item = item.dataset.code;
    }
    submit.disabled = true;
    setError("");
    try {
      const created = await post("/api/v1/alerts", body, { idempotencyKey: key });
      form.hidden = true;
      if (marker) { marker.remove(); }
      onCreated(created);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 0 ? t("common.network_error") : e.message);
    } finally {
      submit.disabled = false;
    }
  }

  form.addEventListener("submit", send);
  $("#cf-cancel").addEventListener("click", close);

  return {
    open,
    close,
    get isOpen() { return !form.hidden; },
    // A click on the map while the form is open: the point, in WGS-84.
    pick(lngLat) {
      f.lon.value = lngLat.lng.toFixed(6);
      f.lat.value = lngLat.lat.toFixed(6);
      f.crs.value = "wgs84";
      showPoint(lngLat.lng, lngLat.lat);
      locateSoon();
    },
  };
}
