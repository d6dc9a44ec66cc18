"""The webhook under load, against the raw-SQL reference (bench/reference.py), on PostgreSQL.

    .venv/bin/python -m bench.webhook_load [--residents 2000] [--rounds 3] [--duration SECONDS]
        [--database-url postgresql://postgres@127.0.0.1:5432/] [--redis-url redis://127.0.0.1:6379/10]

Each round writes the Twilio-signed posts of N residents (distinct numbers and MessageSids) each
walking a complete Kekerasan report (bench/scripts.py), and replays the same list with
`wrk -t2 -c16 --latency -s bench/wrk/replay.lua` against the hotline and then the reference,
each started with gunicorn exactly as the Procfile's `web:` line (the app spec swapped), each on
a database made afresh for the run (bench_web, bench_ref). Every post is sent once; the run ends
when the last response is in, and the rows in the database are counted to check that the server
stored every message once (and, for the hotline, made every report a case).

The webhook only queues jobs (outbox rows, pushed to Redis db 10 after commit) and answers the
resident with TwiML: no worker runs, so the figures are the web processes' and their PostgreSQL
backends'. Per round: messages/s (all messages over the wall time of the replay), p50/p99
latency (wrk), CPU per message (utime+stime from /proc of gunicorn's master and workers and the
database's backends), RSS of each gunicorn worker at the end. Ratios are hotline / reference per
round, then the median of the rounds. `--duration` caps a round (default: until every post is
answered); a hotline round cut short has the reference send the same prefix.

SQL statements per message are counted apart, in process (Flask test client, same database
server): SQLAlchemy's `before_cursor_execute` for the hotline, a counting cursor for the
reference, over one complete report by a resident after one warm-up report.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import requests
from twilio.request_validator import RequestValidator

from bench.common import TICK, cpu_ticks, free_port, procfile, stat_fields
from bench.scripts import KEKERASAN

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "wrk" / "replay.lua"
WRK = "/usr/bin/wrk"
TOKEN = "bench-" + "t" * 26
PUBLIC_URL = "https://hotline.example.org"
PATH = "/twilio/messages"
TO = "+6281100000001"  # no site claims it: the first site (Parepare) takes it
ACCOUNT = "AC" + "0" * 32
# Names of our own, made afresh each run; the environment may name others (the smoke test does).
HOTLINE_DB = os.environ.get("BENCH_WEB_DATABASE", "bench_web")
REFERENCE_DB = os.environ.get("BENCH_REF_DATABASE", "bench_ref")
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/"
DEFAULT_REDIS = os.environ.get("BENCH_WEB_REDIS_URL", "redis://127.0.0.1:6379/10")  # flushed each run
RSS_AFTER = 10_000  # messages before the web workers' memory is read (the issue's figure)
RSS_TARGET_MB = 90


# -- the requests --------------------------------------------------------------------------------


def form(resident: int, round_no: int, step: int, body: str) -> dict[str, str]:
    """A Twilio SMS webhook post as Twilio sends it (the fields the hotline checks, and the rest)."""
    sid = "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "ID",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": "ID",
        "To": TO,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT,
        "From": f"+62813{round_no:03d}{resident:05d}",
        "ApiVersion": "2010-04-01",
    }


def write_requests(folder: Path, residents: int, round_no: int, threads: int) -> Path:
    """One file per wrk thread; resident r on thread r % threads; in each, step-major (message 1
    of all its residents, then message 2 ...), so a resident's next message is far behind."""
    validator = RequestValidator(TOKEN)
    prefix = folder / f"round{round_no}"
    for t in range(threads):
        mine = range(t, residents, threads)
        with open(f"{prefix}.{t}", "w", encoding="ascii") as out:
            for step, body in enumerate(KEKERASAN):
                for r in mine:
                    post = form(r, round_no, step, body)
                    signature = validator.compute_signature(PUBLIC_URL + PATH, post)
                    out.write(f"{signature}\t{urlencode(post)}\n")
    return prefix


# -- databases -----------------------------------------------------------------------------------


def database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


