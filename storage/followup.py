"""What the follow-up reminders read: a case's latest news, the reminders and alerts sent since,
and whether a check is already waiting for the case (one chain of checks per case); and the days
of quiet they allow, from HOTLINE_FOLLOW_UP_DAYS, which the monev figures count by too."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.casestate import HELD
from storage.models import Case, CaseEvent, Outbox

CHECK_JOB = "follow_up_check"
REMINDED = "follow_up_reminder"  # the holder was reminded
ALERTED = "follow_up_alert"  # the koordinator(s) were told the reminder went unanswered
KINDS = (REMINDED, ALERTED)  # not news: a reminder does not restart the count

CONFIG_KEY = "HOTLINE_FOLLOW_UP_DAYS"
DEFAULT_DAYS: Mapping[str, int] = MappingProxyType({"urgent": 1, "default": 7})


def parse_days(value: Any, categories: Collection[str]) -> dict[str, int]:
    """The days per rule ("urgent", "default" or one of `categories`), over the defaults, from
    the text "urgent=1,default=7,kekerasan=3" or a mapping. A mistake raises ValueError saying
    what."""
    if value is None or value == "":
        return dict(DEFAULT_DAYS)
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        pairs = []
        for part in filter(None, (p.strip() for p in str(value).split(","))):
            name, equals, days = part.partition("=")
            if not equals:
                raise ValueError(f"{CONFIG_KEY}: {part!r} is not name=days (e.g. urgent=1,default=7)")
            pairs.append((name.strip(), days.strip()))
    days_of = dict(DEFAULT_DAYS)
    names = ("urgent", "default", *categories)
    for name, days in pairs:
        if name not in names:
            raise ValueError(f"{CONFIG_KEY}: {name!r} is not one of {', '.join(names)}")
        text = str(days).strip()
        if not (text.isascii() and text.isdigit() and int(text) >= 1):
            raise ValueError(f"{CONFIG_KEY}: {name}={days!r} must be a whole number of days, 1 or more")
        days_of[name] = int(text)
    return days_of


def days_for(days_of: Mapping[str, int], category: str, urgent: bool) -> int:
    """A case's days of quiet: its category's own number or the default, and for an urgent case
    the smaller of that and the urgent number."""
    days = days_of.get(category, days_of["default"])
    return min(days, days_of["urgent"]) if urgent else days


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


def held_without_checks(session: Session) -> list[Case]:
    """Held cases no follow-up check is waiting for: accepted before the reminders existed (or
    whose chain was lost). Pending checks are about one per held case: read in Python."""
    waiting = {args.get("case_id") for args in session.scalars(
        select(Outbox.args).where(Outbox.job == CHECK_JOB, Outbox.done_at.is_(None))
    )}  # fmt: skip
    held = session.scalars(
        select(Case).where(Case.status.in_(HELD), Case.member_id.is_not(None)).order_by(Case.id)
    )
    return [case for case in held if case.id not in waiting]
