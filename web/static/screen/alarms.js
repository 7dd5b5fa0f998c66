// The live alarm list and the alarm itself: every incident created in the watched region (or handed back to
// people: needs attention) rings, pulses on the map and flashes in the list until an operator acknowledges.
import { $, clipToFit, fill } from "../app/dom.js";
import { incidentRow } from "../app/rows.js";
import { isEmergency } from "../app/catalog.js";

const MAX_ROWS = 30;
const MAX_PULSES = 25;

export function createAlarmPanel(store, { alarm, incidents, onPending }) {
  const list = $("#alarm-list");
  const pending = [];  // unacknowledged incident ids, oldest first
  let queued = false;

  function render() {
    queued = false;
    const rows = store.list().slice(0, MAX_ROWS);
    const waiting = new Set(pending);
    fill(list, rows.map((inc) => incidentRow(inc, { fresh: waiting.has(inc.id), masked: true })));
    clipToFit(list);
    $("#alarm-count").textContent = String(store.items.size);
    $("#alarm-empty").hidden = rows.length > 0;
  }

  function schedule() {
    if (!queued) { queued = true; window.requestAnimationFrame(render); }
  }

  function raise(inc) {
    if (!pending.includes(inc.id)) { pending.push(inc.id); }
    while (pending.length > MAX_PULSES) { incidents.unpulse(pending.shift()); }
    incidents.pulse(inc);
    alarm.raise(inc.priority <= 2 || isEmergency(inc.category_code) || inc.status === "needs_attention");
    onPending(pending.length);
  }

  store.onChange((change) => {
    if (change.kind === "event" && change.incident) {
      const kind = change.event.kind;
      if (change.isNew || kind === "incident.needs_attention") { raise(change.incident); }
    }
    schedule();
  });

  return {
    acknowledge() {
      pending.length = 0;
      incidents.clearPulses();
      alarm.acknowledge();
      onPending(0);
      schedule();
    },
    render: schedule,
  };
}
