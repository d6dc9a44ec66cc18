"""Where outbox rows go after commit: rq queues on Redis, or a thread in this process.

Both run the same job, `bot.jobs.runner.run_outbox(outbox_id)`, which is idempotent; both take a time
for delayed jobs (deadline checks). Jobs go by lane, so that what someone is waiting for never waits
behind routine work: anything for an urgent case first, then messages to send, then the rest (new
assignments, deadline checks, erasure at Twilio). A worker takes the lanes in that order."""

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
QUEUE_NAME = "hotline"  # the routine lane; the one queue of releases before lanes, so still listened to
URGENT = "hotline-urgent"
SEND = "hotline-send"
LANES = (URGENT, SEND, QUEUE_NAME)  # in the order a worker takes them
SENDS = frozenset({"send_message", "send_fallback"})
RETRY_SECONDS = (10, 60, 300)  # a failed job (Twilio 429/5xx, a timeout) runs again after these


def lane(job: str, urgent: bool = False) -> str:
    """The lane of an outbox job: by its case's urgency, then by its name."""
    if urgent:
        return URGENT
    return SEND if job in SENDS else QUEUE_NAME


class JobQueue(Protocol):
    def push(self, outbox_id: int, at: datetime | None = None, lane: str = QUEUE_NAME) -> None: ...

    def waiting(self) -> int: ...  # jobs due, waiting for a worker (all lanes)

    def scheduled(self) -> int: ...  # jobs for later


class RQQueue:
    def __init__(self, connection) -> None:  # type: ignore[no-untyped-def]
        from rq import Queue

        self.queues = {name: Queue(name, connection=connection) for name in LANES}

    def push(self, outbox_id: int, at: datetime | None = None, lane: str = QUEUE_NAME) -> None:
        from rq import Retry

        # One rq job id per outbox row: a re-push by the sweeper replaces the job, and a copy left
        # in a list finds the row done.
        options = {
            "job_id": f"outbox-{outbox_id}",
            "retry": Retry(max=len(RETRY_SECONDS), interval=list(RETRY_SECONDS)),
        }
        queue = self.queues[lane]
        if at is not None and at > datetime.now(UTC):
            queue.enqueue_at(at, JOB, outbox_id, **options)
        else:
            queue.enqueue(JOB, outbox_id, **options)

    def waiting(self) -> int:
        """Jobs waiting for a worker, in all lanes."""
        return sum(int(q.count) for q in self.queues.values())

    def scheduled(self) -> int:
        """Jobs for later (deadline checks, retries, messages for a safe time), in all lanes."""
        return sum(int(q.scheduled_job_registry.get_job_count(cleanup=False)) for q in self.queues.values())


class LocalQueue:
    """In-process jobs for the embedded defaults: one daemon thread, delayed jobs included, due
    jobs taken lane by lane as a worker takes rq's queues."""

    def __init__(self, run: Callable[[int], None], retry_seconds: tuple[float, ...] = RETRY_SECONDS) -> None:
        self._run = run
        self._retry = retry_seconds
        self._heap: list[tuple[float, int, int, int, str]] = []  # (when, seq, outbox id, tries, lane)
        self._due: list[tuple[int, int, int, int, str]] = []  # (lane's rank, seq, outbox id, tries, lane)
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = 0

    def push(
        self, outbox_id: int, at: datetime | None = None, lane: str = QUEUE_NAME, tries: int = 0
    ) -> None:
        when = at.timestamp() if at else time.time()
        with self._cv:
            heapq.heappush(self._heap, (when, next(self._seq), outbox_id, tries, lane))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="hotline-jobs", daemon=True)
                self._thread.start()
            self._cv.notify()

    def waiting(self) -> int:
        """Jobs due now: taken from the heap by lane, or still in it past their time."""
        with self._cv:
            now = time.time()
            return len(self._due) + sum(1 for entry in self._heap if entry[0] <= now)

    def scheduled(self) -> int:
        with self._cv:
            now = time.time()
            return sum(1 for entry in self._heap if entry[0] > now)

    def _next(self) -> tuple[int, int, str]:
        """The next job to run (waits for one): due ones by lane, then by arrival. Holds the lock."""
        while True:
            now = time.time()
            while self._heap and self._heap[0][0] <= now:
                _, seq, outbox_id, tries, lane = heapq.heappop(self._heap)
                heapq.heappush(self._due, (LANES.index(lane), seq, outbox_id, tries, lane))
            if self._due:
                _, _, outbox_id, tries, lane = heapq.heappop(self._due)
                return outbox_id, tries, lane
            self._cv.wait(timeout=(self._heap[0][0] - now) if self._heap else None)

    def _loop(self) -> None:
        while True:
            with self._cv:
                outbox_id, tries, lane = self._next()
                self._running += 1
            try:
                self._run(outbox_id)
            except Exception as exc:  # like rq's Retry; after the last try the sweeper has it
                log.warning("job for outbox row %s failed: %s", outbox_id, type(exc).__name__)
                if tries < len(self._retry):
                    at = datetime.fromtimestamp(time.time() + self._retry[tries], UTC)
                    self.push(outbox_id, at, lane, tries + 1)
            finally:
                with self._cv:
                    self._running -= 1

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until every job due now has run (tests, `hotline chat`)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._cv:
                if not self._running and not self._due and not any(e[0] <= time.time() for e in self._heap):
                    return
            time.sleep(0.01)
