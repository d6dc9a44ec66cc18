"""Cases: creating them from a submitted report, the caller's own list, urgency, erasure."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import AuditLog, Case, CaseEvent, Contact, Conversation, Message
from storage.outbox import add_job

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread
CODE_LENGTH = 5  # 32^5 = 33.5 million codes per site
OPEN = ("new", "offered", "accepted", "referred")


def new_code(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(CROCKFORD) for _ in range(CODE_LENGTH))


def create_case(
    session: Session,
    *,
    site_id: int,
    prefix: str,
    contact: Contact,
    conversation: Conversation,
    run: int,
    report: dict[str, Any],
    locale: str,
    now: datetime,
) -> Case:
    consent = report.get("consent") or {}
    for _ in range(10):  # a clash is rare; the unique index decides
        case = Case(
            code=new_code(prefix),
            site_id=site_id,
            area_id=report.get("area_id"),
            contact_id=contact.id,
            category=report["category"],
            urgent=report["urgent"],
            flags=report["flags"],
            answers={**report["answers"], "media": report.get("media", 0)},
            contact_ok=report["contact_ok"] and not contact.stopped,
            consent_at=datetime.fromisoformat(consent["at"]) if consent.get("at") else None,
            consent_version=consent.get("version"),
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(case)
        except IntegrityError:
            continue
        break
    else:
        raise RuntimeError("could not draw a free case code")
    if report.get("name"):
        contact.name = report["name"]
    session.execute(
        update(Message)
        .where(Message.conversation_id == conversation.id, Message.run == run)
        .values(case_id=case.id)
    )
    add_event(session, case, "submitted", now, category=case.category, urgent=case.urgent)
    add_job(session, "assign_case", {"case_id": case.id, "reason": "submitted"}, now)
    return case


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


def make_latest_urgent(session: Session, contact_id: int, now: datetime) -> Case | None:
    """DARURAT after a report: the caller's latest open case becomes urgent and is re-offered."""
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
    add_event(session, case, "urgent", now, actor="resident")
    add_job(session, "assign_case", {"case_id": case.id, "reason": "urgent"}, now)
    return case


def erase_contact(session: Session, contact: Contact, now: datetime, actor: str) -> dict[str, int]:
    """HAPUS / purge: personal data goes (number, names, texts, answers, NIK); anonymous counts
    stay (case category, area, urgency, status, dates); what was erased is audited."""
    case_ids = list(session.scalars(select(Case.id).where(Case.contact_id == contact.id)))
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
    contact.name = contact.profile_name = None
    contact.erased_at = now
    session.add(
        AuditLog(
            actor=actor,
            action="erase",
            details={"contact_id": contact.id, **counts},
            created_at=now,
        )
    )
    return counts
