"""Queued work. Every job is an outbox row run by `run_outbox`, inside an app context (the rq
worker and the in-process queue both push one), and is idempotent: a row already done is
skipped, so a job pushed twice or re-pushed by the sweeper does nothing the second time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from storage import outbox
from storage.cases import add_event
from storage.models import Case

log = logging.getLogger(__name__)


def assign_case(session: Session, hotline: Any, now: datetime, case_id: int, reason: str) -> None:
    """Hand the case to the KK members of its area. Until a duty roster is loaded (members and
    shifts), the case waits on the coordinators' list and the timeline says so."""
    case = session.get(Case, case_id)
    if case is None:
        return
    add_event(session, case, "awaiting_member", now, reason=reason, note="no duty roster loaded")


HANDLERS: dict[str, Callable[..., None]] = {"assign_case": assign_case}


def run_outbox(outbox_id: int) -> None:
    hotline = current_app.extensions["hotline"]
    now = hotline.clock()
    try:
        with hotline.db.session() as session:
            row = outbox.claim(session, outbox_id)
            if row is None:
                return
            HANDLERS[row.job](session, hotline, now, **row.args)
            row.done_at = now
            row.error = None
    except Exception as exc:
        with hotline.db.session() as session:
            outbox.record_failure(session, outbox_id, type(exc).__name__)
        raise


def sweep(hotline: Any) -> int:
    """Push again what never reached the queue or never finished; returns how many."""
    now = hotline.clock()
    with hotline.db.session() as session:
        rows = [(r.id, r.run_at) for r in outbox.due_for_push(session, now)]
    for outbox_id, run_at in rows:
        hotline.push(outbox_id, run_at)
    return len(rows)
