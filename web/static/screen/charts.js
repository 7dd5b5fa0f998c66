// The wall's charts (Apache ECharts, vendored): today's incidents by category, the 24-hour trend, and the ranking
// of the regions one level below the watched one (streets of a district, communities of a street).
import { lang, t } from "../app/i18n.js";

const TEXT = "#cfe6ff";
const MUTED = "#7f98b3";
const GRID_LINE = "rgba(79, 140, 200, 0.18)";
const BLUE = "#3fa9ff";
const GREEN = "#38d39f";
const LEVEL_BELOW = { district: "street", street: "community", community: "grid", grid: "microgrid" };

function shorten(name, max) {
  const chars = Array.from(name || "");
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : name;
}

export function createCharts(scale) {
  const font = (px) => Math.round(px * scale);
  const make = (id) => echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  const category = make("chart-category");
  const trend = make("chart-trend");
  const ranking = make("chart-ranking");
  window.addEventListener("resize", () => { category.resize(); trend.resize(); ranking.resize(); });
  const axisLabel = { color: TEXT, fontSize: font(15) };
  const legend = { top: 0, right: font(8), textStyle: { color: TEXT, fontSize: font(14) }, itemWidth: font(16),
    itemHeight: font(10) };
  const base = { animation: false, textStyle: { fontFamily: "Noto Sans CJK SC, sans-serif" } };

  function barChart(chart, names, series, { max = null, percent = false } = {}) {
    chart.setOption({ ...base, legend: series.length > 1 ? legend : undefined,
      grid: { left: font(8), right: font(percent ? 70 : 40), top: font(series.length > 1 ? 30 : 8), bottom: font(4),
        containLabel: true },
      xAxis: { type: "value", max, axisLabel: { show: false }, splitLine: { lineStyle: { color: GRID_LINE } } },
      yAxis: { type: "category", data: names, inverse: true, axisLabel, axisTick: { show: false },
        axisLine: { lineStyle: { color: GRID_LINE } } },
      series: series.map((s) => ({ type: "bar", name: s.name, data: s.data, barMaxWidth: font(16),
        barGap: "15%", itemStyle: { color: s.color, borderRadius: [0, font(3), font(3), 0] },
        label: { show: true, position: "right", color: TEXT, fontSize: font(14),
          formatter: s.label || ((p) => (p.value ? String(p.value) : "")) } })) }, true);
  }

  return {
    update(figures, names, watched) {
      const cats = figures.by_category.slice(0, 7);
      const catName = (c) => shorten(lang === "en" ? c.name_en : c.name_zh, lang === "en" ? 16 : 7);
      barChart(category, cats.map(catName), [
        { name: t("screen.series_received"), data: cats.map((c) => c.received), color: BLUE },
        { name: t("screen.series_resolved"), data: cats.map((c) => c.resolved), color: GREEN }]);

      const hours = figures.trend.map((h) => h.hour.slice(11, 13) + (lang === "en" ? ":00" : "时"));
      trend.setOption({ ...base, legend,
        grid: { left: font(8), right: font(16), top: font(32), bottom: font(4), containLabel: true },
        xAxis: { type: "category", data: hours, boundaryGap: false, axisLabel: { ...axisLabel, fontSize: font(13),
          interval: 3 }, axisLine: { lineStyle: { color: GRID_LINE } }, axisTick: { show: false } },
        yAxis: { type: "value", minInterval: 1, axisLabel: { color: MUTED, fontSize: font(13) },
          splitLine: { lineStyle: { color: GRID_LINE } } },
        series: [
          { type: "line", name: t("screen.series_received"), data: figures.trend.map((h) => h.received), smooth: true,
            symbol: "none", lineStyle: { color: BLUE, width: font(3) }, itemStyle: { color: BLUE },
            areaStyle: { color: "rgba(63, 169, 255, 0.22)" } },
          { type: "line", name: t("screen.series_resolved"), data: figures.trend.map((h) => h.resolved),
            smooth: true, symbol: "none", lineStyle: { color: GREEN, width: font(3) }, itemStyle: { color: GREEN } },
        ] }, true);

      // Every region one level below the watched one, those with no incident today as zero.
      const childLevel = watched ? LEVEL_BELOW[watched.level] : "district";
      const rows = new Map(figures.by_region.map((r) => [r.key, r]));
      for (const [code, r] of Object.entries(names || {})) {
        if (r.level === childLevel && !rows.has(code)) {
          rows.set(code, { key: code, name: r.name, received: 0, resolved: 0, rates: { resolution_rate: null } });
        }
      }
      const ranked = Array.from(rows.values()).sort((a, b) => ((b.rates.resolution_rate ?? -1)
        - (a.rates.resolution_rate ?? -1)) || (b.received - a.received) || a.key.localeCompare(b.key)).slice(0, 8);
      document.getElementById("ranking-title").textContent = t("screen.ranking_" + (childLevel || "street"));
      barChart(ranking, ranked.map((r) => shorten(r.name, lang === "en" ? 16 : 7)), [{
        name: t("screen.kpi_resolved"),
        data: ranked.map((r) => Math.round((r.rates.resolution_rate ?? 0) * 100)),
        color: { type: "linear", x: 0, y: 0, x2: 1, y2: 0,
          colorStops: [{ offset: 0, color: "#1f6fb2" }, { offset: 1, color: "#4be3a4" }] },
        label: (p) => t("screen.ranking_label", { p: p.value, n: ranked[p.dataIndex].received }) }],
      { max: 100, percent: true });
    },
  };
}
