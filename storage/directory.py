"""What every inbound message looks up but only `sites load`, `members load` and the console
change: the sites and the numbers they claim, each site's active places, the numbers of active
members. Read once per process and read again when it changes.

A change to a site, an area or a member's number, site or activity bumps one generation row in
the same transaction (a flush hook, so no writer can forget it). A process reads that row at most
once every REFRESH_SECONDS, and at once after a commit of its own that bumped it: another process's
`members load` is seen within a second, and this process's own change before its next message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from sitefiles.sites import WHATSAPP
from storage.models import Area, Generation, Member, Site

REFRESH_SECONDS = 1.0
NAME = "directory"
MEMBER_KEYS = ("phone", "active", "site_id")  # what member_id_for reads; not last_inbound_at
_BUMP = text(  # an upsert: a lost row (a truncated table) comes back instead of freezing the cache
    f"INSERT INTO generations (name, value) VALUES ('{NAME}', 1)"
    " ON CONFLICT (name) DO UPDATE SET value = generations.value + 1"
)
# Commits in this process that bumped a database's generation, by URL: another Database object
# on the same database (a CLI command run in-process, a test) sees them without waiting.
_LOCAL: dict[str, int] = {}
_LOCAL_LOCK = threading.Lock()


def _bumped_here(url: str) -> None:
    with _LOCAL_LOCK:
        _LOCAL[url] = _LOCAL.get(url, 0) + 1


@dataclass(frozen=True)
class PlaceRow:
    id: int
    name: str
    kecamatan: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Snapshot:
    generation: int
    sites: tuple[Site, ...] = ()  # detached, in the sites file's order; merge before writing
    places: dict[int, tuple[PlaceRow, ...]] = field(default_factory=dict)
    members: dict[int, dict[str, int]] = field(default_factory=dict)  # site -> phone -> member id
    # Each site's numbers (SMS and WhatsApp alike), the first site in the file claiming one.
    _by_number: dict[str, Site] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        claims = {n.removeprefix(WHATSAPP): site for site in reversed(self.sites) for n in site.numbers}
        object.__setattr__(self, "_by_number", claims)

    def site_for_number(self, to: str) -> Site | None:
        """The site that claims the number texted; a number nobody claims goes to the first."""
        found = self._by_number.get(to.removeprefix(WHATSAPP))
        return found if found is not None else (self.sites[0] if self.sites else None)

    def member_id_for(self, site_id: int, phone: str) -> int | None:
        return self.members.get(site_id, {}).get(phone.removeprefix(WHATSAPP))


class Directory:
    def __init__(self, url: str, sessions: sessionmaker[Session]) -> None:
        self._url, self._sessions = url, sessions
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._local = -1
        self._lock = threading.Lock()
        watch(sessions, lambda: _bumped_here(url))

    def current(self) -> Snapshot:
        """The snapshot, read again if its generation moved. Call it outside any transaction of
        this process (SQLite: a second writer would wait for the first)."""
        now = time.monotonic()
        local = _LOCAL.get(self._url, 0)
        snapshot = self._snapshot
        if snapshot is not None and local == self._local and now - self._checked < REFRESH_SECONDS:
            return snapshot
        # One thread looks; the others go on with what there is (not queue behind a database
        # that may be away, each waiting for its own connect timeout).
        if not self._lock.acquire(blocking=snapshot is None):
            return snapshot  # type: ignore[return-value]
        try:
            self._checked = now  # a database away is asked again in a second, not by every message
            with self._sessions() as session, session.begin():
                generation = session.scalar(select(Generation.value).where(Generation.name == NAME)) or 0
                if self._snapshot is None or self._snapshot.generation != generation or local != self._local:
                    self._snapshot = _read(session, generation)
            self._local = local
            return self._snapshot
        finally:
            self._lock.release()


def _read(session: Session, generation: int) -> Snapshot:
    sites = tuple(session.scalars(select(Site).order_by(Site.position, Site.id)))
    places: dict[int, list[PlaceRow]] = {}
    for a in session.scalars(select(Area).where(Area.active).order_by(Area.id)):
        places.setdefault(a.site_id, []).append(PlaceRow(a.id, a.name, a.kecamatan, tuple(a.aliases)))
    members: dict[int, dict[str, int]] = {}
    for site_id, phone, member_id in session.execute(
        select(Member.site_id, Member.phone, Member.id).where(Member.active)
    ):
        members.setdefault(site_id, {})[phone] = member_id
    session.expunge_all()
    return Snapshot(generation, sites, {k: tuple(v) for k, v in places.items()}, members)


def watch(sessions: sessionmaker[Session], committed: Callable[[], None]) -> None:
    """Bump the generation in any flush that changes what the directory holds; tell
    `committed` once such a transaction commits."""

    @event.listens_for(sessions, "before_flush")
    def _bump(session: Session, _context, _instances) -> None:  # type: ignore[no-untyped-def]
        if session.info.get("directory_bumped") or not _changes(session):
            return
        session.connection().execute(_BUMP)  # the connection: no autoflush inside a flush
        session.info["directory_bumped"] = True

    @event.listens_for(sessions, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop("directory_bumped", False):
            committed()

    @event.listens_for(sessions, "after_rollback")
    def _rolled_back(session: Session) -> None:
        session.info.pop("directory_bumped", None)


def _changes(session: Session) -> bool:
    mine = (Site, Area, Member)
    if any(isinstance(o, mine) for o in (*session.new, *session.deleted)):
        return True
    for obj in session.dirty:
        if isinstance(obj, Site | Area):
            return True
        if isinstance(obj, Member) and any(inspect(obj).attrs[k].history.has_changes() for k in MEMBER_KEYS):
            return True
    return False
