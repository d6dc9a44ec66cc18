"""The failure suite: the worker SIGKILLed mid-send, 50 times. Every queued message is created
at Twilio exactly once (nothing lost, nothing twice) and none is left "handing" or "pending"
once the reconciler and the sweeper have run.

Real processes: `python worker.py` (rq's SimpleWorker running each job in its own process, its
scheduler and the sweeper), three at a time as in production, on a redis-server of its own and a
PostgreSQL database of its own on the machine's server, sending through the real twilio client
to a slow fake of Twilio's API behind a slow loopback hop (a kill on the way loses the request;
one at Twilio does not).
The shared database `test` and Redis db 15 are never touched, nor the working tree's instance
folder. Without redis-server or PostgreSQL these tests are skipped, except under CI=true,
where they fail. HOTLINE_FAILURE_SEED=<n> fixes the random choices (kill moments, the pauses)."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import KEYS, create_app
from bot.jobs import sending
from sitefiles.sites import read_sites
from storage.delivery import HANDING_BOUND
from storage.models import Contact, Member, Message, Outbox, Site
from storage.queries import queue_message
from storage.sites import load_sites
from tests.conftest import MSB_NUMBER, PRE_NUMBER, ROOT
from tests.fake_twilio import FakeTwilio

pytestmark = pytest.mark.slow
PUBLIC = "https://hotline.test"
MESSAGES = 80  # queued sends; the kills land while they go out
KILLS = 50
WORKERS = 3  # killed in turn: three starting at once keep two cores busy
SEED = int(os.environ.get("HOTLINE_FAILURE_SEED") or time.time_ns() % 1_000_000)


# -- services of our own: a redis-server, a PostgreSQL database ------------------------------------


def required(reason: str) -> None:
    """Skip without the service, except on CI, where a missing service fails the test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, nothing saved, stopped at the end."""
    server = shutil.which("redis-server")
    if not server:
        required("redis-server is not installed")
    from redis import Redis

    for _ in range(3):  # a port taken between our bind and the server's: try another
        port = free_port()
        log = (tmp_path / f"redis-{port}.log").open("wb")
        proc = subprocess.Popen(
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        conn = Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        up = False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(Exception):
                up = bool(conn.ping())
            if up:
                break
            time.sleep(0.05)
        conn.close()
        if up:
            break
        stop(proc)
        log.close()
    else:
        pytest.fail("our redis-server did not start")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        stop(proc)
        log.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of our own (hk_<random>) on the machine's PostgreSQL server, dropped at the end.
    The server is HOTLINE_TEST_DATABASE_URL's when set (never its database), else 127.0.0.1:5432."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("HOTLINE_TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/x")
    base = base.set(drivername="postgresql")
    admin_url = base.set(database="postgres").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(admin_url, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        required(f"PostgreSQL is not reachable at {base.host}:{base.port or 5432} ({type(exc).__name__})")
    name = f"hk_{uuid.uuid4().hex[:12]}"
    try:
        admin.execute(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a SIGKILLed worker's connections may not have been noticed by the server yet
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# -- processes -------------------------------------------------------------------------------------


def check_platform() -> None:
    if not Path("/proc/self/stat").exists():
        required("the worker's processes are found through /proc (Linux)")


def session_processes(leader: int) -> dict[int, int]:
    """Live processes of the session `leader` started (start_new_session=True), with their
    process groups: the worker, its scheduler, the workers of a pool, and the work horses of a
    forking rq Worker, which rq puts in process groups of their own (setpgrp), out of reach of a
    killpg of the worker's group."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, session, ...
        if fields[0] != "Z" and int(fields[3]) == leader:
            found[int(entry)] = int(fields[2])
    return found


def session_pids(leader: int) -> list[int]:
    return list(session_processes(leader))


