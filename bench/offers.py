"""Offer latency: a case created -> its offer message handed to Twilio's REST API (a local fake),
with the web app and the worker(s) started exactly as the Procfile starts them, on PostgreSQL and
Redis; and the RSS of every worker process once it has run its jobs.

    .venv/bin/python -m bench.offers [--rate 5 --seconds 60 --burst 200] [--reference]
        [--database-url postgresql://postgres@127.0.0.1:5432/bench_offers]
        [--redis-url redis://127.0.0.1:6379/8] [--jobs 2000]

Residents first walk a complete Kekerasan report (bench.scripts.KEKERASAN) up to its last message
through the signed webhook (not timed: the webhook has a benchmark of its own); then the last
messages, which create the cases, go at a steady --rate for --seconds, and then --burst of them at
once. Latency is the case's created_at to the moment the fake Twilio reads the member's offer.
Then the worker runs send jobs until each worker process has run --jobs jobs, and every process
the Procfile's worker line started (a pool's workers, rq's scheduler) is measured (RSS and PSS).

--reference runs the same load again, on the same database, against the worker of REFERENCE (the
release before lanes: one forking rq Worker on the one queue, a separate job per send), taken from
git, beside the web app of this tree (its RSS read after the two phases: it runs each job in a
forked copy of itself). `run(...)` returns the table rows for `python -m bench`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import common

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = "8a538cd"  # the last release whose worker forked a process per job, one queue
HOTLINE = "+6281100000001"  # the PRE site's number in this benchmark
MEMBERS = ("+628110009001", "+628110009002")  # on duty in Lompoe, by SMS
COORDINATOR = "+628110009009"
CODE = re.compile(r"PRE-[0-9A-Z]{5}")
TOKEN = "bench-offers-token"
SECRET = "bench-offers-" + "s" * 32


@dataclasses.dataclass
class Phase:
    name: str
    latencies: list[float]  # seconds, one per case (inf: no offer in time)

    def quantile(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, round(q * len(data)) - 1))]


# -- services ---------------------------------------------------------------------------------------


def procfile() -> dict[str, list[str]]:
    """The Procfile's process types, each as an argument list run with this interpreter."""
    kinds = {}
    for name, argv in common.procfile().items():
        if argv and argv[0] == "python":
            argv = [sys.executable, *argv[1:]]
        elif argv and argv[0] in ("gunicorn", "hotline"):
            argv = [sys.executable, "-m", "bot.cli" if argv[0] == "hotline" else argv[0], *argv[1:]]
        kinds[name] = argv
    return kinds


class Receipts:
    """The fake Twilio's creates, timed as they arrive: (time, To, Body)."""

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.fake_twilio import FakeTwilio

        receipts = self

        class TimedTwilio(FakeTwilio):
            def _answer(  # type: ignore[no-untyped-def]
                self, method: str, path: str, headers: Any, raw: bytes, query: str = ""
            ):
                if method == "POST":
                    from urllib.parse import parse_qsl

                    form = dict(parse_qsl(raw.decode("utf-8", "replace")))
                    with receipts.lock:
                        receipts.seen.append((time.time(), form.get("To", ""), form.get("Body", "")))
                return super()._answer(method, path, headers, raw, query)

        self.lock = threading.Lock()
        self.seen: list[tuple[float, str, str]] = []
        self.fake = TimedTwilio(auth_token=TOKEN)

    def offers(self) -> dict[str, float]:
        """Case code -> when its first offer to a member arrived."""
        first: dict[str, float] = {}
        with self.lock:
            for at, to, body in self.seen:
                if to in MEMBERS and (m := CODE.search(body)):
                    first.setdefault(m.group(0), at)
        return first


def environment(database_url: str, redis_url: str, fake_url: str, account: str, port: int) -> dict[str, str]:
    from app import KEYS

    env = {k: v for k, v in os.environ.items() if k not in KEYS and not k.startswith("HOTLINE_")}
    return env | {
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TWILIO_ACCOUNT_SID": account,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_API_URL": fake_url,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_TRANSPORT": "twilio",
        "SECRET_KEY": SECRET,
    }


