"""A case's states and the moves between them, declared once.

The posko's mechanism (SK Lurah): a report is received, offered to the member on duty, accepted
(pendampingan), verified on the spot (croscek), referred to the services (rujukan), followed
until the service is given (pemantauan), and closed; or cancelled by a coordinator.

Every status change (members' commands, the console, the jobs) goes through `move`: it refuses a
move the table does not allow, sets the status and the fields that go with it, and records the
case event. Every list of statuses (console filters, figures, transcripts, purge) comes from here.
Referrals and their outcomes are case events ("referred", "referral_outcome", both with the
institution under "to"); `referrals` reads them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Case, CaseEvent, Member

# "new" is the report received; the names stay as stored so old cases and figures stay valid.
STATES = ("new", "offered", "accepted", "verified", "referred", "in_follow_up", "closed", "cancelled")
OPEN = ("new", "offered", "accepted", "verified", "referred", "in_follow_up")
FINISHED = ("closed", "cancelled")  # kept for the figures; personal data purged after retention
LABELS: Mapping[str, str] = MappingProxyType({s: f"status.{s}" for s in STATES})  # message keys
HELD = ("accepted", "verified", "referred", "in_follow_up")  # someone has taken it (pendampingan)
PROGRESS = ("verified", "referred", "in_follow_up")  # steps a change of hands does not undo

# The on-the-spot check: found goes on as verified; not found and duplicate end the case (closed,
# the result and its reason recorded), so the figures count closed cases one way.
RESULTS: Mapping[str, str] = MappingProxyType(
    {"found": "verify", "not_found": "dismiss", "duplicate": "dismiss"}
)
NEEDS_REASON = frozenset({"not_found", "duplicate"})
# What became of a referral: the institution took it or served the resident, and the member
# follows it until the service is given (in follow-up); refused or no news leaves the case where
# it was, for another referral or a closing with a reason.
OUTCOMES: Mapping[str, str] = MappingProxyType(
    {"received": "follow_up", "service_given": "follow_up", "refused": "outcome", "no_news": "outcome"}
)
RESULT_LABELS: Mapping[str, str] = MappingProxyType({r: f"verify.{r}" for r in RESULTS})
OUTCOME_LABELS: Mapping[str, str] = MappingProxyType({o: f"outcome.{o}" for o in OUTCOMES})

# Cases a referral may not be left open on at closing, unless a reason is given: sexual violence
# (TPKS) and a child victim (a child under 18 in a violence report, a child in a marriage report).
GUARDED_FLAGS = frozenset({"tpks", "child_victim", "forced_marriage"})
GUARDED_CATEGORIES = frozenset({"perkawinan_anak"})


def _same(states: Iterable[str]) -> dict[str, str]:
    return {s: s for s in states}


# move -> {from: to}. An offer, a reassignment or an acceptance keeps a case's progress (verified,
# referred, in follow-up): the new holder takes it where it stands. Referring is open from any
# open state (a koordinator may refer a case nobody has taken yet); a case in follow-up stays in
# follow-up when referred again. Cancelling is the coordinator's (a duplicate, a test, spam); a
# resident's BATAL never cancels a submitted report: on a shared phone it may not be theirs.
MOVES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "offer": {"new": "offered", "offered": "offered", **_same(PROGRESS)},
        "accept": {"new": "accepted", "offered": "accepted", **_same(PROGRESS)},
        "reassign": {"new": "offered", "offered": "offered", "accepted": "offered", **_same(PROGRESS)},
        "verify": {"accepted": "verified", "verified": "verified", **_same(("referred", "in_follow_up"))},
        "dismiss": {s: "closed" for s in HELD},  # checked: not found, or a duplicate
        "refer": {**{s: "referred" for s in OPEN}, "in_follow_up": "in_follow_up"},
        "follow_up": {"referred": "in_follow_up", "in_follow_up": "in_follow_up"},  # received, served
        "outcome": _same(("referred", "in_follow_up")),  # refused, no news
        "close": {s: "closed" for s in OPEN},
        "cancel": {s: "cancelled" for s in OPEN},
    }
)
EVENTS: Mapping[str, str] = MappingProxyType(  # the case event each move records
    {
        "offer": "offered",
        "accept": "accepted",
        "reassign": "reassigned",
        "verify": "verified",
        "dismiss": "verified",
        "refer": "referred",
        "follow_up": "referral_outcome",
        "outcome": "referral_outcome",
        "close": "closed",
        "cancel": "cancelled",
    }
)
# The steps of a case as the console shows them, and the event that marks each one reached.
STEPS = ("new", "offered", "accepted", "verified", "referred", "in_follow_up", "closed")


class IllegalMove(ValueError):
    """A move the table does not allow from the case's status (say, closing a closed case)."""

    def __init__(self, case: Case, move_name: str) -> None:
        super().__init__(f"case {case.code} is {case.status}: it cannot be {EVENTS[move_name]}")
        self.status = case.status
        self.move = move_name


