"""Transcript export against PostgreSQL's own `COPY … TO STDOUT CSV` of the same rows.

    .venv/bin/python -m bench.export [DATABASE_URL] [--messages N]

DATABASE_URL defaults to postgresql://postgres@127.0.0.1:5432/bench_export (created if missing,
EMPTIED first). N messages (default 1,000,000) over N/100 cases of two sites are loaded with COPY
FROM: a realistic mix of residents' answers (a quarter with a phone number or a NIK, some with
their own name), the bot's questions and members' commands and relays.

Then, each in a fresh child process so that its peak resident memory (ru_maxrss) is its own:
the reference, `COPY (SELECT the export's rows: every message joined with its case, site, area,
member, holder and resident) TO STDOUT CSV` written to a file, and every format, redacted and
with contacts, written by `bot.render.export.export_counts` to a file in a process set up like
`hotline export` (the whole app imported). Times are the export call's wall time; peak RSS
is the child's whole life (interpreter, imports, driver, the export).

`run(url, messages)` returns the rows `python -m bench` prints: value, unit, reference, ratio,
target, met.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import TICK, cpu_ticks, ensure_database, reset_schema

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_export"
MESSAGES = 1_000_000
PER_CASE = 100  # messages per case
MEMBERS = 20
FORMATS = (("csv", "CSV", 3), ("jsonl", "JSON Lines", 3), ("xlsx", "XLSX", 10))  # format, label, ×COPY
RSS_TARGET_MB = 150
FIRST_NAMES = ("Siti", "Nurul", "Baiq", "Andi", "Wa Ode", "Hasnah", "Rahmawati", "Fitri", "Dewi", "Sri")
LAST_NAMES = ("Aminah", "Hidayah", "Lestari", "Rahman", "Saputri", "Wahyuni", "Kartini", "Yusuf")
# What one report's conversation looks like, roughly: {n} the message number, {name} the
# resident's first name, {code} the case code. Bot texts are long, answers short.
RESIDENT_TEXTS = (
    "iya",
    "1",
    "Saya dipukul suami tadi malam, hubungi kakak saya 0812{n:08d}, NIK 7372{n:012d}. Rumah dekat masjid",
    "lompoe",
    "kapan saja",
    "{name}",
    "baik bu, terima kasih banyak — {name}",
    "anak saya belum punya akta, sudah ke capil 2x tapi disuruh balik lagi bulan depan",
    "bisa telepon ke +62 813-{n:04d}-{n:04d} sore hari saja ya bu, café dekat pasar",
    "tidak",
)
BOT_TEXTS = (
    "Terima kasih sudah menghubungi layanan pengaduan KK. Apakah Anda aman sekarang? Balas YA atau TIDAK.",
    "Pilih jenis laporan: 1 Kekerasan, 2 Dokumen kependudukan, 3 Bansos, 4 Layanan kesehatan, 5 Lainnya.",
    "Ceritakan apa yang terjadi, dengan kata-kata Anda sendiri. Balas LEWATI jika tidak ingin bercerita.",
    "Di kelurahan atau desa mana kejadiannya? Contoh: Lompoe, Lemoe, Paokmotong.",
    "Laporan Anda sudah kami terima. Kode: {code}. Pendamping akan menghubungi Anda dalam 1x24 jam.",
)
MEMBER_TEXTS = (
    "TERIMA {short}",
    "BALAS {short} Ibu {name}, kami datang besok jam 9 ke rumah, mohon ditunggu",
    "RUJUK {short} uptd ppa",
    "SELESAI {short} sudah dirujuk dan didampingi",
)
# The export's rows in plain SQL: messages by case then time, each with its case's columns.
REFERENCE_SQL = """
COPY (
  SELECT c.code, m.created_at, m.direction, m.party, mb.name, m.channel, m.body, m.num_media,
         s.prefix, s.timezone, a.name, c.category, c.urgent, c.status, c.created_at, c.accepted_at,
         c.closed_at, h.name, COALESCE(m.contact_id, c.contact_id), ct.name, ct.profile_name,
         c.answers ->> 'name'
  FROM messages m
  JOIN cases c ON c.id = m.case_id
  JOIN sites s ON s.id = c.site_id
  LEFT JOIN areas a ON a.id = c.area_id
  LEFT JOIN members mb ON mb.id = m.member_id
  LEFT JOIN members h ON h.id = c.member_id
  LEFT JOIN contacts ct ON ct.id = COALESCE(m.contact_id, c.contact_id)
  ORDER BY m.case_id, m.created_at, m.id
) TO STDOUT (FORMAT csv)
"""


# --------------------------------------------------------------------------- loading


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _schema(url: str) -> None:
    """A fresh schema (the migrations) with the sites file's sites and areas."""
    from storage.db import Database

    db = Database(url)
    reset_schema(db)
    db.dispose()


