// An incident beside an order on the field pages (worker app, liaison desk): where it is, and its timeline.
// Both are drawn at once and filled in when the API answers, so a slow or offline network never blocks a panel.
import { get } from "./api.js";
import { fill, h } from "./dom.js";
import { t } from "./i18n.js";
import { storedPhoto } from "./photos.js";

// The coordinates (WGS-84), then the region chain's names above them once GET /api/v1/locate has them.
export function where(inc) {
  const line = h("p", { class: "where" }, `${inc.lon.toFixed(6)}, ${inc.lat.toFixed(6)} (WGS-84)`);
  get(`/api/v1/locate?lon=${inc.lon}&lat=${inc.lat}`).then((found) => {
    const names = (found.chain || []).slice().reverse().map((r) => r.name);
    if (names.length) { line.prepend(h("span", { class: "region" }, names.join(" · ")), h("br")); }
  }).catch(() => {});
  return line;
}

// The incident's events, newest first (GET /api/v1/incidents/{id}); `entry(event)` draws one <li>'s content.
export function loadTimeline(incidentId, entry) {
  const list = h("ol", { class: "timeline" }, h("li", { class: "hint" }, t("common.loading")));
  get(`/api/v1/incidents/${incidentId}`)
    .then((detail) => fill(list, (detail.events || []).slice().reverse().map((e) => h("li", null, entry(e)))))
    .catch(() => fill(list, h("li", { class: "hint" }, t("common.offline_data"))));
  return list;
}

// The photos attached to an event (a note, a resolution), fetched with the token.
export function eventPhotos(e) {
  if (!(e.photos || []).length) { return null; }
  return h("div", { class: "timeline-photos" }, e.photos.map((id, i) => storedPhoto(id, t("photo.alt", { n: i + 1 }))));
}
