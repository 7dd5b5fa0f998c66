// Published reports (通报) on /supervise: the generated daily, weekly, half-monthly and monthly reports of the
// caller's region with PDF and XLSX downloads; a draft half-monthly analysis takes the supervisor's 研判 text and
// is released from here, which pushes it to the subscribers' notice lists.
import { $, fill, h } from "../app/dom.js";
import { t } from "../app/i18n.js";
import { api, get, post } from "../app/api.js";
import { downloadBlob } from "./xlsx.js";

function period(r) {
  const last = new Date(Date.parse(r.period_end) - 86400000).toISOString().slice(0, 10);
  return r.period_start === last ? last : r.period_start + " – " + last;
}

export function createReports({ canWrite, toast, showError }) {
  const list = $("#sv-reports");

  function editor(r) {
    const text = h("textarea", { class: "sv-analysis", rows: "4", maxlength: "20000",
      placeholder: t("sv.analysis_hint"), "aria-label": t("sv.analysis") });
    text.value = r.analysis || "";
    const save = h("button", { type: "button", class: "btn btn-small" }, t("sv.analysis_save"));
    const release = h("button", { type: "button", class: "btn btn-small btn-warn" }, t("sv.release"));
    save.addEventListener("click", async () => {
      try {
        await api("PUT", `/api/v1/reports/${r.id}/analysis`, { body: { analysis: text.value } });
        toast(t("sv.analysis_saved"));
      } catch (e) { showError(e); }
    });
    release.addEventListener("click", async () => {
      if (!window.confirm(t("sv.release_confirm"))) { return; }
      try {
        await api("PUT", `/api/v1/reports/${r.id}/analysis`, { body: { analysis: text.value } });
        await post(`/api/v1/reports/${r.id}/release`, {});
        toast(t("sv.released"));
        await load();
      } catch (e) { showError(e); }
    });
    return h("div", { class: "sv-report-edit" }, text, h("div", {}, save, " ", release));
  }

  function item(r) {
    const file = (fmt) => {
      const b = h("button", { type: "button", class: "btn btn-small", "data-format": fmt }, fmt.toUpperCase());
      b.addEventListener("click", () => downloadBlob(`/api/v1/reports/${r.id}/file?format=${fmt}`,
        `${r.kind}-${r.region_code}-${r.period_start}.${fmt}`).catch(showError));
      return b;
    };
    const draft = r.status === "draft";
    return h("li", { class: "sv-report" + (draft ? " draft" : ""), "data-id": String(r.id), "data-kind": r.kind },
      h("div", {}, h("strong", {}, r.region_name + " " + t("sv.report." + r.kind)), " ",
        h("span", { class: "sv-meta" }, period(r)), " ",
        h("span", { class: "sv-report-status" }, t(draft ? "sv.draft" : "sv.released_state")), " ",
        file("pdf"), " ", file("xlsx")),
      draft && canWrite ? editor(r) : null);
  }

  async function load() {
    const { reports } = await get("/api/v1/reports?limit=40");
    fill(list, reports.length ? reports.map(item) : [h("li", { class: "sv-empty" }, t("sv.no_reports"))]);
  }

  return { load: () => load().catch(showError) };
}
