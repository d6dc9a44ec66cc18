"""Nothing personal in the logs: the whole path with every logger at DEBUG (the app's, rq's,
twilio's, urllib3's, SQLAlchemy's engine and pool), and no line may carry a resident's or a
member's number (+62..., 08..., 62...), a NIK, a name or what anyone wrote.

The path: a WhatsApp report with a NIK, a name and a story, another by SMS with a safer number
and a code word; the members' TERIMA, LIHAT, CATAT, RUJUK, BALAS and SELESAI, the resident's
reply relayed back, the silent alarm, status callbacks (delivered, failed), sends Twilio refuses
(a bad number) or drops (a 500, retried), a HAPUS, the console and an export through the CLI.
Sends go through the real twilio client to the local fake Twilio."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.domain import engine  # noqa: F401  (imported first: it pins `transitions` at WARNING)
from bot.jobs import sending
from storage import users as accounts
from storage.models import Member, Message, Site
from tests.conftest import PRE_NUMBER, Resident, new_sid, post_signed
from tests.conftest import work as shared_work
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)
from tests.test_duty import roster  # noqa: F401  (the fixture)
from tests.test_sending import twilio  # noqa: F401  (the fixture)

RESIDENT = "+6281234567890"  # WhatsApp, the bansos report
CALLER = "+6285712345678"  # SMS, the kekerasan report that asks for a call
SAFER = "+6281399998888"  # the caller's safer number
A, B, KOORD = "+628110001001", "+628110001002", "+628110001009"
NIK = "7372014505800001"
NAME = "Siti Rahmawati"
CALLER_NAME = "Rina Marlina"
PROFILE = "Dewi Lestari"  # the WhatsApp profile name
STORY = "ibu saya lansia tidak dapat PKH sejak Maret karena datanya ganda"
VIOLENCE = "suami saya memukul saya dengan gagang sapu semalam"
CODEWORD = "anggrekungu"
NOTE = "sudah ditelepon keponakannya Andi Wijaya"
RELAYS = ("Ibu Siti kami datang besok jam sembilan", "Ibu mohon siapkan fotokopi kartu keluarga")
RELAYS += ("Ibu kami sudah ke kantor dinsos tadi",)
REPLY = "baik bu saya tunggu di rumah anak saya di lorong tiga"
PASSWORD = "kata-sandi-rahasia"


def phone_forms(number: str) -> tuple[str, ...]:
    """+62812..., 0812..., 62812... and the national number all of them contain."""
    national = number.removeprefix("+62")
    return (number, "0" + national, "62" + national, national)


SECRETS = (
    *(form for n in (RESIDENT, CALLER, SAFER, A, B, KOORD) for form in phone_forms(n)),
    NIK,
    NAME,
    "Rahmawati",
    CALLER_NAME,
    "Marlina",
    PROFILE,
    STORY,
    "datanya ganda",
    VIOLENCE,
    "gagang sapu",
    CODEWORD,
    NOTE,
    "Andi Wijaya",
    *RELAYS,
    "kartu keluarga",
    REPLY,
    "lorong tiga",
)
SQL_LOGGERS = (
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.engine.Engine",
    "sqlalchemy.pool",
    "sqlalchemy.orm",
)
OTHER_LOGGERS = ("rq", "rq.worker", "twilio", "twilio.http_client", "urllib3", "werkzeug", "flask", "app")
OTHER_LOGGERS += ("transitions", "transitions.core", "bot", "storage", "flows")


class Leak(AssertionError):
    """Personal data in a log line: what the xfails below expect, and nothing else."""


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured line (message and any traceback) that holds a secret, with the secret."""
    lines = caplog.text.splitlines() + [r.getMessage() for r in caplog.records]
    return sorted({f"{secret!r} in {line[:300]!r}" for line in lines for secret in SECRETS if secret in line})


ROWS = "SQLAlchemy's engine logger at DEBUG logs every result row (numbers, NIK, names, texts): "
ROWS += "hide_parameters hides only the parameters"


