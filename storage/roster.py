"""KK members and their duty shifts in the database: loading, who is on duty, who to ask next.

Shifts are weekly windows in the site's local time (Site.timezone); the server runs in UTC, so
every question about "now" converts an aware datetime to the site's zone first. Functions take
the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from sitefiles.members import MemberSpec
from sitefiles.sites import WHATSAPP, fold_name, normalise_number
from storage import sitetime
from storage.models import Area, Member, Shift, Site

ROLE_ORDER = {"koordinator": 0, "ketua": 1, "pendamping": 2}


# --------------------------------------------------------------------------- time


def covers(weekday: int | None, start: int, end: int, local: datetime) -> bool:
    """Whether a shift covers the local time `local`. Start inclusive, end exclusive.

    `end <= start` runs past midnight: the part after midnight belongs to the weekday the shift
    started on, so "Min 20:00-08:00" covers Monday 07:59. start == end is a full 24 hours.
    """
    minute = local.hour * 60 + local.minute
    today = local.weekday()
    if end > start:
        return weekday in (None, today) and start <= minute < end
    started_today = weekday in (None, today) and minute >= start
    started_yesterday = weekday in (None, (today - 1) % 7) and minute < end
    return started_today or started_yesterday


def site_time(site: Site, at: datetime) -> datetime:
    """`at` (aware, any zone) as the site's local time."""
    return sitetime.local(at, site.timezone)


def is_on_duty(member: Member, local: datetime) -> bool:
    """Active and one of their shifts covers `local` (the site's local time). No shifts: never."""
    return member.active and any(
        covers(s.weekday, s.start_minute, s.end_minute, local) for s in member.shifts
    )


# --------------------------------------------------------------------------- loading


def known_sites(session: Session) -> dict[str, list[tuple[str, list[str]]]]:
    """Prefix -> active areas as (name, aliases): what read_members checks a file against."""
    sites = session.scalars(select(Site).options(selectinload(Site.areas)).order_by(Site.position, Site.id))
    return {s.prefix: [(a.name, list(a.aliases)) for a in s.areas if a.active] for s in sites}


def load_members(session: Session, specs: Iterable[MemberSpec]) -> dict[str, int]:
    """Insert or update every member of the file by (site, phone) and replace their shifts.

    Members of a site in the file who are no longer listed are deactivated, not deleted: cases
    and assignments point at them. Sites with no member in the file are left as they are.
    """
    counts = {"members": 0, "added": 0, "shifts": 0, "deactivated": 0}
    by_site: dict[str, list[MemberSpec]] = {}
    for spec in specs:
        by_site.setdefault(spec.site, []).append(spec)
    for prefix, group in by_site.items():
        site = session.scalars(select(Site).where(Site.prefix == prefix)).one_or_none()
        if site is None:
            raise LookupError(f"site {prefix} is not in the database: load the sites file first")
        _load_site(session, site, group, counts)
    session.flush()
    return counts


def _load_site(session: Session, site: Site, specs: list[MemberSpec], counts: dict[str, int]) -> None:
    areas = {a.name.casefold(): a for a in session.scalars(select(Area).where(Area.site_id == site.id))}
    existing = {
        m.phone: m
        for m in session.scalars(
            select(Member).where(Member.site_id == site.id).options(selectinload(Member.shifts))
        )
    }
    for spec in specs:
        member = existing.get(spec.phone)
        if member is None:
            member = existing[spec.phone] = Member(site_id=site.id, phone=spec.phone)
            session.add(member)
            counts["added"] += 1
        area = None
        if spec.area is not None:
            area = areas.get(spec.area.casefold())
            if area is None:
                raise LookupError(f"area {spec.area} of site {site.prefix} is not in the database")
        member.area_id = area.id if area else None
        member.name, member.role, member.backup = spec.name, spec.role, spec.backup
        member.channel, member.active = spec.channel, spec.active
        member.unreachable = None  # the coordinator vouches for the number again
        member.shifts = [
            Shift(weekday=s.weekday, start_minute=s.start_minute, end_minute=s.end_minute)
            for s in spec.shifts
        ]
        counts["members"] += 1
        counts["shifts"] += len(spec.shifts)
    listed = {spec.phone for spec in specs}
    for phone, member in existing.items():
        if phone not in listed and member.active:
            member.active = False
            counts["deactivated"] += 1


# --------------------------------------------------------------------------- who to ask


def _members(site_id: int) -> Select[tuple[Member]]:
    """Active members of a site with their shifts, in file order."""
    return (
        select(Member)
        .where(Member.site_id == site_id, Member.active)
        .options(selectinload(Member.shifts))
        .order_by(Member.id)
    )


def on_duty(session: Session, site: Site | int, at: datetime, area_id: int | None = None) -> list[Member]:
    """Active members whose shift covers `at` in the site's time zone: of one area, or of the
    whole site (every area and the site-wide members) when area_id is None."""
    if isinstance(site, int):
        site = session.get_one(Site, site)
    stmt = _members(site.id)
    if area_id is not None:
        stmt = stmt.where(Member.area_id == area_id)
    local = site_time(site, at)
    return [m for m in session.scalars(stmt) if is_on_duty(m, local)]


