"""The audit log: who viewed, exported or erased personal data, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from storage.db import Database
from storage.models import AuditLog


def record(
    session: Session, actor: str, action: str, now: datetime | None = None, **details: Any
) -> AuditLog:
    """One row in the caller's transaction: the trace commits (or not) with what it records."""
    row = AuditLog(actor=actor[:64], action=action, details=details)
    if now is not None:
        row.created_at = now
    session.add(row)
    return row


def start(db: Database, actor: str, action: str, **details: Any) -> int:
    """A row committed at once, before the work it records (a long export): if the work is cut
    off, the trace is still there, marked incomplete until `finish` says otherwise."""
    with db.session() as session:
        row = record(session, actor, action, **details)
        session.flush()
        return row.id


def finish(db: Database, audit_id: int, **details: Any) -> None:
    with db.session() as session:
        row = session.get_one(AuditLog, audit_id)
        row.details = {**row.details, **details}
