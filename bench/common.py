"""Helpers the benchmarks share: /proc, a free port, the Procfile, a database and a clean schema.

Imports stay light (the export bench reads the peak RSS of child processes that import this):
what needs the app imports it inside the function.
"""

from __future__ import annotations

import os
import shlex
import socket
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sitefiles.sites import SiteSpec
    from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")  # clock ticks a second, the unit of /proc/<pid>/stat's times


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat split after the command name (which may hold spaces): [0] is field 3 (the
    state), [1] the parent, [3] the session, [11:15] utime, stime, cutime, cstime."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_ticks(pid: int, children: bool = False) -> int:
    """A process's CPU so far in clock ticks (utime + stime; with `children`, also its reaped
    children's, cutime + cstime); 0 when it is gone."""
    try:
        fields = stat_fields(pid)
    except OSError:
        return 0
    return sum(int(f) for f in fields[11 : 15 if children else 13])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def procfile() -> dict[str, list[str]]:
    """The Procfile's process types, each command as written (shlex-split, not yet runnable here)."""
    kinds = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or name.strip().startswith("#"):
            continue
        kinds[name.strip()] = shlex.split(command)
    return kinds


def reset_schema(db: Database, specs: list[SiteSpec] | None = None) -> None:
    """Every table dropped (alembic's too), the migrations run, then `specs` loaded as sites
    (default: sites.toml's)."""
    from sqlalchemy import text

    from sitefiles.sites import read_sites
    from storage.models import Base
    from storage.sites import load_sites

    with db.engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade()
    with db.session() as s:
        load_sites(s, read_sites(ROOT / "sites.toml") if specs is None else specs)


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it does not exist yet (connecting to `postgres` on the same server)."""
    import psycopg
    from psycopg import sql

    base, _, name = url.replace("postgresql+psycopg://", "postgresql://").rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
