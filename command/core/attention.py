"""Why an incident needs an operator's attention: a stable code first (screens translate it), then the detail.

Dispatch writes these reasons (command.assign.assignment), the sweeper and staffing read them back, and the
incident lists filter on them (command.orders.incidents): one vocabulary, so it sits below all of them."""

from __future__ import annotations

# Attention reasons start with a stable code (screens translate it), then the detail.
OUTSIDE = "outside"
NO_WORKER = "no_worker"
NO_DEPARTMENT = "no_department"
OFFERS_FAILED = "offers_failed"
# Not an attention code: dispatch is waiting for the workers to report after the live state was rebuilt (a Redis
# flush or restart); the incident stays `located` (or keeps its status) and is dispatched when they are back.
WAITING = "waiting_for_workers"


def reason(code: str, detail: str) -> str:
    return f"{code}: {detail}"[:200]


def reason_codes(text: str | None) -> list[str]:
    """The codes of a reason ("no_worker: …; no_department: …" → ["no_worker", "no_department"])."""
    return [part.split(": ", 1)[0] for part in (text or "").split("; ") if part]


def with_worker_reason(text: str | None, new: str | None) -> str | None:
    """`text` with its worker part (no_worker / waiting_for_workers) replaced by `new` (None: dropped); the other
    parts (no_department…) are kept."""
    keep = [p for p in (text or "").split("; ") if p and p.split(": ", 1)[0] not in (NO_WORKER, WAITING)]
    return "; ".join(([new] if new else []) + keep)[:200] or None


def is_waiting(text: str | None) -> bool:
    return WAITING in reason_codes(text)
