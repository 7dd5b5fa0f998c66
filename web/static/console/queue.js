// The console's two live queues: incidents that need a person (nobody could be dispatched, sent back,
// reopened) and every incident of the region, newest first.
import { $ } from "../app/dom.js";
import { keyedList } from "../app/keyedlist.js";
import { actionableReasons } from "../app/reasons.js";
import { incidentRow } from "../app/rows.js";
import { ATTENTION, TERMINAL } from "../app/status.js";
import { batched } from "../app/timing.js";

const MAX_ROWS = 300;

// A reason that only says "waiting for workers" needs nobody: the system dispatches it when they are back.
export function needsAttention(inc) {
  return ATTENTION.has(inc.status) || (actionableReasons(inc.attention_reason).length > 0 && !TERMINAL.has(inc.status)
    && inc.status !== "resolved" && inc.status !== "verified" && inc.status !== "callback_done");
}

export function createQueues(store, { onSelect }) {
  const attention = $("#attention-list");
  const all = $("#incident-list");
  const openOnly = $("#open-only");
  let selected = null;
  const fresh = new Set();

  const row = (inc) => incidentRow(inc, { selected: inc.id === selected, fresh: fresh.has(inc.id), onClick: onSelect });
  const sig = (inc) => [inc.status, inc.priority, inc.category_code, inc.description, inc.attention_reason,
    inc.last_order && inc.last_order.status, inc.id === selected, fresh.has(inc.id)].join("|");
  const attentionRows = keyedList(attention, (inc) => inc.id, sig, row);
  const allRows = keyedList(all, (inc) => inc.id, sig, row);

  function render() {
    const urgent = store.list(needsAttention);
    attentionRows.update(urgent.slice(0, MAX_ROWS));
    $("#attention-count").textContent = String(urgent.length);
    $("#attention-empty").hidden = urgent.length > 0;
    const rows = store.list(openOnly.checked ? (i) => !TERMINAL.has(i.status) : null);
    allRows.update(rows.slice(0, MAX_ROWS));
    $("#queue-count").textContent = String(rows.length);
  }

  const schedule = batched(render);

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
