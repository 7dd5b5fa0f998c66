// What the map's colours mean, how many workers are out, and the switches of the resource layers (remembered
// in this browser).
import { $, fill, h } from "../app/dom.js";
import { label, t } from "../app/i18n.js";
import { AVAILABILITY_COLORS, LEGEND_STATUSES, statusColor } from "../app/status.js";
import { RESOURCE_KINDS } from "../app/map/resources.js";

const KEY = "gridcmd.screen.resources";

export function renderLegend() {
  fill($("#map-legend"),
    LEGEND_STATUSES.map((s) => h("span", {}, h("i", { style: "background:" + statusColor(s) }), label("status", s))),
    ["available", "busy"].map((a) => h("span", {}, h("i", { class: "worker-dot",
      style: "background:" + AVAILABILITY_COLORS[a] }), t("screen.worker_" + a))));
}

export function savedResourceState() {
  try { return JSON.parse(window.localStorage.getItem(KEY) || "null"); } catch (e) { return null; }
}

export function renderResourceToggles(layers, scale = 1) {
  const buttons = RESOURCE_KINDS.map((r) => {
    const button = h("button", { type: "button", class: "res-toggle", "data-kind": r.kind,
      "aria-pressed": layers.isOn(r.kind) ? "true" : "false" }, layers.badge(r.kind, Math.round(20 * scale)), t("resource." + r.kind));
    button.addEventListener("click", () => {
      const on = !layers.isOn(r.kind);
      layers.set(r.kind, on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      window.localStorage.setItem(KEY, JSON.stringify(layers.state));
    });
    return button;
  });
  fill($("#res-toggles"), buttons);
}

export function renderWorkerInfo(workers) {
  const present = workers.filter((w) => w.present);
  const free = present.filter((w) => w.availability === "available").length;
  fill($("#map-info"), h("span", {}, t("screen.workers_online"), " ", h("b", {}, String(present.length))),
    h("span", {}, t("screen.workers_free"), " ", h("b", {}, String(free))));
}