def recreate(server: str, name: str) -> str:
    with psycopg.connect(database(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database(server, name)


def hotline_app(url: str, redis_url: str, **config: Any):  # type: ignore[no-untyped-def]
    from app import create_app

    base = {"DATABASE_URL": url, "REDIS_URL": redis_url, "SECRET_KEY": "bench-" + "s" * 40}
    app = create_app({**base, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC_URL, **config})
    app.logger.disabled = True
    return app


def prepare_hotline(server: str, redis_url: str) -> str:
    """A fresh bench_web: `hotline db upgrade`, `sites load sites.toml`, `members load members.toml`."""
    from sitefiles.members import read_members
    from sitefiles.sites import read_sites
    from storage.roster import known_sites, load_members
    from storage.sites import load_sites

    url = recreate(server, HOTLINE_DB)
    hotline = hotline_app(url, redis_url).extensions["hotline"]
    hotline.db.upgrade()
    with hotline.work() as session:
        load_sites(session, read_sites(ROOT / "sites.toml"))
    with hotline.work() as session:
        specs = read_members(ROOT / "members.toml", known_sites(session))
    with hotline.work() as session:
        load_members(session, specs)
    hotline.db.dispose()
    return url


def prepare_reference(server: str) -> str:
    from bench.reference import schema

    url = recreate(server, REFERENCE_DB)
    schema(url)
    return url


def flush_redis(redis_url: str) -> None:
    from redis import Redis

    Redis.from_url(redis_url).flushdb()  # our own db (10): the jobs the last round queued


def scalar(url: str, sql: str) -> Any:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]  # type: ignore[index]


# -- servers ---------------------------------------------------------------------------------------


def procfile_web(app_spec: str, port: int) -> list[str]:
    """The Procfile's `web:` command, its app spec swapped for ours and bound to a local port."""
    argv = procfile().get("web")
    if not argv:
        raise SystemExit("Procfile has no web: line")
    if argv[0] != "gunicorn":
        raise SystemExit(f"the Procfile's web: line runs {argv[0]}, not gunicorn")
    specs = [i for i, arg in enumerate(argv) if ":" in arg and not arg.startswith("-")]
    argv[specs[-1]] = app_spec
    return [str(Path(sys.executable).parent / "gunicorn"), *argv[1:], "--bind", f"127.0.0.1:{port}"]


class Server:
    """gunicorn in its own session, stopped with SIGTERM to its process group."""

    def __init__(self, kind: str, env: dict[str, str], log: Path) -> None:
        spec = "app:create_app()" if kind == "hotline" else "bench.reference:create_app()"
        self.kind, self.port = kind, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = procfile_web(spec, self.port)
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_up()

    def _wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} gunicorn exited; see {self.log}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200 and self.workers():
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind} gunicorn did not answer; see {self.log}")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def server_env(kind: str, url: str, redis_url: str) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ") if k in os.environ}
    env.update(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_URL=PUBLIC_URL, PYTHONUNBUFFERED="1")
    if kind == "hotline":
        env.update(DATABASE_URL=url, REDIS_URL=redis_url, SECRET_KEY="bench-" + "s" * 40)
    else:
        env.update(REFERENCE_DATABASE_URL=url)
    return env


# -- /proc -------------------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(found)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def backends(url: str, name: str) -> list[int]:
    """The database's server processes (gunicorn's connections), not this query's own."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
        ).fetchall()
    return [pid for (pid,) in rows]


# -- one replay ----------------------------------------------------------------------------------------


def run_wrk(target: str, prefix: Path, limits: list[int] | None, cfg: argparse.Namespace) -> dict[str, Any]:
    """wrk until every thread says it is done (then SIGINT, which makes wrk report and exit)."""
    cap = f"{int(cfg.duration)}s" if cfg.duration else "3600s"
    argv = [WRK, f"-t{cfg.threads}", f"-c{cfg.connections}", f"-d{cap}", "--timeout", "30s", "--latency"]
    argv += ["-s", str(LUA), target, "--", str(prefix), ",".join(map(str, limits or []))]
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE, text=True)
        finished = watch_done(proc)
        try:
            # Every thread done (its line on stderr, or, should a line go missing, its thread gone):
            # SIGINT makes wrk report at once instead of sleeping out -d.
            running = False  # wrk starts its load threads only after reading the script
            while proc.poll() is None and len(finished) < cfg.threads:
                threads = wrk_threads(proc.pid)
                if running and threads <= 1:
                    break
                running = running or threads > 1
                time.sleep(0.1)
            end = max(finished.values()) if len(finished) == cfg.threads else time.monotonic()
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            proc.wait(60)
        finally:
            if proc.poll() is None:  # interrupted: no wrk left running
                proc.kill()
        out.seek(0)
        printed = out.read()
    result = next((json.loads(line[7:]) for line in printed.splitlines() if line.startswith("RESULT ")), None)
    if result is None:
        raise RuntimeError(f"wrk printed no result:\n{printed}")
    return {**result, "seconds": end - start, "complete": all_answered(result, prefix, limits)}


def watch_done(proc: subprocess.Popen[str]) -> dict[str, float]:
    """When each wrk thread said "done <thread> <received>" on stderr (two may share a line)."""
    finished: dict[str, float] = {}

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            for thread in re.findall(r"done (\d+) \d+", line):
                finished[thread] = time.monotonic()

    threading.Thread(target=watch, daemon=True).start()
    return finished


def wrk_threads(pid: int) -> int:
    """wrk's main thread sleeps out -d; its load threads end when their list is answered."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def all_answered(result: dict[str, Any], prefix: Path, limits: list[int] | None) -> bool:
    """Every post of every thread's list (or its limit) answered."""
    for n, received in enumerate(result["received"]):
        with open(f"{prefix}.{n}", encoding="ascii") as f:
            wanted = sum(1 for _ in f)
        if limits:
            wanted = min(wanted, limits[n])
        if received != wanted:
            return False
    return True


