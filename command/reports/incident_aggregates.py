"""What the statistics and the assessment facts need to know about each incident's orders, events, deadlines and
callbacks, aggregated once per table for the incidents matching `{where}` and joined by id (hash joins).

Asked per incident instead (a correlated subquery per figure), a month of 300,000 incidents took 9 s and a
province month of 1.7 million about two minutes; aggregated and joined, a fraction of that. Each fragment is a
LEFT JOIN onto `incidents i` with a `{where}` placeholder over `i` (the caller's filter, repeated so every
aggregate reads only the incidents it is joined to)."""

from __future__ import annotations

IN_WHERE = "(SELECT i.id FROM incidents i WHERE {where})"

# sign_due / signed / signed_on_time: department work orders (withdrawn ones excluded); sent_back: an order was
# returned (退单); first_accepted: the first order taken in hand, of any assignee (the response time).
ORDERS = f"""
LEFT JOIN (SELECT o.incident_id,
    count(*) FILTER (WHERE o.assignee_kind = 'department' AND o.status <> 'cancelled')::int AS sign_due,
    count(*) FILTER (WHERE o.assignee_kind = 'department' AND o.status <> 'cancelled'
                     AND o.accepted_at IS NOT NULL)::int AS signed,
    count(*) FILTER (WHERE o.assignee_kind = 'department' AND o.status <> 'cancelled' AND o.accepted_at IS NOT NULL
                     AND (o.ack_due_at IS NULL OR o.accepted_at <= o.ack_due_at))::int AS signed_on_time,
    bool_or(o.status = 'returned') AS sent_back, min(o.accepted_at) AS first_accepted
  FROM orders o WHERE o.incident_id IN {IN_WHERE} GROUP BY o.incident_id) oa ON oa.incident_id = i.id"""

EVENTS = f"""
LEFT JOIN (SELECT e.incident_id, bool_or(e.kind = 'incident.rework') AS reworked,
    bool_or(e.kind = 'incident.reopened') AS reopened,
    count(*) FILTER (WHERE e.kind = 'supervision.raised')::int AS supervisions
  FROM events e WHERE e.kind IN ('incident.rework', 'incident.reopened', 'supervision.raised')
    AND e.incident_id IN {IN_WHERE} GROUP BY e.incident_id) ea ON ea.incident_id = i.id"""

OVERDUE = f"""
LEFT JOIN (SELECT DISTINCT d.incident_id FROM deadlines d WHERE d.overdue_at IS NOT NULL
    AND d.incident_id IN {IN_WHERE}) da ON da.incident_id = i.id"""

# The latest callback's rating (the highest id): a re-rating after a reopened case replaces the first.
RATING = f"""
LEFT JOIN (SELECT DISTINCT ON (c.incident_id) c.incident_id, c.rating FROM callbacks c
  WHERE c.incident_id IN {IN_WHERE} ORDER BY c.incident_id, c.id DESC) cb ON cb.incident_id = i.id"""

# Per work order: the orders sent back for rework (order.rework events).
ORDER_REWORK = f"""
LEFT JOIN (SELECT DISTINCT e.order_id FROM events e WHERE e.kind = 'order.rework' AND e.incident_id IN {IN_WHERE})
  orw ON orw.order_id = o.id"""

SATISFIED = "('satisfied', 'basically_satisfied')"
