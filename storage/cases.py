"""Cases: creating them from a submitted report, the caller's own list, urgency, erasure."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage import audit, erasures, roster
from storage.casestate import FINISHED, OPEN
from storage.models import AuditLog, Case, CaseEvent, Contact, Conversation, Message, Site
from storage.outbox import add_job

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread
CODE_LENGTH = 5  # 32^5 = 33.5 million codes per site


def new_code(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH))


def create_case(
    session: Session,
    *,
    site_id: int,
    prefix: str,
    contact: Contact | None,
    conversation: Conversation | None,
    run: int,
    report: dict[str, Any],
    locale: str,
    now: datetime,
    channel: str,
    practice: bool = False,
    consent_by: str | None = None,
) -> Case:
    """The case of a submitted report. `contact` is the resident (None: a resident without a
    phone, reported for by a member); `conversation` and `run` the messages that made it."""
    consent = report.get("consent") or {}
    for _ in range(10):  # a clash is rare; the unique index decides
        case = Case(
            code=new_code(prefix),
            site_id=site_id,
            area_id=report.get("area_id"),
            contact_id=contact.id if contact is not None else None,
            category=report["category"],
            urgent=report["urgent"],
            flags=report["flags"],
            answers={**report["answers"], "media": report.get("media", 0)},
            contact_ok=report["contact_ok"] and contact is not None and not contact.stopped,
            consent_at=datetime.fromisoformat(consent["at"]) if consent.get("at") else None,
            consent_version=consent.get("version"),
            locale=locale,
            created_at=now,
            updated_at=now,
            practice=practice,
            channel=channel,
            consent_by=consent_by,
        )
        try:
            with session.begin_nested():
                session.add(case)
        except IntegrityError:
            continue
        break
    else:
        raise RuntimeError("could not draw a free case code")
    if contact is not None and report.get("name"):
        contact.name = report["name"]
    if contact is not None and (codeword := report["answers"].get("codeword")):
        contact.codeword = codeword
    if conversation is not None:
        session.execute(
            update(Message)
            .where(Message.conversation_id == conversation.id, Message.run == run)
            .values(case_id=case.id)
        )
    taken = {"channel": channel, "consent_by": consent_by} if consent_by else {}
    add_event(session, case, "submitted", now, category=case.category, urgent=case.urgent, **taken)
    add_job(session, "assign_case", {"case_id": case.id, "reason": "submitted"}, now)
    return case


def resident_contact(session: Session, site_id: int, phone: str, now: datetime) -> Contact | None:
    """The contact of a resident a member reported for, by the number they gave: theirs if they
    ever wrote (kept as it is: how they write, whether they said BERHENTI), else a new one that
    has never written (messages to it go by SMS, which every phone reads). None when the number
    is a KK member's of the site: a member's number never holds a resident's case."""
    if roster.member_for_number(session, site_id, phone) is not None:
        return None
    found = select(Contact).where(Contact.phone == phone)
    contact = session.scalars(found).first()
    if contact is None:
        try:
            with session.begin_nested():  # two members reporting for one new number at once
                contact = Contact(phone=phone, channel="sms", created_at=now)
                session.add(contact)
        except IntegrityError:
            contact = session.scalars(found).one()
    return contact


def is_practice(phone: str | None, practice_numbers: list[Any] | tuple[str, ...]) -> bool:
    """Whether a sender's number (SMS or WhatsApp) is one of the site's practice numbers."""
    return bool(phone) and str(phone).removeprefix("whatsapp:") in {str(n) for n in practice_numbers}


def add_event(
    session: Session, case: Case, kind: str, now: datetime, actor: str = "bot", **data: Any
) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, actor=actor, data=data, created_at=now)
    session.add(event)
    return event


def cases_of(session: Session, contact_id: int, limit: int = 5) -> list[Case]:
    stmt = (
        select(Case)
        .where(Case.contact_id == contact_id)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def make_latest_urgent(
    session: Session, contact_id: int, now: datetime, actor: str = "resident", reason: str = "urgent"
) -> Case | None:
    """DARURAT after a report, or the code word: the caller's latest open case becomes urgent
    and is re-offered."""
    case = session.scalars(
        select(Case)
        .where(Case.contact_id == contact_id, Case.status.in_(OPEN))
        .order_by(Case.created_at.desc(), Case.id.desc())
        .limit(1)
    ).first()
    if case is None:
        return None
    case.urgent = True
    case.updated_at = now
    add_event(session, case, "urgent", now, actor=actor)
    add_job(session, "assign_case", {"case_id": case.id, "reason": reason}, now)
    return case


def latest_case(session: Session, contact_id: int) -> Case | None:
    stmt = select(Case).where(Case.contact_id == contact_id).order_by(Case.created_at.desc(), Case.id.desc())
    return session.scalars(stmt.limit(1)).first()


def erase_contact(session: Session, contact: Contact, now: datetime, actor: str) -> dict[str, int]:
    """HAPUS / purge: personal data goes (number, names, texts, answers, NIK); anonymous counts
    stay (case category, area, urgency, status, dates); what was erased is audited."""
    case_ids = list(session.scalars(select(Case.id).where(Case.contact_id == contact.id)))
    erasures.queue_for_contact(session, contact, case_ids, now, actor)  # Twilio's copies
    # Their own messages, and everything said about their cases (relays, members' replies).
    messages = session.execute(
        update(Message)
        .where(or_(Message.contact_id == contact.id, Message.case_id.in_(case_ids)))
        .values(body="", media=[])
    ).rowcount
    session.execute(update(Message).where(Message.contact_id == contact.id).values(address=None))
    session.execute(
        update(Case).where(Case.id.in_(case_ids)).values(answers={}, contact_ok=False, updated_at=now)
    )
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids))):
        if "note" in event.data:  # members' notes; referrals keep the institution for the figures
            event.data = {k: v for k, v in event.data.items() if k != "note"}
    for case_id in case_ids:
        session.add(CaseEvent(case_id=case_id, kind="erased", actor=actor, data={}, created_at=now))
    session.execute(update(Conversation).where(Conversation.contact_id == contact.id).values(data={}))
    counts = {"messages": messages or 0, "cases": len(case_ids)}
    contact.phone = None
    contact.name = contact.profile_name = contact.codeword = None
    contact.erased_at = now
    audit.record(session, actor, "erase", now, contact_id=contact.id, **counts)
    return counts


