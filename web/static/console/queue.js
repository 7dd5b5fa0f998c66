// The console's two live queues: incidents that need a person (nobody could be dispatched, sent back,
// reopened) and every incident of the region, newest first.
import { $, fill } from "../app/dom.js";
import { incidentRow } from "../app/rows.js";
import { ATTENTION, TERMINAL } from "../app/status.js";

const MAX_ROWS = 300;

export function needsAttention(inc) {
  return ATTENTION.has(inc.status) || (!!inc.attention_reason && !TERMINAL.has(inc.status)
    && inc.status !== "resolved" && inc.status !== "verified" && inc.status !== "callback_done");
}

export function createQueues(store, { onSelect }) {
  const attention = $("#attention-list");
  const all = $("#incident-list");
  const openOnly = $("#open-only");
  let selected = null;
  const fresh = new Set();
  let queued = false;

  function render() {
    queued = false;
    const row = (inc) => incidentRow(inc, { selected: inc.id === selected, fresh: fresh.has(inc.id), onClick: onSelect });
    const urgent = store.list(needsAttention);
    fill(attention, urgent.slice(0, MAX_ROWS).map(row));
    $("#attention-count").textContent = String(urgent.length);
    $("#attention-empty").hidden = urgent.length > 0;
    const rows = store.list(openOnly.checked ? (i) => !TERMINAL.has(i.status) : null);
    fill(all, rows.slice(0, MAX_ROWS).map(row));
    $("#queue-count").textContent = String(rows.length);
  }

  function schedule() {
    if (!queued) { queued = true; window.requestAnimationFrame(render); }
  }

  openOnly.addEventListener("change", schedule);
  store.onChange((change) => {
    if (change.isNew) {
      fresh.add(change.incident.id);
      window.setTimeout(() => { fresh.delete(change.incident.id); schedule(); }, 6000);
    }
    schedule();
  });
  return {
    select(id) { selected = id; schedule(); },
    render: schedule,
  };
}
