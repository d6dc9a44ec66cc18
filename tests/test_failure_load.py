"""The failure suite, under load: the same MessageSid twenty times at once, one sender's
messages at once, and Redis stopped during 200 submissions. On SQLite by default; on the real
PostgreSQL and Redis in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from bot.jobs.queue import LANES, RQQueue
from storage.models import Case, CaseEvent, Conversation, Message, Outbox
from tests.conftest import post_signed, replies, twilio_form
from tests.test_duty import roster  # noqa: F401  (a fixture)


def _at_once(calls: list) -> list:  # type: ignore[type-arg]
    """Run the calls in threads released together; their results in order."""
    results: list = [None] * len(calls)  # type: ignore[type-arg]
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_the_same_message_sid_twenty_times_at_once_is_one_step(app, hotline) -> None:
    form = twilio_form("+6281234500001", "halo")
    answers = _at_once([lambda: post_signed(app.test_client(), form) for _ in range(20)])
    assert {r.status_code for r in answers} == {200}
    assert len({tuple(replies(r)) for r in answers}) == 1  # every retry gets the same reply
    with hotline.db.session() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 1
        assert s.scalars(select(Conversation)).one().turn == 1


def test_one_senders_messages_at_once_lose_and_double_no_step(app, hotline) -> None:
    number = "+6281234500002"
    post_signed(app.test_client(), twilio_form(number, "halo"))
    forms = [twilio_form(number, text) for text in ("iya", "tes", "1", "2", "ok", "halo", "ya", "3")]
    answers = _at_once([lambda f=f: post_signed(app.test_client(), f) for f in forms])
    assert {r.status_code for r in answers} == {200}
    with hotline.db.session() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 9
        assert s.scalars(select(Conversation)).one().turn == 9  # each message one step


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_redis() -> Iterator[tuple[Redis, list[str], list[subprocess.Popen[bytes]]]]:
    """A redis-server of this test's own, which it may stop and start again."""
    server = shutil.which("redis-server")
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing on CI")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    connection = Redis(port=port, socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 0))
    for _ in range(100):
        try:
            connection.ping()
            break
        except Exception:
            time.sleep(0.05)
    holder = [process]
    try:
        yield connection, command, holder
    finally:
        for p in holder:
            p.kill()
            p.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.usefixtures("roster")
def test_redis_stopped_during_200_submissions_offers_each_case_once(app, hotline, own_redis) -> None:
    connection, command, holder = own_redis
    hotline.queue = RQQueue(connection)
    client = app.test_client()

    def submit(n: int) -> None:  # TELEPON: safety, consent, then a case at once
        number = f"+62812355{n:05d}"
        for body in ("telepon", "ya", "ya"):
            response = post_signed(client, twilio_form(number, body))
            assert response.status_code == 200

    for n in range(100):
        submit(n)
    holder[0].kill()  # Redis goes away: pushes fail, the outbox keeps every job
    holder[0].wait(timeout=10)
    for n in range(100, 200):
        submit(n)
    holder[0] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            connection.ping()
            break
        except Exception:
            time.sleep(0.05)
    hotline.clock = lambda: datetime.now(UTC) + timedelta(minutes=2)  # past the sweeper's grace
    assert hotline.sweep() >= 100  # what never reached Redis (its data went with it too)
    with app.app_context():
        queues = [Queue(name, connection=connection) for name in LANES]
        SimpleWorker(queues, connection=connection).work(burst=True)
    with hotline.db.session() as s:
        assert s.scalar(select(func.count(Case.id))) == 200
        open_assign = select(func.count(Outbox.id)).where(
            Outbox.done_at.is_(None), Outbox.job == "assign_case"
        )
        assert s.scalar(open_assign) == 0
        offers = select(CaseEvent.case_id, func.count()).where(CaseEvent.kind == "offered")
        offered = s.execute(offers.group_by(CaseEvent.case_id)).all()
    assert len(offered) == 200 and {count for _, count in offered} == {1}  # each case offered once