@pytest.fixture
def debug_logs(request, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything at DEBUG: the root logger and every logger that sets a level of its own
    (SQLAlchemy's sets WARN, the engine's `transitions` WARNING), restored afterwards. SQLAlchemy's
    engine logs statements at INFO and result rows at DEBUG: its level is the parameter (INFO
    unless a test asks for DEBUG)."""
    caplog.set_level(logging.DEBUG)
    named = {name for name, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    for name in sorted(named | set(SQL_LOGGERS) | set(OTHER_LOGGERS)):
        caplog.set_level(logging.DEBUG, logger=name)
    for name in ("sqlalchemy.engine", "sqlalchemy.engine.Engine"):
        caplog.set_level(getattr(request, "param", logging.INFO), logger=name)
    yield caplog


def work(app, redis, until: datetime | None = None) -> None:  # type: ignore[no-untyped-def]
    """conftest's `work`, with rq's own worker logging at DEBUG too (rq sets INFO by default)."""
    shared_work(app, redis, until, logging_level="DEBUG")


def bansos_report(client) -> str:  # type: ignore[no-untyped-def]
    """By WhatsApp, with the profile name, a NIK, a story, Lompoe, messages at any time, a name."""
    warga = Resident(client, RESIDENT, whatsapp=True)
    for body in (
        "halo",
        "iya",
        "setuju",
        "2",
        "pkh",
        "keluarga",
        "tidak",  # no disability
        "1 3",
        "blm punya",
        NIK,
        STORY,
        "lompoe",
        "pesan",
        "kapan saja",
        NAME,
    ):
        warga.says(body, ProfileName=PROFILE)
    assert NAME in warga.last and "Ringkasan" in warga.last, warga.last
    warga.says("1", ProfileName=PROFILE)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last)
    assert code, warga.last
    return code.group(1)


def violence_report(client) -> str:  # type: ignore[no-untyped-def]
    """By SMS: a call at night, a safer number written as people write it, a code word, a name."""
    warga = Resident(client, CALLER)
    for body in (
        "halo",
        "iya",
        "ok setuju",
        "1",
        "gak",
        "sy sendiri 34",  # on SMS: questions in pairs
        "LEWATI",  # a disability: not said
        f"1 {VIOLENCE}",
        "suami, tadi malam",
        "lompoe",
        "1 kapan saja",  # any time: notices go at once, whatever the hour the test runs
        "0813-9999-8888",
        CODEWORD,
        f"1 {CALLER_NAME}",
    ):
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last)
    assert code, warga.last
    return code.group(1)


def status(client, message: Message, state: str, error: str | None = None):  # type: ignore[no-untyped-def]
    form = {
        "MessageSid": message.provider_sid,
        "MessageStatus": state,
        "AccountSid": "AC" + "0" * 32,
        "To": message.address or "",
        "From": PRE_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error:
        form["ErrorCode"] = error
    return post_signed(client, form, f"/twilio/status?m={message.id}")


def sent_to(hotline, number: str) -> list[Message]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        stmt = select(Message).where(Message.address.like(f"%{number}"), Message.provider_sid.is_not(None))
        return list(s.scalars(stmt.order_by(Message.id)))


def csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1).decode()


def the_whole_path(app, client, hotline, redis, twilio: FakeTwilio, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code = bansos_report(client)
    short = code.split("-")[1]
    work(app, redis)
    ani, budi = Resident(client, A), Resident(client, B)
    assert "Anda tangani" in ani.says(f"TERIMA {short}")
    details = ani.says(f"LIHAT {code}")
    assert STORY in details and NIK not in details  # LIHAT masks the NIK
    assert "Catatan disimpan" in ani.says(f"CATAT {short} {NOTE}")
    assert "dicatat" in ani.says(f"RUJUK {short} dinsos")
    assert "diteruskan ke warga" in ani.says(f"BALAS {short} {RELAYS[0]}")
    work(app, redis)
    warga = Resident(client, RESIDENT, whatsapp=True)
    assert "diteruskan ke pendamping" in warga.says(REPLY, ProfileName=PROFILE)
    work(app, redis)

    to_resident, to_ani = sent_to(hotline, RESIDENT), sent_to(hotline, A)
    assert len(to_resident) >= 2 and to_ani
    for message in to_resident + to_ani:
        assert status(client, message, "sent").status_code == 204
    for message in to_resident[:-1] + to_ani:
        assert status(client, message, "delivered").status_code == 204
    assert status(client, to_resident[0], "read").status_code == 204
    assert status(client, to_ani[0], "failed", "30003").status_code == 204  # late: kept delivered
    # Outside WhatsApp's window: a fresh failure that queues the fallback job.
    assert status(client, to_resident[-1], "undelivered", "63016").status_code == 204
    work(app, redis)
    unknown = {"MessageSid": new_sid(), "MessageStatus": "failed", "ErrorCode": "21211"}
    assert post_signed(client, unknown, f"/twilio/status?m={to_resident[-1].id + 999}").status_code == 204

    twilio.fail(500)  # Twilio drops it: rq tries again
    assert "diteruskan ke warga" in ani.says(f"BALAS {short} {RELAYS[1]}")
    work(app, redis, until=datetime.now(UTC) + timedelta(seconds=11))
    twilio.fail(400, 21211)  # then the number is refused: marked, never retried
    assert "diteruskan ke warga" in ani.says(f"BALAS {short} {RELAYS[2]}")
    work(app, redis, until=datetime.now(UTC) + timedelta(seconds=11))
    with hotline.db.session() as s:
        errors = set(s.scalars(select(Message.error_code).where(Message.error_code.is_not(None))))
    assert 21211 in errors
    assert "ditutup" in ani.says(f"SELESAI {short} {NOTE}")
    work(app, redis)

    other = violence_report(client)
    work(app, redis)
    holder = next(m for m in (ani, budi) if "Anda tangani" in m.says(f"TERIMA {other}"))
    seen = holder.says(f"LIHAT {other}")
    assert VIOLENCE in seen and CODEWORD in seen and SAFER in seen
    caller = Resident(client, CALLER)
    assert caller.says(CODEWORD) == "Terima kasih, pesan Anda sudah kami terima."  # the silent alarm
    work(app, redis)
    assert other in caller.says("STATUS")
    assert "Hapus semua data" in caller.says("HAPUS")
    assert "sudah dihapus" in caller.says("1")
    work(app, redis)

    with hotline.db.session() as s:
        now = hotline.clock()
        accounts.create(s, "admin", PASSWORD, "admin", [], True, now)
    token = csrf(client.get("/console/login").data)
    login = {"username": "admin", "password": PASSWORD, "csrf_token": token}
    assert client.post("/console/login", data=login).status_code == 302
    page = client.get(f"/console/cases/{code}")
    assert page.status_code == 200 and NIK in page.data.decode()
    token = csrf(page.data)
    client.post(f"/console/cases/{other}/note", data={"csrf_token": token, "note": NOTE})
    export = client.post("/console/export", data={"csrf_token": token, "format": "jsonl", "contacts": "1"})
    assert export.status_code == 200 and NIK.encode() in export.data

    env = {"DATABASE_URL": app.config["DATABASE_URL"], "TWILIO_AUTH_TOKEN": "", "SECRET_KEY": "s" * 32}
    for fmt in ("csv", "jsonl", "xlsx"):
        out = tmp_path / f"export.{fmt}"
        result = CliRunner().invoke(
            main,
            ["export", "--format", fmt, "--out", str(out), "--include-contacts", "--code", short],
            env=env,
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
    assert NIK in (tmp_path / "export.jsonl").read_text(encoding="utf-8")  # the data left, not via logs


@pytest.mark.parametrize(
    "debug_logs",
    [
        logging.INFO,
        logging.DEBUG,  # result rows too: SQLAlchemy's row log is filtered out (storage/db.py)
    ],
    ids=["sql-statements", "sql-rows"],
    indirect=True,
)
def test_the_whole_path_logs_nothing_personal(  # type: ignore[no-untyped-def]
    app, client, hotline, redis, roster, twilio, clock, tmp_path, debug_logs
) -> None:
    the_whole_path(app, client, hotline, redis, twilio, clock, tmp_path)
    text = debug_logs.text
    # The capture saw the path: the webhook, the jobs, twilio's client, SQL, the failures.
    for seen in (
        "inbound SM",
        "run_outbox",
        "POST Request",
        "INSERT INTO messages",
        "[SQL parameters hidden due to hide_parameters=True]",
        "not sent: bad_number 21211",
        "RetryLater",
        "status SM",
        "transitions.core",
        "twilio.http_client",
    ):
        assert seen in text, seen
    if found := leaks(debug_logs):
        raise Leak("\n".join(found[:40]))


def test_asking_twilio_about_a_lost_send_logs_no_number(  # type: ignore[no-untyped-def]
    app, hotline, redis, roster, twilio, clock, debug_logs
) -> None:
    """The reconciler lists Twilio's recent messages to a number (a worker died mid-send)."""
    from storage.queries import queue_message

    with hotline.db.session() as s:
        site = s.scalars(select(Site.id).where(Site.prefix == "PRE")).one()
        member = s.scalars(select(Member.id).where(Member.phone == A)).one()
        msg = queue_message(s, site_id=site, address=A, body=RELAYS[0], now=clock(), member_id=member)
        msg.status, msg.sent_at = "handing", clock()
    clock.advance(minutes=3)
    assert sending.reconcile(hotline) == 1
    assert [r for r in twilio.requests if r.method == "GET"]
    if found := leaks(debug_logs):
        raise Leak("\n".join(found[:40]))