def prepare(env: dict[str, str]) -> None:
    """A clean schema, the shipped sites on the bench number, two members always on duty in
    Lompoe and a coordinator; an empty Redis db."""
    from redis import Redis
    from sqlalchemy import select

    from app import create_app
    from sitefiles.sites import read_sites
    from storage.models import Area, Member, Shift, Site

    common.ensure_database(env["DATABASE_URL"])  # a fresh server has none yet
    app = create_app({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")})
    db = app.extensions["hotline"].db
    specs = read_sites(ROOT / "sites.toml")
    numbers = {"PRE": (HOTLINE,)}
    specs = [dataclasses.replace(s, numbers=numbers.get(s.prefix, (f"+62811000000{n + 2}",))) for n, s in
             enumerate(specs)]  # fmt: skip
    common.reset_schema(db, specs)
    with db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        lompoe = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lompoe")).one()
        people = [
            Member(site_id=site.id, area_id=lompoe.id, name=f"Pendamping {n}", phone=phone, channel="sms",
                   shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)])  # always on duty
            for n, phone in enumerate(MEMBERS)
        ]  # fmt: skip
        s.add_all([*people, Member(site_id=site.id, name="Koordinator", phone=COORDINATOR, role="koordinator",
                                   channel="sms")])  # fmt: skip
    db.dispose()
    Redis.from_url(env["REDIS_URL"]).flushdb()


@contextlib.contextmanager
def started(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process in a session of its own; SIGTERM at the end (the worker finishes its job), then
    SIGKILL for whatever it started that is left."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def wait_up(port: int, timeout: float = 60) -> None:
    import requests

    deadline = time.time() + timeout
    while time.time() < deadline:
        with contextlib.suppress(Exception):
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError("the web app did not come up")


# -- load --------------------------------------------------------------------------------------------


class Residents:
    """Signed posts to the webhook, as Twilio sends them; each resident a number of its own."""

    def __init__(self, port: int) -> None:
        import requests
        from twilio.request_validator import RequestValidator

        self.url = f"http://127.0.0.1:{port}/twilio/messages"
        self.validator = RequestValidator(TOKEN)
        self.local = threading.local()
        self.requests = requests
        self.sid = 0
        self.run = uuid.uuid4().hex[:16]
        self.lock = threading.Lock()

    def post(self, number: str, body: str) -> None:
        with self.lock:
            self.sid += 1
            sid = f"SM{self.run}{self.sid:016x}"  # unique across runs: a repeated SID is a duplicate
        form = {"MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": number,
                "To": HOTLINE, "Body": body, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                "ApiVersion": "2010-04-01"}  # fmt: skip
        if not hasattr(self.local, "session"):
            self.local.session = self.requests.Session()
        signature = self.validator.compute_signature(self.url, form)
        headers = {"X-Twilio-Signature": signature}
        answer = self.local.session.post(self.url, data=form, headers=headers, timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"webhook answered {answer.status_code}")

    def walk(self, numbers: list[str], script: tuple[str, ...], threads: int = 8) -> None:
        """Each resident sends the script, in order; residents in parallel."""

        def one(number: str) -> None:
            for body in script:
                self.post(number, body)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, numbers))


def steady(residents: Residents, numbers: list[str], last: str, rate: float) -> None:
    """The last messages at `rate` a second, each on time whatever the one before took."""
    start = time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        for n, number in enumerate(numbers):
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
            pool.submit(residents.post, number, last)


def burst(residents: Residents, numbers: list[str], last: str) -> None:
    with ThreadPoolExecutor(len(numbers)) as pool:
        list(pool.map(lambda number: residents.post(number, last), numbers))


