"""Erasure at Twilio: what HAPUS and the purge ask the `erase_at_twilio` job to delete there.

Twilio keeps every message it carried (bodies and media), the TwiML replies too, whose SIDs the
hotline never learns. So the job carries the resident's number in its outbox row (the only place
it survives the erasure) and lists their messages on every site number, both ways, SMS and
WhatsApp, besides the SIDs the database knows (members' messages about their cases included).
When the job is done, or gives up, its arguments are cleared down to counts: no number, no SID.
No table of its own: the outbox row is the work, the audit log the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from storage import audit
from storage.models import Contact, Message, Outbox, Site
from storage.outbox import MAX_ATTEMPTS, add_job

JOB = "erase_at_twilio"
TWILIO_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")  # a message SID (console chats have others)
# Twilio refuses to delete a message in its first minute or two (20009): HAPUS waits this long,
# so its own last reply, sent as TwiML after this commit, exists and has settled.
SETTLE = timedelta(minutes=2)
REPLY_SLACK = timedelta(minutes=1)  # that reply is created after our commit; not much later
# After the n-th failed attempt the sweeper runs it again this much later (rq's own retries come
# first, at 10 s, 1 min and 5 min). Twilio may hold a message an hour waiting for its delivery
# receipt; after MAX_ATTEMPTS (about a day and a half) the job gives up and says so.
BACKOFF = (
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=8),
    timedelta(hours=24),
)
AUDIT_SIDS = 50  # SIDs still at Twilio kept in the audit row of a job that gave up, to finish by hand


def known_sids(session: Session, about: ColumnElement[bool], skip_cases: Iterable[int] = ()) -> list[str]:
    """Twilio SIDs of the messages `about` selects: inbound MessageSids and what we sent."""
    skip = set(skip_cases)
    rows = session.execute(select(Message.case_id, Message.sid, Message.provider_sid).where(about))
    found = {
        sid
        for case_id, *sids in rows
        if case_id is None or case_id not in skip
        for sid in sids
        if sid and TWILIO_SID.fullmatch(sid)
    }
    return sorted(found)


def queue(
    session: Session,
    *,
    actor: str,
    now: datetime,
    sids: list[str],
    phone: str | None = None,
    contact_id: int | None = None,
    run_at: datetime | None = None,
) -> Outbox | None:
    """The job, in the caller's transaction (pushed after commit). `phone`: every message on
    its routes created up to now (and the reply to this message) goes; `sids`: these too."""
    if not phone and not sids:
        return None
    args: dict[str, Any] = {
        "actor": actor,
        "contact_id": contact_id,
        "phones": [phone] if phone else [],
        "before": (now + REPLY_SLACK).isoformat(),
        "sids": sids,
        "tally": {},
    }
    return add_job(session, JOB, args, now, run_at=run_at)


def queue_for_contact(
    session: Session, contact: Contact, case_ids: list[int], now: datetime, actor: str
) -> Outbox | None:
    """erase_contact (HAPUS, purge): their number's messages, and the known SIDs of their own
    and of everything said about their cases. HAPUS waits for its own last reply to settle."""
    about = or_(Message.contact_id == contact.id, Message.case_id.in_(case_ids))
    return queue(
        session,
        actor=actor,
        now=now,
        sids=known_sids(session, about),
        phone=contact.phone,
        contact_id=contact.id,
        run_at=now if actor == "purge" else now + SETTLE,
    )


def queue_for_cases(session: Session, case_ids: list[int], marked: set[int], now: datetime) -> Outbox | None:
    """A purged batch of cases whose resident keeps their number: the known SIDs only (their
    TwiML replies go when the number itself is erased). `marked` cases are in their
    resident's own job."""
    sids = known_sids(session, Message.case_id.in_(case_ids), skip_cases=marked)
    return queue(session, actor="purge", now=now, sids=sids)


@dataclass(frozen=True)
class Erasure:
    """One run of the job: what to list and delete."""

    actor: str
    contact_id: int | None
    routes: list[tuple[str, str]]  # (To, From) pairs to list, both ways on every site number
    sids: list[str]
    before: datetime
    attempts: int


@dataclass
class Tally:
    """What one run did at Twilio; no numbers."""

    messages: int = 0  # deleted
    media: int = 0  # media deleted with them
    gone: int = 0  # known SIDs Twilio no longer had (deleted before, or a run that raced)
    left: list[str] = field(default_factory=list)  # SIDs Twilio refused to delete this time
    unlisted: int = 0  # routes Twilio would not list this time
    error: str | None = None  # the last failure: kind and code

    @property
    def pending(self) -> bool:
        return bool(self.left or self.unlisted)


def claim(session: Session, outbox_id: int) -> Erasure | None:
    """The job's row, claimed for this run (None if done), and the routes to list."""
    row = session.scalars(select(Outbox).where(Outbox.id == outbox_id).with_for_update()).first()
    if row is None or row.done_at is not None:
        return None
    row.attempts += 1
    args = row.args
    return Erasure(
        actor=str(args.get("actor") or "erase"),
        contact_id=args.get("contact_id"),
        routes=routes(session, args.get("phones") or []),
        sids=list(args.get("sids") or []),
        before=datetime.fromisoformat(args["before"]),
        attempts=row.attempts,
    )


def routes(session: Session, phones: list[str]) -> list[tuple[str, str]]:
    """(To, From) pairs for every site number: to and from the resident, in the number's form
    ("whatsapp:+62..." with a WhatsApp number)."""
    numbers = sorted({str(n) for listed in session.scalars(select(Site.numbers)) for n in listed or []})
    pairs: list[tuple[str, str]] = []
    for phone in phones:
        for number in numbers:
            theirs = f"whatsapp:{phone}" if number.startswith("whatsapp:") else phone
            pairs += [(theirs, number), (number, theirs)]
    return pairs


def settle(session: Session, outbox_id: int, erasure: Erasure, tally: Tally, now: datetime) -> str:
    """Record a run: "retry" (args keep the number and the SIDs left, for the next run), "done"
    or "gave_up" (args cleared to counts, an audit row)."""
    row = session.scalars(select(Outbox).where(Outbox.id == outbox_id).with_for_update()).one()
    if row.done_at is not None:
        return "done"  # a duplicate run finished first
    totals = dict(row.args.get("tally") or {})
    for key in ("messages", "media", "gone"):
        totals[key] = totals.get(key, 0) + getattr(tally, key)
    if tally.pending and erasure.attempts < MAX_ATTEMPTS:
        row.args = {**row.args, "sids": tally.left, "tally": totals}
        row.error = (tally.error or "pending")[:200]
        row.run_at = now + BACKOFF[min(erasure.attempts, len(BACKOFF)) - 1]
        return "retry"
    left = len(tally.left)
    result = {**totals, "left": left, "unlisted": tally.unlisted, "attempts": erasure.attempts}
    row.args = {"actor": erasure.actor, "contact_id": erasure.contact_id, **result}
    row.done_at = now
    row.error = f"gave up: {left} messages, {tally.unlisted} routes left" if tally.pending else None
    details: dict[str, Any] = {"contact_id": erasure.contact_id, **result}
    if tally.pending:
        details["left_sids"] = tally.left[:AUDIT_SIDS]
    audit.record(session, erasure.actor, "erase_at_twilio", now, **details)
    return "gave_up" if tally.pending else "done"
