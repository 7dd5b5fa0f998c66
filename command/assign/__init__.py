"""assign: who goes. It owns dispatch (routing rule → departments and the nearest available workers → orders, or
"needs attention": assignment), workers' loads and live state in step with PostgreSQL (loads, live), the answers to
an order (acks: accept, decline, time out, resolve), a worker's notes on their order (field_notes), workers' own
reads and positions (workers) and incidents short of workers (staffing). It may import orders, deadlines, core,
geo, dispatch and pgnative."""
