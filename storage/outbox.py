"""The transactional outbox: jobs recorded with the change that asks for them, pushed after
commit, re-pushed by the sweeper when a push failed or a worker died mid-job."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage.models import Assignment, Case, Message, Outbox

MAX_ATTEMPTS = 10


def add_job(
    session: Session,
    job: str,
    args: dict[str, Any],
    now: datetime,
    run_at: datetime | None = None,
    urgent: bool | None = None,
) -> Outbox:
    """A job for after commit. Its lane: `urgent`, else whether the case it is about is urgent,
    read from the case the transaction holds (no query; see `_urgent`), and kept on the row."""
    urgent = _urgent(session, args) if urgent is None else urgent
    row = Outbox(job=job, args=args, created_at=now, run_at=run_at or now, urgent=urgent)
    session.add(row)
    session.flush()
    session.info.setdefault("outbox", []).append(row)  # pushed by the caller after commit
    return row


def added(session: Session) -> list[Outbox]:
    """Rows this transaction added, for the caller to push once it has committed."""
    return list(session.info.get("outbox", []))


class Push(NamedTuple):
    """What the queue needs of an outbox row: its id, its time, its job, and whether its case is
    urgent (the job's lane)."""

    id: int
    run_at: datetime | None
    job: str
    args: dict[str, Any]
    urgent: bool


def for_push(rows: list[Outbox]) -> list[Push]:
    """The rows as the queue takes them, each in the lane `add_job` recorded."""
    return [Push(row.id, row.run_at, row.job, dict(row.args), row.urgent) for row in rows]


def _held(session: Session, model: type, key: Any) -> Any:
    """The object if this session holds it (its identity map keeps only what someone still
    refers to), never loading it."""
    return session.identity_map.get(identity_key(model, key)) if isinstance(key, int) else None


def _urgent(session: Session, args: dict[str, Any]) -> bool:
    case_id = args.get("case_id")
    if case_id is None and (msg := _held(session, Message, args.get("message_id"))) is not None:
        case_id = vars(msg).get("case_id")  # loaded attributes only: no lazy load here
    if case_id is None and (offer := _held(session, Assignment, args.get("assignment_id"))) is not None:
        case_id = vars(offer).get("case_id")
    case = _held(session, Case, case_id)
    return bool(case is not None and vars(case).get("urgent"))


def mark_pushed(session: Session, ids: list[int], now: datetime) -> None:
    session.execute(update(Outbox).where(Outbox.id.in_(ids)).values(pushed_at=now))


PUSH_GRACE = timedelta(seconds=30)  # a push may still be on its way after commit
PUSH_STUCK = timedelta(seconds=45)  # jobs take seconds: a lost one is found within a minute


def due(
    now: datetime, grace: timedelta = PUSH_GRACE, stuck: timedelta = PUSH_STUCK
) -> ColumnElement[bool]:
    """Rows never pushed (Redis was down), or pushed long ago and still not done past their time
    (a worker died). A job for later (a deadline check, a message waiting for the resident's safe
    time) is not stuck before its time: pushing it again would only pile up copies."""
    return and_(
        Outbox.done_at.is_(None),
        Outbox.attempts < MAX_ATTEMPTS,
        or_(
            Outbox.pushed_at.is_(None) & (Outbox.created_at < now - grace),
            (Outbox.pushed_at < now - stuck) & (Outbox.run_at < now - stuck),
        ),
    )


def due_for_push(
    session: Session, now: datetime, grace: timedelta = PUSH_GRACE, stuck: timedelta = PUSH_STUCK
) -> list[Outbox]:
    """The sweeper's rows (see `due`), oldest first."""
    stmt = select(Outbox).where(due(now, grace, stuck)).order_by(Outbox.id).limit(500)
    return list(session.scalars(stmt))


def locked(session: Session, outbox_id: int) -> Outbox | None:
    """The row locked until commit, or None if it is gone or done (a job run twice)."""
    row = session.scalars(select(Outbox).where(Outbox.id == outbox_id).with_for_update()).first()
    return None if row is None or row.done_at is not None else row


def claim(session: Session, outbox_id: int) -> Outbox | None:
    """The row locked for this run, or None if it is already done (a job run twice)."""
    row = locked(session, outbox_id)
    if row is not None:
        row.attempts += 1
    return row


def record_failure(session: Session, outbox_id: int, error: str, retry_at: datetime | None = None) -> None:
    """A failed run; `retry_at` is when the queue tries again, so the sweeper leaves it till then."""
    values: dict[str, Any] = {"attempts": Outbox.attempts + 1, "error": error[:200]}
    if retry_at is not None:
        values["run_at"] = retry_at
    session.execute(update(Outbox).where(Outbox.id == outbox_id).values(**values))


def push_of(session: Session, outbox_id: int) -> Push | None:
    """One row as the queue takes it (a push by hand, a send that must go back to the queue)."""
    row = session.get(Outbox, outbox_id)
    return None if row is None else for_push([row])[0]