class OpenReferral(ValueError):
    """Closing a TPKS or child case while a referral has no outcome, and no reason given."""

    def __init__(self, case: Case, institutions: list[str]) -> None:
        super().__init__(f"case {case.code}: referral to {', '.join(institutions)} has no outcome")
        self.institutions = institutions


class ReasonNeeded(ValueError):
    """A check that ends the case (not found, a duplicate) given without its reason."""

    def __init__(self, case: Case, result: str) -> None:
        super().__init__(f"case {case.code}: {result} needs a reason")
        self.result = result


@dataclass(frozen=True)
class Referral:
    to: str  # the institution's name, as flows.members.INSTITUTIONS spells it
    at: datetime
    outcome: str | None = None  # a key of OUTCOMES; None while nobody has said
    outcome_at: datetime | None = None
    note: str = ""


def allowed(status: str, move_name: str) -> bool:
    return status in MOVES[move_name]


def guarded(case: Case) -> bool:
    """A TPKS or child case: its referrals need an outcome, or a reason, before it closes."""
    return bool(GUARDED_FLAGS.intersection(case.flags or ())) or case.category in GUARDED_CATEGORIES


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
    who takes it (accept) or whom it is offered or handed to (offer, reassign). A move that ends
    a guarded case with an open referral needs a `note` (the reason), or raises OpenReferral."""
    target = MOVES[move_name].get(case.status)
    if target is None:
        raise IllegalMove(case, move_name)
    reason = str(data.get("note") or "").strip()
    if target == "closed" and not reason and (waiting := blocking(session, case)):
        raise OpenReferral(case, waiting)
    if move_name == "accept":
        assert person is not None, "accept needs the member who takes the case"
        case.member_id, case.accepted_at = person.id, now
    elif move_name == "reassign":  # the holder, if any, lets go; the chosen member gets an offer
        case.member_id, case.accepted_at = None, None
    if target in FINISHED:
        case.closed_at = now
    case.status, case.updated_at = target, now
    if person is not None:
        data = {"member_id": person.id, "member": person.name, **data}
    event = CaseEvent(case_id=case.id, kind=EVENTS[move_name], actor=actor, data=data, created_at=now)
    session.add(event)
    return event


def life_events(session: Session, case_id: int) -> list[CaseEvent]:
    """The case's checks, referrals and referral outcomes, in order (`verification`, `referrals`)."""
    kinds = ("verified", "referred", "referral_outcome")
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind.in_(kinds))
    return list(session.scalars(stmt.order_by(CaseEvent.created_at, CaseEvent.id)))


def referrals(events: Iterable[CaseEvent]) -> list[Referral]:
    """The case's referrals in order, each with its latest outcome: an outcome belongs to the
    latest referral to its institution (referred again, it waits for news again)."""
    found: list[Referral] = []
    for e in events:
        to = str(e.data.get("to") or "")
        if e.kind == "referred" and to:
            found.append(Referral(to, e.created_at))
        elif e.kind == "referral_outcome":
            for i in range(len(found) - 1, -1, -1):
                if found[i].to == to:
                    note = str(e.data.get("note") or "")
                    found[i] = Referral(to, found[i].at, e.data.get("outcome"), e.created_at, note)
                    break
    return found


def referrals_of(session: Session, case: Case) -> list[Referral]:
    return referrals(life_events(session, case.id))


def verification(events: Iterable[CaseEvent]) -> CaseEvent | None:
    """The latest check of the case ("verified" event: result, and the reason as its note)."""
    return next((e for e in reversed(list(events)) if e.kind == "verified"), None)


def blocking(session: Session, case: Case) -> list[str]:
    """The institutions whose referral has no outcome, when the case is guarded: closing it
    then needs an outcome for each, or a reason."""
    if not guarded(case) or case.id is None:
        return []
    return open_referrals(case, referrals_of(session, case))


def open_referrals(case: Case, referrals: Iterable[Referral]) -> list[str]:
    """Of the case's `referrals`, the institutions a guarded case may not close on unless a
    reason is given (none for a case that is not guarded)."""
    if not guarded(case):
        return []
    return list(dict.fromkeys(r.to for r in referrals if r.outcome is None))


def reached(events: Iterable[CaseEvent], created_at: datetime | None) -> dict[str, datetime]:
    """When the case first reached each step of STEPS (and "cancelled"), from its events."""
    kinds = {
        "offered": "offered",
        "accepted": "accepted",
        "referred": "referred",
        "closed": "closed",
        "cancelled": "cancelled",
    }
    steps: dict[str, datetime] = {"new": created_at} if created_at else {}
    for e in events:
        step = kinds.get(e.kind)
        if e.kind == "verified":
            step = "verified" if e.data.get("result") == "found" else "closed"
            steps.setdefault("verified", e.created_at)
        elif e.kind == "referral_outcome" and OUTCOMES.get(e.data.get("outcome") or "") == "follow_up":
            step = "in_follow_up"
        if step is not None:
            steps.setdefault(step, e.created_at)
    return steps
