"""What one running hotline holds (database, job queue, transport, configuration, clock) and the
one unit of work every writer uses: a transaction whose outbox jobs are pushed after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs.queue import RETRY_SECONDS, JobQueue, lane
from bot.jobs.transport import Transport
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)
TRUE = frozenset({"1", "true", "yes", "on"})
SEND_JOB = "send_message"  # the job that hands one message to the transport


def is_on(value: Any) -> bool:
    """A switch from the environment ("1", "true", "on") or from code (True)."""
    return str(value).strip().lower() in TRUE


@dataclass
class Hotline:
    db: Database
    queue: JobQueue
    transport: Transport
    config: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @contextmanager
    def work(self, send: Callable[..., None] | None = None) -> Iterator[Session]:
        """One unit of work: a transaction, committed on success and rolled back on any error.
        The outbox rows it added (messages to send, deadline checks) are pushed to the queue only
        once it has committed, so a job never runs against data that is not there yet, and a
        rolled-back change asks for nothing.

        With `send` (a job's unit of work: an assignment, a deadline check), the first message it
        queues for now is sent by this job itself, `send(outbox_id, **args)`, once committed,
        instead of waiting in the queue for another run. Its outbox row stays the record: a send
        that fails goes to the queue (to retry), one whose worker dies is pushed by the sweeper;
        the send itself claims the message, so it never goes twice."""
        with self.db.session() as session:
            yield session
            jobs = outbox.for_push(outbox.added(session))
        now = self.clock()
        due = (j for j in jobs if j.job == SEND_JOB and (j.run_at is None or j.run_at <= now))
        first = next(due, None) if send is not None else None
        self._push([j for j in jobs if j is not first])
        if first is None or send is None:
            return
        try:
            send(first.id, **first.args)
        except Exception as exc:  # Twilio busy, or the database: the queue retries it
            log.warning("send of outbox row %s failed in its job: %s", first.id, type(exc).__name__)
            self._push([first._replace(run_at=self.clock() + timedelta(seconds=RETRY_SECONDS[0]))])

    def sweep(self) -> int:
        """Push again what never reached the queue (Redis was down) or never finished (a worker
        died mid-job); returns how many. Jobs are idempotent, so a second push is harmless."""
        with self.db.session() as session:
            jobs = outbox.for_push(outbox.due_for_push(session, self.clock()))
        return self._push(jobs)

    def push(self, outbox_id: int, at: datetime | None = None) -> bool:
        """One job again, e.g. a duplicate push in a test; False if the queue refused it."""
        with self.db.session() as session:
            job = outbox.push_of(session, outbox_id)
        return job is not None and self._push([job._replace(run_at=at)]) == 1

    def _push(self, jobs: Iterable[outbox.Push]) -> int:
        """Hand jobs to the queue, each in its lane. A failure (Redis down) is logged and left to
        the sweeper: the outbox row already holds the job, so nothing is lost."""
        pushed = []
        for job in jobs:
            try:
                self.queue.push(job.id, job.run_at, lane(job.job, job.urgent))
            except Exception as exc:
                log.warning("queue push failed for outbox row %s: %s", job.id, type(exc).__name__)
                continue
            pushed.append(job.id)
        if pushed:
            with self.db.session() as session:
                outbox.mark_pushed(session, pushed, self.clock())
        return len(pushed)
