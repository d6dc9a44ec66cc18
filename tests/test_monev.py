"""Monev figures (storage.monev through storage.figures.monthly) from real cases: reports by SMS
and WhatsApp through the signed webhook, members' TERIMA, CEK, RUJUK, HASIL and SELESAI; then
each new breakdown, the step times and the overdue follow-ups, in CSV, XLSX, HTML and on the
console's figures page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bench.scripts import KEKERASAN_WHATSAPP
from bot.cli import main
from bot.domain import followup
from bot.render import report as render
from storage import monev
from storage.figures import Figures, monthly
from storage.models import Case
from tests.conftest import Resident, work
from tests.test_console import accounts_made, login  # noqa: F401  (a fixture among them)
from tests.test_duty import REPORT, TAIL_MESSAGE, A, B, roster, to  # noqa: F401  (roster: a fixture)

_today = datetime.now(UTC)
MONTH_START = datetime(_today.year + _today.month // 12, _today.month % 12 + 1, 2, 1, 0, tzinfo=UTC)
ADULT, CHILD, ELDER = "+6281234567890", "+6281234567891", "+6281234567892"
OVERDUE = "Pemantauan terlambat (tanpa kabar melewati batas hari pengingat)"  # its label in the CSV


def _sms_report(client, number: str, who_age: str, disability: str = "LEWATI") -> str:
    """The Kekerasan SMS report of tests.test_duty, with another 'who and the age' answer and
    another answer to the disability question after it."""
    warga = Resident(client, number)
    asked = REPORT.index("sy sendiri 34") + 1
    for n, body in enumerate(REPORT + TAIL_MESSAGE):
        warga.says(who_age if body == "sy sendiri 34" else disability if n == asked else body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last)
    assert code, warga.last
    return code.group(1)


def _whatsapp_report(client, number: str) -> str:
    warga = Resident(client, number, whatsapp=True)
    for body in KEKERASAN_WHATSAPP:
        warga.says(body.replace("umur 34", "umur 67"))
    code = re.search(r"Kode: (PRE-\w{5})", warga.last)
    assert code, warga.last
    return code.group(1)


def _take(app, client, redis, console, code: str) -> tuple[str, Resident]:
    short = code.split("-")[1]
    work(app, redis)
    offered = next(n for n in (A, B) if any(f"TERIMA {short}" in m for m in to(console, n)))  # urgent: both
    member = Resident(client, offered)
    assert "Anda tangani" in member.says(f"TERIMA {short}")
    return short, member


def _figures(hotline, clock) -> Figures:
    with hotline.db.session() as s:
        return monthly(s, "PRE", MONTH_START.date(), now=clock())


@pytest.fixture
def month_of_cases(app, client, hotline, redis, console, clock, roster) -> dict[str, str]:
    """An adult's case checked, referred, received and closed in 3 days; a child's case (urgent)
    referred to the police and left without news; an older person's WhatsApp report nobody took;
    a duplicate. The adult has a disability (cannot walk), the older person has none, the child's
    report and the duplicate skip the question."""
    clock.now = start = MONTH_START  # 09:00 WITA on the 2nd of next month: all in one month
    adult = _sms_report(client, ADULT, "sy sendiri 34", "sy tdk bisa jalan")
    clock.advance(hours=2)
    short, ani = _take(app, client, redis, console, adult)
    assert "ditemukan" in ani.says(f"CEK {short} ada")
    clock.advance(hours=22)
    assert "UPTD PPA dicatat" in ani.says(f"RUJUK {short} uptd ppa")
    assert "diterima lembaga" in ani.says(f"HASIL {short} uptd diterima")
    clock.advance(days=2)
    assert "ditutup" in ani.says(f"SELESAI {short}")

    child = _sms_report(client, CHILD, "anak 12 thn")
    clock.advance(hours=4)
    short, member = _take(app, client, redis, console, child)
    clock.advance(hours=8)
    assert "Polisi dicatat" in member.says(f"RUJUK {short} polisi")

    elder = _whatsapp_report(client, ELDER)
    again = _sms_report(client, ADULT, "sy sendiri 34")
    short, member = _take(app, client, redis, console, again)
    assert "ditutup" in member.says(f"CEK {short} ganda dengan {adult}")
    with hotline.db.session() as s:  # the disability answers, as the flows store them
        answers = {c.code: c.answers for c in s.scalars(select(Case))}
    assert answers[adult]["disability"] == "yes" and answers[elder]["disability"] == "no"
    assert answers[child]["disability"] is None and answers[again]["disability"] is None  # LEWATI
    assert clock.now - start < timedelta(days=4)
    return {"adult": adult, "child": child, "elder": elder, "again": again}


def test_who_was_helped_by_category(hotline, clock, month_of_cases) -> None:
    fig = _figures(hotline, clock)
    splits = fig.monev.splits
    assert fig.total == 4 and set(fig.by_category) == {"kekerasan"}
    assert splits["by_sex"] == {"not_asked": {"kekerasan": 4}}  # no flow asks it: said, not guessed
    assert splits["by_age_group"] == {
        "child": {"kekerasan": 1},
        "adult": {"kekerasan": 2},
        "elderly": {"kekerasan": 1},
        "unknown": {},
    }
    assert splits["by_disability"] == {
        "yes": {"kekerasan": 1},
        "no": {"kekerasan": 1},
        "unknown": {"kekerasan": 2},
    }
    assert splits["by_channel"] == {
        "whatsapp": {"kekerasan": 1},
        "sms": {"kekerasan": 3},
        "posko": {},
        "telepon": {},
        "console": {},
        "unknown": {},
    }


def test_checks_referral_outcomes_and_step_times(hotline, clock, month_of_cases) -> None:
    fig = _figures(hotline, clock)
    assert fig.monev.splits["verification"] == {
        "found": {"kekerasan": 1},
        "not_found": {},
        "duplicate": {"kekerasan": 1},
        "not_yet": {"kekerasan": 2},
    }
    assert fig.monev.splits["referral_outcomes"] == {
        "Polisi|waiting": {"kekerasan": 1},
        "UPTD PPA|received": {"kekerasan": 1},
    }
    durations = fig.monev.durations
    # accepted: the adult after 2 hours, the child after 4, the duplicate at once
    assert durations["acceptance"][0] == pytest.approx(round(2 / 24, 2))
    assert durations["referral"] == (pytest.approx(0.75), pytest.approx(0.95))  # 1 day; 12 hours
    assert durations["closure"] == (pytest.approx(1.5, abs=0.01), pytest.approx(2.7, abs=0.01))  # 3 days; 0


def test_follow_ups_overdue_by_the_rule(hotline, clock, month_of_cases) -> None:
    # The child's case (urgent) was referred with no news since: overdue after 1 day.
    assert _figures(hotline, clock).monev.overdue == {}
    clock.advance(hours=23)
    assert _figures(hotline, clock).monev.overdue == {}
    clock.advance(hours=2)
    fig = _figures(hotline, clock)
    assert fig.monev.overdue == {"kekerasan": 1} and fig.monev.overdue_total == 1
    assert monev.overdue_after("kekerasan", urgent=True) == timedelta(days=1)
    assert monev.overdue_after("bansos", urgent=False) == timedelta(days=7)
    days = followup.parse_days("urgent=2,default=10,kekerasan=3")  # as the reminders read them
    assert monev.overdue_after("kekerasan", urgent=False, days_of=days) == timedelta(days=3)
    assert monev.overdue_after("kekerasan", urgent=True, days_of=days) == timedelta(days=2)
    assert monev.overdue_after("bansos", urgent=False, days_of=days) == timedelta(days=10)


def test_overdue_follow_ups_read_the_configured_days(
    app, client, hotline, redis, console, clock, roster, accounts_made
) -> None:
    """HOTLINE_FOLLOW_UP_DAYS "kekerasan=3", the follow-up reminders' own setting: a held case
    quiet for 4 days is overdue, one quiet for 2 days is not; the console's figures page and
    `hotline report` read it too."""
    clock.now = MONTH_START
    first = _sms_report(client, ADULT, "sy sendiri 34")
    _take(app, client, redis, console, first)
    clock.advance(days=2)
    second = _sms_report(client, CHILD, "sy sendiri 40")
    _take(app, client, redis, console, second)
    clock.advance(days=2, hours=1)  # the first taken 4 days ago, the second 2: neither urgent
    assert _figures(hotline, clock).monev.overdue == {}  # the defaults: 7 days
    hotline.config[followup.CONFIG_KEY] = "kekerasan=3"
    with hotline.db.session() as s:
        days = followup.configured_days(hotline.config)
        fig = monthly(s, "PRE", MONTH_START.date(), now=clock(), follow_up_days=days)
    assert fig.monev.overdue == {"kekerasan": 1}

    login(client, "pare")
    url = f"/console/figures?site=PRE&month={MONTH_START:%Y-%m}&format=csv"
    rows = list(csv.reader(io.StringIO(client.get(url).data.decode("utf-8-sig"))))
    assert [OVERDUE, "Kekerasan", "1"] in rows
    out = app.test_cli_runner().invoke(main, ["report", "--month", f"{MONTH_START:%Y-%m}", "--site", "PRE"])
    assert [OVERDUE, "Kekerasan", "1"] in list(csv.reader(io.StringIO(out.stdout)))
    hotline.config[followup.CONFIG_KEY] = "kekerasan=5"  # both quiet for less: none overdue
    rows = list(csv.reader(io.StringIO(client.get(url).data.decode("utf-8-sig"))))
    assert ["Ringkasan", OVERDUE, "0"] in rows


def test_every_rendering_has_the_new_figures(
    app, client, hotline, clock, month_of_cases, accounts_made
) -> None:
    clock.advance(days=2)
    fig = _figures(hotline, clock)
    text = io.StringIO()
    render.to_csv(fig, text, "id")
    rows = list(csv.reader(io.StringIO(text.getvalue())))
    assert ["Orang yang dibantu per jenis kelamin", "Tidak ditanya", "4"] in rows
    assert ["Orang yang dibantu per kelompok umur", "Anak (di bawah 18)", "1"] in rows
    assert ["Orang yang dibantu per kelompok umur (Kekerasan)", "Dewasa (18-59)", "2"] in rows
    assert ["Kasus per saluran", "WhatsApp", "1"] in rows
    assert ["Hasil verifikasi (croscek)", "Belum diverifikasi", "2"] in rows
    assert ["Hasil rujukan per lembaga", "Polisi: belum ada hasil", "1"] in rows
    assert ["Hasil rujukan per lembaga", "UPTD PPA: diterima lembaga", "1"] in rows
    summary = {r[1]: r[2] for r in rows if r[0] == "Ringkasan"}
    assert summary[OVERDUE] == "1"
    assert float(summary["Hari sampai dirujuk, median"]) == pytest.approx(0.75)

    buf = io.BytesIO()
    render.to_xlsx(fig, buf, "en")
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert list(wb["age"].values)[:3] == [
        ("Age group", "Cases", "Violence"),
        ("Child (under 18)", 1, 1),
        ("Adult (18-59)", 2, 2),
    ]
    assert ("Older person (60 and over)", 1, 1) in list(wb["age"].values)
    assert wb["overdue follow-ups"]["A2"].value == "Violence" and wb["overdue follow-ups"]["B2"].value == 1
    assert wb["age"]._charts and wb["referral outcomes"]._charts

    page = render.to_html(fig, "id")
    for part in (*monev.SPLITS, "followups_overdue"):
        assert f'id="figures-{part}"' in page
    section = re.search(r'id="figures-by_disability".*?</section>', page, re.S).group(0)
    assert "<svg" in section and "Semua" in section and "Kekerasan" in section

    login(client, "pare")
    html = client.get(f"/console/figures?site=PRE&month={MONTH_START:%Y-%m}").data.decode()
    assert 'id="figures-by_age_group"' in html and "Lansia (60 ke atas)" in html


def test_an_empty_month_says_not_asked_and_nothing_else(hotline) -> None:
    with hotline.db.session() as s:
        fig = monthly(s, "PRE", datetime(2020, 1, 1).date())
    assert fig.monev.splits["by_sex"] == {"not_asked": {}}
    assert fig.monev.durations["closure"] == (None, None) and fig.monev.overdue_total == 0
    page = render.to_html(fig, "en")
    assert "Not asked" in page and 'id="figures-referral_outcomes"' in page
