"""A case's states and the moves between them, declared once.

Every status change (members' commands, the console, the jobs) goes through `move`: it refuses a
move the table does not allow, sets the status and the fields that go with it, and records the
case event. Every list of statuses (console filters, figures, transcripts, purge) comes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from storage.models import Case, CaseEvent, Member

STATES = ("new", "offered", "accepted", "referred", "closed", "cancelled")
OPEN = ("new", "offered", "accepted", "referred")
FINISHED = ("closed", "cancelled")  # kept for the figures; personal data purged after retention
LABELS: Mapping[str, str] = MappingProxyType({s: f"status.{s}" for s in STATES})  # message keys

# move -> {from: to}. An offer or a reassignment leaves a referred case referred; taking it
# (TERIMA) makes it accepted, as it always has. Cancelling is the coordinator's (a duplicate, a test, spam); a
# resident's BATAL never cancels a submitted report: on a shared phone it may not be theirs.
MOVES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "offer": {"new": "offered", "offered": "offered", "referred": "referred"},
        "accept": {"new": "accepted", "offered": "accepted", "referred": "accepted"},
        "reassign": {"new": "offered", "offered": "offered", "accepted": "offered", "referred": "referred"},
        "refer": {s: "referred" for s in OPEN},
        "close": {s: "closed" for s in OPEN},
        "cancel": {s: "cancelled" for s in OPEN},
    }
)
EVENTS: Mapping[str, str] = MappingProxyType(  # the case event each move records
    {
        "offer": "offered",
        "accept": "accepted",
        "reassign": "reassigned",
        "refer": "referred",
        "close": "closed",
        "cancel": "cancelled",
    }
)


class IllegalMove(ValueError):
    """A move the table does not allow from the case's status (say, closing a closed case)."""


def allowed(status: str, move_name: str) -> bool:
    return status in MOVES[move_name]


def move(
    session: Session,
    case: Case,
    move_name: str,
    now: datetime,
    *,
    actor: str = "bot",
    person: Member | None = None,
    **data: Any,
) -> CaseEvent:
    """Move the case (the caller holds its row lock) and record the event. `person` is the member
    who takes it (accept) or whom it is offered or handed to (offer, reassign)."""
    target = MOVES[move_name].get(case.status)
    if target is None:
        raise IllegalMove(f"case {case.code} is {case.status}: it cannot be {EVENTS[move_name]}")
    if move_name == "accept":
        assert person is not None, "accept needs the member who takes the case"
        case.member_id, case.accepted_at = person.id, now
    elif move_name == "reassign":  # the holder, if any, lets go; the chosen member gets an offer
        case.member_id, case.accepted_at = None, None
    elif move_name in ("close", "cancel"):
        case.closed_at = now
    case.status, case.updated_at = target, now
    if person is not None:
        data = {"member_id": person.id, "member": person.name, **data}
    event = CaseEvent(case_id=case.id, kind=EVENTS[move_name], actor=actor, data=data, created_at=now)
    session.add(event)
    return event