def measure(server: Server, url: str, name: str, prefix: Path, limits: list[int] | None, cfg):  # type: ignore[no-untyped-def]
    web = [server.proc.pid, *server.workers()]
    load = Path("/proc/loadavg").read_text().split()[0]  # others' work on the machine skews a round
    before = {pid: cpu_ticks(pid) for pid in web + backends(url, name)}
    result = run_wrk(server.url, prefix, limits, cfg)
    after = {pid: cpu_ticks(pid) for pid in web + backends(url, name)}
    used = {pid: ticks - before.get(pid, 0) for pid, ticks in after.items()}
    sent = sum(result["received"])
    web_s = sum(used[pid] for pid in web) / TICK
    db_s = sum(t for pid, t in used.items() if pid not in web) / TICK
    return {
        "kind": server.kind,
        "messages": sent,
        "seconds": round(result["seconds"], 2),
        "msgs_per_s": round(sent / result["seconds"], 1),
        "p50_ms": result["p50_us"] / 1000,
        "p90_ms": result["p90_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "max_ms": result["max_us"] / 1000,
        "cpu_ms_per_msg": round((web_s + db_s) * 1000 / sent, 2),
        "cpu_web_ms": round(web_s * 1000 / sent, 2),
        "cpu_db_ms": round(db_s * 1000 / sent, 2),
        "rss_mb": [round(rss_mb(pid), 1) for pid in server.workers()],
        "not_ok": result["not_ok"],
        "errors": result["errors"],
        "complete": result["complete"],
        "per_thread": result["received"],
        "load_before": float(load),
        "load_after": float(Path("/proc/loadavg").read_text().split()[0]),
    }


def check(row: dict[str, Any], url: str, residents: int) -> list[str]:
    """Every message stored once; every report a case (when every post was sent)."""
    problems = []
    table = "messages" if row["kind"] == "hotline" else "ref_messages"
    stored = scalar(url, f"SELECT count(*) FROM {table} WHERE direction = 'in'")
    distinct = scalar(url, f"SELECT count(DISTINCT sid) FROM {table} WHERE direction = 'in'")
    if stored != row["messages"] or distinct != stored:
        problems.append(f"{row['messages']} sent, {stored} inbound rows ({distinct} distinct SIDs)")
    if row["not_ok"]:
        problems.append(f"{row['not_ok']} answers were not 200")
    if row["kind"] == "hotline" and row["messages"] == residents * len(KEKERASAN):
        cases = scalar(url, "SELECT count(*) FROM cases")
        if cases != residents:
            problems.append(f"{residents} complete reports, {cases} cases")
    row["stored"] = stored
    return problems


def one_run(kind: str, prefix: Path, limits: list[int] | None, cfg, work: Path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if kind == "hotline":
        flush_redis(cfg.redis_url)
        url, name = prepare_hotline(cfg.database_url, cfg.redis_url), HOTLINE_DB
    else:
        url, name = prepare_reference(cfg.database_url), REFERENCE_DB
    server = Server(kind, server_env(kind, url, cfg.redis_url), work / f"{kind}.log")
    try:
        row = measure(server, url, name, prefix, limits, cfg)
    finally:
        server.stop()
    row["problems"] = check(row, url, cfg.residents)
    say(
        f"  {kind:<9} {row['messages']:6d} msgs in {row['seconds']:7.1f} s: {row['msgs_per_s']:6.1f} msg/s, "
        f"p50 {row['p50_ms']:6.1f} ms, p99 {row['p99_ms']:7.1f} ms, CPU {row['cpu_ms_per_msg']:5.2f} ms/msg "
        f"(web {row['cpu_web_ms']}, db {row['cpu_db_ms']}), RSS {row['rss_mb']} MB, "
        f"load {row['load_before']} -> {row['load_after']}"
        + ("".join(f"\n    PROBLEM: {p}" for p in row["problems"]))
    )
    return row


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- SQL statements per message, in process -------------------------------------------------------------


def post_all(client, posts: list[dict[str, str]], counter: dict[str, int]) -> list[dict[str, int]]:  # type: ignore[no-untyped-def]
    """Each post through the Flask test client; what the counter counted for each."""
    validator, counts = RequestValidator(TOKEN), []
    for post in posts:
        headers = {"X-Twilio-Signature": validator.compute_signature(PUBLIC_URL + PATH, post)}
        counter.clear()
        response = client.post(PATH, data=post, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"in-process post answered {response.status_code}")
        counts.append(dict(counter))
    return counts


def hotline_statements(server: str, redis_url: str) -> list[dict[str, int]]:
    from sqlalchemy import event

    url = prepare_hotline(server, redis_url)
    app = hotline_app(url, redis_url)
    engine, counter = app.extensions["hotline"].db.engine, {}

    def bump(key: str) -> None:
        counter[key] = counter.get(key, 0) + 1

    event.listen(engine, "before_cursor_execute", lambda *a, **k: bump("statements"))
    event.listen(engine, "commit", lambda *a: bump("commit"))
    if engine.pool._pre_ping:  # pool_pre_ping: one round trip per checkout
        event.listen(engine.pool, "checkout", lambda *a: bump("pre_ping"))
    client = app.test_client()
    post_all(client, [form(0, 999, k, b) for k, b in enumerate(KEKERASAN)], counter)  # warm-up report
    counts = post_all(client, [form(1, 999, k, b) for k, b in enumerate(KEKERASAN)], counter)
    app.extensions["hotline"].db.dispose()
    flush_redis(redis_url)
    return counts


def reference_statements(server: str) -> list[dict[str, int]]:
    from bench.reference import create_app

    counter: dict[str, int] = {}

    class Cursor(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
            counter["statements"] = counter.get("statements", 0) + 1
            return super().execute(*args, **kwargs)

    class Connection(psycopg.Connection):  # type: ignore[type-arg]
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
            return super().connect(*args, cursor_factory=Cursor, **kwargs)

        def commit(self) -> None:
            counter["commit"] = counter.get("commit", 0) + 1
            super().commit()

    url = prepare_reference(server)
    config = {"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC_URL}
    app = create_app({**config, "CONNECTION_CLASS": Connection})
    client = app.test_client()
    post_all(client, [form(0, 999, k, b) for k, b in enumerate(KEKERASAN)], counter)
    return post_all(client, [form(1, 999, k, b) for k, b in enumerate(KEKERASAN)], counter)


def statements(cfg: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Per kind: statements per message (mean over the report) and for the submission (the last)."""
    found = {}
    for kind, counts in (
        ("hotline", hotline_statements(cfg.database_url, cfg.redis_url)),
        ("reference", reference_statements(cfg.database_url)),
    ):
        per = [c.get("statements", 0) for c in counts]
        found[kind] = {
            "per_message": statistics.mean(per),
            "submission": per[-1],
            "commits": statistics.mean(c.get("commit", 0) for c in counts),
            "pre_pings": statistics.mean(c.get("pre_ping", 0) for c in counts),
            "each": per,
        }
        say(
            f"  {kind:<9} SQL statements per message {found[kind]['per_message']:.1f} "
            f"(submission {per[-1]}), per message also {found[kind]['commits']:.0f} COMMIT, "
            f"{found[kind]['pre_pings']:.0f} pre-ping, 1 BEGIN; each: {per}"
        )
    return found


# -- rounds and rows ------------------------------------------------------------------------------------


def rounds(cfg: argparse.Namespace, work: Path) -> list[dict[str, dict[str, Any]]]:
    """Hotline, reference, hotline, reference ...: the same posts for both within a round."""
    done = []
    for n in range(cfg.rounds):
        say(f"round {n + 1}/{cfg.rounds}: {cfg.residents} residents x {len(KEKERASAN)} messages")
        prefix = write_requests(work, cfg.residents, n, cfg.threads)
        hot = one_run("hotline", prefix, None, cfg, work)
        limits = None if hot["complete"] and not cfg.duration else hot["per_thread"]
        ref = one_run("reference", prefix, limits, cfg, work)
        done.append({"hotline": hot, "reference": ref})
    return done


def median(rows: list[dict[str, dict[str, Any]]], key: str, kind: str) -> float:
    return statistics.median(r[kind][key] for r in rows)


def ratio(rows: list[dict[str, dict[str, Any]]], key: str) -> float:
    return statistics.median(r["hotline"][key] / r["reference"][key] for r in rows)


def figure(what: str, value: float, unit: str, reference: float | None, **more: Any) -> dict[str, Any]:
    row = {"what": what, "value": round(value, 2), "unit": unit, "reference": reference}
    row.update({"ratio": None, "target": None, "met": None}, **more)
    if row["reference"] is not None:
        row["reference"] = round(row["reference"], 2)
    if row["ratio"] is not None:
        row["ratio"] = round(row["ratio"], 3)
    return row


def rows_of(done: list[dict[str, dict[str, Any]]], sql: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    speed, p99 = ratio(done, "msgs_per_s"), ratio(done, "p99_ms")
    hot_sql, ref_sql = sql["hotline"], sql["reference"]
    hot_rss = max(max(r["hotline"]["rss_mb"]) for r in done)
    messages = min(r["hotline"]["messages"] for r in done)
    problems = [p for r in done for k in r.values() for p in k["problems"]]
    return [
        figure("webhook messages/s (hotline / reference)", median(done, "msgs_per_s", "hotline"), "msg/s",
               median(done, "msgs_per_s", "reference"), ratio=speed, target=">= 0.75", met=speed >= 0.75,
               rounds=done),
        figure("webhook p50 latency", median(done, "p50_ms", "hotline"), "ms",
               median(done, "p50_ms", "reference"), ratio=ratio(done, "p50_ms")),
        figure("webhook p99 latency", median(done, "p99_ms", "hotline"), "ms",
               median(done, "p99_ms", "reference"), ratio=p99, target="<= 1.5", met=p99 <= 1.5),
        figure("CPU per message (web + PostgreSQL)", median(done, "cpu_ms_per_msg", "hotline"), "ms",
               median(done, "cpu_ms_per_msg", "reference"), ratio=ratio(done, "cpu_ms_per_msg")),
        figure("SQL statements per message (+ BEGIN, COMMIT)", hot_sql["per_message"], "statements",
               ref_sql["per_message"], ratio=hot_sql["per_message"] / ref_sql["per_message"],
               pre_pings=hot_sql["pre_pings"]),
        figure("SQL statements for the submission", hot_sql["submission"], "statements",
               ref_sql["submission"]),
        figure(f"RSS per web worker after {messages:,} messages (max)", hot_rss, "MB",
               max(max(r["reference"]["rss_mb"]) for r in done), target=f"<= {RSS_TARGET_MB} MB",
               met=hot_rss <= RSS_TARGET_MB if messages >= RSS_AFTER else None),
        figure("messages stored once, reports made cases", len(problems), "problems", None,
               target="0", met=not problems, problems=problems),
    ]  # fmt: skip


def run(
    residents: int = 2000,
    rounds_: int = 3,
    duration: float | None = None,
    database_url: str = DEFAULT_DATABASE,
    redis_url: str = DEFAULT_REDIS,
    connections: int = 16,
    threads: int = 2,
) -> list[dict[str, Any]]:
    if not Path(WRK).exists():
        raise RuntimeError(f"{WRK} is missing: apt-get install wrk")
    cfg = argparse.Namespace(
        residents=residents, rounds=rounds_, duration=duration, database_url=server_of(database_url),
        redis_url=redis_url, connections=connections, threads=threads,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        say("SQL statements per message (in process, one report after a warm-up report):")
        sql = statements(cfg)
        done = rounds(cfg, Path(tmp))
    return rows_of(done, sql)


def server_of(url: str) -> str:
    """The server part of a database URL: the bench makes its own databases there."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def main() -> None:
    intro = __doc__.split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.webhook_load", description=intro)
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=None, help="cap on a round, seconds")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    rows = run(
        args.residents, args.rounds, args.duration, args.database_url, args.redis_url, args.connections
    )
    print(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
