"""The failure suite: PostgreSQL restarted under load. Residents keep texting through a restart
of the database; nothing they sent is lost, nobody gets a 5xx, and the hotline serves again
without a restart of the app. Runs on a PostgreSQL cluster of its own (initdb in a temporary
folder, a free port): the machine's shared server is never stopped."""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from bot.jobs.runner import replay_spool
from sitefiles.sites import read_sites
from storage.models import Conversation, Message
from storage.sites import load_sites
from tests.conftest import MSB_NUMBER, PRE_NUMBER, PUBLIC_URL, ROOT, TOKEN, post_signed, twilio_form

pytestmark = pytest.mark.slow
RESIDENTS = [f"+62812340{n:05d}" for n in range(8)]
TURNS = ("halo", "iya", "setuju", "2", "1", "1", "lompoe", "1", "3", "LEWATI")  # a Bansos report


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    return found[-1] or None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> list[str]:
    """Run as the postgres user when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@pytest.fixture
def cluster() -> Iterator[tuple[str, Path, int]]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not (initdb and pg_ctl):
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL server binaries are missing on CI")
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # Not under pytest's own folder: the postgres user must be able to reach it.
    data = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = _free_port()
    subprocess.run(_as_postgres(initdb, "-D", str(data), "-A", "trust", "-U", "postgres"), check=True,
                   capture_output=True)  # fmt: skip
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = _as_postgres(pg_ctl, "-D", str(data), "-o", options, "-w", "-t", "30", "-l", str(data / "log"))
    subprocess.run([*start, "start"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield pg_ctl, data, port
    finally:
        stop = _as_postgres(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_a_postgresql_restart_under_load_loses_nothing(cluster, tmp_path: Path) -> None:
    pg_ctl, data, port = cluster
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/postgres",
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_URL": PUBLIC_URL,
            "HOTLINE_TRANSPORT": "console",
            "SECRET_KEY": "x" * 32,
        }
    )
    app.extensions["hotline_spool"].directory = tmp_path / "spool"  # not the working tree's
    hotline = app.extensions["hotline"]
    hotline.db.upgrade()
    numbers = {"PRE": (PRE_NUMBER,), "MSB": (MSB_NUMBER,)}
    specs = [dataclasses.replace(s, numbers=numbers[s.prefix]) for s in read_sites(ROOT / "sites.toml")]
    with hotline.db.session() as session:
        load_sites(session, specs)

    statuses: list[int] = []
    sids: list[str] = []
    spooled: list[bool] = []
    lock = threading.Lock()

    def resident(number: str) -> None:
        client = app.test_client()
        for body in TURNS:
            form = twilio_form(number, body)
            response = post_signed(client, form)
            with lock:
                statuses.append(response.status_code)
                sids.append(form["MessageSid"])
                spooled.append(response.status_code == 200 and b"<Message>" not in response.data)
            time.sleep(0.15)

    threads = [threading.Thread(target=resident, args=(n,)) for n in RESIDENTS]
    for t in threads:
        t.start()
    time.sleep(0.4)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    log = str(data / "log")
    restart = _as_postgres(pg_ctl, "-D", str(data), "-o", options, "-l", log, "-m", "fast", "-w", "-t", "30")
    # No pipes: the server outlives pg_ctl and would hold them open.
    subprocess.run([*restart, "restart"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for t in threads:
        t.join(timeout=120)

    assert len(statuses) == len(RESIDENTS) * len(TURNS)
    assert set(statuses) == {200}, statuses  # no 5xx: a message the database refused was spooled
    print(f"{len(sids)} messages, {sum(spooled)} spooled during the restart, 0 lost")
    spool = app.extensions["hotline_spool"]
    for _ in range(40):  # the replayer drains the spool once the database is back
        replay_spool(app)
        if spool.size() == 0:
            break
        time.sleep(0.25)
    assert spool.size() == 0
    with hotline.db.session() as session:
        stored = session.scalar(select(func.count(Message.id)).where(Message.direction == "in"))
        assert stored == len(sids)  # nothing lost, nothing twice
        turns = [c.turn for c in session.scalars(select(Conversation))]
    assert sorted(turns) == [len(TURNS)] * len(RESIDENTS)  # every message one step, in order
    # full service again, without restarting the app
    client = app.test_client()
    assert post_signed(client, twilio_form("+6281299999999", "halo")).status_code == 200
    assert client.get("/healthz").get_json()["status"] == "ok"