def _copy(conn: Any, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")


def _name(i: int) -> str:
    return f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[i // len(FIRST_NAMES) % len(LAST_NAMES)]}"


def _message_rows(
    messages: int, cases: list[tuple[int, int, int, str, datetime]]
) -> Iterator[tuple[Any, ...]]:
    """Per case: the resident and the bot in turn, a member's commands and relays every tenth."""
    for n in range(messages):
        case_id, contact_id, member_id, code, created = cases[n // PER_CASE]
        k = n % PER_CASE
        words = {"n": n, "name": _name(contact_id).split()[0], "code": code, "short": code.split("-")[1]}
        if k % 10 == 9:
            party, direction, contact, member, texts = "member", "in", None, member_id, MEMBER_TEXTS
        elif k % 2 == 0:
            party, direction, contact, member, texts = "resident", "in", contact_id, None, RESIDENT_TEXTS
        else:
            party, direction, contact, member, texts = "bot", "out", contact_id, None, BOT_TEXTS
        body = texts[(n // 2) % len(texts)].format(**words)
        yield (
            n + 1,
            f"BENCH{n:09d}",
            direction,
            party,
            "whatsapp",
            contact,
            case_id,
            member,
            body,
            int(k == 20),
            "[]",
            "delivered",
            created + timedelta(seconds=k),
        )


def load(url: str, messages: int) -> None:
    """Contacts, members, cases (a referral on every fifth) and messages, with COPY FROM."""
    import psycopg

    n_cases = max(1, messages // PER_CASE)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    with psycopg.connect(_psycopg_url(url)) as conn:
        sites = conn.execute(
            "SELECT s.id, s.prefix, min(a.id) FROM sites s JOIN areas a ON a.site_id = s.id "
            "GROUP BY s.id, s.prefix ORDER BY s.id"
        ).fetchall()
        contacts = max(1, n_cases // 5)
        _copy(
            conn,
            "contacts",
            ("id", "phone", "name", "profile_name", "channel", "stopped", "created_at"),
            (
                (i, f"+62813{i:08d}", _name(i), _name(i + 3).split()[0], "whatsapp", False, t0)
                for i in range(1, contacts + 1)
            ),
        )
        _copy(
            conn,
            "members",
            ("id", "site_id", "name", "phone", "role", "backup", "channel", "active", "created_at"),
            (
                (
                    i,
                    sites[i % len(sites)][0],
                    f"Bu Pendamping {i}",
                    f"+62811{i:08d}",
                    "pendamping",
                    False,
                    "whatsapp",
                    True,
                    t0,
                )
                for i in range(1, MEMBERS + 1)
            ),
        )
        cases = []
        for i in range(1, n_cases + 1):
            site_id, prefix, area_id = sites[i % len(sites)]
            member = i % MEMBERS + 1  # the holder, who also writes the member messages
            cases.append(
                (
                    i,
                    f"{prefix}-{i:05X}",
                    site_id,
                    area_id,
                    (i % contacts) + 1,
                    member,
                    t0 + timedelta(hours=i),
                )
            )
        _copy(
            conn,
            "cases",
            (
                "id",
                "code",
                "site_id",
                "area_id",
                "contact_id",
                "member_id",
                "category",
                "urgent",
                "flags",
                "status",
                "answers",
                "contact_ok",
                "locale",
                "created_at",
                "updated_at",
                "accepted_at",
                "closed_at",
            ),
            (
                (
                    i,
                    code,
                    site,
                    area,
                    contact,
                    member,
                    "kekerasan" if i % 3 else "dokumen",
                    i % 7 == 0,
                    "[]",
                    "closed" if i % 2 else "accepted",
                    f'{{"name": "{_name(contact)}"}}',
                    True,
                    "id",
                    created,
                    created,
                    created + timedelta(minutes=5),
                    created + timedelta(days=2) if i % 2 else None,
                )
                for i, code, site, area, contact, member, created in cases
            ),
        )
        _copy(
            conn,
            "case_events",
            ("id", "case_id", "kind", "actor", "data", "created_at"),
            ((i, i, "referred", "member", '{"to": "UPTD PPA"}', t0) for i in range(1, n_cases + 1, 5)),
        )
        found = [(i, contact, member, code, created) for i, code, _, _, contact, member, created in cases]
        _copy(
            conn,
            "messages",
            (
                "id",
                "sid",
                "direction",
                "party",
                "channel",
                "contact_id",
                "case_id",
                "member_id",
                "body",
                "num_media",
                "media",
                "status",
                "created_at",
            ),
            _message_rows(messages, found),
        )
        conn.execute("ANALYZE")


def loaded(url: str, messages: int) -> bool:
    """Whether the database holds exactly this bench's data already (a run with --reuse keeps it)."""
    import psycopg

    try:
        with psycopg.connect(_psycopg_url(url)) as conn:
            found = conn.execute("SELECT count(*), count(*) FILTER (WHERE sid LIKE 'BENCH%') FROM messages")
            return found.fetchone() == (messages, messages)
    except psycopg.Error:
        return False


def prepare(url: str, messages: int, reuse: bool = False) -> float | None:
    """Seconds to load the data; None when `reuse` and it is there already."""
    started = time.perf_counter()
    ensure_database(url)
    if reuse and loaded(url, messages):
        return None
    _schema(url)
    load(url, messages)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- measuring (children)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _server_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend has used so far (it runs on this machine: /proc), else 0."""
    return cpu_ticks(pid) / TICK


def reference(url: str, path: str) -> dict[str, float]:
    """COPY of the same rows to a file, as fast as PostgreSQL and psycopg can hand them over."""
    import psycopg

    with psycopg.connect(_psycopg_url(url)) as conn, open(path, "wb") as out:
        pid = conn.info.backend_pid
        server, cpu, started = _server_cpu(pid), time.process_time(), time.perf_counter()
        with conn.cursor() as cur, cur.copy(REFERENCE_SQL) as copy:
            for block in copy:
                out.write(block)
        seconds, cpu, server = (
            time.perf_counter() - started,
            time.process_time() - cpu,
            _server_cpu(pid) - server,
        )
    return {"seconds": seconds, "cpu": cpu + server, "rss": _peak_mb(), "bytes": Path(path).stat().st_size}


def export(url: str, fmt: str, contacts: bool, path: str) -> dict[str, float]:
    """One export as `hotline export` makes it: the whole app loaded, then `export_counts`."""
    from app import create_app
    from bot.jobs.transport import ConsoleTransport
    from bot.render.export import export_counts
    from storage.transcripts import Filters

    app = create_app({"DATABASE_URL": url, "HOTLINE_CONSOLE": ConsoleTransport(stream=None)})
    app.logger.disabled = True
    db = app.extensions["hotline"].db
    server = _watch_server_cpu(db.engine)
    before = _peak_mb()  # the app loaded: what `hotline export` costs before the first row
    with open(path, "wb") as out:
        cpu, started = time.process_time(), time.perf_counter()
        counts = export_counts(
            db, Filters(), fmt, out, actor="bench", include_contacts=contacts, secret="bench"
        )
        seconds = time.perf_counter() - started
    db.dispose()
    return {
        "seconds": seconds,
        "rss": _peak_mb(),
        "rss_before": before,
        "cpu": time.process_time() - cpu + server[0],
        "bytes": Path(path).stat().st_size,
        "rows": counts.messages,
    }


def _watch_server_cpu(engine: Any) -> list[float]:
    """[CPU seconds] the engine's PostgreSQL backends spend while checked out, kept up to date."""
    from sqlalchemy import event

    spent, taken = [0.0], {}

    @event.listens_for(engine, "checkout")
    def _out(dbapi_conn, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        taken[id(dbapi_conn)] = _server_cpu(dbapi_conn.info.backend_pid)

    @event.listens_for(engine, "checkin")
    def _in(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        if id(dbapi_conn) in taken:
            spent[0] += _server_cpu(dbapi_conn.info.backend_pid) - taken.pop(id(dbapi_conn))

    return spent


def _in_child(target: Callable[..., Any], *args: Any) -> Any:
    """`target(*args)` in a fresh interpreter (spawned, not forked: nothing inherited)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(target, args)


# --------------------------------------------------------------------------- the table


def _row(
    what: str, value: float, unit: str, reference: float | None, target: str, limit: float
) -> dict[str, Any]:
    ratio = round(value / reference, 2) if reference else None
    measured = ratio if reference else value
    return {
        "what": what,
        "value": round(value, 2),
        "unit": unit,
        "reference": reference and round(reference, 2),
        "ratio": ratio,
        "target": target,
        "met": measured <= limit,
    }


def _measured(url: str, fmt: str, contacts: bool, folder: Path) -> tuple[dict[str, float], dict[str, float]]:
    """COPY, then the export right after it: the machine (shared, its load changing) as alike as can be."""
    copy = _in_child(reference, url, str(folder / "copy.csv"))
    (folder / "copy.csv").unlink()
    got = _in_child(export, url, fmt, contacts, str(folder / f"export.{fmt}"))
    (folder / f"export.{fmt}").unlink()
    return copy, got


def run(url: str = DEFAULT_URL, messages: int = MESSAGES, reuse: bool = False) -> list[dict[str, Any]]:
    """Load `messages` into `url` (emptied), then every export, each in a process of its own and each
    right after a COPY of the same rows in another: its reference."""
    seconds = _in_child(prepare, url, messages, reuse)
    print(
        f"loaded {messages:,} messages in {seconds:.0f} s" if seconds else "data already loaded", flush=True
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-export-"))
    rows, copies, timed = [], [], {}
    for fmt, label, times in FORMATS:
        for contacts in (False, True):
            what = f"export {label} ({'with contacts' if contacts else 'redacted'})"
            copy, got = _measured(url, fmt, contacts, folder)
            assert got["rows"] == messages, got
            copies.append(copy)
            timed[fmt, contacts] = got["cpu"]  # CPU: wall time moves with the shared machine's load
            print(
                f"{what}: {got['seconds']:.1f} s against COPY {copy['seconds']:.1f} s "
                f"({got['seconds'] / copy['seconds']:.1f}x), CPU {got['cpu']:.1f} s against "
                f"{copy['cpu']:.1f} s, {got['bytes'] / 2**20:.0f} MB, "
                f"peak RSS {got['rss']:.0f} MB ({got['rss_before']:.0f} MB before the export)",
                flush=True,
            )
            rows.append(_row(what, got["seconds"], "s", copy["seconds"], f"<= {times}x COPY", times))
            # CPU (the exporting process and its PostgreSQL backend) against COPY's: the same
            # comparison, less at the mercy of what else the shared machine is doing.
            rows.append(_row(f"{what} CPU", got["cpu"], "s", copy["cpu"], f"<= {times}x COPY", times))
            rows.append(
                _row(f"{what} peak RSS", got["rss"], "MB", None, f"<= {RSS_TARGET_MB} MB", RSS_TARGET_MB)
            )
    median = statistics.median(c["seconds"] for c in copies)
    copy_rss = max(c["rss"] for c in copies)
    rows[:0] = [
        _row("COPY (same rows) TO STDOUT CSV, median of the runs", median, "s", None, "reference", 1e9),
        _row("COPY (same rows) TO STDOUT CSV: the client's peak RSS", copy_rss, "MB", None, "reference", 1e9),
    ]
    # What redaction costs: the redacted CSV against the same CSV with contacts (no redaction), in CPU.
    share = 1 - timed["csv", True] / timed["csv", False]
    rows.append(
        _row(
            "redaction's share of the CSV export's CPU (1 - contacts/redacted)", share, "", None, "< 0.5", 0.5
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default=DEFAULT_URL, help="PostgreSQL URL (emptied first!)")
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--reuse", action="store_true", help="keep the data if a previous run loaded it")
    args = parser.parse_args()
    rows = run(args.url, args.messages, args.reuse)
    print(f"\n{'what':66} {'value':>9} {'ref':>7} {'ratio':>6}  target")
    for r in rows:
        ref = "" if r["reference"] is None else f"{r['reference']:7.1f}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:5.1f}x"
        mark = "ok" if r["met"] else "MISSED"
        print(f"{r['what']:66} {r['value']:7.2f}{r['unit']:>2} {ref:>7} {ratio:>6}  {r['target']} {mark}")


if __name__ == "__main__":
    main()
