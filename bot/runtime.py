"""What one running hotline holds: its database, job queue and transport."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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

    def push(self, outbox_id: int, at: datetime | None = None) -> bool:
        """After commit: hand the job to the queue. A failure (Redis down) is logged and left
        to the sweeper; the outbox row already holds the job, so nothing is lost."""
        try:
            self.queue.push(outbox_id, at)
        except Exception as exc:
            log.warning("queue push failed for outbox row %s: %s", outbox_id, type(exc).__name__)
            return False
        with self.db.session() as session:
            outbox.mark_pushed(session, [outbox_id], self.clock())
        return True
