"""worker.py's rq worker runs the queued jobs: a forking Worker on real Redis, else SimpleWorker."""

from __future__ import annotations

import fakeredis
from rq import SimpleWorker, Worker
from sqlalchemy import select

import worker
from storage.models import CaseEvent, Outbox
from tests.conftest import Resident


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
