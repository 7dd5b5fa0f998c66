// The incidents a page knows, kept current from the event stream: every incident event carries the incident's
// summary (command/core/summaries.py), so an event is applied without refetching.
//
// Start-up and `reset` without losing an event: the socket is opened first and its events are held while the
// snapshot loads; then the snapshot is applied and the held events replayed on top (they are newer).

export class IncidentStore {
  constructor() {
    this.items = new Map();
    this.listeners = new Set();
    this.held = null;  // events received while a snapshot loads
    this.created = new Set();  // ids whose incident.created event was applied: an alarm is raised once
  }

  onChange(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  emit(change) { for (const fn of this.listeners) { fn(change); } }

  // Hold events until `finish(list)` applies a snapshot.
  beginSnapshot() { if (!this.held) { this.held = []; } }

  finishSnapshot(list) {
    this.items.clear();
    for (const inc of list) { this.items.set(inc.id, inc); }
    const held = this.held || [];
    this.held = null;
    this.emit({ kind: "snapshot" });
    for (const ev of held) { this.apply(ev); }
  }

  // An event from /ws → the change it made: {kind: "event", event, incident, previous, isNew}.
  apply(event) {
    if (this.held) { this.held.push(event); return null; }
    const summary = event.payload && event.payload.incident;
    let incident = null, previous = null, isNew = false;
    if (summary && summary.id != null) {
      previous = this.items.get(summary.id) || null;
      // New to this page: its creation arrives live (or replayed after a reconnect or a snapshot), once.
      isNew = event.kind === "incident.created" && !this.created.has(summary.id);
      if (isNew) { this.created.add(summary.id); }
      incident = { ...(previous || {}), ...summary, updated_at: event.created_at || (previous && previous.updated_at) };
      // The latest order move, so a screen can show each step of the work (sent, accepted, done…).
      const order = event.payload.order;
      if (order && order.id != null) {
        incident.last_order = { id: order.id, status: order.status, assignee_kind: order.assignee_kind };
      }
      this.items.set(incident.id, incident);
    }
    const change = { kind: "event", event, incident, previous, isNew };
    this.emit(change);
    return change;
  }

  get(id) { return this.items.get(id) || null; }

  // Newest first, optionally filtered.
  list(filter) {
    const out = [];
    for (const inc of this.items.values()) { if (!filter || filter(inc)) { out.push(inc); } }
    return out.sort((a, b) => b.id - a.id);
  }
}
