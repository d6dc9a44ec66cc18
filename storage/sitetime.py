"""Site-local time. Each site keeps its own zone (WIB, WITA or WIT in sites.toml): its days,
months, "today" and every time shown to a person are the site's, never the server's (UTC)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, false, or_


@lru_cache(maxsize=64)
def zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local(moment: datetime, tz: str) -> datetime:
    """`moment` (aware, any zone) on the site's clock."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware one (the server runs in UTC)")
    return moment.astimezone(zone(tz))


def today(now: datetime, tz: str) -> date:
    return local(now, tz).date()


def day_start(day: date, tz: str) -> datetime:
    """The instant the site's `day` begins (midnight there)."""
    return datetime.combine(day, time.min, zone(tz))


def next_within(moment: datetime, tz: str, start: int, end: int) -> datetime | None:
    """None when `moment` falls within the site-local hours [start, end), else the next time
    they begin (later today, or tomorrow)."""
    here = local(moment, tz)
    if start <= here.hour < end:
        return None
    day = here.date() if here.hour < start else here.date() + timedelta(days=1)
    return day_start(day, tz) + timedelta(hours=start)


def month_bounds(month: date, tz: str) -> tuple[datetime, datetime]:
    """The month in the site's calendar, as a half-open UTC range [start, end)."""
    start = datetime(month.year, month.month, 1, tzinfo=zone(tz))
    after = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=zone(tz))
    return start.astimezone(UTC), after.astimezone(UTC)


def within_days(
    site_column: ColumnElement[int],
    time_column: ColumnElement[datetime],
    sites: Iterable[tuple[int, str]],
    start: date | None,
    end: date | None,
) -> ColumnElement[bool]:
    """Rows whose time falls on the site's days `start` to `end` (both included), each site by its
    own midnight: one condition per (site id, zone)."""
    per_site = []
    for site_id, tz in sites:
        bounds = [site_column == site_id]
        if start:
            bounds.append(time_column >= day_start(start, tz))
        if end:
            bounds.append(time_column < day_start(end + timedelta(days=1), tz))
        per_site.append(and_(*bounds))
    return or_(*per_site) if per_site else false()
