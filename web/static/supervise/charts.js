// The supervision page's charts (Apache ECharts, vendored): the ranking's scores against the previous period,
// and one unit's index parts (what each index contributes, 0–100).
import { t } from "../app/i18n.js";

const TEXT = "#cfe6ff";
const MUTED = "#7f98b3";
const LINE = "rgba(79, 140, 200, 0.18)";
const base = { animation: false, textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" } };

export function createCharts() {
  const make = (id) => echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  const scores = make("sv-chart-scores");
  const parts = make("sv-chart-parts");
  window.addEventListener("resize", () => { scores.resize(); parts.resize(); });
  return {
    scores(rows, onPick) {
      const top = rows.slice(0, 20);
      scores.setOption({ ...base,
        legend: { top: 0, right: 8, textStyle: { color: TEXT } },
        grid: { left: 8, right: 48, top: 28, bottom: 4, containLabel: true },
        xAxis: { type: "value", max: 100, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: LINE } } },
        yAxis: { type: "category", inverse: true, data: top.map((r) => r.name), axisLabel: { color: TEXT },
          axisTick: { show: false } },
        series: [
          { type: "bar", name: t("sv.score"), data: top.map((r) => r.score), itemStyle: { color: "#3fa9ff" },
            barMaxWidth: 14, label: { show: true, position: "right", color: TEXT } },
          { type: "bar", name: t("sv.prev_score"), data: top.map((r) => r.prev_score), barMaxWidth: 14,
            itemStyle: { color: "rgba(127, 152, 179, 0.55)" } }] }, true);
      scores.off("click");
      scores.on("click", (p) => { if (top[p.dataIndex]) { onPick(top[p.dataIndex]); } });
      scores.resize();
    },
    parts(indices, nameOf) {
      const codes = Object.keys(indices);
      parts.setOption({ ...base,
        grid: { left: 8, right: 40, top: 6, bottom: 4, containLabel: true },
        xAxis: { type: "value", max: 100, axisLabel: { color: MUTED }, splitLine: { lineStyle: { color: LINE } } },
        yAxis: { type: "category", inverse: true, data: codes.map(nameOf), axisLabel: { color: TEXT },
          axisTick: { show: false } },
        series: [{ type: "bar", data: codes.map((c) => (indices[c].part == null ? null : +(indices[c].part * 100)
          .toFixed(1))), barMaxWidth: 12, itemStyle: { color: "#38d39f" },
          label: { show: true, position: "right", color: TEXT } }] }, true);
      parts.resize();
    },
  };
}
