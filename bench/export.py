"""Transcript export throughput and memory: 100,000 messages over 1,000 cases, every format.

    .venv/bin/python -m bench.export                     SQLite in a temporary folder
    .venv/bin/python -m bench.export postgresql://postgres@127.0.0.1:5432/bench   (emptied first!)

Per format, redacted and with contacts: messages per second written to a file, the process's
peak resident memory so far (ru_maxrss: the interpreter, the loaded data's leftovers, the
database driver and SQLite's caches) and, in a separate run of the redacted export, the peak of
Python allocations during it (tracemalloc, which slows the run down several times).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

from app import create_app
from bot.jobs.transport import ConsoleTransport
from bot.render.export import export_counts
from sitefiles.sites import read_sites
from storage.models import Area, Base, Case, Contact, Message, Site
from storage.sites import load_sites
from storage.transcripts import Filters

ROOT = Path(__file__).resolve().parent.parent
MESSAGES, CASES, CONTACTS = 100_000, 1_000, 200
BODY = (
    "Pesan ke-{n}: tolong dibantu, hubungi 0812{n:08d} atau tetangga saya, NIK 7372{n:012d}. "
    "Rumah dekat masjid — terima kasih banyak bu, café"
)


def load(db, messages: int = MESSAGES, cases: int = CASES) -> None:  # type: ignore[no-untyped-def]
    with db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        area = s.scalars(select(Area).where(Area.site_id == site.id)).first()
        contacts = [Contact(phone=f"+62813{i:08d}", name=f"Nama Warga {i}") for i in range(CONTACTS)]
        s.add_all(contacts)
        s.flush()
        t0 = datetime(2025, 1, 1, tzinfo=UTC)
        s.execute(
            insert(Case),
            [
                {
                    "code": f"PRE-{i:05d}",
                    "site_id": site.id,
                    "area_id": area.id if area else None,
                    "contact_id": contacts[i % CONTACTS].id,
                    "category": "kekerasan",
                    "created_at": t0 + timedelta(hours=i),
                    "updated_at": t0 + timedelta(hours=i),
                }
                for i in range(cases)
            ],
        )
        found = s.execute(select(Case.id, Case.contact_id, Case.created_at).order_by(Case.id)).all()
    per_case = messages // cases
    with db.session() as s:
        for start in range(0, messages, 10_000):
            rows = []
            for n in range(start, min(start + 10_000, messages)):
                case_id, contact_id, created = found[n // per_case]
                inbound = n % 2 == 0
                rows.append(
                    {
                        "sid": f"BENCH{n:08d}",
                        "direction": "in" if inbound else "out",
                        "party": "resident" if inbound else "bot",
                        "channel": "whatsapp",
                        "contact_id": contact_id,
                        "case_id": case_id,
                        "body": BODY.format(n=n),
                        "created_at": created + timedelta(seconds=n % per_case),
                    }
                )
            s.execute(insert(Message), rows)


def _hotline_db(url: str):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": url, "HOTLINE_CONSOLE": ConsoleTransport(stream=None)})
    app.logger.disabled = True
    return app.extensions["hotline"].db


def prepare(url: str) -> None:
    """A fresh schema with the sites and the messages; run in a child process, so that the
    exporting process's ru_maxrss is about exporting."""
    db = _hotline_db(url)
    if url.startswith("postgres"):
        with db.engine.begin() as conn:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade()
    with db.session() as s:
        load_sites(s, read_sites(ROOT / "sites.toml"))
    started = time.perf_counter()
    load(db)
    print(f"{db.engine.dialect.name}: loaded {MESSAGES:,} messages in {CASES:,} cases "
          f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    db.dispose()


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'export.db'}"
    child = multiprocessing.get_context("spawn").Process(target=prepare, args=(url,))
    child.start()
    child.join()
    if child.exitcode:
        sys.exit(child.exitcode)
    db = _hotline_db(url)
    with db.session() as s:  # connected, every module imported: the baseline
        s.execute(text("SELECT 1"))
    print(f"ru_maxrss before exporting: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    folder = Path(tempfile.mkdtemp())
    for fmt in ("csv", "jsonl", "xlsx"):
        path = folder / f"export.{fmt}"
        for contacts in (False, True):
            options = {"actor": "bench", "include_contacts": contacts, "secret": "bench"}
            started = time.perf_counter()
            with path.open("wb") as out:
                counts = export_counts(db, Filters(), fmt, out, **options)
            seconds = time.perf_counter() - started
            peak = ""
            if not contacts:  # once per format: tracing makes the run several times slower
                tracemalloc.start()
                with path.open("wb") as out:
                    export_counts(db, Filters(), fmt, out, **options)
                peak = f"tracemalloc peak {tracemalloc.get_traced_memory()[1] / 2**20:4.1f} MB"
                tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{fmt:5} {'contacts' if contacts else 'redacted':8} {counts.messages:,} messages "
                f"{seconds:5.1f} s {counts.messages / seconds:7,.0f} msg/s  "
                f"file {path.stat().st_size / 2**20:5.1f} MB  ru_maxrss {rss:5.0f} MB  {peak}"
            )


if __name__ == "__main__":
    main()
