"""Practice mode: reports from a site's practice numbers (signed webhook posts) make practice
cases, offered with LATIHAN, badged in the console, out of figures and exports unless asked,
and erased by `hotline purge --practice`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from sitefiles.sites import SitesFileError, read_sites
from storage import sitetime
from storage.figures import monthly
from storage.models import Area, AuditLog, Case, Contact, Member, Message, Shift, Site
from storage.transcripts import Filters, cases
from tests.conftest import work
from tests.test_console import accounts_made, login, submit  # noqa: F401 (a fixture)

PRACTICE = "+6281299990001"  # the phone a KK member plays a resident on
LIVE = "+6281234500001"
ANI = "+6281300000001"
SECRET = "practice-secret"


@pytest.fixture
def played(client, hotline, redis, accounts_made) -> dict[str, str]:
    """PRE with one practice number and a member on duty all day; a live and a practice report."""
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        site.practice = [PRACTICE]
        lompoe = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lompoe")).one()
        day = Shift(weekday=None, start_minute=0, end_minute=1440)
        ani = Member(
            site_id=site.id, area_id=lompoe.id, name="Bu Ani", phone=ANI, channel="sms", shifts=[day]
        )
        s.add(ani)
    codes = {"live": submit(client, LIVE, "lompoe"), "practice": submit(client, PRACTICE, "lompoe")}
    work(client.application, redis)
    return codes


def _cli(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": "", "SECRET_KEY": SECRET}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_sites_file_reads_and_checks_practice_numbers(tmp_path: Path) -> None:
    base = '[[site]]\nprefix = "PRE"\nname = "P"\ntimezone = "Asia/Makassar"\nnumbers = ["+6281100000001"]\n'
    area = '[[site.area]]\nname = "Lompoe"\n'
    good = tmp_path / "good.toml"
    good.write_text(base + 'practice = ["081299990001", "whatsapp:+6281299990002"]\n' + area)
    assert read_sites(good)[0].practice == ("+6281299990001", "+6281299990002")
    bad = tmp_path / "bad.toml"
    bad.write_text(base + 'practice = ["+6281100000001", "12", "081299990001", "+6281299990001"]\n' + area)
    with pytest.raises(SitesFileError) as raised:
        read_sites(bad)
    text = str(raised.value)
    assert "is a hotline number of site PRE" in text and "listed twice" in text and "'12'" in text


def test_a_report_from_a_practice_number_is_a_practice_case_offered_as_latihan(
    hotline, console, played
) -> None:
    with hotline.db.session() as s:
        flags = {c.code: c.practice for c in s.scalars(select(Case))}
    assert flags == {played["live"]: False, played["practice"]: True}
    to_ani = [m.body for m in console.sent if m.to.removeprefix("whatsapp:") == ANI]
    practice_offer = next(b for b in to_ani if played["practice"] in b)
    live_offer = next(b for b in to_ani if played["live"] in b)
    assert "LATIHAN" in practice_offer and "LATIHAN" not in live_offer


def test_figures_and_exports_leave_practice_out_unless_asked(
    hotline, played, database_url: str, tmp_path: Path
) -> None:
    with hotline.db.session() as s:
        month = sitetime.today(hotline.clock(), "Asia/Makassar")
        assert monthly(s, "PRE", month).total == 1
        assert monthly(s, "PRE", month, practice=True).total == 2
        assert [c.code for c in cases(s, Filters())] == [played["live"]]
        assert {c.code for c in cases(s, Filters(practice=True))} == set(played.values())
    for extra, expected in (((), {played["live"]}), (("--practice",), set(played.values()))):
        out = tmp_path / f"export{len(extra)}.csv"
        assert _cli(database_url, "export", "--out", str(out), *extra).exit_code == 0
        rows = csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig")))
        assert {r["case"] for r in rows if r.get("case")} == expected


def test_console_badges_practice_cases_and_counts_them_only_when_asked(client, played) -> None:
    login(client, "pare")
    listing = client.get("/console/cases").data.decode()
    assert played["practice"] in listing and played["live"] in listing
    assert listing.count('class="badge practice"') == 1
    page = client.get(f"/console/cases/{played['practice']}").data.decode()
    assert 'class="badge practice">Latihan<' in page
    assert "badge practice" not in client.get(f"/console/cases/{played['live']}").data.decode()
    figures = client.get("/console/figures?site=PRE").data.decode()
    assert "sertakan latihan" in figures
    assert figures != client.get("/console/figures?site=PRE&practice=1").data.decode()


def test_purge_practice_erases_practice_cases_and_practice_only_contacts(
    hotline, played, database_url: str
) -> None:
    dry = _cli(database_url, "purge", "--practice", "--dry-run")
    assert dry.exit_code == 0 and "would erase 1 cases" in dry.output and "1 contacts" in dry.output
    assert _cli(database_url, "purge", "--practice", "--older-than", "1y").exit_code != 0
    result = _cli(database_url, "purge", "--practice")
    assert result.exit_code == 0 and "erased 1 cases" in result.output, result.output
    with hotline.db.session() as s:
        assert [c.code for c in s.scalars(select(Case))] == [played["live"]]
        practice_case_messages = [m for m in s.scalars(select(Message)) if played["practice"] in m.body]
        assert practice_case_messages == []
        phones = set(s.scalars(select(Contact.phone)))
        assert LIVE in phones and PRACTICE not in phones
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "purge_practice")).one()
        assert audit.actor == "purge" and audit.details["cases"] == 1
