// 巡查发现上报: a patrol finding with category, description, the phone's position (WGS-84) and photos. It goes
// through the outbox like every action, so it is sent once even when the network comes and goes.

import { h, fill } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { photoField } from "../app/photos.js";
import { categoryList } from "../app/catalog.js";

function categorySelect() {
  const lang = document.documentElement.lang;
  const groups = { emergency: [], service: [] };
  for (const c of categoryList()) { (groups[c.group] || groups.service).push(c); }
  return h("select", { name: "category", required: true, id: "report-category" },
    h("option", { value: "" }, t("m.choose_category")),
    ["emergency", "service"].map((g) => h("optgroup", { label: t("m.group_" + g) },
      groups[g].map((c) => h("option", { value: c.code }, lang === "en" ? c.name_en : c.name_zh)))));
}

export function renderReport(root, { tracker, submit, toast }) {
  const category = categorySelect();
  const description = h("textarea", { name: "description", rows: 4, maxlength: 2000, required: true,
    placeholder: t("m.report_placeholder"), id: "report-description" });
  const photos = photoField({ t, max: 3, onError: (k) => toast(t(k)) });
  const place = h("p", { class: "where", id: "report-where" });
  let fix = tracker.current;

  function showFix() {
    place.textContent = fix ? t("m.report_at", { lon: fix.lon.toFixed(6), lat: fix.lat.toFixed(6),
      acc: Math.round(fix.accuracy || 0) }) : t("m.report_no_fix");
  }
  function locate() {
    if (!navigator.geolocation) { toast(t("m.gps_unsupported")); return; }
    place.textContent = t("m.locating");
    navigator.geolocation.getCurrentPosition((pos) => {
      fix = { lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy: pos.coords.accuracy };
      showFix();
    }, () => { toast(t("m.gps_denied")); showFix(); }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }
  showFix();
  if (!fix) { locate(); }

  fill(root, h("form", { class: "card stack", id: "report-form", onsubmit: (ev) => {
    ev.preventDefault();
    if (!fix) { toast(t("m.report_no_fix")); return; }
    if (!category.value || !description.value.trim()) { toast(t("m.report_incomplete")); return; }
    submit({ category: category.value, description: description.value.trim(), lon: fix.lon, lat: fix.lat,
      crs: "wgs84" }, photos.blobs());
    description.value = "";
    photos.clear();
  } },
  h("h3", null, t("m.report_title")),
  h("label", null, t("m.category"), category),
  h("label", null, t("m.description"), description),
  h("div", { class: "where-row" }, place, h("button", { type: "button", class: "btn btn-ghost", onclick: locate },
    t("m.relocate"))),
  photos.el,
  h("button", { type: "submit", class: "btn btn-primary btn-block", id: "report-send" }, t("m.report_send"))));
}
