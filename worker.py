"""The rq worker: jobs run in the worker's own process (rq's SimpleWorker, no fork per job), lane
by lane (urgent, then sends, then routine work), with the scheduler for delayed jobs and the
outbox sweeper.

REDIS_URL=redis://localhost:6379/0 python worker.py [--workers N] [--burst]

With --workers N above 1, rq's worker pool forks N such workers once, at start, and starts a new
one if one dies; the pool's own process runs the sweeper. SIGTERM: the job in hand finishes,
then the worker (every worker of the pool) stops.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue, SimpleWorker
from rq.worker import BaseWorker

from app import create_app
from bot.jobs import runner as jobs
from bot.jobs.queue import LANES

log = logging.getLogger("worker")


class HotlineWorker(SimpleWorker):
    """A SimpleWorker whose every job runs inside the app's context, a fresh one per job."""

    app: Flask

    def execute_job(self, job: Any, queue: Queue) -> None:
        with self.app.app_context():
            super().execute_job(job, queue)


def worker_class(app: Flask, base: type[BaseWorker] = HotlineWorker) -> type[BaseWorker]:
    """`base` bound to this app; any other rq worker class (the forking `Worker`) as it is, its
    jobs in the context it was started in."""
    if issubclass(base, HotlineWorker):
        return type(base.__name__, (base,), {"app": app})
    return base


def after_fork(app: Flask) -> None:
    """A forked process (a worker of the pool, rq's scheduler, a forking work horse) opens
    connections of its own: the parent's pooled ones stay the parent's."""
    hotline = app.extensions["hotline"]
    os.register_at_fork(after_in_child=lambda: hotline.db.engine.dispose(close=False))


def make_worker(app: Flask, connection: Redis, kind: type[BaseWorker] = HotlineWorker) -> BaseWorker:
    """One worker on every lane, in order (the old single queue "hotline" is the routine lane)."""
    after_fork(app)
    queues = [Queue(name, connection=connection) for name in LANES]
    return worker_class(app, kind)(queues, connection=connection)


def run_pool(app: Flask, connection: Redis, workers: int, burst: bool) -> None:
    from rq.worker_pool import WorkerPool

    after_fork(app)
    pool = WorkerPool(list(LANES), connection=connection, num_workers=workers, worker_class=worker_class(app))
    pool.start(burst=burst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hotline KK job worker (rq)")
    parser.add_argument("--burst", action="store_true", help="run what is queued, then stop")
    parser.add_argument("--workers", type=int, default=1, help="workers in a pool (default 1: this process)")
    args = parser.parse_args(argv)
    app = create_app()
    url = app.config.get("REDIS_URL")
    if not url:
        print("worker.py needs REDIS_URL; without it `hotline serve` runs jobs itself.", file=sys.stderr)
        return 2
    connection = Redis.from_url(url)
    stop = threading.Event()
    threading.Thread(target=jobs.sweep_forever, args=(app, stop), daemon=True).start()
    with app.app_context():
        jobs.sweep(app.extensions["hotline"])  # whatever a previous outage left behind
        jobs.replay_spool(app)
    # rq handles SIGTERM itself: the current job finishes, then the worker stops.
    if args.workers > 1:
        run_pool(app, connection, args.workers, args.burst)
    else:
        make_worker(app, connection).work(with_scheduler=True, burst=args.burst)
    stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
