"""worker.py's rq worker runs the queued jobs: a forking Worker on real Redis, else SimpleWorker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import fakeredis
import pytest
from rq import SimpleWorker, Worker
from sqlalchemy import select

import worker
from sitefiles.members import read_members
from storage import roster
from storage.models import CaseEvent, Message, Outbox
from tests.conftest import REDIS_URL, ROOT, Resident


def test_worker_runs_the_assignment_job_once(app, hotline, redis, client) -> None:  # type: ignore[no-untyped-def]
    warga = Resident(client, "+6281299990000")
    for body in ("halo", "ya", "ya", "6", "3", "1", "butuh bantuan", "LEWATI", "3", "LEWATI", "1"):
        warga.says(body)
    kind = SimpleWorker if isinstance(redis, fakeredis.FakeRedis) else Worker
    with app.app_context():
        assert worker.make_worker(app, redis, kind).work(burst=True)
    with hotline.db.session() as s:
        [row] = s.scalars(select(Outbox)).all()
    assert row.done_at is not None and row.attempts == 1
    hotline.push(row.id)  # pushed again (the sweeper after a lost ack): nothing happens twice
    with app.app_context():
        worker.make_worker(app, redis, kind).work(burst=True)
    with hotline.db.session() as s:
        assert [e.kind for e in s.scalars(select(CaseEvent))] == ["submitted", "awaiting_member"]


def test_worker_refuses_to_start_without_redis(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    assert worker.main([]) == 2
    assert "REDIS_URL" in capsys.readouterr().err


@pytest.mark.skipif(not REDIS_URL, reason="worker.py in a process of its own needs a real Redis")
def test_worker_process_sends_the_offer_and_stops_on_sigterm(app, hotline, client, database_url) -> None:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        roster.load_members(s, read_members(ROOT / "members.toml", roster.known_sites(s)))
    warga = Resident(client, "+6281299990001")
    for body in ("halo", "ya", "ya", "6", "3", "1", "butuh kursi roda", "lompoe", "3", "LEWATI", "1"):
        warga.says(body)
    env = {**os.environ, "REDIS_URL": REDIS_URL, "DATABASE_URL": database_url, "HOTLINE_TRANSPORT": "console"}
    env["TWILIO_WA_TEMPLATE_SID"] = "HX" + "0" * 32  # the member never wrote: WhatsApp needs it
    env.pop("TWILIO_AUTH_TOKEN", None)
    proc = subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=env, cwd=ROOT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with hotline.db.session() as s:  # the offer, handed over by the worker process
                sent = s.scalars(
                    select(Message).where(Message.member_id.is_not(None), Message.sent_at.is_not(None))
                ).all()
            if sent:
                break
            time.sleep(0.2)
        assert sent and "TERIMA" in sent[0].body and sent[0].status == "accepted"
    finally:
        proc.send_signal(signal.SIGTERM)  # rq's warm shutdown: the job in hand finishes, then it stops
        assert proc.wait(timeout=20) == 0
