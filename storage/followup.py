"""What the follow-up reminders read: a case's latest news, the reminders and alerts sent since,
and whether a check is already waiting for the case (one chain of checks per case)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CaseEvent, Outbox

CHECK_JOB = "follow_up_check"
REMINDED = "follow_up_reminder"  # the holder was reminded
ALERTED = "follow_up_alert"  # the koordinator(s) were told the reminder went unanswered
KINDS = (REMINDED, ALERTED)  # not news: a reminder does not restart the count


def last_news(session: Session, case_id: int) -> CaseEvent | None:
    """The case's latest event that is news (anything but the reminders themselves)."""
    stmt = (
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind.not_in(KINDS))
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def sent_since(session: Session, case_id: int, news: CaseEvent) -> list[CaseEvent]:
    """Reminders and alerts recorded after `news`, oldest first."""
    stmt = select(CaseEvent).where(
        CaseEvent.case_id == case_id, CaseEvent.kind.in_(KINDS), CaseEvent.id > news.id
    )
    return list(session.scalars(stmt.order_by(CaseEvent.id)))


def check_waiting(session: Session, case_id: int, after: datetime, until: datetime) -> bool:
    """A follow-up check of the case not yet run, due after `after` and by `until`. Pending checks
    are about one per held case, so reading their arguments here is cheap and the same on SQLite
    and PostgreSQL."""
    stmt = select(Outbox.args).where(
        Outbox.job == CHECK_JOB, Outbox.done_at.is_(None), Outbox.run_at > after, Outbox.run_at <= until
    )
    return any(args.get("case_id") == case_id for args in session.scalars(stmt))
