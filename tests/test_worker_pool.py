"""The worker as the Procfile starts it: a pool of rq SimpleWorkers (no fork per job), with its
scheduler and sweeper, that sends what is queued and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from storage.models import Member, Message, Site
from storage.queries import queue_message
from tests.conftest import REDIS_URL, ROOT


def procfile_worker() -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "worker":
            argv = shlex.split(command)
            assert argv[:2] == ["python", "worker.py"], argv
            return [sys.executable, str(ROOT / "worker.py"), *argv[2:]]
    raise AssertionError("no worker line in the Procfile")


def test_the_procfile_runs_simple_workers_in_a_pool() -> None:
    argv = procfile_worker()
    assert "--workers" in argv and int(argv[argv.index("--workers") + 1]) >= 2


@pytest.mark.skipif(not REDIS_URL, reason="worker.py in a process of its own needs a real Redis")
def test_the_procfile_worker_sends_and_stops_on_sigterm(hotline, database_url) -> None:  # type: ignore[no-untyped-def]
    with hotline.work() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        member = Member(site_id=site.id, name="Bu Ani", phone="+628110001001", channel="sms")
        s.add(member)
        s.flush()
        for n in range(5):  # pushed to the send lane once committed
            queue_message(s, site_id=site.id, address=member.phone, body=f"uji {n}", now=hotline.clock(),
                          member_id=member.id)  # fmt: skip
    env = {**os.environ, "REDIS_URL": REDIS_URL, "DATABASE_URL": database_url, "HOTLINE_TRANSPORT": "console"}
    env.pop("TWILIO_AUTH_TOKEN", None)
    proc = subprocess.Popen(procfile_worker(), env=env, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.time() + 40
        while time.time() < deadline:
            with hotline.db.session() as s:
                sent = s.scalars(select(Message).where(Message.member_id == member.id))
                statuses = [m.status for m in sent]
            if statuses == ["accepted"] * 5:
                break
            time.sleep(0.2)
        assert statuses == ["accepted"] * 5
        children = _children(proc.pid)
        assert len(children) >= 2  # the pool's workers (and rq's scheduler, forked by one of them)
    finally:
        proc.send_signal(signal.SIGTERM)  # every worker finishes the job in hand, then the pool stops
        code = proc.wait(timeout=30)
    assert code == 0
    time.sleep(0.5)
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}") and not _zombie(pid)]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found += [int(c) for c in f.read().split()]
    return found


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
