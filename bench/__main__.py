"""Every benchmark on PostgreSQL + Redis, in one table: each figure beside its target.

    .venv/bin/python -m bench [--quick] [--only webhook,offers,export,engine,segments]
        [--database-url postgresql://postgres@127.0.0.1:5432/] [--redis-url redis://127.0.0.1:6379/]
        [--out bench/results]

Each benchmark keeps its own database name and Redis db number (its `run()` defaults); the
options only say which servers. The table is printed and written, with the machine and the
date, to <out>/<date>-<hostname>.md, and the rows as JSON beside it.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCHES = {  # name -> module
    "webhook": "bench.webhook_load",
    "offers": "bench.offers",
    "export": "bench.export",
    "engine": "bench.engine",
    "segments": "bench.segments",
}
QUICK = {  # smoke-test sizes, for the run() parameters a benchmark has
    "webhook": {"residents": 16, "rounds_": 1, "connections": 4},
    "offers": {"seconds": 10.0, "burst_size": 20, "jobs": 100},
    "export": {"messages": 10_000},
}
DATABASE_PARAMS, REDIS_PARAMS = ("database_url", "url"), ("redis_url",)


def rebase(default: str, server: str | None) -> str:
    """The benchmark's own database (or Redis db) on the server the user named."""
    if not server:
        return default
    own, given = urlsplit(default), urlsplit(server)
    return urlunsplit((given.scheme or own.scheme, given.netloc or own.netloc, own.path, "", ""))


def arguments(name: str, run: Callable[..., Any], args: argparse.Namespace) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for param in inspect.signature(run).parameters.values():
        default = param.default if param.default is not inspect.Parameter.empty else None
        if param.name in DATABASE_PARAMS and isinstance(default, str):
            kwargs[param.name] = rebase(default, args.database_url)
        elif param.name in REDIS_PARAMS and isinstance(default, str):
            kwargs[param.name] = rebase(default, args.redis_url)
        elif param.name == "quick":
            kwargs["quick"] = args.quick
        elif args.quick and param.name in QUICK.get(name, {}):
            kwargs[param.name] = QUICK[name][param.name]
        if (name, param.name) in args.sizes:  # --set webhook.residents=300
            kwargs[param.name] = typed(args.sizes[name, param.name], default)
    params = inspect.signature(run).parameters
    if unknown := [p for (bench, p) in args.sizes if bench == name and p not in params]:
        raise SystemExit(f"--set: {name}.run() has no parameter {', '.join(unknown)}")
    return kwargs


def typed(raw: str, default: Any) -> Any:
    """A --set value as the type of the parameter's default."""
    if isinstance(default, bool):
        return raw.lower() in ("1", "true", "yes", "on")
    return type(default)(raw) if isinstance(default, int | float) else raw


def sizes(values: list[str]) -> dict[tuple[str, str], str]:
    """`--set bench.param=value`: a run() parameter by hand (a shorter run on a busy machine)."""
    out = {}
    for value in values:
        key, _, raw = value.partition("=")
        bench, _, param = key.partition(".")
        if bench not in BENCHES or not param or not raw:
            raise SystemExit(f"--set takes bench.param=value with bench one of {', '.join(BENCHES)}: {value}")
        out[bench, param] = raw
    return out


