// What the map's colours mean, how many workers are out, and the switches of the resource layers (remembered
// in this browser).
import { $, fill, h } from "../app/dom.js";
import { label, t } from "../app/i18n.js";
import { AVAILABILITY_COLORS, LEGEND_STATUSES, statusColor } from "../app/status.js";
import { RESOURCE_KINDS } from "../app/map/resources.js";

// Closed incidents are faded and leave the wall within hours: no legend entry for them here.
const WALL_STATUSES = LEGEND_STATUSES.filter((s) => s !== "closed");

const KEY = "gridcmd.screen.resources";
const HEAT_KEY = "gridcmd.screen.heat";

export function renderLegend() {
  fill($("#map-legend"),
    WALL_STATUSES.map((s) => h("span", {}, h("i", { style: "background:" + statusColor(s) }), label("status", s))),
    // Workers: the legend entry carries the live count (polled).
    ["available", "busy"].map((a) => h("span", { class: "worker-legend" }, h("i", { class: "worker-dot",
      style: "background:" + AVAILABILITY_COLORS[a] }), t("screen.worker_" + a), " ",
    h("b", { id: "workers-" + a }, "0"))));
}

export function savedResourceState() {
  try { return JSON.parse(window.localStorage.getItem(KEY) || "null"); } catch (e) { return null; }
}

/** The hotspot switch (off by default, remembered like the resource layers): `show(on)` draws or hides it. */
export function heatToggle(show) {
  const on = savedHeatState();
  const button = h("button", { type: "button", class: "res-toggle heat-toggle", "data-kind": "heat",
    "aria-pressed": on ? "true" : "false" }, h("i", { class: "heat-badge" }), t("screen.heat"));
  button.addEventListener("click", () => {
    const next = button.getAttribute("aria-pressed") !== "true";
    button.setAttribute("aria-pressed", next ? "true" : "false");
    window.localStorage.setItem(HEAT_KEY, next ? "1" : "0");
    show(next);
  });
  return button;
}

export function savedHeatState() {
  return window.localStorage.getItem(HEAT_KEY) === "1";
}

export function renderResourceToggles(layers, scale = 1, extra = []) {
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
  fill($("#res-toggles"), buttons, extra);
}

export function renderWorkerInfo(workers) {
  const present = workers.filter((w) => w.present);
  const free = present.filter((w) => w.availability === "available").length;
  $("#workers-available").textContent = String(free);
  $("#workers-busy").textContent = String(present.length - free);
}
