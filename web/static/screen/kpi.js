// Today's figures in five tiles: received, dispatched, resolved, resolved on time, satisfaction.
import { $ } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { FINISHED } from "../app/status.js";

function pct(rate) {
  return rate == null ? "—" : (rate * 100).toFixed(rate >= 0.9995 || rate === 0 ? 0 : 1) + "%";
}

function set(key, value, sub) {
  $("#kpi-" + key).textContent = String(value);
  $("#kpi-" + key + "-sub").textContent = sub || "";
}

export function renderKpis(figures, counts) {
  const f = figures.total;
  const r = f.rates || {};
  const open = Object.entries(counts || {}).filter(([s]) => !FINISHED.has(s)).reduce((n, [, c]) => n + c, 0);
  set("received", f.received, t("screen.kpi_open_now", { n: open }));
  set("dispatched", f.dispatched, f.received ? t("screen.kpi_share", { p: pct(f.dispatched / f.received) }) : "");
  set("resolved", f.resolved, t("screen.kpi_resolution_rate", { p: pct(r.resolution_rate) }));
  set("on_time", pct(r.on_time_rate), t("screen.kpi_on_time_n", { n: f.resolved_on_time }));
  set("satisfaction", pct(r.satisfaction_rate), t("screen.kpi_rated_n", { n: f.rated }));
}
