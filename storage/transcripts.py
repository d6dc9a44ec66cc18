"""The queries behind transcript exports: the selected cases and every message of them, streamed.

Both queries order by case id (the order cases came in), messages then by time, so a writer can
walk the two side by side. Rows come in batches (`yield_per`: server-side cursors on PostgreSQL,
a stepped cursor on SQLite): a year of messages never sits in memory at once. Core selects, no ORM
objects: a million messages are a million plain tuples. Run them inside
`snapshot(db)`: a read-only transaction that sees one consistent state and does not hold up the
hotline's writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Engine, and_, create_engine, event, func, null, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from storage import sitetime
from storage.assignments import read_code
from storage.casestate import STATES
from storage.db import Database
from storage.models import Area, Case, CaseEvent, Contact, Member, Message, Site

BATCH = 2000  # rows per fetch from the server-side cursor: about 2 MB of them
STATUSES = STATES  # for the export filters


def _words(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


@dataclass(frozen=True)
class Filters:
    """Which cases to export. Empty means no restriction; several values of one field mean any.

    `start`/`end` (inclusive) are days in each case's own site time zone, applied to the case's
    created_at. `codes` are full codes (`PRE-7K3QX`) or without the prefix (`7k3qx`), any case.
    Values are normalised on creation; a code that cannot be a case code raises ValueError."""

    start: date | None = None
    end: date | None = None
    sites: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    practice: bool = False  # include practice cases (role-play), left out by default

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the range starts after it ends ({self.start} > {self.end})")
        codes = []
        for raw in _words(self.codes):
            read = read_code(raw)
            if read is None:
                raise ValueError(f"not a case code: {raw!r}")
            prefix, code = read
            codes.append(f"{prefix}-{code}" if prefix else code)
        set_ = object.__setattr__
        set_(self, "sites", tuple(s.upper() for s in _words(self.sites)))
        set_(self, "areas", _words(self.areas))
        set_(self, "categories", tuple(c.lower() for c in _words(self.categories)))
        set_(self, "statuses", tuple(s.lower() for s in _words(self.statuses)))
        set_(self, "codes", tuple(dict.fromkeys(codes)))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the audit log: only what was set."""
        out: dict[str, Any] = {}
        if self.start:
            out["from"] = self.start.isoformat()
        if self.end:
            out["to"] = self.end.isoformat()
        for name in ("sites", "areas", "categories", "statuses", "codes"):
            if value := getattr(self, name):
                out[name] = list(value)
        if self.practice:
            out["practice"] = True
        return out


class CaseRow(NamedTuple):
    id: int
    code: str
    site: str  # prefix
    timezone: str
    area: str | None
    category: str
    urgent: bool
    status: str
    created_at: datetime
    accepted_at: datetime | None
    closed_at: datetime | None
    holder: str | None  # the member holding the case
    contact_id: int | None
    phone: str | None  # only when asked for contacts
    names: tuple[str, ...]  # the resident's name and WhatsApp profile name, if known
    referrals: tuple[str, ...]  # institutions, in the order of the referrals
    came_by: str  # the case's channel: whatsapp | sms (the resident wrote) | posko | telepon | console
    taken_by: str | None  # who heard the resident agree aloud ("user:koord", "member:Ani"), else None


class MessageRow(NamedTuple):
    id: int
    case_id: int
    case_code: str
    timezone: str
    created_at: datetime
    direction: str  # in | out
    party: str  # who wrote it: resident | bot | member
    channel: str
    body: str
    num_media: int
    member: str | None  # the member's name: the author (party member), else the recipient
    to_resident: bool  # an outbound message addressed to the resident (else to the member)
    contact_id: int | None  # the case's resident
    phone: str | None  # only when asked for contacts
    names: tuple[str, ...]


# --------------------------------------------------------------------------- reading


