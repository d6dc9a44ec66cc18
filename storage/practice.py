"""Practice mode: cases reported from a site's practice numbers (sites.toml `practice`), the
role-play KK members run before going live. `hotline purge --practice` erases them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage import audit, erasures
from storage.cases import _batches, erase_contact
from storage.models import Assignment, Case, CaseEvent, Contact, Message


def purge(session: Session, *, now: datetime, dry_run: bool) -> dict[str, int]:
    """Erase every practice case, whatever its status, with its messages, events and offers
    (rows deleted: nothing of a role-play belongs in the records), and the number and texts of
    every contact whose only cases are practice cases (`erase_contact`, audited as "erase").
    Twilio's copies of the messages are queued for deletion as in a purge. Writes
    AuditLog(actor="purge", action="purge_practice") with the counts. With `dry_run` nothing
    changes and the same counts come back."""
    case_ids = list(session.scalars(select(Case.id).where(Case.practice).order_by(Case.id)))
    live = select(Case.id).where(Case.contact_id == Contact.id, Case.practice.is_(False)).exists()
    played = select(Case.id).where(Case.contact_id == Contact.id, Case.practice).exists()
    only_practice = select(Contact.id).where(Contact.erased_at.is_(None), played, ~live)
    contact_ids = list(session.scalars(only_practice.order_by(Contact.id)))
    messages = sum(
        session.scalar(select(func.count(Message.id)).where(Message.case_id.in_(batch))) or 0
        for batch in _batches(case_ids)
    )
    counts = {"cases": len(case_ids), "messages": messages, "contacts": len(contact_ids)}
    if dry_run:
        return counts
    marked: set[int] = set()  # cases whose messages are in their resident's own erasure job
    for contact_id in contact_ids:
        marked.update(session.scalars(select(Case.id).where(Case.contact_id == contact_id)))
        erase_contact(session, session.get_one(Contact, contact_id), now, actor="purge")
    for batch in _batches(case_ids):
        _delete(session, batch, marked, now)
    audit.record(session, "purge", "purge_practice", now, **counts)
    return counts


def _delete(session: Session, batch: list[int], marked: set[int], now: datetime) -> None:
    """One batch of practice cases gone, children first (SQLite does not cascade by default)."""
    erasures.queue_for_cases(session, batch, marked, now)
    ids = select(Message.id).where(Message.case_id.in_(batch))
    session.execute(update(Message).where(Message.reply_to_id.in_(ids)).values(reply_to_id=None))
    session.execute(delete(Assignment).where(Assignment.case_id.in_(batch)))
    session.execute(delete(Message).where(Message.case_id.in_(batch)))
    session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(batch)))
    session.execute(delete(Case).where(Case.id.in_(batch)))
