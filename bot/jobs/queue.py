"""Where outbox rows go after commit: an rq queue on Redis, or a thread in this process.

Both run the same job, `bot.jobs.runner.run_outbox(outbox_id)`, which is idempotent; both take a time
for delayed jobs (deadline checks)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

log = logging.getLogger(__name__)

JOB = "bot.jobs.runner.run_outbox"
QUEUE_NAME = "hotline"
RETRY_SECONDS = (10, 60, 300)  # a failed job (Twilio 429/5xx, a timeout) runs again after these


class JobQueue(Protocol):
    def push(self, outbox_id: int, at: datetime | None = None) -> None: ...


class RQQueue:
    def __init__(self, connection, name: str = QUEUE_NAME) -> None:  # type: ignore[no-untyped-def]
        from rq import Queue

        self.queue = Queue(name, connection=connection)

    def push(self, outbox_id: int, at: datetime | None = None) -> None:
        from rq import Retry

        # One rq job id per outbox row: a re-push by the sweeper replaces, never duplicates.
        options = {
            "job_id": f"outbox-{outbox_id}",
            "retry": Retry(max=len(RETRY_SECONDS), interval=list(RETRY_SECONDS)),
        }
        if at is not None and at > datetime.now(UTC):
            self.queue.enqueue_at(at, JOB, outbox_id, **options)
        else:
            self.queue.enqueue(JOB, outbox_id, **options)


class LocalQueue:
    """In-process jobs for the embedded defaults: one daemon thread, delayed jobs included."""

    def __init__(self, run: Callable[[int], None], retry_seconds: tuple[float, ...] = RETRY_SECONDS) -> None:
        self._run = run
        self._retry = retry_seconds
        self._heap: list[tuple[float, int, int, int]] = []  # (when, seq, outbox id, tries so far)
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = 0

    def push(self, outbox_id: int, at: datetime | None = None, tries: int = 0) -> None:
        when = at.timestamp() if at else time.time()
        with self._cv:
            heapq.heappush(self._heap, (when, next(self._seq), outbox_id, tries))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hotline-jobs", daemon=True)
                self._thread.start()
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._heap or self._heap[0][0] > time.time():
                    self._cv.wait(timeout=(self._heap[0][0] - time.time()) if self._heap else None)
                _, _, outbox_id, tries = heapq.heappop(self._heap)
                self._running += 1
            try:
                self._run(outbox_id)
            except Exception as exc:  # like rq's Retry; after the last try the sweeper has it
                log.warning("job for outbox row %s failed: %s", outbox_id, type(exc).__name__)
                if tries < len(self._retry):
                    self.push(
                        outbox_id, datetime.fromtimestamp(time.time() + self._retry[tries], UTC), tries + 1
                    )
            finally:
                with self._cv:
                    self._running -= 1

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every job due now has run (tests, `hotline chat`)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._cv:
                if not self._running and not any(e[0] <= time.time() for e in self._heap):
                    return
            time.sleep(0.01)