@contextmanager
def snapshot(db: Database) -> Iterator[Session]:
    """A read-only transaction over one consistent state of the database, for as long as an
    export takes (a slow download included) without holding up the webhook.

    PostgreSQL: REPEATABLE READ, READ ONLY. SQLite: the hotline's own engine starts every
    transaction with BEGIN IMMEDIATE (the write lock), so reads go through a second engine whose
    transactions are plain deferred BEGINs: a WAL snapshot that writers do not wait for."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        reader = _sqlite_reader(engine.url.render_as_string(hide_password=False))
        if reader is None:  # in-memory database: only the hotline's engine sees it
            with db.session() as session:
                yield session
            return
        engine = reader
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with Session(bind=conn) as session:
            try:
                yield session
            finally:
                session.rollback()


@lru_cache(maxsize=16)
def _sqlite_reader(url: str) -> Engine | None:
    if url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url:
        return None
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False},
        poolclass=NullPool,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # we say BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA query_only=ON")  # an export never writes
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no write lock

    return engine


# --------------------------------------------------------------------------- queries


def _scope(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    """WHERE clauses selecting the cases; the statement joins Case, Site and (outer) Area."""
    where: list[ColumnElement[bool]] = []
    if not filters.practice:
        where.append(Case.practice.is_(False))
    if filters.sites:
        where.append(Site.prefix.in_(filters.sites))
    if filters.areas:
        where.append(func.lower(Area.name).in_([a.lower() for a in filters.areas]))
    if filters.categories:
        where.append(Case.category.in_(filters.categories))
    if filters.statuses:
        where.append(Case.status.in_(filters.statuses))
    if filters.codes:
        full = [c for c in filters.codes if "-" in c]
        short = [c for c in filters.codes if "-" not in c]
        where.append(or_(Case.code.in_(full), *(Case.code.like(f"%-{c}") for c in short)))
    if filters.start or filters.end:
        sites = select(Site.id, Site.timezone)
        if filters.sites:
            sites = sites.where(Site.prefix.in_(filters.sites))
        zones = [(site_id, tz) for site_id, tz in session.execute(sites)]
        where.append(sitetime.within_days(Case.site_id, Case.created_at, zones, filters.start, filters.end))
    return where


def _names(*names: str | None) -> tuple[str, ...]:
    """The resident's names as they may appear in texts: this report's answer, the contact's
    latest name (a later report may have changed it) and the WhatsApp profile name."""
    return tuple(dict.fromkeys(n for n in names if n and n.strip()))


# Every message of a case carries the same names: one tuple for all of them (and one cache entry
# in redaction's pattern cache, which looks them up by this tuple).
_names_of = lru_cache(maxsize=4096)(_names)


def cases(session: Session, filters: Filters, *, contacts: bool = False) -> Iterator[CaseRow]:
    """The selected cases in the order they came in (by id), each with its referral institutions.

    `contacts`: also read the resident's phone number (for an export that may show it)."""
    stmt = (
        select(
            Case.id,
            Case.code,
            Site.prefix,
            Site.timezone,
            Area.name.label("area"),
            Case.category,
            Case.urgent,
            Case.status,
            Case.created_at,
            Case.accepted_at,
            Case.closed_at,
            Member.name.label("holder"),
            Case.contact_id,
            (Contact.phone if contacts else null()).label("phone"),
            Contact.name.label("name"),
            Contact.profile_name,
            Case.answers["name"].as_string().label("answer_name"),
            Case.channel.label("came_by"),
            Case.consent_by.label("taken_by"),
            CaseEvent.data.label("referral"),
        )
        .select_from(Case)
        .join(Site, Site.id == Case.site_id)
        .outerjoin(Area, Area.id == Case.area_id)
        .outerjoin(Member, Member.id == Case.member_id)
        .outerjoin(Contact, Contact.id == Case.contact_id)
        .outerjoin(CaseEvent, and_(CaseEvent.case_id == Case.id, CaseEvent.kind == "referred"))
        .where(*_scope(session, filters))
        .order_by(Case.id, CaseEvent.id)
        .execution_options(yield_per=BATCH)
    )
    rows = session.connection().execute(stmt)
    for _, group in itertools.groupby(rows, key=lambda r: r.id):
        first, *more = group
        referrals = tuple(
            str(r.referral.get("to") or "?") for r in (first, *more) if isinstance(r.referral, dict)
        )
        yield _case_row(first, referrals)


def _case_row(first: Any, referrals: tuple[str, ...]) -> CaseRow:
    """A case's row from the first of its query rows (one per referral)."""
    return CaseRow(
        id=first.id,
        code=first.code,
        site=first.prefix,
        timezone=first.timezone,
        area=first.area,
        category=first.category,
        urgent=bool(first.urgent),
        status=first.status,
        created_at=first.created_at,
        accepted_at=first.accepted_at,
        closed_at=first.closed_at,
        holder=first.holder,
        contact_id=first.contact_id,
        phone=first.phone,
        names=_names(first.answer_name, first.name, first.profile_name),
        referrals=referrals,
        came_by=first.came_by,
        taken_by=first.taken_by,
    )


def messages(session: Session, filters: Filters, *, contacts: bool = False) -> Iterator[MessageRow]:
    """Every message of the selected cases, by case (same order as `cases`) then by time."""
    # Messages to and from members carry no contact: the case's resident is theirs.
    resident = func.coalesce(Message.contact_id, Case.contact_id)
    stmt = (
        select(
            Message.id,
            Message.case_id,
            Case.code,
            Site.timezone,
            Message.created_at,
            Message.direction,
            Message.party,
            Message.channel,
            Message.body,
            Message.num_media,
            Member.name.label("member"),
            Message.contact_id.label("own_contact_id"),
            resident.label("contact_id"),
            (Contact.phone if contacts else null()).label("phone"),
            Contact.name.label("name"),
            Contact.profile_name,
            Case.answers["name"].as_string().label("answer_name"),
        )
        .select_from(Message)
        .join(Case, Case.id == Message.case_id)
        .join(Site, Site.id == Case.site_id)
        .outerjoin(Area, Area.id == Case.area_id)
        .outerjoin(Member, Member.id == Message.member_id)
        .outerjoin(Contact, Contact.id == resident)
        .where(*_scope(session, filters))
        .order_by(Message.case_id, Message.created_at, Message.id)
        .execution_options(yield_per=BATCH)
    )
    # Plain tuples, unpacked, a batch at a time: this loop runs once per message of the export.
    new = tuple.__new__  # a NamedTuple's own constructor is a Python function: slower
    for batch in session.connection().execute(stmt).partitions():
        for row in batch:
            (id_, case_id, code, tz, created_at, direction, party, channel, body, num_media, member,
             own_contact_id, contact_id, phone, name, profile_name, answer_name) = row  # fmt: skip
            yield new(
                MessageRow,
                (
                    id_,
                    case_id,
                    code,
                    tz,
                    created_at,
                    direction,
                    party,
                    channel,
                    body or "",
                    num_media or 0,
                    member,
                    own_contact_id is not None or member is None,
                    contact_id,
                    phone,
                    _names_of(answer_name, name, profile_name),
                ),
            )