def latencies(database_url: str, numbers: list[str], receipts: Receipts, timeout: float) -> list[float]:
    """Case created -> offer at Twilio, for the cases of these residents, waiting up to `timeout`
    for the offers still on their way."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    query = text(
        "SELECT cases.code, cases.created_at FROM cases JOIN contacts ON contacts.id = cases.contact_id "
        "WHERE contacts.phone = ANY(:phones)"
    )
    deadline = time.time() + timeout
    try:
        while True:
            with engine.connect() as conn:
                created = {code: at.timestamp() for code, at in conn.execute(query, {"phones": numbers})}
            offers = receipts.offers()
            if (len(created) == len(numbers) and created.keys() <= offers.keys()) or time.time() > deadline:
                return [offers[c] - at if c in offers else float("inf") for c, at in created.items()] + [
                    float("inf")
                ] * (len(numbers) - len(created))
            time.sleep(0.5)
    finally:
        engine.dispose()


# -- worker processes: jobs run, memory -----------------------------------------------------------------


def tree(leader: int) -> list[int]:
    """The live processes of a session started with start_new_session (the worker line's)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                fields = common.stat_fields(int(entry))
                if fields[0] != "Z" and int(fields[3]) == leader:
                    found.append(int(entry))
    return sorted(found)


def memory(pid: int) -> tuple[float, float]:
    """RSS and PSS in MB (PSS shares the pages forked processes have in common)."""
    rss = pss = 0.0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    return rss, pss


def cpu(leader: int) -> float:
    """CPU seconds of the worker line's processes so far, with their reaped children (a forking
    worker's work horses)."""
    return sum(common.cpu_ticks(pid, children=True) for pid in tree(leader)) / common.TICK


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def jobs_by_pid(redis_url: str) -> dict[int, int]:
    """Jobs each rq worker has run (done or failed), by its process."""
    from redis import Redis
    from rq import Worker

    conn = Redis.from_url(redis_url)
    try:
        workers = Worker.all(connection=conn)
        return {int(w.pid or 0): w.successful_job_count + w.failed_job_count for w in workers}
    finally:
        conn.close()


def jobs_of(redis_url: str, leader: int) -> dict[int, int]:
    return {pid: c for pid, c in jobs_by_pid(redis_url).items() if pid in tree(leader)}


def run_jobs(env: dict[str, str], leader: int, jobs: int, timeout: float = 900) -> dict[int, int]:
    """Queue member messages (one send job each) until every rq worker of the worker line has
    run `jobs` jobs; returns its count per process."""
    from sqlalchemy import select

    from app import create_app
    from storage.models import Member
    from storage.queries import queue_message

    common.ensure_database(env["DATABASE_URL"])  # a fresh server has none yet
    app = create_app({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")})
    hotline = app.extensions["hotline"]
    with hotline.db.session() as s:
        on_duty = s.scalars(select(Member).where(Member.phone.in_(MEMBERS)))
        members = [(m.id, m.site_id, m.phone) for m in on_duty]
    deadline, n = time.time() + timeout, 0
    try:
        while time.time() < deadline:
            counts = jobs_of(env["REDIS_URL"], leader)
            if counts and min(counts.values()) >= jobs:
                return counts
            waiting = hotline.queue.waiting()
            if waiting < 200:
                with hotline.work() as session:
                    for _ in range(100):
                        member_id, site_id, phone = members[n % len(members)]
                        queue_message(session, site_id=site_id, address=phone, body=f"Uji beban {n}",
                                      now=hotline.clock(), member_id=member_id)  # fmt: skip
                        n += 1
            time.sleep(0.2)
        return jobs_of(env["REDIS_URL"], leader)
    finally:
        hotline.db.dispose()


# -- one configuration ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Measured:
    steady: Phase
    burst: Phase
    jobs: dict[int, int]  # per rq worker process
    memory: dict[int, tuple[float, float]]  # every process of the worker line: RSS, PSS
    cpu_per_report: float  # seconds of the worker line's CPU per report, over both phases
    load: float  # the machine's 1-minute load average at the end of the phases


def measure(
    label: str, worker: list[str], worker_cwd: Path, env: dict[str, str], receipts: Receipts, work: Path,
    numbers: tuple[list[str], list[str]], rate: float, jobs: int,
) -> Measured:  # fmt: skip
    from bench.scripts import KEKERASAN

    residents = Residents(int(env["PORT"]))
    print(f"[{label}] walking {sum(map(len, numbers))} reports up to their last message", flush=True)
    residents.walk([*numbers[0], *numbers[1]], KEKERASAN[:-1])
    with started(worker, env, worker_cwd, work / f"worker-{label}.log") as proc:
        time.sleep(3)  # up, and what the sweeper finds at start done
        cpu_before = cpu(proc.pid)
        print(f"[{label}] {len(numbers[0])} reports at {rate}/s", flush=True)
        steady(residents, numbers[0], KEKERASAN[-1], rate)
        steady_phase = Phase("steady", latencies(env["DATABASE_URL"], numbers[0], receipts, timeout=600))
        print(f"[{label}] a burst of {len(numbers[1])}", flush=True)
        burst(residents, numbers[1], KEKERASAN[-1])
        burst_phase = Phase("burst", latencies(env["DATABASE_URL"], numbers[1], receipts, timeout=600))
        per_report, machine = (cpu(proc.pid) - cpu_before) / sum(map(len, numbers)), load()
        print(f"[{label}] send jobs until each worker has run {jobs}", flush=True)
        counts = run_jobs(env, proc.pid, jobs) if jobs else jobs_of(env["REDIS_URL"], proc.pid)
        mem = {pid: memory(pid) for pid in tree(proc.pid)}
    return Measured(steady_phase, burst_phase, counts, mem, per_report, machine)


def reference_tree(work: Path) -> Path:
    """The reference release's files (its worker and what it imports), from git."""
    into = work / "reference"
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", REFERENCE], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def run(
    rate: float = 5.0, seconds: float = 60.0, burst_size: int = 200, reference: bool = True,
    database_url: str = "postgresql://postgres@127.0.0.1:5432/bench_offers",
    redis_url: str = "redis://127.0.0.1:6379/8", jobs: int = 2000,
) -> list[dict[str, Any]]:  # fmt: skip
    """The benchmark; rows for the table of `python -m bench` (which runs the reference too)."""
    kinds = procfile()
    port = common.free_port()
    receipts = Receipts()
    receipts.fake.start()
    env = environment(database_url, redis_url, receipts.fake.url, receipts.fake.account_sid, port)
    prepare(env)
    count = round(rate * seconds)
    runs = [("procfile", kinds["worker"], ROOT)]
    work = Path(tempfile.mkdtemp(prefix="bench-offers-"))
    if reference:
        runs.append(("reference", [sys.executable, "worker.py"], reference_tree(work)))
    results: dict[str, Measured] = {}
    try:
        with started(kinds["web"], env, ROOT, work / "web.log"):
            wait_up(port)
            for n, (label, worker, cwd) in enumerate(runs):
                first = 10_000 * n
                numbers = ([f"+62812{first + i:07d}" for i in range(count)],
                           [f"+62812{first + count + i:07d}" for i in range(burst_size)])  # fmt: skip
                # The reference runs each job in a forked copy of its process: its RSS does not grow
                # with jobs, so it is read after the two phases (its jobs take minutes to run).
                runs_jobs = jobs if label == "procfile" else 0
                results[label] = measure(label, worker, cwd, env, receipts, work, numbers, rate, runs_jobs)
    finally:
        receipts.fake.stop()
    print(f"logs in {work}", flush=True)
    return rows(results, rate, burst_size, " ".join(shlex.quote(a) for a in kinds["worker"][1:]))


def rows(results: dict[str, Measured], rate: float, burst_size: int, worker: str) -> list[dict[str, Any]]:
    ours, ref = results["procfile"], results.get("reference")

    def row(what: str, value: float, reference: float | None, unit: str, target: float | None) -> dict:
        shown = f"<= {target:g} {unit}" if target is not None else ""
        met = None if target is None else value <= target
        ref = None if reference is None else round(reference, 3)
        value = round(value, 3)
        return {"what": what, "value": value, "unit": unit, "reference": ref, "target": shown, "met": met}

    out = [
        row(f"offer latency p50, {rate:g} reports/s", ours.steady.quantile(0.5),
            ref and ref.steady.quantile(0.5), "s", None),
        row(f"offer latency p99, {rate:g} reports/s", ours.steady.quantile(0.99),
            ref and ref.steady.quantile(0.99), "s", 1.0),
        row(f"offer latency p50, burst of {burst_size}", ours.burst.quantile(0.5),
            ref and ref.burst.quantile(0.5), "s", None),
        row(f"offer latency p99, burst of {burst_size}", ours.burst.quantile(0.99),
            ref and ref.burst.quantile(0.99), "s", 5.0),
    ]  # fmt: skip
    out.append(row("worker CPU per report (assignment and offer)", ours.cpu_per_report * 1000,
                   ref and ref.cpu_per_report * 1000, "ms", None))  # fmt: skip
    out.append(row("machine load average (1 min) after the phases: other work on the machine",
                   ours.load, ref and ref.load, "", None))  # fmt: skip
    worst = max(rss for rss, _ in ours.memory.values())
    ref_worst = max(rss for rss, _ in ref.memory.values()) if ref and ref.memory else None
    jobs = min(ours.jobs.values()) if ours.jobs else 0
    what = f"worker process RSS, largest of {len(ours.memory)} (`{worker}`), after >= {jobs} jobs each"
    out.append(row(what, worst, ref_worst, "MB", 90.0))
    for pid, (rss, pss) in sorted(ours.memory.items()):
        role = f"rq worker, {ours.jobs[pid]} jobs" if pid in ours.jobs else "pool, sweeper or scheduler"
        out.append(row(f"  pid {pid} ({role}) RSS / PSS {pss:.0f} MB", rss, None, "MB", 90.0))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=5.0, help="reports a second (steady)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the steady load lasts")
    parser.add_argument("--burst", type=int, default=200, help="reports at once")
    parser.add_argument("--jobs", type=int, default=2000, help="jobs each worker runs before RSS is read")
    parser.add_argument("--reference", action="store_true", help=f"also the worker of {REFERENCE}")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_offers")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    args = parser.parse_args(argv)
    table = run(
        args.rate, args.seconds, args.burst, args.reference, args.database_url, args.redis_url, args.jobs
    )
    print(f"\n{'what':<72} {'value':>9} {'reference':>10}  target")
    for r in table:
        ref = "" if r["reference"] is None else f"{r['reference']:g}"
        met = "" if r["met"] is None else ("met" if r["met"] else "MISSED")
        print(f"{r['what']:<72} {r['value']:>7g} {r['unit']:<2} {ref:>9}  {r['target']} {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
