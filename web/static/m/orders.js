// The worker's open orders: loaded from GET /api/v1/workers/me/orders, kept current by the socket's order and
// incident events (payloads carry the order and incident summaries, so no refetch per event).

import { get } from "../app/api.js";

export const OFFERED = new Set(["sent", "delivered", "read"]);
const GONE = new Set(["declined", "timed_out", "cancelled", "returned", "done"]);
const ALERTED_KEY = "gridcmd.m.alerted";

function loadAlerted() {
  try { return new Set(JSON.parse(localStorage.getItem(ALERTED_KEY) || "[]")); } catch (e) { return new Set(); }
}

export function createOrders({ workerId, onChange = () => {}, onOffer = () => {}, onGone = () => {} }) {
  const orders = new Map();
  const alerted = loadAlerted();  // offers already rung for (across reloads), so a reload does not ring again

  function remember(id) {
    alerted.add(id);
    localStorage.setItem(ALERTED_KEY, JSON.stringify([...alerted].slice(-200)));
  }

  function offerIfNew(order) {
    if (OFFERED.has(order.status) && !alerted.has(order.id)) {
      remember(order.id);
      onOffer(order);
    }
  }

  async function refresh() {
    const data = await get("/api/v1/workers/me/orders");
    const fresh = new Map(data.items.map((o) => [o.id, o]));
    for (const [id, old] of orders) {
      if (fresh.has(id)) { fresh.get(id).arrived = old.arrived; }
    }
    orders.clear();
    for (const [id, o] of fresh) { orders.set(id, o); }
    onChange();
    for (const o of orders.values()) { offerIfNew(o); }
  }

  function apply(event) {
    const p = event.payload || {};
    if (event.kind.startsWith("order.") && p.order && p.order.worker_id === workerId) {
      const prev = orders.get(p.order.id);
      const next = { ...(prev || {}), ...p.order, incident: p.incident || (prev && prev.incident) };
      if (event.kind === "order.arrived") { next.arrived = true; }
      if (GONE.has(next.status)) {
        orders.delete(next.id);
        if (prev) { onGone(next, event); }
      } else {
        orders.set(next.id, next);
        offerIfNew(next);
      }
      onChange();
    } else if (p.incident) {
      let touched = false;
      for (const o of orders.values()) {
        if (o.incident_id === p.incident.id) { o.incident = { ...o.incident, ...p.incident }; touched = true; }
      }
      if (touched) { onChange(); }
    }
  }

  return {
    refresh,
    apply,
    get: (id) => orders.get(id),
    // Offers first (they are waiting for an answer), then the newest.
    list: () => [...orders.values()].sort((a, b) => (OFFERED.has(b.status) - OFFERED.has(a.status)) || b.id - a.id),
    markArrived(id) { const o = orders.get(id); if (o) { o.arrived = true; onChange(); } },
  };
}
