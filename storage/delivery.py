"""Delivery state of the messages we push through Twilio: status callbacks arrive late, twice
or out of order, so a status only ever moves forward; numbers that cannot be reached are
marked so nothing more is sent there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from storage.models import Contact, Member, Message

# Ours first ("pending": waiting for the send job, "handing": the job is handing it to Twilio),
# then Twilio's. Terminal outcomes share a rank: whichever came first stays. "read" (WhatsApp)
# may still follow "delivered".
STATUS_RANK: dict[str, int] = {
    "pending": 0,
    "handing": 1,
    "accepted": 2,
    "scheduled": 2,
    "queued": 3,
    "sending": 4,
    "sent": 5,
    "delivered": 6,
    "undelivered": 6,
    "failed": 6,
    "canceled": 6,
    "read": 7,
}
FAILED = frozenset({"failed", "undelivered"})
FINAL = FAILED | {"canceled"}  # kept once recorded, even against "read"
UNREACHABLE = frozenset({"opted_out", "bad_number"})


@dataclass(frozen=True)
class StatusChange:
    message: Message
    previous: str
    changed: bool  # False for a late, repeated or unknown status


def advances(current: str, new: str) -> bool:
    """Whether `new` may replace `current`. Statuses we do not know (a TwiML reply's
    "replied", anything Twilio adds later) never replace and are always replaced."""
    if new not in STATUS_RANK or current in FINAL:
        return False
    return STATUS_RANK[new] > STATUS_RANK.get(current, -1)


def apply_status(
    session: Session,
    provider_sid: str,
    status: str,
    error_code: int | None,
    now: datetime,
    message_id: int | None = None,
) -> StatusChange | None:
    """Record a status callback on the message it is about (row locked, so two callbacks for
    one message take turns); None for a SID we never sent. `message_id`, when the callback URL
    carries it, finds a message whose send job has not stored Twilio's SID yet."""
    message = _locked(session, provider_sid, message_id)
    if message is None:
        return None
    previous = message.status
    if not advances(previous, status):
        return StatusChange(message, previous, changed=False)
    message.status = status
    if error_code is not None:
        message.error_code = error_code
    if message.sent_at is None and status not in FINAL and STATUS_RANK[status] >= STATUS_RANK["sent"]:
        message.sent_at = now  # the send job normally sets it; a callback may beat the job
    return StatusChange(message, previous, changed=True)


def lock_message(session: Session, message_id: int) -> Message | None:
    """The message row, locked until commit and read afresh (a status callback may have written it)."""
    stmt = (
        select(Message)
        .where(Message.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


def fell_back(session: Session, message_id: int) -> bool:
    """Whether a fallback (template or SMS) was queued for this message already."""
    return session.scalars(select(Message.id).where(Message.reply_to_id == message_id)).first() is not None


def _locked(session: Session, provider_sid: str, message_id: int | None) -> Message | None:
    stmt = select(Message).where(Message.provider_sid == provider_sid).with_for_update()
    message = session.scalars(stmt).first()
    if message is not None or message_id is None:
        return message
    stmt = select(Message).where(Message.id == message_id, Message.direction == "out").with_for_update()
    message = session.scalars(stmt).first()
    if message is None or message.provider_sid not in (None, provider_sid):
        return None
    message.provider_sid = provider_sid
    return message


def mark_unreachable(session: Session, message: Message, kind: str) -> None:
    """Stop sending where it cannot arrive: the member is flagged for the coordinator, a
    resident who opted out counts as having said BERHENTI."""
    if kind not in UNREACHABLE:
        raise ValueError(f"not an unreachable kind: {kind!r}")
    if message.member_id is not None:
        member = session.get(Member, message.member_id)
        # "opted_out" wins: it needs the member's START, a fixed number does not.
        if member is not None and member.unreachable != "opted_out":
            member.unreachable = kind
    elif message.contact_id is not None and kind == "opted_out":
        contact = session.get(Contact, message.contact_id)
        if contact is not None:
            contact.stopped = True


HANDING_BOUND = timedelta(minutes=2)  # a send job takes seconds; longer, and it died mid-send


def stuck(now: datetime) -> ColumnElement[bool]:
    """Messages a send job claimed and never finished: its worker died between our commit and
    Twilio's answer."""
    return (Message.status == "handing") & (Message.sent_at < now - HANDING_BOUND)


def stuck_handing(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """The stuck messages, oldest first; the reconciler asks Twilio what became of each."""
    stmt = select(Message.id).where(stuck(now)).order_by(Message.sent_at, Message.id).limit(limit)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class DeliveryProblems:
    messages: list[Message]  # failed, undelivered or stuck handing, newest first
    members: list[Member]  # flagged unreachable


def delivery_problems(
    session: Session, site_id: int | None = None, limit: int = 200, now: datetime | None = None
) -> DeliveryProblems:
    """What the coordinator should look at: messages that did not arrive or are stuck on their
    way to Twilio, and members we cannot reach."""
    problem = Message.status.in_(FAILED)
    if now is not None:
        problem = problem | stuck(now)
    messages = select(Message).where(Message.direction == "out", problem)
    members = select(Member).where(Member.unreachable.is_not(None))
    if site_id is not None:
        messages = messages.where(Message.site_id == site_id)
        members = members.where(Member.site_id == site_id)
    return DeliveryProblems(
        messages=list(
            session.scalars(messages.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit))
        ),
        members=list(session.scalars(members.order_by(Member.name, Member.id))),
    )
