"""`python -m bench --quick --only webhook` runs end to end and writes its table: wrk, gunicorn
(as the Procfile runs it), the hotline and the reference webhook on PostgreSQL and Redis. No
figure is asserted: only that the benchmark ran and checked every message was stored once."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
WRK = "/usr/bin/wrk"
pytestmark = pytest.mark.slow


def server(url: str, name: str) -> str:
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))


@pytest.mark.skipif(not Path(WRK).exists(), reason="wrk is not installed (apt-get install wrk)")
def test_the_webhook_benchmark_runs_and_writes_its_table(tmp_path: Path) -> None:
    pg = os.environ.get("BENCH_TEST_DATABASE_URL") or os.environ.get("HOTLINE_TEST_DATABASE_URL")
    redis = os.environ.get("BENCH_TEST_REDIS_URL") or os.environ.get("HOTLINE_TEST_REDIS_URL")
    if not (pg and redis):
        pytest.skip("needs PostgreSQL and Redis (HOTLINE_TEST_DATABASE_URL, HOTLINE_TEST_REDIS_URL)")
    suffix = secrets.token_hex(4)
    names = {"BENCH_WEB_DATABASE": f"bench_web_t{suffix}", "BENCH_REF_DATABASE": f"bench_ref_t{suffix}"}
    env = {**os.environ, **names, "BENCH_WEB_REDIS_URL": redis}
    argv = [sys.executable, "-m", "bench", "--quick", "--only", "webhook", "--out", str(tmp_path)]
    try:
        argv += ["--database-url", server(pg, "")]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    finally:
        with psycopg.connect(server(pg, "postgres"), autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (table,) = tmp_path.glob("*.md")
    assert "webhook messages/s (hotline / reference)" in table.read_text(encoding="utf-8")
    rows = {row["what"]: row for row in json.loads(next(tmp_path.glob("*.json")).read_text())["rows"]}
    speed = rows["webhook messages/s (hotline / reference)"]
    assert speed["value"] > 0 and speed["reference"] > 0
    assert rows["messages stored once, reports made cases"]["problems"] == []
