"""Monthly figures for monev: what a site's hotline did with the cases of one month.

The month is the site's own calendar month (a case submitted at 23:30 WITA on 31 October is an
October case). Every figure is about that month's cases, the cohort submitted in it: their
category, area, urgency and current status, how long they waited to be accepted, whether they
are closed, where they were referred, and the offers nobody answered. Counts are grouped in SQL;
only the acceptance times (one column) come back to Python for the median and 90th percentile.
Works on SQLite and PostgreSQL, and on purged cases too: nothing here reads personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from storage import casestate, monev, sitetime
from storage.models import Area, Assignment, Case, CaseEvent, Site

STATUSES = casestate.STATES
UNKNOWN_AREA = "-"


class UnknownSite(LookupError):
    """No site has this prefix."""


@dataclass(frozen=True)
class Figures:
    site: str  # prefix, e.g. "PRE"
    site_name: str
    timezone: str
    month: date  # the first day of the month, in the site's calendar
    total: int
    by_category: dict[str, int]  # category code -> cases, most first
    by_area: dict[str, int]  # area name ("-" when unknown) -> cases, most first
    by_urgency: dict[str, int]  # {"urgent": n, "normal": n}
    by_status: dict[str, int]  # status -> cases, in the order of STATUSES
    accepted: int  # cases with an acceptance time
    acceptance_median_minutes: float | None  # submission to acceptance; None without data
    acceptance_p90_minutes: float | None
    closed: int
    share_closed: float  # closed / total, 0..1 (0 when there are no cases)
    referrals: dict[str, int]  # institution -> cases referred there, most first
    offers: int  # offers made to members for these cases
    offers_expired: int  # offers nobody answered by the deadline
    cases_unanswered: int  # cases where everyone asked let the offer lapse or declined
    # who was helped, checks, referral outcomes, step times, overdue follow-ups (storage.monev)
    monev: monev.Monev = field(default_factory=monev.Monev)

    @property
    def month_key(self) -> str:
        return f"{self.month:%Y-%m}"


class minutes_between(FunctionElement[float]):
    """`end - start` in minutes, as a float, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between, "sqlite")
def _minutes_sqlite(element: minutes_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 1440.0)"


@compiles(minutes_between, "postgresql")
def _minutes_postgresql(element: minutes_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 60.0)"


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _most_first(rows: Any) -> dict[str, int]:
    return dict(sorted(((str(k), int(n)) for k, n in rows), key=lambda kv: (-kv[1], kv[0])))


def monthly(
    session: Session,
    site_prefix: str,
    month: date,
    *,
    practice: bool = False,
    now: datetime | None = None,
    follow_up_days: Mapping[str, int] | None = None,
) -> Figures:
    """The figures of the cases a site received in `month` (any day of it); UnknownSite if no
    site has this prefix. Practice cases (role-play) count only when `practice` is asked.
    Follow-ups are overdue as of `now` (default: the current time) after `follow_up_days`, the
    reminders' configured days (storage.followup.parse_days; default: its defaults)."""
    site = session.scalars(select(Site).where(Site.prefix == site_prefix.upper())).one_or_none()
    if site is None:
        raise UnknownSite(site_prefix)
    month = month.replace(day=1)
    start, end = sitetime.month_bounds(month, site.timezone)
    in_month = and_(Case.site_id == site.id, Case.created_at >= start, Case.created_at < end)
    if not practice:
        in_month = and_(in_month, Case.practice.is_(False))
    cohort = select(Case.id).where(in_month)
    by_status = _by_status(session, in_month)
    total = sum(by_status.values())
    waits = _acceptance_minutes(session, in_month)
    offers = _offers_by_status(session, cohort)
    closed = by_status.get("closed", 0)
    return Figures(
        site=site.prefix,
        site_name=site.name,
        timezone=site.timezone,
        month=month,
        total=total,
        by_category=_most_first(_grouped(session, in_month, Case.category)),
        by_area=_by_area(session, in_month),
        by_urgency=_by_urgency(session, in_month),
        by_status=by_status,
        accepted=len(waits),
        acceptance_median_minutes=_round(percentile(waits, 0.5)),
        acceptance_p90_minutes=_round(percentile(waits, 0.9)),
        closed=closed,
        share_closed=closed / total if total else 0.0,
        referrals=_referrals(session, cohort),
        offers=sum(offers.values()),
        offers_expired=offers.get("expired", 0),
        cases_unanswered=_unanswered(session, cohort),
        monev=monev.compute(session, in_month, now, follow_up_days),
    )


def _grouped(session: Session, in_month: ColumnElement[bool], column: Any, *joins: Any) -> list[Any]:
    """(value of column, cases) for the month's cases; joins are (target, on) outer joins."""
    stmt = select(column, func.count(Case.id)).select_from(Case)
    for target, on in joins:
        stmt = stmt.outerjoin(target, on)
    return list(session.execute(stmt.where(in_month).group_by(column)))


def _by_area(session: Session, in_month: ColumnElement[bool]) -> dict[str, int]:
    # Outer join: a case whose area was never recognised still counts, under UNKNOWN_AREA.
    rows = _grouped(session, in_month, Area.name, (Area, Area.id == Case.area_id))
    return _most_first((name if name is not None else UNKNOWN_AREA, n) for name, n in rows)


def _by_urgency(session: Session, in_month: ColumnElement[bool]) -> dict[str, int]:
    urgency = {bool(urgent): n for urgent, n in _grouped(session, in_month, Case.urgent)}
    return {"urgent": urgency.get(True, 0), "normal": urgency.get(False, 0)}


def _by_status(session: Session, in_month: ColumnElement[bool]) -> dict[str, int]:
    # Known statuses in their workflow order, then any other (a newer status) most first.
    statuses = dict(_grouped(session, in_month, Case.status))
    return {s: statuses.pop(s) for s in STATUSES if s in statuses} | _most_first(statuses.items())


def _acceptance_minutes(session: Session, in_month: ColumnElement[bool]) -> list[float]:
    """Minutes from submission to acceptance of each accepted case: the one column that comes
    back to Python, since percentiles are not portable SQL."""
    stmt = select(minutes_between(Case.created_at, Case.accepted_at)).where(
        in_month, Case.accepted_at.is_not(None)
    )
    return [float(m) for m in session.scalars(stmt)]


def _referrals(session: Session, cohort: Select[Any]) -> dict[str, int]:
    """Institution -> cases referred there; a case referred twice to one place counts once."""
    institution = CaseEvent.data["to"].as_string()
    rows = session.execute(
        select(institution, func.count(CaseEvent.case_id.distinct()))
        .where(CaseEvent.kind == "referred", CaseEvent.case_id.in_(cohort))
        .group_by(institution)
    )
    return _most_first((to, n) for to, n in rows if to)


def _offers_by_status(session: Session, cohort: Select[Any]) -> dict[str, int]:
    """Offers made for the month's cases, by their status (expired: nobody answered in time)."""
    return dict(
        session.execute(
            select(Assignment.status, func.count(Assignment.id))
            .where(Assignment.case_id.in_(cohort))
            .group_by(Assignment.status)
        ).all()
    )


def _unanswered(session: Session, cohort: Select[Any]) -> int:
    count = session.scalar(
        select(func.count(CaseEvent.case_id.distinct())).where(
            CaseEvent.kind == "unanswered", CaseEvent.case_id.in_(cohort)
        )
    )
    return count or 0


def _round(value: float | None) -> float | None:
    # SQLite's julianday arithmetic is exact to well under a second; keep 0.01 minute.
    return None if value is None else round(value, 2)
