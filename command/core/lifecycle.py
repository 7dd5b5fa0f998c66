"""Incident and order states, and the moves allowed between them, as data.

`check_move` raises IllegalTransition on a move the table does not allow; every service that changes
a state goes through it, then records the move in the event log (command.core.events)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from command.core.errors import IllegalTransition


class IncidentStatus(enum.StrEnum):
    reported = "reported"            # stored, not yet located
    located = "located"              # in its region, waiting for dispatch
    dispatched = "dispatched"        # orders offered / sent
    in_progress = "in_progress"      # a worker accepted or a department signed for it
    resolved = "resolved"            # every order reported done (办结)
    verified = "verified"            # the operator checked the result (核查)
    callback_done = "callback_done"  # the resident was called back / rated (回访)
    closed = "closed"                # 结案
    needs_attention = "needs_attention"  # nobody could take it: an operator must act
    returned = "returned"            # sent back to the operator (退单)
    suspended = "suspended"          # 挂账: parked with a reason, still counted
    merged = "merged"                # a duplicate folded into another incident
    cancelled = "cancelled"
    reopened = "reopened"            # after 不满意 or a failed check


class OrderStatus(enum.StrEnum):
    sent = "sent"
    delivered = "delivered"
    read = "read"
    accepted = "accepted"        # a worker took it
    signed_for = "signed_for"    # a department signed for it (签收)
    extended = "extended"        # a deadline extension was granted (延期)
    done = "done"                # reported done with feedback (办结反馈)
    declined = "declined"
    returned = "returned"        # 退单
    timed_out = "timed_out"
    cancelled = "cancelled"


I, O = IncidentStatus, OrderStatus  # noqa: E741  (short names keep the tables readable)

INCIDENT_MOVES: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    I.reported: frozenset({I.located, I.needs_attention, I.merged, I.cancelled}),
    # located → resolved: a 即办件 handled on the spot or a 答复件 answered, with no order.
    I.located: frozenset({I.dispatched, I.needs_attention, I.merged, I.cancelled, I.resolved}),
    # → located: transferred to another jurisdiction (迁出地/迁入地), waiting for its new centre.
    I.dispatched: frozenset({I.in_progress, I.needs_attention, I.returned, I.resolved, I.suspended,
                             I.merged, I.cancelled, I.located}),
    I.in_progress: frozenset({I.resolved, I.dispatched, I.needs_attention, I.returned, I.suspended,
                              I.cancelled}),
    I.resolved: frozenset({I.verified, I.in_progress, I.reopened}),
    I.verified: frozenset({I.callback_done, I.closed, I.reopened}),
    I.callback_done: frozenset({I.closed, I.reopened}),
    I.closed: frozenset({I.reopened}),
    I.needs_attention: frozenset({I.dispatched, I.located, I.suspended, I.merged, I.cancelled}),
    I.returned: frozenset({I.dispatched, I.needs_attention, I.suspended, I.cancelled, I.located}),
    I.suspended: frozenset({I.dispatched, I.in_progress, I.needs_attention, I.cancelled}),
    I.reopened: frozenset({I.dispatched, I.in_progress, I.needs_attention, I.cancelled}),
    I.merged: frozenset(),
    I.cancelled: frozenset(),
}

_OPEN_ORDER_EXITS = frozenset({O.declined, O.timed_out, O.returned, O.cancelled})
ORDER_MOVES: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    O.sent: frozenset({O.delivered, O.read, O.accepted, O.signed_for}) | _OPEN_ORDER_EXITS,
    O.delivered: frozenset({O.read, O.accepted, O.signed_for}) | _OPEN_ORDER_EXITS,
    O.read: frozenset({O.accepted, O.signed_for}) | _OPEN_ORDER_EXITS,
    O.accepted: frozenset({O.done, O.extended, O.returned, O.cancelled}),
    O.signed_for: frozenset({O.done, O.extended, O.returned, O.cancelled}),
    O.extended: frozenset({O.done, O.extended, O.returned, O.cancelled}),
    # Rework (返工) puts a finished order back in hand.
    O.done: frozenset({O.accepted, O.signed_for}),
    O.declined: frozenset(),
    O.returned: frozenset(),
    O.timed_out: frozenset(),
    O.cancelled: frozenset(),
}

# States in which an order still holds its assignee (counts against a worker's load).
ORDER_HOLDING = frozenset({O.sent, O.delivered, O.read, O.accepted, O.signed_for, O.extended})
# States in which an order is still waiting for the assignee to take it.
ORDER_OFFERED = frozenset({O.sent, O.delivered, O.read})
INCIDENT_OPEN = frozenset(set(IncidentStatus) - {I.closed, I.merged, I.cancelled})
INCIDENT_TERMINAL = frozenset({I.closed, I.merged, I.cancelled})


def check_incident_move(current: str, target: str) -> None:
    _check("incident", INCIDENT_MOVES, IncidentStatus, current, target)


def check_order_move(current: str, target: str) -> None:
    _check("order", ORDER_MOVES, OrderStatus, current, target)


_State = TypeVar("_State", bound=enum.StrEnum)


def _check(what: str, table: Mapping[_State, frozenset[_State]], states: type[_State], current: str,
           target: str) -> None:
    try:
        cur, tgt = states(current), states(target)
    except ValueError as exc:
        raise IllegalTransition(f"unknown {what} state: {exc}") from exc
    if tgt not in table[cur]:
        allowed = ", ".join(sorted(table[cur])) or "none (final state)"
        raise IllegalTransition(
            f"{what} cannot move from {cur} to {tgt}; allowed from {cur}: {allowed}",
            details={"from": cur.value, "to": tgt.value},
        )
