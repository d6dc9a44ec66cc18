"""The rq worker, with the scheduler for delayed jobs and the outbox sweeper.

REDIS_URL=redis://localhost:6379/0 python worker.py [--burst]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

from flask import Flask
from redis import Redis
from rq import Queue, Worker

from app import create_app
from bot.jobs import runner as jobs
from bot.jobs.queue import QUEUE_NAME

log = logging.getLogger("worker")


def make_worker(app: Flask, connection: Redis, worker_class: type[Worker] = Worker) -> Worker:
    hotline = app.extensions["hotline"]
    # rq forks a work horse per job: the child must not reuse the parent's pooled connections.
    os.register_at_fork(after_in_child=lambda: hotline.db.engine.dispose(close=False))
    return worker_class([Queue(QUEUE_NAME, connection=connection)], connection=connection)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Hotline KK job worker (rq)")
    parser.add_argument("--burst", action="store_true", help="run what is queued, then stop")
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
        make_worker(app, connection).work(with_scheduler=True, burst=args.burst)
    stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
