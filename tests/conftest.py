"""Fixtures: the app on SQLite + fakeredis by default, or on the real PostgreSQL and Redis named
by HOTLINE_TEST_DATABASE_URL / HOTLINE_TEST_REDIS_URL (then unreachable means fail, not skip)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fakeredis
import pytest
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from app import create_app
from bot.jobs.queue import LANES, RQQueue
from bot.jobs.transport import ConsoleTransport
from sitefiles.sites import read_sites
from storage.models import Base
from storage.sites import load_sites

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "test-auth-token"
PUBLIC_URL = "https://hotline.example.org"
PRE_NUMBER = "+6281100000001"
MSB_NUMBER = "+6281100000002"
PG_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL")
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


@pytest.fixture(scope="session")
def pg_ready() -> bool:
    """A clean schema on the real PostgreSQL, once per test session."""
    if not PG_URL:
        return False
    from storage.db import Database

    db = Database(PG_URL)
    with db.engine.begin() as conn:  # raises (fails the tests) if PostgreSQL is unreachable
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade()
    db.dispose()
    return True


@pytest.fixture
def database_url(tmp_path: Path, pg_ready: bool) -> Iterator[str]:
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    yield PG_URL
    from storage.db import Database

    db = Database(PG_URL)
    with db.engine.begin() as conn:
        names = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.dispose()


@pytest.fixture
def redis() -> Iterator[Redis]:
    if REDIS_URL:
        conn = Redis.from_url(REDIS_URL)
        conn.ping()  # fails the test if Redis is down
        conn.flushdb()
        yield conn
        conn.flushdb()
        conn.close()
    else:
        yield fakeredis.FakeRedis()


@pytest.fixture
def console() -> ConsoleTransport:
    return ConsoleTransport(stream=None)


@pytest.fixture
def app(database_url: str, redis: Redis, console: ConsoleTransport, tmp_path: Path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_URL": PUBLIC_URL,
            "HOTLINE_TRANSPORT": "console",
            "HOTLINE_CONSOLE": console,
            "HOTLINE_QUEUE": RQQueue(redis),
        }
    )
    hotline = app.extensions["hotline"]
    hotline.db.upgrade()
    specs = read_sites(ROOT / "sites.toml")
    numbers = {"PRE": (PRE_NUMBER, f"whatsapp:{PRE_NUMBER}"), "MSB": (MSB_NUMBER,)}
    specs = [dataclasses.replace(s, numbers=numbers[s.prefix]) for s in specs]
    with hotline.db.session() as session:
        load_sites(session, specs)
    yield app
    hotline.db.dispose()


@pytest.fixture
def hotline(app):
    return app.extensions["hotline"]


@pytest.fixture
def client(app):
    return app.test_client()


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(TOKEN).compute_signature(url, params)


def twilio_form(
    sender: str,
    body: str,
    *,
    to: str = PRE_NUMBER,
    whatsapp: bool = False,
    sid: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """A payload shaped like Twilio's own for SMS or WhatsApp."""
    prefix = "whatsapp:" if whatsapp else ""
    form = {
        "ToCountry": "ID",
        "SmsMessageSid": sid or new_sid(),
        "NumMedia": "0",
        "From": prefix + sender,
        "To": prefix + to,
        "Body": body,
        "NumSegments": "1",
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "SmsStatus": "received",
    }
    form["MessageSid"] = form["SmsMessageSid"]
    if whatsapp:
        form |= {"WaId": sender.lstrip("+"), "ProfileName": "Warga", "MessageType": "text"}
    form |= extra
    return form


def post_signed(client, form: dict[str, str], path: str = "/twilio/messages"):
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + path, form)}
    return client.post(path, data=form, headers=headers)


def replies(response) -> list[str]:
    assert response.status_code == 200, response.data
    root = ET.fromstring(response.data)
    return [m.text or "" for m in root.iter("Message")]


class Resident:
    """A person texting the hotline through the signed webhook, one turn at a time."""

    def __init__(self, client, number: str, *, to: str = PRE_NUMBER, whatsapp: bool = False):
        self.client, self.number, self.to, self.whatsapp = client, number, to, whatsapp
        self.last = ""

    def says(self, body: str, **extra: str) -> str:
        form = twilio_form(self.number, body, to=self.to, whatsapp=self.whatsapp, **extra)
        self.last = "\n".join(replies(post_signed(self.client, form)))
        return self.last

    def script(self, *turns: tuple[str, str]) -> None:
        """Each turn: what the resident sends, and a regex the reply must match."""
        for body, expected in turns:
            reply = self.says(body)
            assert re.search(expected, reply, re.I | re.S), f"after {body!r} got:\n{reply}"


@pytest.fixture
def resident(client):
    return Resident(client, "+6281234567890")


def work(app, redis, until: datetime | None = None, logging_level: str = "INFO") -> None:
    """Run every queued job with a real rq worker, in burst mode, and the scheduled ones due by
    `until` (default: the hotline's clock, which tests move by hand), as rq's scheduler would."""
    from rq import Queue
    from rq.job import Job

    queues = [Queue(name, connection=redis) for name in LANES]  # in the order worker.py takes them
    until = until or app.extensions["hotline"].clock()
    with app.app_context():
        while True:
            SimpleWorker(queues, connection=redis).work(burst=True, logging_level=logging_level)
            due = [
                (queue, job_id)
                for queue in queues
                for job_id in queue.scheduled_job_registry.get_jobs_to_schedule(int(until.timestamp()))
            ]
            if not due:
                return
            for queue, job_id in due:
                queue.scheduled_job_registry.remove(job_id)
                queue.enqueue_job(Job.fetch(job_id, connection=redis))


class Clock:
    """The hotline's clock, moved by hand: deadlines pass without waiting for them."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(hotline) -> Clock:
    hotline.clock = Clock()
    return hotline.clock