def backups(session: Session, site_id: int, area_id: int | None, at: datetime | None = None) -> list[Member]:
    """Active backup members of the area (of the whole site when area_id is None), those on
    duty at `at` (default now) first. Backups without shifts are still listed."""
    stmt = _members(site_id).where(Member.backup)
    if area_id is not None:
        stmt = stmt.where(Member.area_id == area_id)
    members = list(session.scalars(stmt))
    local = site_time(session.get_one(Site, site_id), at or datetime.now(UTC))
    return sorted(members, key=lambda m: not is_on_duty(m, local))  # stable: file order otherwise


def coordinators(session: Session, site_id: int) -> list[Member]:
    """Active koordinator members of the site, whole-site ones before those with an area."""
    stmt = _members(site_id).where(Member.role == "koordinator")
    return list(session.scalars(stmt.order_by(None).order_by(Member.area_id.is_not(None), Member.id)))


def member_for_number(session: Session, site_id: int, phone: str) -> Member | None:
    """The active member of the site texting from `phone` (E.164, 'whatsapp:' prefix allowed)."""
    # Runs for every inbound message: one indexed lookup, no shifts loaded.
    stmt = select(Member).where(
        Member.site_id == site_id, Member.phone == phone.removeprefix(WHATSAPP), Member.active
    )
    return session.scalars(stmt).one_or_none()


# --------------------------------------------------------------------------- operators


def list_members(session: Session, site_prefix: str | None = None, area: str | None = None) -> list[Member]:
    """Every member, active or not, by site, then whole-site members, area, role and name.
    `area` matches an area's name or alias ignoring capitals and spaces."""
    stmt = (
        select(Member)
        .join(Site, Member.site_id == Site.id)
        .options(selectinload(Member.shifts), selectinload(Member.site), selectinload(Member.area))
    )
    if site_prefix is not None:
        stmt = stmt.where(Site.prefix == site_prefix.upper())
    if area is not None:
        stmt = stmt.where(Member.area_id.in_(_area_ids(session, site_prefix, area)))
    members = list(session.scalars(stmt))
    return sorted(
        members,
        key=lambda m: (
            m.site.position,
            m.site_id,
            m.area is not None,
            m.area.name if m.area else "",
            ROLE_ORDER.get(m.role, 9),
            m.name,
        ),
    )


def _area_ids(session: Session, site_prefix: str | None, name: str) -> list[int]:
    stmt = select(Area).join(Site, Area.site_id == Site.id)
    if site_prefix is not None:
        stmt = stmt.where(Site.prefix == site_prefix.upper())
    wanted = fold_name(name)
    return [a.id for a in session.scalars(stmt) if wanted in {fold_name(t) for t in (a.name, *a.aliases)}]


def set_active(session: Session, phone: str, active: bool, site_prefix: str | None = None) -> int:
    """Enable or disable the member(s) with this number (any format; in one site or all).
    Returns how many members have the number. Raises ValueError for a number that is not one."""
    number = normalise_number(phone).removeprefix(WHATSAPP)
    stmt = select(Member).where(Member.phone == number)
    if site_prefix is not None:
        stmt = stmt.join(Site, Member.site_id == Site.id).where(Site.prefix == site_prefix.upper())
    members = list(session.scalars(stmt))
    for member in members:
        member.active = active
        if active:
            member.unreachable = None
    return len(members)


# --------------------------------------------------------------------------- the mechanism document


@dataclass(frozen=True)
class RosterArea:
    name: str
    kecamatan: str


@dataclass(frozen=True)
class RosterMember:
    """A member as a printed document shows them: a name, never a phone number."""

    name: str
    role: str
    area: str | None  # None: the whole site
    backup: bool
    shifts: tuple[tuple[int | None, int, int], ...]  # (weekday, start minute, end minute)


@dataclass(frozen=True)
class SiteRoster:
    prefix: str
    name: str
    timezone: str
    numbers: tuple[str, ...]  # the hotline's own numbers, which residents text
    areas: tuple[RosterArea, ...]  # active, in the sites file's order
    members: tuple[RosterMember, ...]  # active, of the whole site or an active area


def site_roster(session: Session, site_prefix: str) -> SiteRoster | None:
    """The site's active areas and active members with their shifts, as plain values (for
    `hotline mechanism`); None for a prefix no site has. Phone numbers stay out of it."""
    site = session.scalars(
        select(Site).where(Site.prefix == site_prefix.strip().upper()).options(selectinload(Site.areas))
    ).one_or_none()
    if site is None:
        return None
    areas = [a for a in site.areas if a.active]
    active_ids = {a.id for a in areas}
    members = [
        RosterMember(
            m.name,
            m.role,
            m.area.name if m.area else None,
            m.backup,
            tuple((s.weekday, s.start_minute, s.end_minute) for s in m.shifts),
        )
        for m in list_members(session, site.prefix)
        if m.active and (m.area_id is None or m.area_id in active_ids)
    ]
    return SiteRoster(
        site.prefix,
        site.name,
        site.timezone,
        tuple(str(n) for n in site.numbers),
        tuple(RosterArea(a.name, a.kecamatan) for a in areas),
        tuple(members),
    )
