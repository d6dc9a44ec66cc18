"""The rq worker, with the scheduler for delayed jobs and the outbox sweeper.

REDIS_URL=redis://localhost:6379/0 python worker.py
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from redis import Redis
from rq import Queue, Worker

from app import create_app
from bot import jobs
from bot.queue import QUEUE_NAME

SWEEP_SECONDS = 30
log = logging.getLogger("worker")


def _sweep_forever(app, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    while not stop.wait(SWEEP_SECONDS):
        try:
            with app.app_context():
                if n := jobs.sweep(app.extensions["hotline"]):
                    log.info("sweeper pushed %d outbox rows again", n)
        except Exception as exc:  # Redis or the database away: try again next round
            log.warning("sweep failed: %s", type(exc).__name__)


def main() -> int:
    app = create_app()
    url = app.config.get("REDIS_URL")
    if not url:
        print(
            "worker.py needs REDIS_URL; without it jobs run inside `hotline serve`.",
            file=sys.stderr,
        )
        return 2
    hotline = app.extensions["hotline"]
    # rq forks a work horse per job: the child must not reuse the parent's pooled connections.
    os.register_at_fork(after_in_child=lambda: hotline.db.engine.dispose(close=False))
    connection = Redis.from_url(url)
    stop = threading.Event()
    threading.Thread(target=_sweep_forever, args=(app, stop), daemon=True).start()
    with app.app_context():
        worker = Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection)
        worker.work(with_scheduler=True)  # rq handles SIGTERM: finishes the job, then stops
    stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
