"""Sites and areas in the database, loaded from a sites file (see sites.toml)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sitefiles.sites import SiteSpec
from storage.models import Area, Site


def load_sites(session: Session, specs: list[SiteSpec]) -> dict[str, int]:
    """Insert or update every site and area of the file. Areas missing from the file are
    deactivated, not deleted: old cases still point at them."""
    counts = {"sites": 0, "areas": 0, "deactivated": 0}
    for position, spec in enumerate(specs):
        site = session.scalars(select(Site).where(Site.prefix == spec.prefix)).first()
        if site is None:
            site = Site(prefix=spec.prefix)
            session.add(site)
        site.name, site.region_code, site.timezone = spec.name, spec.region_code, spec.timezone
        site.numbers, site.position = list(spec.numbers), position
        site.practice = list(spec.practice)
        session.flush()
        existing = {
            a.name.casefold(): a for a in session.scalars(select(Area).where(Area.site_id == site.id))
        }
        seen = set()
        for a in spec.areas:
            area = existing.get(a.name.casefold())
            if area is None:
                area = Area(site_id=site.id, name=a.name)
                session.add(area)
            area.kecamatan, area.code, area.aliases, area.active = (
                a.kecamatan,
                a.code,
                list(a.aliases),
                True,
            )
            seen.add(a.name.casefold())
            counts["areas"] += 1
        for key, area in existing.items():
            if key not in seen and area.active:
                area.active = False
                counts["deactivated"] += 1
        counts["sites"] += 1
    return counts


def has_sites(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Site.id))))


def all_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.position, Site.id)))


def prefixes(session: Session) -> list[str]:
    """Every site's prefix, in the order of the sites file."""
    return list(session.scalars(select(Site.prefix).order_by(Site.position, Site.id)))
