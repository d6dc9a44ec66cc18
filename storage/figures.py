"""Monthly figures for monev: what a site's hotline did with the cases of one month.

The month is the site's own calendar month (a case submitted at 23:30 WITA on 31 October is an
October case). Every figure is about that month's cases, the cohort submitted in it: their
category, area, urgency and current status, how long they waited to be accepted, whether they
are closed, where they were referred, and the offers nobody answered. Counts are grouped in SQL;
only the acceptance times (one column) come back to Python for the median and 90th percentile.
Works on SQLite and PostgreSQL, and on purged cases too: nothing here reads personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from storage.models import Area, Assignment, Case, CaseEvent, Site

STATUSES = ("new", "offered", "accepted", "referred", "closed", "cancelled")
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


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    """The month in the site's calendar, as a half-open UTC range [start, end)."""
    zone = ZoneInfo(tz)
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    after = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), after.astimezone(UTC)


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


def monthly(session: Session, site_prefix: str, month: date) -> Figures:
    site = session.scalars(select(Site).where(Site.prefix == site_prefix.upper())).one_or_none()
    if site is None:
        raise UnknownSite(site_prefix)
    month = month.replace(day=1)
    start, end = month_bounds(month, site.timezone)
    in_month = and_(Case.site_id == site.id, Case.created_at >= start, Case.created_at < end)
    cohort = select(Case.id).where(in_month)

    def grouped(column: Any, *joins: Any) -> list[Any]:
        stmt = select(column, func.count(Case.id)).select_from(Case)
        for target, on in joins:
            stmt = stmt.outerjoin(target, on)
        return list(session.execute(stmt.where(in_month).group_by(column)))

    by_category = _most_first(grouped(Case.category))
    by_area = _most_first(
        (name if name is not None else UNKNOWN_AREA, n)
        for name, n in grouped(Area.name, (Area, Area.id == Case.area_id))
    )
    urgency = {bool(urgent): n for urgent, n in grouped(Case.urgent)}
    by_urgency = {"urgent": urgency.get(True, 0), "normal": urgency.get(False, 0)}
    statuses = dict(grouped(Case.status))
    by_status = {s: statuses.pop(s) for s in STATUSES if s in statuses} | _most_first(statuses.items())
    total = sum(by_status.values())

    waits = [
        float(m)
        for m in session.scalars(
            select(minutes_between(Case.created_at, Case.accepted_at)).where(
                in_month, Case.accepted_at.is_not(None)
            )
        )
    ]
    institution = CaseEvent.data["to"].as_string()
    referrals = _most_first(
        (to, n)
        for to, n in session.execute(
            select(institution, func.count(CaseEvent.case_id.distinct()))
            .where(CaseEvent.kind == "referred", CaseEvent.case_id.in_(cohort))
            .group_by(institution)
        )
        if to
    )
    offer_rows = dict(
        session.execute(
            select(Assignment.status, func.count(Assignment.id))
            .where(Assignment.case_id.in_(cohort))
            .group_by(Assignment.status)
        ).all()
    )
    unanswered = session.scalar(
        select(func.count(CaseEvent.case_id.distinct())).where(
            CaseEvent.kind == "unanswered", CaseEvent.case_id.in_(cohort)
        )
    )
    closed = by_status.get("closed", 0)
    return Figures(
        site=site.prefix,
        site_name=site.name,
        timezone=site.timezone,
        month=month,
        total=total,
        by_category=by_category,
        by_area=by_area,
        by_urgency=by_urgency,
        by_status=by_status,
        accepted=len(waits),
        acceptance_median_minutes=_round(percentile(waits, 0.5)),
        acceptance_p90_minutes=_round(percentile(waits, 0.9)),
        closed=closed,
        share_closed=closed / total if total else 0.0,
        referrals=referrals,
        offers=sum(offer_rows.values()),
        offers_expired=offer_rows.get("expired", 0),
        cases_unanswered=unanswered or 0,
    )


def _round(value: float | None) -> float | None:
    # SQLite's julianday arithmetic is exact to well under a second; keep 0.01 minute.
    return None if value is None else round(value, 2)