def run_one(name: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """One benchmark's rows; a module not there yet, or without run(), or failing, says so."""
    try:
        module = importlib.import_module(BENCHES[name])
    except Exception as exc:
        return [{"bench": name, "what": f"not run: {BENCHES[name]} does not import ({exc})"}]
    run = getattr(module, "run", None)
    if not callable(run):
        return [{"bench": name, "what": f"not run: {BENCHES[name]} has no run() yet"}]
    kwargs = arguments(name, run, args)
    print(f"== {name}: {BENCHES[name]}.run({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})", flush=True)
    started = time.monotonic()
    try:
        rows = run(**kwargs)
    except Exception as exc:
        traceback.print_exc()
        return [{"bench": name, "what": f"failed: {type(exc).__name__}: {exc}"}]
    print(f"== {name}: {time.monotonic() - started:.0f} s", flush=True)
    return [{"bench": name, **row} for row in rows]


# -- the table -------------------------------------------------------------------------------------


def number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| bench | what | value | reference | ratio | target | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in rows:
        unit = f" {row['unit']}" if row.get("unit") and row.get("value") is not None else ""
        met = {True: "**yes**", False: "**NO**", None: ""}.get(row.get("met"), str(row.get("met")))
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    row["bench"],
                    row["what"],
                    number(row.get("value")) + unit,
                    number(row.get("reference")) + (unit if row.get("reference") is not None else ""),
                    number(row.get("ratio")),
                    number(row.get("target")),
                    met,
                )
            )
            + " |"
        )
    return "\n".join(lines)


# -- the machine -----------------------------------------------------------------------------------


def first_line(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def server_versions(args: argparse.Namespace) -> tuple[str, str]:
    postgres = redis = "?"
    try:
        import psycopg

        with psycopg.connect(rebase("postgresql://postgres@127.0.0.1:5432/postgres", args.database_url)) as c:
            postgres = str(c.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except Exception as exc:
        postgres = f"unreachable ({type(exc).__name__})"
    try:
        from redis import Redis

        redis = str(
            Redis.from_url(rebase("redis://127.0.0.1:6379/0", args.redis_url)).info()["redis_version"]
        )
    except Exception as exc:
        redis = f"unreachable ({type(exc).__name__})"
    return postgres, redis


def commit() -> str:
    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "?"
    return head + (
        " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    )


def machine(args: argparse.Namespace) -> dict[str, str]:
    postgres, redis = server_versions(args)
    mem_kb = int(first_line("/proc/meminfo", "MemTotal").split()[0] or 0)
    return {
        "host": socket.gethostname(),
        "cpu": first_line("/proc/cpuinfo", "model name"),
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "postgresql": postgres,
        "redis": redis,
        "python": platform.python_version(),
        "commit": commit(),
        "load average at start": Path("/proc/loadavg").read_text().split()[0],
    }


def write(
    out: Path, stamp: datetime, info: dict[str, str], rows: list[dict[str, Any]], argv: list[str]
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    base = out / f"{stamp:%Y-%m-%d-%H%M}-{info['host']}"
    header = [f"# Benchmarks {stamp:%Y-%m-%d %H:%M} UTC", "", f"`python -m bench {' '.join(argv)}`", ""]
    header += [f"- {key}: {value}" for key, value in info.items()]
    base.with_suffix(".md").write_text("\n".join([*header, "", table(rows), ""]), encoding="utf-8")
    document = {"date": stamp.isoformat(), "argv": argv, "machine": info, "rows": rows}
    base.with_suffix(".json").write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    return base.with_suffix(".md")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not a measurement")
    parser.add_argument(
        "--only", default=",".join(BENCHES), help=f"comma-separated, of: {', '.join(BENCHES)}"
    )
    parser.add_argument("--database-url", default=None, help="the PostgreSQL server (each bench its own db)")
    parser.add_argument("--redis-url", default=None, help="the Redis server (each bench its own db number)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--set", dest="sizes", action="append", default=[], help="bench.param=value: webhook.residents=300"
    )
    args = parser.parse_args(argv)
    args.sizes = sizes(args.sizes)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # benchmarks stop their servers on the way out
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    if unknown := [n for n in names if n not in BENCHES]:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    stamp, info = datetime.now(UTC), machine(args)
    rows = [row for name in names for row in run_one(name, args)]
    info["load average at end"] = Path("/proc/loadavg").read_text().split()[0]
    print("\n" + table(rows))
    print(f"\nwritten: {write(args.out, stamp, info, rows, argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
