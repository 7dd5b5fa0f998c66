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

// Every page shows times in the one configured zone (settings.timezone, <meta name="timezone">), not the browser's,
// so the wall, the console, the department desk and the phones agree. Formatters are made once per shape.
const zoneMeta = document.querySelector('meta[name="timezone"]');
export const timeZone = (zoneMeta && zoneMeta.content) || undefined;
const formats = new Map();
function format(options) {
  const key = JSON.stringify(options);
  if (!formats.has(key)) { formats.set(key, new Intl.DateTimeFormat(lang, { timeZone, hour12: false, ...options })); }
  return formats.get(key);
}

// "11/23 14:05"
// Today's date (YYYY-MM-DD) in the centre's time zone, whatever the browser's: periods are the centre's days.
export function centreToday() {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date());
}

export function fmtTime(iso) {
  if (!iso) { return ""; }
  return format({ month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

// "14:05" today (in the zone), "11/22 14:05" before.
export function fmtClock(iso) {
  if (!iso) { return ""; }
  const d = new Date(iso);
  const day = format({ year: "numeric", month: "2-digit", day: "2-digit" });
  const hm = format({ hour: "2-digit", minute: "2-digit" }).format(d);
  if (day.format(d) === day.format(new Date())) { return hm; }
  return format({ month: "2-digit", day: "2-digit" }).format(d) + " " + hm;
}

// A ticking clock: the time of day, or the full date and time (the wall).
export function fmtNow({ withDate = false } = {}) {
  return format(withDate ? { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: "2-digit" } : { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date());
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
