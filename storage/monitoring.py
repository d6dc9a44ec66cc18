"""Counts for monitoring (`GET /metrics`): backlogs and failures, never who or what. Read at
scrape time from the database, so every web process answers the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import delivery, outbox
from storage.delivery import FAILED
from storage.models import Member, Message, Outbox
from storage.outbox import MAX_ATTEMPTS, PUSH_GRACE, PUSH_STUCK  # noqa: F401 (the sweeper's rule)

FAILED_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Backlog:
    outbox_open: dict[str, int]  # job name -> rows not done
    outbox_due: int  # rows the sweeper would push now
    outbox_exhausted: int  # rows not done after MAX_ATTEMPTS: the sweeper gave up on them
    stuck_handing: int  # messages claimed by a send job that never finished
    pending: int  # messages waiting for their send job (or the resident's safe time)
    failed_recent: int  # outbound messages created in the last FAILED_WINDOW that failed
    unreachable: dict[str, int]  # kind ("opted_out", "bad_number") -> members flagged


def backlog(session: Session, now: datetime) -> Backlog:
    return Backlog(
        outbox_open=outbox_open(session),
        outbox_due=outbox_due(session, now),
        outbox_exhausted=outbox_exhausted(session),
        stuck_handing=stuck_handing(session, now),
        pending=messages_with_status(session, "pending"),
        failed_recent=failed_since(session, now - FAILED_WINDOW),
        unreachable=unreachable_members(session),
    )


def outbox_open(session: Session) -> dict[str, int]:
    stmt = select(Outbox.job, func.count()).where(Outbox.done_at.is_(None)).group_by(Outbox.job)
    return {job: int(n) for job, n in session.execute(stmt)}


def outbox_due(session: Session, now: datetime) -> int:
    """How many rows `storage.outbox.due_for_push` would hand the sweeper (without its limit)."""
    return int(session.scalar(select(func.count()).where(outbox.due(now))) or 0)


def outbox_exhausted(session: Session) -> int:
    stmt = select(func.count()).where(Outbox.done_at.is_(None), Outbox.attempts >= MAX_ATTEMPTS)
    return int(session.scalar(stmt) or 0)


def stuck_handing(session: Session, now: datetime) -> int:
    """How many messages `storage.delivery.stuck_handing` would give the reconciler (no limit)."""
    return int(session.scalar(select(func.count()).where(delivery.stuck(now))) or 0)


def messages_with_status(session: Session, status: str) -> int:
    stmt = select(func.count()).where(Message.direction == "out", Message.status == status)
    return int(session.scalar(stmt) or 0)


def failed_since(session: Session, since: datetime) -> int:
    stmt = select(func.count()).where(
        Message.direction == "out", Message.status.in_(FAILED), Message.created_at >= since
    )
    return int(session.scalar(stmt) or 0)


def unreachable_members(session: Session) -> dict[str, int]:
    stmt = (
        select(Member.unreachable, func.count())
        .where(Member.unreachable.is_not(None))
        .group_by(Member.unreachable)
    )
    return {str(kind): int(n) for kind, n in session.execute(stmt)}
