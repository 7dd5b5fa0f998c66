// The live alarm list and the alarm itself: every incident created in the watched region (or handed back to
// people: needs attention) rings, pulses on the map and flashes in the list until an operator acknowledges.
import { $, clipToFit } from "../app/dom.js";
import { keyedList } from "../app/keyedlist.js";
import { incidentRow } from "../app/rows.js";
import { isEmergency } from "../app/catalog.js";
import { batched } from "../app/timing.js";

const MAX_ROWS = 30;
const MAX_PULSES = 25;

export function createAlarmPanel(store, { alarm, incidents, onPending }) {
  const list = $("#alarm-list");
  const pending = [];  // unacknowledged incident ids, oldest first
  const waiting = new Set();
  const rows = keyedList(list, (inc) => inc.id,
    (inc) => [inc.status, inc.priority, inc.category_code, inc.description, inc.last_order && inc.last_order.status,
      inc.attention_reason, waiting.has(inc.id)].join("|"),
    (inc) => incidentRow(inc, { fresh: waiting.has(inc.id), masked: true }));

  function render() {
    waiting.clear();
    for (const id of pending) { waiting.add(id); }
    const items = store.list().slice(0, MAX_ROWS);
    rows.update(items);
    for (const li of list.children) { li.hidden = false; }
    clipToFit(list);
    $("#alarm-count").textContent = String(store.items.size);
    $("#alarm-empty").hidden = items.length > 0;
  }

  // Right after the event is handled (a microtask), not at the next animation frame: a busy map frame on a
  // software-rendered wall must not hold the list back.
  const schedule = batched(render);

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