PURGE_BATCH = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter limits


def _batches(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + PURGE_BATCH] for i in range(0, len(ids), PURGE_BATCH)]


def purge(session: Session, *, older_than: timedelta, now: datetime, dry_run: bool) -> dict[str, Any]:
    """Retention (`hotline purge --older-than`): erase the personal data of old finished cases
    and keep what the figures count. The rules:

    - A case qualifies when it is closed or cancelled and its `closed_at` (its `updated_at` when
      it has none, as cancelled cases) is before `now - older_than`; once: a case purged before
      (an "erased" event by "purge") is left alone.
    - Its answers (narrative, NIK, names), the text and media of every message about it
      (resident, bot and members) and the members' notes are erased, and the case and the
      resident's messages are unlinked from the contact (contact, conversation, address): it
      can no longer be tied to a person. Category, area, urgency, flags, status, dates,
      assignments and referral institutions stay, so `storage.figures.monthly` is unchanged.
    - A contact's number and names are erased (`erase_contact`, with their other texts) only
      when every case still linked to them was finished before the cutoff, or they never filed
      one, and they have not texted since the cutoff. Anyone with an open or recent case, or
      who wrote recently, keeps their number and their texts outside the purged cases; their
      old cases are still anonymised and unlinked.
    - Writes AuditLog(actor="purge", action="purge") with the counts, plus erase_contact's own
      "erase" row per contact. With `dry_run` nothing changes and the same counts come back.
    """
    if older_than <= timedelta(0):
        raise ValueError("older_than must be a positive period")
    cutoff = now - older_than
    rules = _PurgeRules(cutoff)
    case_ids = list(session.scalars(select(Case.id).where(rules.qualifies).order_by(Case.id)))
    contact_ids = list(session.scalars(select(Contact.id).where(rules.idle).order_by(Contact.id)))
    if contact_ids and not dry_run:
        contact_ids = _lock_idle(session, contact_ids, rules)
    counts = _purge_counts(session, case_ids, contact_ids)
    result: dict[str, Any] = {**counts, "cutoff": cutoff.isoformat(), "dry_run": dry_run}
    if dry_run:
        return result
    marked: set[int] = set()  # cases erase_contact already gave an "erased" event
    for contact_id in contact_ids:
        contact = session.get_one(Contact, contact_id, populate_existing=True)
        marked.update(session.scalars(select(Case.id).where(Case.contact_id == contact_id)))
        erase_contact(session, contact, now, actor="purge")
    for batch in _batches(case_ids):
        _anonymise(session, batch, marked, now)
    days = older_than / timedelta(days=1)
    audit.record(session, "purge", "purge", now, older_than_days=days, cutoff=cutoff.isoformat(), **counts)
    return result


class _PurgeRules:
    """Which cases qualify and which contacts may lose their number, as SQL conditions."""

    def __init__(self, cutoff: datetime) -> None:
        purged_before = (
            select(CaseEvent.id)
            .where(CaseEvent.case_id == Case.id, CaseEvent.kind == "erased", CaseEvent.actor == "purge")
            .exists()
        )
        finished = and_(Case.status.in_(FINISHED), func.coalesce(Case.closed_at, Case.updated_at) < cutoff)
        self.qualifies = and_(finished, ~purged_before)
        keeps_contact = select(Case.id).where(Case.contact_id == Contact.id, ~finished).exists()
        self.idle = and_(
            Contact.erased_at.is_(None),
            func.coalesce(Contact.last_inbound_at, Contact.created_at) < cutoff,
            ~keeps_contact,
        )


