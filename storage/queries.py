"""The queries behind one inbound message: sites, contacts, the locked conversation, messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Contact, Conversation, Message
from storage.outbox import add_job


def bare_number(number: str) -> str:
    return number.removeprefix("whatsapp:")


# The statements of every inbound message, built once per dialect (not per call), each one
# round trip: Core statements on the tables (the ORM's insert machinery costs more than the
# database does here), upserts loaded into ORM objects through `from_statement`.
CONTACTS, CONVERSATIONS, MESSAGES = Contact.__table__, Conversation.__table__, Message.__table__


def _upserts(dialect: Any) -> dict[str, Any]:
    contact = dialect.insert(CONTACTS).values(
        phone=bindparam("phone"),
        channel=bindparam("channel"),
        created_at=bindparam("now"),
        last_inbound_at=bindparam("now"),
    )
    conversation = dialect.insert(CONVERSATIONS).values(
        contact_id=bindparam("contact_id"), site_id=bindparam("site_id"), updated_at=bindparam("now")
    )
    inbound = dialect.insert(MESSAGES).on_conflict_do_nothing(index_elements=["sid"])
    # The message's channel and time are what every inbound sets on its contact anyway.
    touched = {"channel": contact.excluded.channel, "last_inbound_at": contact.excluded.last_inbound_at}
    return {
        "contact": select(Contact).from_statement(
            contact.on_conflict_do_update(index_elements=["phone"], set_=touched).returning(*CONTACTS.c)
        ),
        # DO UPDATE (of nothing that matters) takes the row lock SELECT ... FOR UPDATE would:
        # one sender's messages run one at a time. (SQLite: the transaction holds the write lock.)
        "conversation": select(Conversation).from_statement(
            conversation.on_conflict_do_update(
                index_elements=["contact_id", "site_id"], set_={"turn": CONVERSATIONS.c.turn}
            ).returning(*CONVERSATIONS.c)
        ),
        "inbound": inbound.returning(MESSAGES.c.id),
    }


_STATEMENTS = {"postgresql": _upserts(postgresql), "sqlite": _upserts(sqlite)}
_FRESH = {"populate_existing": True}  # the row as the database has it now, not a stale copy
_TAG = (
    update(MESSAGES)
    .where(MESSAGES.c.id == bindparam("message_id"))
    .values(run=bindparam("run"), case_id=func.coalesce(bindparam("case_id"), MESSAGES.c.case_id))
)
_REPLY = insert(MESSAGES)


def _statement(session: Session, name: str) -> Any:
    return _STATEMENTS[session.get_bind().dialect.name][name]


def contact_for(session: Session, phone: str, now: datetime, channel: str = "sms") -> Contact:
    """The sender's contact, created on their first message; its channel and last inbound set."""
    params = {"phone": phone, "channel": channel, "now": now}
    return session.scalars(_statement(session, "contact"), params, execution_options=_FRESH).one()


def lock_conversation(session: Session, contact_id: int, site_id: int, now: datetime) -> Conversation:
    """The conversation row, locked until commit, so one sender's messages run one at a time.
    (On SQLite the whole transaction already holds the write lock: see storage.db.)"""
    params = {"contact_id": contact_id, "site_id": site_id, "now": now}
    return session.scalars(_statement(session, "conversation"), params, execution_options=_FRESH).one()


def record_inbound(session: Session, values: dict[str, Any]) -> int | None:
    """Insert-or-ignore on the Twilio MessageSid: None means this message was handled before."""
    return session.execute(_statement(session, "inbound"), values).scalar_one_or_none()


def tag_inbound(session: Session, message_id: int, run: int | None, case_id: int | None) -> None:
    """The run an inbound message turned out to belong to, and its case (kept if already set)."""
    session.execute(_TAG, {"message_id": message_id, "run": run, "case_id": case_id})


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


def add_reply(session: Session, *, body: str, channel: str, now: datetime, **links: Any) -> None:
    """The reply an inbound message gets in its TwiML answer: stored for the transcript and for
    a Twilio retry, never sent by us. One Core insert: nothing needs it as an object."""
    values = {
        "sid": f"hk-{uuid.uuid4().hex}",
        "direction": "out",
        "party": "bot",
        "channel": channel,
        "body": body,
        "status": "replied",
        "created_at": now,
        **links,
    }
    session.execute(_REPLY, values)


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


def forget_run(session: Session, conversation_id: int, run: int, keep: int | None = None) -> int:
    """Blank the texts of a report that was never submitted; the rows stay for dedupe. `keep`:
    the message that cancelled it (BATAL, a no to consent), which says nothing."""
    result = session.execute(
        update(Message)
        .where(Message.conversation_id == conversation_id, Message.run == run, Message.id != (keep or 0))
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
