"""Typed SQLAlchemy models: the hotline's whole persistent state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops tzinfo on the way back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


# Stable constraint names so Alembic batch migrations on SQLite can find them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(32), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Makassar")
    numbers: Mapped[list[Any]] = mapped_column(default=list)
    practice: Mapped[list[Any]] = mapped_column(default=list)  # residents' numbers used in role-play
    position: Mapped[int] = mapped_column(default=0)  # order in the sites file; 0 is the fallback

    areas: Mapped[list[Area]] = relationship(back_populates="site", order_by="Area.id")


class Generation(Base):
    """A counter moved by every change to what a process caches (see storage.directory)."""

    __tablename__ = "generations"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kecamatan: Mapped[str] = mapped_column(String(120), default="")
    code: Mapped[str | None] = mapped_column(String(32))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    site: Mapped[Site] = relationship(back_populates="areas")


class Contact(Base):
    """A person who texts the hotline. `phone` is NULL once their data is erased."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    profile_name: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    stopped: Mapped[bool] = mapped_column(Boolean, default=False)  # BERHENTI: nothing unsolicited
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    # The word the resident chose in their latest report: texted alone, it is a silent alarm.
    codeword: Mapped[str | None] = mapped_column(String(32))
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None]


class Conversation(Base):
    """Where one contact stands with one site's bot; locked for every step."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("contact_id", "site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(40), default="start")
    state: Mapped[str] = mapped_column(String(60), default="idle")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    locale: Mapped[str] = mapped_column(String(8), default="id")
    run: Mapped[int] = mapped_column(Integer, default=0)  # report attempt; numbers its messages
    turn: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """Every message in or out; the transcript of cases and the dedupe key for Twilio retries."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(3))  # "in" | "out"
    party: Mapped[str] = mapped_column(String(16))  # resident | bot | member
    channel: Mapped[str] = mapped_column(String(16))  # sms | whatsapp | console
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    run: Mapped[int | None]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    media: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="received")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Messages pushed through the transport (not TwiML replies): to whom, and Twilio's answer.
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    address: Mapped[str | None] = mapped_column(String(64))  # "+62..." or "whatsapp:+62..."
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[int | None]
    template: Mapped[str | None] = mapped_column(String(64))  # WhatsApp Content SID, outside 24 h
    sent_at: Mapped[datetime | None]


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    flags: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="new")
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    contact_ok: Mapped[bool] = mapped_column(Boolean, default=False)  # may we message them?
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="id")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)  # who holds it
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Reported from a practice number: out of figures and exports unless asked, purge --practice.
    practice: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Where the report came in: whatsapp | sms (the resident wrote), posko | telepon (a KK member
    # took it for them: WARGA or the console's "Laporan baru"), console (`hotline chat`).
    channel: Mapped[str] = mapped_column(String(16), default="sms", server_default="sms")
    # Who heard the resident agree aloud, for a report taken on their behalf ("member:Ani",
    # "user:koord"); None when the resident agreed themselves by text.
    consent_by: Mapped[str | None] = mapped_column(String(80))

    site: Mapped[Site] = relationship()
    area: Mapped[Area | None] = relationship()
    member: Mapped[Member | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(order_by="CaseEvent.id")


class CaseEvent(Base):
    """The case timeline: submitted, urgent, queued, assigned, notes, referrals, closure."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64), default="bot")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outbox(Base):
    """A job recorded in the same transaction as the change that asks for it."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pushed_at: Mapped[datetime | None] = mapped_column(index=True)
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    # Its case was urgent when the job was added: the urgent lane, for the sweeper's push too.
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class AuditLog(Base):
    """Who did what to personal data: erasures, exports, views."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Member(Base):
    """A KK member who answers cases from their phone. No area means the whole site."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("site_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    role: Mapped[str] = mapped_column(String(16), default="pendamping")  # | ketua | koordinator
    backup: Mapped[bool] = mapped_column(Boolean, default=False)  # asked when nobody is on duty
    channel: Mapped[str] = mapped_column(String(16), default="whatsapp")  # | sms
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_inbound_at: Mapped[datetime | None]  # opens WhatsApp's 24-hour free-text window
    unreachable: Mapped[str | None] = mapped_column(String(32))  # "opted_out" | "bad_number"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site] = relationship()
    area: Mapped[Area | None] = relationship()
    shifts: Mapped[list[Shift]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="Shift.id"
    )


class Shift(Base):
    """A weekly duty window in the site's local time; `end <= start` runs past midnight."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int | None]  # 0 Monday .. 6 Sunday; NULL every day
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)

    member: Mapped[Member] = relationship(back_populates="shifts")


class Assignment(Base):
    """One offer of a case to one member, with its deadline and how it was answered."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))  # duty | backup | coordinator
    status: Mapped[str] = mapped_column(String(16), default="offered")
    # offered -> accepted | declined | expired | withdrawn (someone else took the case)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    # The offer's message: its deadline runs from when Twilio accepted it, not from the offer.
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))

    member: Mapped[Member] = relationship()


class User(Base):
    """A console account (made with `hotline users create`): an admin sees every site and the
    residents' contacts; a coordinator sees their own sites, contacts only when granted."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="coordinator")  # | admin
    sites: Mapped[list[Any]] = mapped_column(default=list)  # site prefixes a coordinator sees
    contacts: Mapped[bool] = mapped_column(Boolean, default=False)  # may see numbers and names
    locale: Mapped[str] = mapped_column(String(8), default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Kept in the session at login and checked on every request: logout, a password change and
    # disabling the account raise it, so every session made before (a copied cookie too) ends.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class LoginAttempt(Base):
    """Failed and successful logins, for rate limiting by name and by address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
