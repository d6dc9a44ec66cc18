"""The queries behind one inbound message: sites, contacts, the locked conversation, messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Area, Contact, Conversation, Message, Site
from storage.outbox import add_job


def insert_ignore(session: Session, model: type, values: dict[str, Any], keys: list[str]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if it existed."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=keys).returning(model.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def bare_number(number: str) -> str:
    return number.removeprefix("whatsapp:")


def site_for_number(session: Session, to: str) -> Site | None:
    """The site that claims the number texted; a number nobody claims goes to the first site."""
    sites = session.scalars(select(Site).order_by(Site.position, Site.id)).all()
    for site in sites:
        if bare_number(to) in {bare_number(n) for n in site.numbers}:
            return site
    return sites[0] if sites else None


def site_places(session: Session, site_id: int) -> list[Area]:
    return list(session.scalars(select(Area).where(Area.site_id == site_id, Area.active).order_by(Area.id)))


def contact_for(session: Session, phone: str, now: datetime) -> Contact:
    insert_ignore(session, Contact, {"phone": phone, "created_at": now}, ["phone"])
    return session.scalars(select(Contact).where(Contact.phone == phone)).one()


def lock_conversation(session: Session, contact_id: int, site_id: int, now: datetime) -> Conversation:
    """The conversation row, locked until commit, so one sender's messages run one at a time.
    (On SQLite the whole transaction already holds the write lock: see storage.db.)"""
    insert_ignore(
        session,
        Conversation,
        {"contact_id": contact_id, "site_id": site_id, "updated_at": now, "data": {}},
        ["contact_id", "site_id"],
    )
    stmt = (
        select(Conversation)
        .where(Conversation.contact_id == contact_id, Conversation.site_id == site_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one()


def record_inbound(session: Session, values: dict[str, Any]) -> int | None:
    """Insert-or-ignore on the Twilio MessageSid: None means this message was handled before."""
    return insert_ignore(session, Message, values, ["sid"])


def stored_reply(session: Session, sid: str) -> list[str]:
    first = select(Message.id).where(Message.sid == sid).scalar_subquery()
    rows = session.scalars(select(Message.body).where(Message.reply_to_id == first).order_by(Message.id))
    return list(rows)


def add_outbound(
    session: Session,
    *,
    body: str,
    channel: str,
    party: str = "bot",
    now: datetime,
    status: str = "replied",
    **links: Any,
) -> Message:
    message = Message(
        sid=f"hk-{uuid.uuid4().hex}",
        direction="out",
        party=party,
        channel=channel,
        body=body,
        status=status,
        created_at=now,
        **links,
    )
    session.add(message)
    session.flush()
    return message


def queue_message(
    session: Session,
    *,
    site_id: int,
    address: str,
    body: str,
    now: datetime,
    party: str = "bot",
    template: str | None = None,
    send_at: datetime | None = None,
    **links: Any,
) -> Message:
    """A message for someone other than the sender of the current inbound: stored as pending
    and handed to the transport by the `send_message` job after commit, or at `send_at`."""
    message = add_outbound(
        session,
        body=body,
        channel="whatsapp" if address.startswith("whatsapp:") else "sms",
        party=party,
        now=now,
        status="pending",
        site_id=site_id,
        address=address,
        template=template,
        **links,
    )
    add_job(session, "send_message", {"message_id": message.id}, now, run_at=send_at)
    return message


def forget_run(session: Session, conversation_id: int, run: int) -> int:
    """Blank the texts of a report that was never submitted; the rows stay for dedupe."""
    result = session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id, Message.run == run)
        .values(body="", media=[])
    )
    return result.rowcount or 0


def conversation_state(session: Session, phone: str, site_id: int) -> str | None:
    """Where this number's conversation with the site stands, without creating anything."""
    stmt = (
        select(Conversation.state)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Contact.phone == phone, Conversation.site_id == site_id)
    )
    return session.scalars(stmt).first()


def last_message_id(session: Session) -> int:
    return session.scalar(select(func.max(Message.id))) or 0


def pushed_to(session: Session, number: str, after_id: int) -> list[tuple[int, str]]:
    """Messages handed to the transport for this number, newest last (`hotline chat`)."""
    stmt = (
        select(Message.id, Message.body)
        .where(
            Message.id > after_id,
            Message.address.in_([number, f"whatsapp:{number}"]),
            Message.status.not_in(["pending", "handing", "failed"]),
        )
        .order_by(Message.id)
    )
    return [(row.id, row.body) for row in session.execute(stmt)]
