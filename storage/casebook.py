"""The coordinators' view of cases: the filtered, paged list, one case with its transcript and
timeline, and the site's members. Every query takes the sites the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from storage import sitetime
from storage.models import Area, Case, CaseEvent, Member, Message, Site

PER_PAGE = 25


@dataclass(frozen=True)
class CaseQuery:
    site: str | None = None  # prefix
    area: int | None = None
    category: str | None = None
    status: str | None = None
    urgent: bool | None = None
    code: str = ""  # a part of the code
    start: date | None = None
    end: date | None = None
    page: int = 1


def list_cases(session: Session, site_ids: list[int], q: CaseQuery) -> tuple[list[Case], int]:
    """One page of cases, newest first, and how many match in all."""
    stmt = select(Case).where(Case.site_id.in_(site_ids))
    if q.site:
        stmt = stmt.join(Site, Site.id == Case.site_id).where(Site.prefix == q.site)
    if q.area:
        stmt = stmt.where(Case.area_id == q.area)
    if q.category:
        stmt = stmt.where(Case.category == q.category)
    if q.status:
        stmt = stmt.where(Case.status == q.status)
    if q.urgent is not None:
        stmt = stmt.where(Case.urgent.is_(q.urgent))
    if q.code.strip():
        stmt = stmt.where(Case.code.ilike(f"%{q.code.strip()[:16]}%"))
    if q.start or q.end:  # each site's own days: a WIB site's midnight is an hour after WITA's
        sites = session.execute(select(Site.id, Site.timezone).where(Site.id.in_(site_ids)))
        zones = [(site_id, tz) for site_id, tz in sites]
        stmt = stmt.where(sitetime.within_days(Case.site_id, Case.created_at, zones, q.start, q.end))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = (
        stmt.options(joinedload(Case.area), joinedload(Case.site), joinedload(Case.member))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(PER_PAGE)
        .offset((max(q.page, 1) - 1) * PER_PAGE)
    )
    return list(session.scalars(page).unique()), total


def case_by_code(session: Session, code: str, site_ids: list[int]) -> Case | None:
    """The case, only if it belongs to a site the viewer may see (else None, as if unknown)."""
    stmt = (
        select(Case)
        .where(Case.code == code.upper(), Case.site_id.in_(site_ids))
        .options(joinedload(Case.area), joinedload(Case.site), joinedload(Case.member))
    )
    return session.scalars(stmt).first()


def transcript(session: Session, case_id: int) -> list[Message]:
    stmt = select(Message).where(Message.case_id == case_id).order_by(Message.created_at, Message.id)
    return list(session.scalars(stmt))


def timeline(session: Session, case_id: int) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.created_at, CaseEvent.id)
    return list(session.scalars(stmt))


def site_members(session: Session, site_ids: list[int]) -> list[Member]:
    stmt = (
        select(Member)
        .where(Member.site_id.in_(site_ids))
        .options(selectinload(Member.shifts), joinedload(Member.area), joinedload(Member.site))
        .order_by(Member.site_id, Member.area_id, Member.name)
    )
    return list(session.scalars(stmt).unique())


def member_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Member.id, Member.name).where(Member.id.in_(ids)))
    return {member_id: name for member_id, name in rows}


def site_areas(session: Session, site_ids: list[int]) -> list[Area]:
    stmt = select(Area).where(Area.site_id.in_(site_ids), Area.active).order_by(Area.site_id, Area.name)
    return list(session.scalars(stmt))
