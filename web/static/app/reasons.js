// System reasons read in the page language. Reasons the system writes start with a stable code
// ("no_worker: 0 of 2 workers available within 2000 m; no_department: …", command/core/attention.py): the code is
// translated from the `attention.<code>` catalogue keys, the detail after it is shown as it is. What a person
// typed (a decline or send-back reason) has no such code and stays exactly as typed.
import { has, label } from "./i18n.js";

// "no_worker: …; outside" → [{ code, label, detail }]
export function attentionReasons(text) {
  if (!text) { return []; }
  return String(text).split("; ").map((part) => {
    const i = part.indexOf(": ");
    const code = i > 0 ? part.slice(0, i) : part;
    return { code, label: label("attention", code), detail: i > 0 ? part.slice(i + 2) : "" };
  });
}

// One line for a timeline: the known codes translated ("附近无可派网格员 · 0 of 1 workers available within
// 3000 m"); a reason with any part not starting with a known code is returned untouched.
export function reasonText(text) {
  if (!text) { return ""; }
  const parts = attentionReasons(text);
  if (!parts.every((p) => has("attention." + p.code))) { return String(text); }
  return parts.map((p) => (p.detail ? p.label + " · " + p.detail : p.label)).join("; ");
}

// Dispatch is waiting for the workers to report again after the live state was rebuilt (a Redis flush or
// restart): the system dispatches it by itself, so it is shown as waiting, not as needing a person.
export const WAITING = "waiting_for_workers";

export function isWaiting(text) {
  return attentionReasons(text).some((p) => p.code === WAITING);
}

// Reasons an operator must act on (all but the waiting one).
export function actionableReasons(text) {
  return attentionReasons(text).filter((p) => p.code !== WAITING);
}
