"""The failure suite: two app instances and two workers on one PostgreSQL and one Redis. One
resident's report alternates between the instances, message by message, while another sender's
burst hits both at once (some messages twice, once at each instance, as a Twilio retry would).
Every reply comes back in order, no 5xx, every message is stored once, the report ends as one
case, and the workers hand the member's offer to Twilio exactly once.

Real processes: two `gunicorn --workers 1 --threads 4 'app:create_app()'` on free loopback
ports and two `python worker.py`, on a redis-server and a PostgreSQL database of our own
(tests/test_failure_worker.py has the services), sending to the fake Twilio. Signed posts, as
Twilio signs them. Without redis-server or PostgreSQL these tests are skipped, except under
CI=true, where they fail."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from app import create_app
from bot.jobs.queue import LANES, RQQueue
from bot.jobs.transport import ConsoleTransport
from storage.models import Assignment, Case, Contact, Conversation, Message, Outbox
from tests.conftest import PRE_NUMBER, new_sid, twilio_form
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)
from tests.test_duty import REPORT, TAIL_MESSAGE, A, roster  # noqa: F401  (roster: a fixture)
from tests.test_failure_worker import (  # noqa: F401  (redis_url, pg_url: fixtures)
    PUBLIC,
    config_for,
    free_port,
    hotline_env,
    instance_home,
    load_test_sites,
    make_app,
    pg_url,
    redis_url,
    start_worker,
    stop,
    tail,
)

pytestmark = pytest.mark.slow
RESIDENT = "+6281234560001"
BURSTER = "+6281234560002"
BURST = 20  # messages from the second sender, all at once, half to each instance
TWICE = 5  # of them posted to both instances (the same MessageSid)
CODE = re.compile(r"PRE-[A-Z0-9]{5}")


@pytest.fixture
def app(tmp_path: Path, pg_url: str, redis_url: str, fake_twilio: FakeTwilio) -> Iterator[Flask]:
    """This process's view of the shared database (for the roster and the checks)."""
    app = make_app(config_for(pg_url, redis_url, fake_twilio), tmp_path)
    yield app
    app.extensions["hotline"].db.dispose()