def rq_state(worker: int, redis: Any) -> str | None:
    """What this worker.py's rq worker (the process itself, or a worker of its pool) says in its
    registration in Redis: "busy" in a job (a SimpleWorker runs it in its own process), "idle",
    or None before it is up. One round trip; /proc read only for the worker's children."""
    from rq import Worker

    pids = {worker, *children(worker)}
    keys = list(Worker.all_keys(connection=redis))
    with redis.pipeline() as pipe:
        for key in keys:
            pipe.hmget(key, "pid", "state")
        found = [(int(pid), state.decode()) for pid, state in pipe.execute() if pid and state]
    states = {state for pid, state in found if pid in pids}
    return "busy" if "busy" in states else next(iter(states), None)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


def kill_all(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and everything it started (a pool's workers, its scheduler)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)  # first: a pool starts no new worker after this
    for _ in range(100):
        pids = session_pids(proc.pid)
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def stop(*procs: subprocess.Popen[bytes] | None, grace: float = 0.0) -> None:
    """SIGTERM and up to `grace` seconds to finish (rq: the job in hand first), then SIGKILL for
    whatever is left."""
    live = [p for p in procs if p is not None]
    if grace:
        for proc in live:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
    for proc in live:
        kill_all(proc)


def hotline_env(**config: str) -> dict[str, str]:
    """This environment without any of the app's own keys, plus ours."""
    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.startswith("HOTLINE_")}
    return env | {"PYTHONUNBUFFERED": "1"} | config


def instance_home(tmp_path: Path) -> Path:
    """A folder for our processes, so that their Flask instance folder (the inbound spool's disk
    folder, the secret key) is ours and not the working tree's `instance/`, which other test
    runs and servers use: `app` is imported from a link to app.py here (Flask places the instance
    folder beside the module as imported), and worker.py is run as __main__ by a launcher here."""
    home = tmp_path / "proc"
    if home.exists():  # made once: a worker starting now may be reading the launcher
        return home
    work = tmp_path / ".proc"
    work.mkdir()
    (work / "app.py").symlink_to(ROOT / "app.py")
    (work / "run_worker.py").write_text(
        "import runpy, sys\n"
        f"sys.argv[0] = {str(ROOT / 'worker.py')!r}\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')  # python worker.py, our instance folder\n"
    )
    work.rename(home)
    return home


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python worker.py` in a session of its own (so all it starts can be killed)."""
    home = instance_home(log.parent)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, str(home / "run_worker.py")],
            env=env, cwd=home, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- the app -----------------------------------------------------------------------------------------


class SlowTwilio(FakeTwilio):
    """The fake, slow over every create: a pause before it has the message (a kill then means
    Twilio never got it... or got it after all, once the request was read) and one after (a kill
    then means Twilio has it and our worker never heard). `busy` counts creates in hand."""

    def __init__(self, seed: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.before = self.after = (0.0, 0.0)
        self.busy = 0
        self._rng = random.Random(seed)

    def pause(self, before: tuple[float, float], after: tuple[float, float]) -> None:
        self.before, self.after = before, after

    def _answer(self, method: str, *args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        if method != "POST":
            return super()._answer(method, *args, **kwargs)
        with self._lock:
            self.busy += 1
            before, after = self._rng.uniform(*self.before), self._rng.uniform(*self.after)
        try:
            self._stopping.wait(before)
            status, payload = super()._answer(method, *args, **kwargs)
            if status < 300:
                self._stopping.wait(after)
            return status, payload
        finally:
            with self._lock:
                self.busy -= 1

    def idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.busy


class Transit:
    """A loopback hop in front of the fake: each create waits here a moment before it reaches
    Twilio, and a worker killed meanwhile (its connection closed) never gets it there. One
    request per connection (the fake answers HTTP/1.0 and closes), relayed as is."""

    def __init__(self, upstream: str, seed: int) -> None:
        self.upstream = upstream.removeprefix("http://")
        self.delay = (0.0, 0.0)
        self.busy = self.dropped = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, name="transit", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> Transit:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.02)
        return not self.busy

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        with self._lock:
            self.busy += 1
        try:
            with client:
                client.settimeout(5)
                request = _read_request(client)
                if request is None:
                    return
                if request.startswith(b"POST ") and not self._wait(client):
                    with self._lock:
                        self.dropped += 1  # the worker died on the way: Twilio never saw it
                    return
                host, port = self.upstream.split(":")
                with socket.create_connection((host, int(port)), timeout=15) as up:
                    up.sendall(request)
                    while chunk := up.recv(65536):
                        with contextlib.suppress(OSError):
                            client.sendall(chunk)
        except OSError:
            pass
        finally:
            with self._lock:
                self.busy -= 1

    def _wait(self, client: socket.socket) -> bool:
        """The pause in transit; False if the client hung up meanwhile."""
        with self._lock:
            end = time.monotonic() + self._rng.uniform(*self.delay)
        try:
            while (left := end - time.monotonic()) > 0 and not self._stopping.is_set():
                client.settimeout(left)
                try:
                    if not client.recv(1, socket.MSG_PEEK):
                        return False  # closed
                except TimeoutError:
                    continue
                time.sleep(max(end - time.monotonic(), 0))  # more bytes than one request: not ours to judge
        except OSError:
            return False  # reset
        finally:
            client.settimeout(5)
        return True


def _read_request(client: socket.socket) -> bytes | None:
    """One whole HTTP request (headers and Content-Length body), or None if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def config_for(database_url: str, redis_url: str, fake: FakeTwilio, api_url: str = "") -> dict[str, str]:
    """What worker.py and gunicorn read from the environment, and create_app from a dict."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_API_URL": api_url or fake.url,
        "PUBLIC_URL": PUBLIC,
        "HOTLINE_TRANSPORT": "twilio",
        "SECRET_KEY": "failure-suite-" + "k" * 32,
    }


def make_app(config: dict[str, str], tmp_path: Path) -> Flask:
    """The app in this process (on the same database and Redis as the processes), migrated, with
    the shipped sites on test numbers."""
    app = create_app({"TESTING": True, **config})
    app.instance_path = str(tmp_path)
    app.extensions["hotline_spool"].directory = tmp_path / "spool"  # not the working tree's
    load_test_sites(app)
    return app


def load_test_sites(app: Flask) -> None:
    """Migrate, and load the shipped sites on the test numbers (as tests/conftest.py does)."""
    hotline = app.extensions["hotline"]
    hotline.db.upgrade()
    numbers = {"PRE": (PRE_NUMBER, f"whatsapp:{PRE_NUMBER}"), "MSB": (MSB_NUMBER,)}
    specs = [dataclasses.replace(s, numbers=numbers[s.prefix]) for s in read_sites(ROOT / "sites.toml")]
    with hotline.db.session() as session:
        load_sites(session, specs)


@pytest.fixture
def slow_twilio() -> Iterator[SlowTwilio]:
    fake = SlowTwilio(SEED).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def transit(slow_twilio: SlowTwilio) -> Iterator[Transit]:
    hop = Transit(slow_twilio.url, SEED + 1).start()
    try:
        yield hop
    finally:
        hop.stop()


def recipients(hotline) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Three members by SMS and three residents on WhatsApp (who wrote an hour ago: inside the
    24-hour window), as queue_message links them."""
    now = datetime.now(UTC)
    out: list[dict[str, Any]] = []
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        for n in range(3):
            member = Member(site_id=site.id, name=f"Anggota {n}", phone=f"+62811777000{n}", channel="sms")
            contact = Contact(
                phone=f"+62812777000{n}", channel="whatsapp", last_inbound_at=now - timedelta(hours=1)
            )
            s.add_all([member, contact])
            s.flush()
            out.append({"address": member.phone, "member_id": member.id, "party": "bot", "site_id": site.id})
            out.append({"address": f"whatsapp:{contact.phone}", "contact_id": contact.id, "party": "bot",
                        "site_id": site.id})  # fmt: skip
    return out


def statuses(hotline) -> collections.Counter[str]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        rows = s.execute(
            select(Message.status, func.count()).where(Message.direction == "out").group_by(Message.status)
        )
        return collections.Counter({status: n for status, n in rows})


def finished(hotline) -> bool:  # type: ignore[no-untyped-def]
    """Nothing pending or handing, and no job open: what is left is for the sweeper, not us."""
    counts = statuses(hotline)
    with hotline.db.session() as s:
        open_jobs = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None)))
    return not (counts["pending"] or counts["handing"] or open_jobs)


def age_handing(hotline) -> int:  # type: ignore[no-untyped-def]
    """What waiting out the reconciler's bound does to the messages a dead worker left handing
    (no worker is running now): their claim is older than HANDING_BOUND. The hotline's clock is
    not moved instead: the reconciler dates the send jobs it queues again by that clock, and rq
    would hold them until then."""
    with hotline.db.session() as s:
        stuck = s.scalars(select(Message).where(Message.status == "handing")).all()
        for msg in stuck:
            msg.sent_at -= HANDING_BOUND + timedelta(minutes=1)
        return len(stuck)


def sweep_now(hotline) -> int:  # type: ignore[no-untyped-def]
    """The sweeper as it would run once the 45-second bound has passed for every open job."""
    hotline.clock = lambda: datetime.now(UTC) + timedelta(minutes=3)
    try:
        return int(hotline.sweep())
    finally:
        hotline.clock = lambda: datetime.now(UTC)


def test_the_worker_killed_fifty_times_mid_send_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, redis_url: str, pg_url: str, slow_twilio: SlowTwilio, transit: Transit
) -> None:
    check_platform()
    fake = slow_twilio
    config = config_for(pg_url, redis_url, fake, api_url=transit.url)
    app = make_app(config, tmp_path)
    hotline = app.extensions["hotline"]
    env = hotline_env(**config)
    rng = random.Random(SEED)
    started = time.monotonic()
    from redis import Redis

    redis = Redis.from_url(redis_url)  # asked, every few milliseconds, whether a worker is in a job

    to = recipients(hotline)
    bodies = [f"Pesan uji {n:03d}-{uuid.uuid4().hex[:6]}" for n in range(MESSAGES)]
    now = datetime.now(UTC)
    with hotline.work() as session:  # pushed to our Redis once committed
        for n, body in enumerate(bodies):
            queue_message(session, body=body, now=now, **to[n % len(to)])

    # Slow: about a second a send, a third of it on the way, the rest at Twilio before and after
    # it has the message. A kill on the way loses the request; one at Twilio does not.
    transit.delay = (0.05, 0.6)
    fake.pause(before=(0.05, 0.4), after=(0.05, 0.3))
    slots = range(WORKERS)
    logs = [tmp_path / f"worker-{slot}.log" for slot in slots]
    workers: list[subprocess.Popen[bytes] | None] = [None for _ in slots]
    kill_at = [0.0 for _ in slots]
    strike: list[float | None] = [None for _ in slots]
    kills = kills_in_job = 0
    try:
        # Several workers, as in production. Each is SIGKILLed, with all it started, at a random
        # moment of a job (a random while after it is up: it needs ~1.5 s to start), or of its
        # idling if no job comes, and started again at once, until 50 kills.
        for slot in slots:
            workers[slot] = start_worker(env, logs[slot])
            kill_at[slot] = time.monotonic() + rng.uniform(1.0, 2.0) + slot * 0.7
        deadline = time.monotonic() + 240
        while kills < KILLS and time.monotonic() < deadline:
            time.sleep(0.02)
            for slot in slots:
                proc = workers[slot]
                assert proc is not None
                if proc.poll() is not None:
                    pytest.fail(f"worker.py exited by itself ({proc.returncode}):\n{tail(logs[slot])}")
                now = time.monotonic()
                if now < kill_at[slot] or kills >= KILLS:
                    continue
                if strike[slot] is None:
                    # idle: 3 s after it is up (a loaded machine starts it slowly), 10 s at most
                    state = rq_state(proc.pid, redis)
                    idle_for = 3.0 if state else 10.0
                    if (busy := state == "busy") or now > kill_at[slot] + idle_for:
                        # a send takes about a second, longer on a loaded machine
                        strike[slot] = now + (rng.uniform(0.1, 1.5) if busy else 0.0)
                    continue
                if now < (strike[slot] or 0.0):
                    continue
                busy = rq_state(proc.pid, redis) == "busy"
                if busy and not (transit.busy or fake.busy) and now < (strike[slot] or 0.0) + 5.0:
                    continue  # in a job but no create on its way yet (a loaded machine): wait for one
                kills_in_job += busy
                kill_all(proc)
                kills += 1
                workers[slot] = start_worker(env, logs[slot])
                kill_at[slot], strike[slot] = time.monotonic() + rng.uniform(1.0, 2.0), None
        assert kills == KILLS, f"only {kills} kills in time"
        killing_took = time.monotonic() - started
        sent_while_killing = len(fake.created)
        stop(*workers, grace=15)  # the survivors stop the rq way: the job in hand finishes first
        workers = [None for _ in slots]

        # Then the reconciler and the sweeper, and workers to finish the work, until all is sent.
        transit.delay = (0.0, 0.0)
        fake.pause(before=(0.0, 0.02), after=(0.0, 0.0))
        # A send takes seconds, well inside the reconciler's two minutes: what a killed worker
        # had on its way has arrived or been dropped before we look.
        assert transit.idle() and fake.idle(), "a create still in hand"
        handing = found = resent = 0
        for _round in range(5):
            aged = age_handing(hotline)
            handing += aged
            if aged:
                before = statuses(hotline)
                sending.reconcile(hotline)
                after = statuses(hotline)
                found += after["accepted"] - before["accepted"]
                resent += after["pending"] - before["pending"]
            sweep_now(hotline)
            if finished(hotline):
                break
            workers = [start_worker(env, logs[slot]) for slot in slots]
            limit = time.monotonic() + 40
            while time.monotonic() < limit and not finished(hotline):
                time.sleep(0.2)
            stop(*workers, grace=15)
            workers = [None for _ in slots]
        assert transit.idle() and fake.idle()
    finally:
        stop(*workers)
        redis.close()

    created = collections.Counter(m["body"] for m in fake.created)
    posted = collections.Counter(r.form.get("Body") for r in fake.requests if r.method == "POST")
    lost = [b for b in bodies if created[b] == 0]
    twice = {b: n for b, n in created.items() if n > 1}
    counts = statuses(hotline)
    with hotline.db.session() as s:
        sids = dict(
            s.execute(select(Message.body, Message.provider_sid).where(Message.direction == "out")).all()
        )
        open_jobs = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.done_at.is_(None)))
    hotline.db.dispose()
    print(
        f"\nseed {SEED}: {MESSAGES} messages, {kills} kills ({kills_in_job} in a job) in "
        f"{killing_took:.0f} s, {sent_while_killing} created meanwhile, "
        f"{transit.dropped} creates lost on the way; {handing} left handing: {found} found at "
        f"Twilio, {resent} sent again; duplicates {len(twice)}, lost {len(lost)}; statuses "
        f"{dict(counts)}; {time.monotonic() - started:.0f} s in all"
    )
    assert not lost, f"lost: {lost}"
    assert not twice, f"created twice at Twilio: {twice}"
    assert set(created) == set(bodies) and all(posted[b] == 1 for b in bodies), posted
    assert counts == {"accepted": MESSAGES}, counts  # none handing, pending or failed
    assert {sids[b] for b in bodies} == {m["sid"] for m in fake.created}  # each recorded as Twilio's
    assert open_jobs == 0  # nothing left for the sweeper
    assert handing >= 5, "the kills should leave sends handing for the reconciler"
