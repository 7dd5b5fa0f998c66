// The page's strings (one catalogue, rendered by the server into <script id="i18n">) and locale formatting.
const node = document.getElementById("i18n");
const strings = node ? JSON.parse(node.textContent) : {};

export const lang = document.documentElement.lang || "zh-CN";

// t("m.accept") or t("m.distance", { m: 120 }): "{name}" placeholders are filled from `vars`.
export function t(key, vars) {
  let text = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
  if (vars) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }
  return text;
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(strings, key);
}

// "status.in_progress" → the label, or the raw value when the catalogue has none (never blank).
export function label(prefix, value) {
  return has(prefix + "." + value) ? t(prefix + "." + value) : String(value);
}

export function fmtTime(iso) {
  if (!iso) { return ""; }
  return new Date(iso).toLocaleString(lang, { month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hour12: false });
}

// A countdown: "2天3小时", "1小时05分", "4分12秒" (absolute value; the caller says whether it is overdue).
export function fmtDuration(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  if (d > 0) { return t("common.dur_dh", { d, h }); }
  if (h > 0) { return t("common.dur_hm", { h, m: pad(m) }); }
  return t("common.dur_ms", { m, s: pad(s % 60) });
}

export function fmtDistance(metres) {
  if (metres == null) { return ""; }
  return metres >= 1000 ? t("common.km", { km: (metres / 1000).toFixed(1) }) : t("common.m", { m: Math.round(metres) });
}
