"""Offers of cases to KK members, and the case queries behind member commands."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.cases import CROCKFORD
from storage.casestate import OPEN
from storage.models import Assignment, Case, Member, Message

# Crockford decoding: what people type for the letters the alphabet leaves out.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
_PREFIX_RE = re.compile(r"[A-Z]{2,5}")


def read_code(text: str) -> tuple[str | None, str] | None:
    """'pre-7k3qx', 'PRE 7K3QX', '7k3qx', '7K3OX' -> (prefix or None, '7K3QX')."""
    raw = re.sub(r"[\s-]+", "", text.upper())
    prefix, code = raw[:-5], raw[-5:].translate(_CONFUSABLE)
    if len(raw) < 5 or any(c not in CROCKFORD for c in code):
        return None
    if prefix and not _PREFIX_RE.fullmatch(prefix):
        return None
    return prefix or None, code


def find_case(session: Session, site_id: int, prefix: str | None, code: str) -> Case | None:
    """A case of the member's site by its code, typed with or without the site prefix."""
    stmt = select(Case).where(Case.site_id == site_id, Case.code.like(f"%-{code}"))
    found = [c for c in session.scalars(stmt) if prefix is None or c.code.startswith(f"{prefix}-")]
    return found[0] if len(found) == 1 else None


def lock_case(session: Session, case_id: int) -> Case | None:
    """The case row locked until commit: offers, acceptances and closures of one case queue up."""
    stmt = select(Case).where(Case.id == case_id).with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).first()


def offers(session: Session, case_id: int) -> list[Assignment]:
    return list(
        session.scalars(select(Assignment).where(Assignment.case_id == case_id).order_by(Assignment.id))
    )


def pending(session: Session, case_id: int) -> list[Assignment]:
    return [a for a in offers(session, case_id) if a.status == "offered"]


def offer_of(session: Session, case_id: int, member_id: int) -> Assignment | None:
    """The member's latest offer of this case."""
    stmt = (
        select(Assignment)
        .where(Assignment.case_id == case_id, Assignment.member_id == member_id)
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def load(session: Session, member_ids: list[int]) -> dict[int, int]:
    """Open cases held plus offers waiting, per member: who is least busy."""
    held = session.execute(
        select(Case.member_id, func.count())
        .where(Case.member_id.in_(member_ids), Case.status.in_(OPEN))
        .group_by(Case.member_id)
    ).all()
    waiting = session.execute(
        select(Assignment.member_id, func.count())
        .where(Assignment.member_id.in_(member_ids), Assignment.status == "offered")
        .group_by(Assignment.member_id)
    ).all()
    counts = dict.fromkeys(member_ids, 0)
    for member_id, n in (*held, *waiting):
        counts[member_id] += n
    return counts


def start_clock(session: Session, message_id: int, handed_at: datetime) -> Assignment | None:
    """The offer whose message Twilio just accepted gets its full time to answer from now: a
    send that was late (a queue backlog, a retry) must not arrive already expired. Returns the
    offer when its deadline moved, for the caller to schedule the new check."""
    offer = session.scalars(
        select(Assignment).where(Assignment.message_id == message_id, Assignment.status == "offered")
    ).first()
    if offer is None:
        return None
    deadline = handed_at + (offer.deadline_at - offer.offered_at)
    if deadline <= offer.deadline_at:
        return None
    offer.deadline_at = deadline
    return offer


def add_offer(
    session: Session, case: Case, member: Member, tier: str, now: datetime, deadline: datetime
) -> Assignment:
    offer = Assignment(
        case_id=case.id,
        member_id=member.id,
        tier=tier,
        status="offered",
        offered_at=now,
        deadline_at=deadline,
    )
    session.add(offer)
    session.flush()
    return offer


def withdraw_others(session: Session, case_id: int, keep_id: int | None, now: datetime) -> list[int]:
    """Someone took the case: the other open offers lapse. Returns their member ids."""
    stmt = select(Assignment).where(
        Assignment.case_id == case_id, Assignment.status == "offered", Assignment.id != (keep_id or 0)
    )
    others = list(session.scalars(stmt))
    for other in others:
        other.status, other.answered_at = "withdrawn", now
    return [o.member_id for o in others]


def member_cases(session: Session, member_id: int, limit: int = 10) -> tuple[list[Case], list[Case]]:
    """KASUS: the open cases a member holds, and those waiting for their answer."""
    held = session.scalars(
        select(Case)
        .where(Case.member_id == member_id, Case.status.in_(OPEN))
        .order_by(Case.urgent.desc(), Case.created_at)
        .limit(limit)
    ).all()
    offered = session.scalars(
        select(Case)
        .join(Assignment, Assignment.case_id == Case.id)
        .where(Assignment.member_id == member_id, Assignment.status == "offered", Case.member_id.is_(None))
        .order_by(Case.urgent.desc(), Case.created_at)
        .limit(limit)
    ).all()
    return list(held), list(offered)


def relay_case(session: Session, contact_id: int, since: datetime) -> tuple[Case, int] | None:
    """The open case, and the member, of the last BALAS this resident got after `since`: their
    next free text goes back to that member instead of starting a new report."""
    stmt = (
        select(Case, Message.member_id)
        .join(Message, Message.case_id == Case.id)
        .where(
            Message.contact_id == contact_id,
            Message.direction == "out",
            Message.member_id.is_not(None),
            Message.created_at >= since,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    row = session.execute(stmt).first()
    if row is None or row[0].status not in OPEN:
        return None
    return row[0], row[1]
