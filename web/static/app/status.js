// Colours of incident states, worker availability and priorities: one table for maps, lists and legends,
// chosen to stay apart on a dark wall from five metres (red = act now, amber = waiting, blue = being handled,
// green = done).

export const STATUS_COLORS = {
  needs_attention: "#ff3b3b",
  reported: "#ffa629",
  located: "#ffa629",
  returned: "#ff6f3c",
  reopened: "#ff6f3c",
  dispatched: "#ffd84d",
  in_progress: "#3fa9ff",
  suspended: "#9aa7b8",
  resolved: "#38d39f",
  verified: "#2fbf8f",
  callback_done: "#2fbf8f",
  closed: "#5d6b7c",
  merged: "#5d6b7c",
  cancelled: "#5d6b7c",
};

// Shown on the status legends, in this order (the others share a colour with one of these).
export const LEGEND_STATUSES = ["needs_attention", "located", "dispatched", "in_progress", "resolved", "closed"];

export const FINISHED = new Set(["resolved", "verified", "callback_done", "closed", "merged", "cancelled"]);
export const TERMINAL = new Set(["closed", "merged", "cancelled"]);
// Waiting for a person in the command centre to act.
export const ATTENTION = new Set(["needs_attention", "returned", "reopened"]);

export const AVAILABILITY_COLORS = {
  available: "#4be38a",
  assigned: "#ffd84d",
  busy: "#ff9f43",
  off_duty: "#6b7a8c",
};

export function statusColor(status) {
  return STATUS_COLORS[status] || "#9aa7b8";
}

// A MapLibre "match" expression on a feature property, from one of the tables above.
export function matchColor(property, table, fallback = "#9aa7b8") {
  const expr = ["match", ["get", property]];
  for (const [key, color] of Object.entries(table)) { expr.push(key, color); }
  expr.push(fallback);
  return expr;
}

// Bigger dots for more urgent incidents (1 = most urgent).
export const PRIORITY_RADIUS = { 1: 11, 2: 9, 3: 7, 4: 6 };
