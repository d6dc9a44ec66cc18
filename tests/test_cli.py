"""The `hotline` command as an operator uses it."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from app import create_app
from bot.cli import main
from bot.domain import i18n, service
from bot.jobs.queue import LocalQueue
from bot.jobs.transport import ConsoleTransport
from bot.render import catalogs
from storage import queries
from storage.db import Database
from storage.models import Area, Assignment, Base, CaseEvent, Member, Message, Outbox, Site, User
from storage.sites import load_sites

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "TWILIO_AUTH_TOKEN": ""}
    return CliRunner().invoke(main, list(args), input=input, env=env, catch_exceptions=False)


def test_db_upgrade_builds_the_schema_the_models_describe(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").exit_code == 0
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables

    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_sites_load_reports_the_line_and_reason(tmp_path: Path) -> None:
    bad = tmp_path / "sites.toml"
    bad.write_text(
        '[[site]]\nprefix = "PRE"\nname = "X"\ntimezone = "Asia/Nowhere"\n\n[[site.area]]\nname = "Lompoe"\n',
        encoding="utf-8",
    )
    result = run(tmp_path, "sites", "load", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:4:" in result.output and "Asia/Nowhere" in result.output


def test_sites_load_and_list(tmp_path: Path) -> None:
    result = run(tmp_path, "sites", "load", str(Path(__file__).parent.parent / "sites.toml"))
    assert result.exit_code == 0 and "loaded 2 sites, 32 areas" in result.output
    listing = run(tmp_path, "sites", "list").output
    assert "PRE  Kota Parepare" in listing and "73.72.01.1004" in listing and "Paokmotong" in listing
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.session() as s:
        assert s.scalar(select(func.count(Site.id))) == 2
        assert s.scalar(select(func.count(Area.id))) == 32


def test_chat_goes_through_the_same_path_and_runs_jobs_in_process(tmp_path: Path) -> None:
    script = "\n".join(
        ["halo", "ya", "ya", "dokumen", "anak", "akta", "lemoe", "3", "LEWATI", "1", "STATUS"]
    )
    result = run(tmp_path, "chat", "--from", "081234567890", input=script + "\n")
    assert result.exit_code == 0, result.output
    assert "Kode: PRE-" in result.output and "Laporan Anda:" in result.output
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.session() as s:  # the in-process queue ran the assignment job
        assert s.scalars(select(Outbox)).one().done_at is not None
        assert [e.kind for e in s.scalars(select(CaseEvent))] == ["submitted", "awaiting_member"]


def test_translate_extract_update_compile_round_trip(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for locale in i18n.LOCALES:  # work on a copy of the catalogs
        target = i18n.po_path(locale, tmp_path)
        target.parent.mkdir(parents=True)
        target.write_bytes(i18n.po_path(locale).read_bytes())
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    pot = catalogs.extract(tmp_path)
    assert 'msgid "ask.k.danger"' in pot.read_text(encoding="utf-8")
    catalogs.update(tmp_path)
    for locale in i18n.LOCALES:  # nothing lost or added by the merge
        assert _messages(i18n.po_path(locale, tmp_path)) == _messages(i18n.po_path(locale))
    mos = catalogs.compile_catalogs(tmp_path)
    assert all(p.stat().st_size > 1000 for p in mos)


def _messages(path: Path) -> dict[str, str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def test_in_process_queue_runs_now_and_delayed_jobs(tmp_path: Path) -> None:
    ran: list[int] = []
    queue = LocalQueue(ran.append)
    queue.push(2, datetime.now(UTC) + timedelta(seconds=0.3))
    queue.push(1)
    queue.drain()
    time.sleep(0.5)  # past job 2's due time; how late it ran is for bench/, not this test
    queue.drain()
    assert ran == [1, 2]


def test_app_without_redis_uses_the_in_process_queue(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert isinstance(app.extensions["hotline"].queue, LocalQueue)


def test_role_play_in_the_terminal_resident_then_member(tmp_path: Path) -> None:
    """What KK members practise on a laptop: a resident reports in one chat, the member on duty
    takes the case in another, relays a message and closes it; all with in-process jobs."""
    assert run(tmp_path, "members", "load", str(ROOT / "members.toml")).exit_code == 0
    report = [
        "halo",
        "ya",
        "ya",
        "dokumen",
        "anak",  # on SMS: for whom (and a disability, not said), then the document (and a story)
        "akta",
        "lompoe",
        "2",
        "LEWATI",
        "1",
    ]
    result = run(tmp_path, "chat", "--from", "081234567890", input="\n".join(report) + "\n")
    code = re.search(r"Kode: (PRE-\w{5})", result.output).group(1)
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.session() as s:
        offered = s.scalars(select(Member).join(Assignment, Assignment.member_id == Member.id)).first()
        phone = offered.phone
    member = run(
        tmp_path,
        "chat",
        "--as-member",
        phone,
        input=f"KASUS\nTERIMA {code}\nBALAS {code} Besok kami bantu urus akta\nSELESAI {code}\n",
    )
    assert member.exit_code == 0, member.output
    assert "menunggu TERIMA" in member.output and "Anda tangani" in member.output
    assert "diteruskan ke warga" in member.output and "ditutup" in member.output
    with db.session() as s:
        to_resident = [m.body for m in s.scalars(select(Message).where(Message.address == "+6281234567890"))]
    assert to_resident[0].startswith(f"Laporan {code} sudah diterima")
    assert to_resident[1].endswith("Besok kami bantu urus akta") and "selesai" in to_resident[2]
    with db.session() as s:
        assert queries.pushed_to(s, "+6281234567890", after_id=0)[-1][1] == to_resident[2]
    refused = run(tmp_path, "chat", "--as-member", "081299999999", input="KASUS\n")
    assert refused.exit_code != 0 and "no active member" in refused.output


def test_in_process_jobs_run_the_deadline_checks_too(tmp_path: Path) -> None:
    """No Redis: the offer's deadline passes in this process and the next member is asked."""
    from sitefiles.members import read_members
    from sitefiles.sites import read_sites
    from storage import roster

    console = ConsoleTransport(stream=None)
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'local.db'}",
            "HOTLINE_TRANSPORT": "console",
            "HOTLINE_CONSOLE": console,
            "HOTLINE_OFFER_MINUTES": "0.005",  # 0.3 s
            "TWILIO_AUTH_TOKEN": "",
        }
    )
    hotline = app.extensions["hotline"]
    hotline.db.upgrade()
    with hotline.db.session() as s:
        load_sites(s, read_sites(ROOT / "sites.toml"))
        roster.load_members(s, read_members(ROOT / "members.toml", roster.known_sites(s)))
    sender = "+6281234567891"
    for body in ["halo", "ya", "ya", "6", "3", "1", "butuh kursi roda", "lompoe", "3", "LEWATI", "1"]:
        reply = service.handle(hotline, service.Incoming(f"SM{uuid.uuid4().hex}", sender, "+62", "sms", body))
    assert "Kode: PRE-" in reply.replies[0]
    deadline = time.time() + 5
    while time.time() < deadline and len({m.to for m in console.sent}) < 2:
        time.sleep(0.05)
    assert len({m.to for m in console.sent}) >= 2, console.sent  # offered, expired, offered again
    with hotline.db.session() as s:
        assert s.scalars(select(Assignment.status).order_by(Assignment.id)).first() == "expired"
    hotline.db.dispose()


