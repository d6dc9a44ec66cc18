"""What one running hotline holds (database, job queue, transport, configuration, clock) and the
one unit of work every writer uses: a transaction whose outbox jobs are pushed after it commits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs.queue import JobQueue
from bot.jobs.transport import Transport
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)
TRUE = frozenset({"1", "true", "yes", "on"})


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
    def work(self) -> Iterator[Session]:
        """One unit of work: a transaction, committed on success and rolled back on any error.
        The outbox rows it added (messages to send, deadline checks) are pushed to the queue only
        once it has committed, so a job never runs against data that is not there yet, and a
        rolled-back change asks for nothing."""
        with self.db.session() as session:
            yield session
            jobs = [(row.id, row.run_at) for row in outbox.added(session)]
        self._push(jobs)

    def sweep(self) -> int:
        """Push again what never reached the queue (Redis was down) or never finished (a worker
        died mid-job); returns how many. Jobs are idempotent, so a second push is harmless."""
        with self.db.session() as session:
            jobs = [(row.id, row.run_at) for row in outbox.due_for_push(session, self.clock())]
        return self._push(jobs)

    def push(self, outbox_id: int, at: datetime | None = None) -> bool:
        """One job again, e.g. a duplicate push in a test; False if the queue refused it."""
        return self._push([(outbox_id, at)]) == 1

    def _push(self, jobs: Iterable[tuple[int, datetime | None]]) -> int:
        """Hand jobs to the queue. A failure (Redis down) is logged and left to the sweeper: the
        outbox row already holds the job, so nothing is lost."""
        pushed = []
        for outbox_id, run_at in jobs:
            try:
                self.queue.push(outbox_id, run_at)
            except Exception as exc:
                log.warning("queue push failed for outbox row %s: %s", outbox_id, type(exc).__name__)
                continue
            pushed.append(outbox_id)
        if pushed:
            with self.db.session() as session:
                outbox.mark_pushed(session, pushed, self.clock())
        return len(pushed)