@pytest.fixture
def hotline(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["hotline"]  # the roster fixture of test_duty loads its members here


def start_web(env: dict[str, str], home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--timeout", "30",
             "--bind", f"127.0.0.1:{port}", "app:create_app()"],
            env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_up(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited ({proc.returncode}):\n{tail(log)}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn at {base} did not answer:\n{tail(log)}")


def post(base: str, token: str, form: dict[str, str]) -> requests.Response:
    """A signed post, as Twilio makes it: signed over PUBLIC_URL + path, not the address we call."""
    signature = RequestValidator(token).compute_signature(f"{PUBLIC}/twilio/messages", form)
    return requests.post(
        f"{base}/twilio/messages", data=form, headers={"X-Twilio-Signature": signature}, timeout=30
    )


def replies(body: bytes) -> list[str]:
    return [m.text or "" for m in ET.fromstring(body).iter("Message")]


def normal(texts: list[str]) -> list[str]:
    return [CODE.sub("PRE-?????", t) for t in texts]


def expected_replies(tmp_path: Path, token: str) -> list[list[str]]:
    """The same report on one in-process instance (SQLite, nothing sent): the reply to each turn."""
    ref = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'reference.db'}",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": token,
            "PUBLIC_URL": PUBLIC,
            "HOTLINE_TRANSPORT": "console",
            "HOTLINE_CONSOLE": ConsoleTransport(stream=None),
            "HOTLINE_QUEUE": RQQueue(fakeredis.FakeRedis()),  # jobs wait there, never run
            "SECRET_KEY": "reference-" + "k" * 32,
        }
    )
    ref.extensions["hotline_spool"].directory = tmp_path / "reference-spool"
    load_test_sites(ref)
    client = ref.test_client()
    out = []
    for body in REPORT + TAIL_MESSAGE:
        form = twilio_form(RESIDENT, body)
        signature = RequestValidator(token).compute_signature(f"{PUBLIC}/twilio/messages", form)
        response = client.post("/twilio/messages", data=form, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
        out.append(normal(replies(response.data)))
    ref.extensions["hotline"].db.dispose()
    return out


def test_two_instances_and_two_workers_keep_one_conversation_in_order(
    tmp_path: Path,
    app: Flask,
    hotline,  # type: ignore[no-untyped-def]
    fake_twilio: FakeTwilio,
    roster: dict[str, int],
    pg_url: str,
    redis_url: str,
) -> None:
    started = time.monotonic()
    token = fake_twilio.auth_token
    expected = expected_replies(tmp_path, token)
    env = hotline_env(**config_for(pg_url, redis_url, fake_twilio))
    home = instance_home(tmp_path)
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    logs = [tmp_path / f"web-{n}.log" for n in (0, 1)] + [tmp_path / f"worker-{n}.log" for n in (0, 1)]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs += [start_web(env, home, port, log) for port, log in zip(ports, logs[:2], strict=True)]
        procs += [start_worker(env, log) for log in logs[2:]]
        for base, proc, log in zip(bases, procs[:2], logs[:2], strict=True):
            wait_up(base, proc, log)
        up = time.monotonic()

        # The burst: 20 messages from another sender at once, to both instances; 5 of them twice.
        burst_forms = [twilio_form(BURSTER, f"halo {n}", to=PRE_NUMBER, sid=new_sid()) for n in range(BURST)]
        sends = [(n % 2, form) for n, form in enumerate(burst_forms)]
        sends += [((n + 1) % 2, burst_forms[n]) for n in range(TWICE)]
        burst: list[tuple[str, int, list[str]]] = []
        lock = threading.Lock()
        go = threading.Event()

        def send(instance: int, form: dict[str, str]) -> None:
            go.wait(10)
            try:
                response = post(bases[instance], token, form)
                got = (form["MessageSid"], response.status_code, replies(response.content))
            except (requests.RequestException, ET.ParseError) as exc:
                got = (form["MessageSid"], -1, [repr(exc)])
            with lock:
                burst.append(got)

        threads = [threading.Thread(target=send, args=s, daemon=True) for s in sends]
        for t in threads:
            t.start()

        # The resident's report, one message after another, alternating between the instances.
        answers: list[tuple[int, list[str]]] = []
        sids = []
        for n, body in enumerate(REPORT + TAIL_MESSAGE):
            if n == 3:
                go.set()  # the burst lands in the middle of the report
            form = twilio_form(RESIDENT, body, to=PRE_NUMBER)
            sids.append(form["MessageSid"])
            response = post(bases[n % 2], token, form)
            answers.append((response.status_code, normal(replies(response.content)) if response.ok else []))
        go.set()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a burst post never came back"
        talked = time.monotonic()

        # The workers offer the case to the member on duty: one message to Twilio, once. Copies
        # of every job (as sweepers on both workers would push) change nothing.
        offers = wait_for(lambda: [m for m in fake_twilio.created if m["to"] == A], timeout=30)
        for row_id, run_at in outbox_rows(hotline):
            hotline.push(row_id, run_at)
            hotline.push(row_id, run_at)
        settled = wait_for(lambda: quiet(hotline, redis_url), timeout=30)
        time.sleep(1.0)  # anything still on its way would show now
        stop(*procs, grace=10)
    finally:
        stop(*procs)

    for log in logs[:2]:  # nothing went wrong on the way to those answers either
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and " ERROR " not in text, tail(log, 60)
    statuses = [status for status, _ in answers]
    assert statuses == [200] * len(answers), statuses  # no 5xx, nothing refused
    for n, ((_, got), want) in enumerate(zip(answers, expected, strict=True)):
        assert got == want, f"reply {n} to {(REPORT + TAIL_MESSAGE)[n]!r}:\n{got}\nexpected\n{want}"
    assert [status for _, status, _ in burst] == [200] * len(sends), burst
    by_sid = collections.defaultdict(list)
    for sid, _, texts in burst:
        by_sid[sid].append(texts)
    assert all(len(set(map(tuple, got))) == 1 for got in by_sid.values()), by_sid  # a retry: the same reply
    assert all(got[0] for got in by_sid.values()), by_sid  # every message answered

    with hotline.db.session() as s:
        inbound = collections.Counter(
            s.scalars(
                select(Message.sid).where(Message.direction == "in", Message.sid.in_(sids + list(by_sid)))
            )
        )
        resident = s.scalars(select(Contact).where(Contact.phone == RESIDENT)).one()
        cases = s.scalars(select(Case)).all()
        turns = dict(
            s.execute(
                select(Contact.phone, Conversation.turn).join(
                    Conversation, Conversation.contact_id == Contact.id
                )
            ).all()
        )
        offer_rows = s.scalars(select(Assignment)).all()
        offer_messages = s.scalars(select(Message).where(Message.member_id.is_not(None))).all()
    assert set(inbound) == set(sids) | set(by_sid) and set(inbound.values()) == {1}  # each stored once
    assert turns == {RESIDENT: len(REPORT + TAIL_MESSAGE), BURSTER: BURST}, turns  # each one step
    assert [c.contact_id for c in cases] == [resident.id]  # the report is one case
    [case] = cases
    short = case.code.split("-")[1]
    assert [(o.member_id, o.status) for o in offer_rows] == [(roster[A], "offered")]
    assert [(m.address, m.status) for m in offer_messages] == [(A, "accepted")]
    assert settled and open_jobs(hotline) == 0
    assert len(offers) == 1 and f"TERIMA {short}" in offers[0]["body"]
    creates = [r for r in fake_twilio.requests if r.method == "POST"]
    assert [(r.form["To"], r.form["Body"]) for r in creates] == [(A, offers[0]["body"])]  # nothing else, once
    print(
        f"\n{len(answers)} report messages alternating, {len(sends)} burst posts ({BURST} messages, "
        f"{TWICE} twice): all 200, replies in order; 1 case {case.code}; {len(creates)} create at "
        f"Twilio; up in {up - started:.1f} s, talk {talked - up:.1f} s, "
        f"{time.monotonic() - started:.1f} s in all"
    )


def wait_for(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    return check()


def outbox_rows(hotline) -> list[tuple[int, datetime]]:  # type: ignore[no-untyped-def]
    """Every job, with its time, as a sweeper pushes it (a deadline check waits for its time)."""
    with hotline.db.session() as s:
        return [(row.id, row.run_at) for row in s.scalars(select(Outbox).order_by(Outbox.id))]


def open_jobs(hotline) -> int:  # type: ignore[no-untyped-def]
    """Jobs due by now and not done (an offer's deadline check waits for its hour)."""
    with hotline.db.session() as s:
        due = (Outbox.done_at.is_(None)) & (Outbox.run_at <= datetime.now(UTC))
        return int(s.scalar(select(func.count()).select_from(Outbox).where(due)) or 0)


def quiet(hotline, url: str) -> bool:  # type: ignore[no-untyped-def]
    """Every job due done, and nothing queued or running in rq."""
    from redis import Redis
    from rq import Queue

    if open_jobs(hotline):
        return False
    conn = Redis.from_url(url)
    try:
        queues = [Queue(name, connection=conn) for name in LANES]
        return all(q.count == 0 and q.started_job_registry.count == 0 for q in queues)
    finally:
        conn.close()