def test_users_create_list_disable(tmp_path: Path) -> None:
    made = run(tmp_path, "users", "create", "koord", "--site", "pre", "--password", "kata-sandi-panjang")
    assert made.exit_code == 0 and "koord (coordinator; sites: PRE)" in made.output
    assert (
        run(tmp_path, "users", "create", "x", "--site", "ZZZ", "--password", "kata-sandi-panjang").exit_code
        == 1
    )
    assert run(tmp_path, "users", "create", "y", "--site", "PRE", "--password", "pendek").exit_code == 1
    assert (
        run(
            tmp_path, "users", "create", "koord", "--site", "PRE", "--password", "kata-sandi-panjang"
        ).exit_code
        == 1
    )
    assert run(tmp_path, "users", "disable", "koord").exit_code == 0
    listed = run(tmp_path, "users", "list").output
    assert "koord" in listed and "disabled" in listed and "kata-sandi" not in listed
    db = Database(f"sqlite:///{tmp_path / 'cli.db'}")
    with db.session() as s:
        stored = s.scalars(select(User.password_hash)).one()
    assert stored.startswith("scrypt:") and "kata-sandi-panjang" not in stored


def test_serve_answers_the_webhook_health_and_console(tmp_path: Path) -> None:
    """The README's first command, for real: `hotline serve` in its own process."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "TWILIO_AUTH_TOKEN": ""}
    env.pop("REDIS_URL", None)
    hotline = Path(sys.executable).parent / "hotline"
    proc = subprocess.Popen(
        [str(hotline), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, proc.stdout.read().decode()
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login", timeout=5) as r:
            assert r.status == 200 and b"csrf_token" in r.read()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0].decode()
    assert "hotline chat" in output and "/console/" in output and "Traceback" not in output