def _lock_idle(session: Session, contact_ids: list[int], rules: _PurgeRules) -> list[int]:
    """Lock the contacts in the service's order (contact, then conversation: storage.queries'
    upserts) so nobody texts or files a case meanwhile, then ask again: someone may have written
    since the first look."""
    for batch in _batches(contact_ids):
        session.execute(
            select(Contact.id).where(Contact.id.in_(batch)).order_by(Contact.id).with_for_update()
        )
        conversations = select(Conversation.id).where(Conversation.contact_id.in_(batch))
        session.execute(conversations.order_by(Conversation.id).with_for_update())
    return [
        c
        for batch in _batches(contact_ids)
        for c in session.scalars(
            select(Contact.id).where(Contact.id.in_(batch), rules.idle).order_by(Contact.id)
        )
    ]


def _purge_counts(session: Session, case_ids: list[int], contact_ids: list[int]) -> dict[str, int]:
    messages = notes = 0
    linked: set[int] = set()
    for batch in _batches(case_ids):
        messages += session.scalar(select(func.count(Message.id)).where(Message.case_id.in_(batch))) or 0
        notes += sum(
            1
            for data in session.scalars(select(CaseEvent.data).where(CaseEvent.case_id.in_(batch)))
            if data.get("note")
        )
        linked.update(c for c in session.scalars(select(Case.contact_id).where(Case.id.in_(batch))) if c)
    for batch in _batches(contact_ids):
        outside = select(func.count(Message.id)).where(
            Message.contact_id.in_(batch), Message.case_id.is_(None)
        )
        messages += session.scalar(outside) or 0
    kept = sorted(linked - set(contact_ids))
    kept_count = sum(
        session.scalar(
            select(func.count(Contact.id)).where(Contact.id.in_(batch), Contact.erased_at.is_(None))
        )
        or 0
        for batch in _batches(kept)
    )
    return {
        "cases": len(case_ids),
        "messages": messages,
        "notes": notes,
        "contacts": len(contact_ids),
        "contacts_kept": kept_count,
    }


def _anonymise(session: Session, batch: list[int], marked: set[int], now: datetime) -> None:
    """One batch of purged cases: texts and notes gone, unlinked from the resident, and the
    messages Twilio has under known SIDs deleted there (those of `marked` cases are in their
    resident's own erasure job)."""
    erasures.queue_for_cases(session, batch, marked, now)
    _blank(session, batch, now)
    for case_id in batch:
        if case_id not in marked:
            session.add(CaseEvent(case_id=case_id, kind="erased", actor="purge", data={}, created_at=now))


def _blank(session: Session, case_ids: list[int], now: datetime) -> dict[str, int]:
    """The cases' personal data gone, their figures kept: the text and media of every message
    about them, their answers, the members' notes (referrals keep the institution), and the
    link to the resident (case, messages, address). The counts of messages and notes."""
    about = Message.case_id.in_(case_ids)
    messages = session.execute(update(Message).where(about).values(body="", media=[])).rowcount
    session.execute(
        update(Message)
        .where(about, Message.contact_id.is_not(None))
        .values(address=None, contact_id=None, conversation_id=None)
    )
    session.execute(
        update(Case)
        .where(Case.id.in_(case_ids))
        .values(answers={}, contact_ok=False, contact_id=None, updated_at=now)
    )
    notes = 0
    for event in session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(case_ids))):
        if "note" in event.data:
            notes += 1
            event.data = {k: v for k, v in event.data.items() if k != "note"}
    return {"messages": messages or 0, "notes": notes}


def walkin_by_token(session: Session, site_id: int, token: str) -> str | None:
    """The code of the case the console's "Laporan baru" form with this one-time token already
    made (its "walkin" audit row keeps the token), or None. Locks the site's row first, so a
    second post of the same form (a double click, the browser's back and send again) waits for
    the first one's transaction and then finds its case instead of making another."""
    session.execute(select(Site.id).where(Site.id == site_id).with_for_update())
    rows = select(AuditLog.details).where(
        AuditLog.action == "walkin", AuditLog.details["once"].as_string() == token
    )
    details = session.scalars(rows.limit(1)).first()
    return str(details["case"]) if details and details.get("case") else None


def erase_case(
    session: Session, case: Case, now: datetime, actor: str, *, reason: str = ""
) -> dict[str, int] | None:
    """One report erased at the resident's request (the console, for a resident who cannot text
    HAPUS), as retention anonymises a case (`_blank`); Twilio's copies under the SIDs the
    database knows are queued for deletion. The resident's contact stays: it may hold other
    reports. `reason` (why, who asked) goes in the "erased" event and the audit row. None, and
    nothing done, when the case was erased before."""
    erased = select(CaseEvent.id).where(CaseEvent.case_id == case.id, CaseEvent.kind == "erased")
    if session.scalars(erased.limit(1)).first() is not None:
        return None
    sids = erasures.known_sids(session, Message.case_id == case.id)
    erasures.queue(session, actor=actor, now=now, sids=sids)
    counts = _blank(session, [case.id], now)
    add_event(session, case, "erased", now, actor=actor, **({"note": reason} if reason else {}))
    audit.record(session, actor, "erase_case", now, case=case.code, reason=reason, **counts)
    return counts
