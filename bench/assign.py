"""Time from "case submitted" to "member message handed to the transport": in-process jobs, and
a real rq worker (worker.py in its own process) on Redis.

    .venv/bin/python -m bench.assign                              in-process, SQLite
    .venv/bin/python -m bench.assign redis://127.0.0.1:6379/14 [DATABASE_URL]

Both ends are read from the database: the case's created_at (the clock when the confirming
message came in) and the offer message's sent_at (when the send job handed it over).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import select, text

from app import create_app
from bot.domain import service
from bot.jobs.transport import ConsoleTransport
from sitefiles.members import read_members
from sitefiles.sites import read_sites
from storage import roster
from storage.models import Base, Case, Message
from storage.sites import load_sites

ROOT = Path(__file__).resolve().parent.parent
REPORT = ["halo", "ya", "ya", "6", "3", "1", "butuh kursi roda", "lompoe", "1", "3", "LEWATI", "1"]
REPORTS = 30
PAUSE = 0.5


def submit(hotline, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        sender = f"+62812{i:07d}"
        for body in REPORT:
            service.handle(hotline, service.Incoming(f"SM{uuid.uuid4().hex}", sender, "+62", "sms", body))
        time.sleep(PAUSE)  # reports one after another, not a burst: latency, not queueing


def latencies(hotline, n: int, timeout: float = 60) -> list[float]:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while True:
        with hotline.db.session() as s:
            rows = s.execute(
                select(Case.created_at, Message.sent_at)
                .join(Message, Message.case_id == Case.id)
                .where(Message.member_id.is_not(None), Message.sent_at.is_not(None))
            ).all()
        if len(rows) >= n or time.time() > deadline:
            return sorted((sent - created).total_seconds() * 1000 for created, sent in rows)
        time.sleep(0.1)


def report(label: str, ms: list[float]) -> None:
    p90 = ms[int(len(ms) * 0.9) - 1] if ms else float("nan")
    median = statistics.median(ms)
    print(f"{label:34} n={len(ms):3}  median {median:7.1f} ms  p90 {p90:7.1f} ms  max {max(ms):7.1f} ms")


def main() -> None:
    redis_url = sys.argv[1] if len(sys.argv) > 1 else None
    db_url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'assign.db'}"
    config = {
        "DATABASE_URL": db_url,
        "HOTLINE_CONSOLE": ConsoleTransport(stream=None),
        "TWILIO_AUTH_TOKEN": "",
    }
    if redis_url:
        config["REDIS_URL"] = redis_url
    app = create_app(config)
    app.logger.disabled = True
    hotline = app.extensions["hotline"]
    if db_url.startswith("postgres"):
        with hotline.db.engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    hotline.db.upgrade()
    with hotline.db.session() as s:
        load_sites(s, read_sites(ROOT / "sites.toml"))
        roster.load_members(s, read_members(ROOT / "members.toml", roster.known_sites(s)))
    worker = None
    if redis_url:
        from redis import Redis

        Redis.from_url(redis_url).flushdb()
        env = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": db_url, "HOTLINE_TRANSPORT": "console"}
        worker = subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(2)  # the worker is up and listening
    with app.app_context():
        submit(hotline, REPORTS)
        ms = latencies(hotline, REPORTS)
    if worker is not None:
        worker.terminate()  # SIGTERM: rq finishes the job in hand, then stops
        worker.wait(timeout=30)
    report("rq worker on Redis" if redis_url else "in-process jobs", ms)


if __name__ == "__main__":
    main()
