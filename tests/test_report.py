"""Monthly figures (storage.figures), their CSV/XLSX/HTML renderings and SVG charts, the
`hotline report` and `hotline purge` commands, and retention (storage.cases.purge)."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from bot.render import report as render
from bot.render.charts import bar_chart
from storage.cases import purge
from storage.figures import Figures, UnknownSite, monthly, percentile
from storage.models import (
    Area,
    Assignment,
    AuditLog,
    Case,
    CaseEvent,
    Contact,
    Conversation,
    Member,
    Message,
    Shift,
    Site,
)
from tests.conftest import Resident, new_sid, work

WITA = ZoneInfo("Asia/Makassar")
OCTOBER = date(2026, 10, 1)
MEMBER = "+628110001001"
SVG = "{http://www.w3.org/2000/svg}"


def wita(*args: int) -> datetime:
    return datetime(*args, tzinfo=WITA)


def _site(s, prefix: str) -> Site:  # type: ignore[no-untyped-def]
    return s.scalars(select(Site).where(Site.prefix == prefix)).one()


def _area(s, site: Site, name: str) -> Area:  # type: ignore[no-untyped-def]
    return s.scalars(select(Area).where(Area.site_id == site.id, Area.name == name)).one()


def add_case(
    s,  # type: ignore[no-untyped-def]
    site: Site,
    code: str,
    created: datetime,
    *,
    category: str = "kekerasan",
    area: Area | None = None,
    urgent: bool = False,
    status: str = "new",
    wait: float | None = None,
    closed: datetime | None = None,
    contact: Contact | None = None,
    answers: dict | None = None,
    updated: datetime | None = None,
) -> Case:
    accepted = created + timedelta(minutes=wait) if wait is not None else None
    case = Case(
        code=code,
        site_id=site.id,
        area_id=area.id if area else None,
        contact_id=contact.id if contact else None,
        category=category,
        urgent=urgent,
        status=status,
        answers=answers if answers is not None else {"story": f"cerita {code}", "nik": "7372010101010001"},
        contact_ok=contact is not None,
        created_at=created,
        updated_at=updated or closed or accepted or created,
        accepted_at=accepted,
        closed_at=closed,
    )
    s.add(case)
    s.flush()
    s.add(CaseEvent(case_id=case.id, kind="submitted", data={"category": category}, created_at=created))
    return case


def event(s, case: Case, kind: str, **data: str) -> None:  # type: ignore[no-untyped-def]
    s.add(CaseEvent(case_id=case.id, kind=kind, actor="member:1", data=data, created_at=case.created_at))


def offers(s, case: Case, member: Member, *statuses: str) -> None:  # type: ignore[no-untyped-def]
    for status in statuses:
        s.add(
            Assignment(
                case_id=case.id,
                member_id=member.id,
                tier="duty",
                status=status,
                offered_at=case.created_at,
                deadline_at=case.created_at + timedelta(hours=1),
            )
        )


@pytest.fixture
def october(hotline) -> None:
    """Parepare (WITA, UTC+8) around October 2026, with cases just inside and outside its edges,
    another site's case, and a test site whose area names are hostile markup and a formula."""
    with hotline.db.session() as s:
        pre, msb = _site(s, "PRE"), _site(s, "MSB")
        lompoe, lemoe = _area(s, pre, "Lompoe"), _area(s, pre, "Lemoe")
        ani = Member(site_id=pre.id, area_id=lompoe.id, name="Bu Ani", phone=MEMBER, channel="sms")
        s.add(ani)
        s.flush()
        first = add_case(
            s, pre, "PRE-0CT01", wita(2026, 10, 1, 0, 10), area=lompoe, urgent=True, status="closed", wait=10
        )
        first.closed_at = first.created_at + timedelta(days=2)
        event(s, first, "referred", to="UPTD PPA", note="uptd ppa")
        event(s, first, "referred", to="UPTD PPA", note="lagi")
        event(s, first, "referred", to="Polisi", note="polres")
        offers(s, first, ani, "accepted")
        second = add_case(
            s,
            pre,
            "PRE-0CT02",
            wita(2026, 10, 5, 10),
            category="bansos",
            area=lemoe,
            status="referred",
            wait=30,
        )
        event(s, second, "referred", to="Dinsos", note="dinsos")
        offers(s, second, ani, "expired", "accepted")
        third = add_case(
            s, pre, "PRE-0CT03", wita(2026, 10, 15, 12), category="bpjs", status="accepted", wait=60
        )
        offers(s, third, ani, "accepted")
        fourth = add_case(s, pre, "PRE-0CT04", wita(2026, 10, 20, 8), area=lompoe)
        offers(s, fourth, ani, "expired", "expired", "declined")
        event(s, fourth, "unanswered")
        last = add_case(
            s,
            pre,
            "PRE-0CT05",
            wita(2026, 10, 31, 23, 30),
            category="dokumen",
            area=lemoe,
            status="closed",
            wait=120,
            closed=wita(2026, 11, 2, 9),
        )
        november = add_case(
            s, pre, "PRE-N0V01", wita(2026, 11, 1, 0, 30), area=lompoe, urgent=True, status="closed", wait=5
        )
        november.closed_at = november.created_at + timedelta(days=1)
        event(s, november, "referred", to="Dinsos")
        event(s, november, "unanswered")
        offers(s, november, ani, "expired", "accepted")
        add_case(s, pre, "PRE-SEP01", wita(2026, 9, 30, 23, 59), category="bansos")
        add_case(s, msb, "MSB-0CT01", wita(2026, 10, 10, 10), category="bansos")
        assert last.created_at == datetime(2026, 10, 31, 15, 30, tzinfo=UTC)
        assert november.created_at == datetime(2026, 10, 31, 16, 30, tzinfo=UTC)

        test = Site(prefix="TST", name='Uji "<b>&</b>"', timezone="Asia/Jayapura", numbers=[], position=9)
        s.add(test)
        s.flush()
        script = Area(site_id=test.id, name='<script>alert("x")</script>')
        formula = Area(site_id=test.id, name="=HYPERLINK(1+2)")
        s.add_all([script, formula])
        s.flush()
        add_case(s, test, "TST-0CT01", datetime(2026, 10, 10, tzinfo=UTC), area=script, status="closed")
        add_case(s, test, "TST-0CT02", datetime(2026, 10, 11, tzinfo=UTC), area=script)
        add_case(s, test, "TST-0CT03", datetime(2026, 10, 12, tzinfo=UTC), area=formula)


def figures(hotline, prefix: str = "PRE", month: date = OCTOBER) -> Figures:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return monthly(s, prefix, month)


# Figures -------------------------------------------------------------------------------------


def test_percentile_interpolates_between_closest_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([10, 30, 60, 120], 0.5) == 45
    assert percentile([120, 10, 60, 30], 0.9) == pytest.approx(102)
    assert percentile([1, 2, 3, 4, 5], 0.9) == pytest.approx(4.6)


def test_monthly_figures_of_october_in_site_local_time(hotline, october) -> None:
    fig = figures(hotline)
    assert (fig.site, fig.site_name, fig.timezone, fig.month, fig.month_key) == (
        "PRE",
        "Kota Parepare",
        "Asia/Makassar",
        OCTOBER,
        "2026-10",
    )
    # 00:10 WITA on 1 October and 23:30 WITA on 31 October are in; 00:30 on 1 November is not
    assert fig.total == 5
    assert list(fig.by_category.items()) == [("kekerasan", 2), ("bansos", 1), ("bpjs", 1), ("dokumen", 1)]
    assert list(fig.by_area.items()) == [("Lemoe", 2), ("Lompoe", 2), ("-", 1)]
    assert fig.by_urgency == {"urgent": 1, "normal": 4}
    assert list(fig.by_status.items()) == [("new", 1), ("accepted", 1), ("referred", 1), ("closed", 2)]
    assert fig.accepted == 4
    assert fig.acceptance_median_minutes == 45.0  # 10, 30, 60, 120
    assert fig.acceptance_p90_minutes == 102.0
    assert fig.closed == 2 and fig.share_closed == pytest.approx(0.4)
    # a case referred twice to the same institution counts once there
    assert fig.referrals == {"Dinsos": 1, "Polisi": 1, "UPTD PPA": 1}
    assert (fig.offers, fig.offers_expired, fig.cases_unanswered) == (7, 3, 1)

    nov = figures(hotline, month=date(2026, 11, 20))  # any day of the month names it
    assert (nov.month, nov.total, nov.by_urgency, nov.accepted) == (
        date(2026, 11, 1),
        1,
        {"urgent": 1, "normal": 0},
        1,
    )
    assert nov.acceptance_median_minutes == nov.acceptance_p90_minutes == 5.0
    assert (nov.referrals, nov.offers_expired, nov.cases_unanswered, nov.share_closed) == (
        {"Dinsos": 1},
        1,
        1,
        1.0,
    )
    assert figures(hotline, month=date(2026, 9, 1)).by_category == {"bansos": 1}
    assert figures(hotline, "msb").total == 1  # the prefix in any case


def test_an_empty_month_and_an_unknown_site(hotline, october) -> None:
    empty = figures(hotline, month=date(2027, 1, 1))
    assert empty.total == 0 and empty.by_category == {} and empty.by_status == {}
    assert empty.by_urgency == {"urgent": 0, "normal": 0}
    assert empty.acceptance_median_minutes is None and empty.acceptance_p90_minutes is None
    assert empty.share_closed == 0.0 and empty.referrals == {}
    assert "<svg" in render.to_html(empty, "id") and "Tidak ada data" in render.to_html(empty, "id")
    render.to_xlsx(empty, io.BytesIO(), "en")
    with pytest.raises(UnknownSite):
        figures(hotline, "XYZ")


# Renderings ---------------------------------------------------------------------------------


def test_bar_chart_is_accessible_escaped_svg() -> None:
    svg = bar_chart([("A & B", 3), ("<x>", 1.5), ("nol", 0)], 'Judul "q" <t>', unit="mnt")
    root = ET.fromstring(svg)  # well-formed XML: every label was escaped
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-label") == 'Judul "q" <t>' and root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 360 ")
    assert root.find(f"{SVG}title").text == 'Judul "q" <t>'
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ['Judul "q" <t>', "A & B", "3 mnt", "<x>", "1.5 mnt", "nol", "0 mnt"]
    widths = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert "<x>" not in svg and "&lt;x&gt;" in svg
    assert ET.fromstring(bar_chart([], "kosong")).find(f"{SVG}title").text == "kosong"


def test_csv_reads_back(hotline, october) -> None:
    buf = io.StringIO()
    render.to_csv(figures(hotline), buf, "id")
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0] == ["bagian", "butir", "nilai"]
    values = {(section, item): value for section, item, value in rows[1:]}
    assert len(values) == len(rows) - 1
    assert values[("Ringkasan", "Lokasi")] == "PRE Kota Parepare"
    assert values[("Ringkasan", "Bulan")] == "2026-10"
    assert values[("Ringkasan", "Jumlah kasus")] == "5"
    assert values[("Ringkasan", "Waktu sampai diterima, median (menit)")] == "45.0"
    assert values[("Ringkasan", "Waktu sampai diterima, persentil ke-90 (menit)")] == "102.0"
    assert values[("Ringkasan", "Kasus selesai (%)")] == "40.0"
    assert values[("Ringkasan", "Tawaran tidak dijawab sampai batas waktu")] == "3"
    assert values[("Ringkasan", "Kasus yang tidak diterima siapa pun")] == "1"
    assert values[("Kasus per kategori", "Kekerasan")] == "2"
    assert values[("Kasus per kategori", "Bansos (PKH, sembako)/DTSEN")] == "1"
    assert values[("Kasus per kelurahan/desa", "(tidak diketahui)")] == "1"
    assert values[("Kasus per urgensi", "Mendesak")] == "1"
    assert values[("Kasus per status", "selesai")] == "2"  # the catalog's status.closed
    assert values[("Rujukan per lembaga", "UPTD PPA")] == "1"

    english = io.StringIO()
    render.to_csv(figures(hotline), english, "en")
    rows = list(csv.reader(io.StringIO(english.getvalue())))
    assert rows[0] == ["section", "item", "value"] and ["Cases by category", "Violence", "2"] in rows

    hostile = io.StringIO()
    render.to_csv(figures(hotline, "TST"), hostile, "id")
    rows = list(csv.reader(io.StringIO(hostile.getvalue())))
    assert ["Kasus per kelurahan/desa", "'=HYPERLINK(1+2)", "1"] in rows  # not a formula in Excel
    assert ["Kasus per kelurahan/desa", '<script>alert("x")</script>', "2"] in rows
    empty = io.StringIO()
    render.to_csv(figures(hotline, month=date(2027, 1, 1)), empty, "id")
    assert ["Ringkasan", "Waktu sampai diterima, median (menit)", ""] in csv.reader(
        io.StringIO(empty.getvalue())
    )


def test_xlsx_reads_back(hotline, october) -> None:
    buf = io.BytesIO()
    render.to_xlsx(figures(hotline), buf, "id")
    wb = load_workbook(io.BytesIO(buf.getvalue()))
    assert wb.sheetnames == [
        *("ringkasan", "kategori", "wilayah", "urgensi", "status", "rujukan"),
        *("jenis kelamin", "umur", "disabilitas", "saluran", "verifikasi", "hasil rujukan"),
        "pemantauan terlambat",
    ]
    summary = {row[0]: row[1] for row in wb["ringkasan"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert summary["Lokasi"] == "PRE Kota Parepare" and summary["Bulan"] == "2026-10"
    assert summary["Jumlah kasus"] == 5 and summary["Kasus diterima pendamping"] == 4
    assert summary["Waktu sampai diterima, median (menit)"] == 45
    assert summary["Waktu sampai diterima, persentil ke-90 (menit)"] == 102
    assert summary["Kasus selesai (%)"] == pytest.approx(0.4)
    share = next(r[1] for r in wb["ringkasan"].iter_rows(min_row=2) if r[0].value == "Kasus selesai (%)")
    assert share.number_format == "0.0%"
    assert list(wb["kategori"].values) == [
        ("Kategori", "Kasus"),
        ("Kekerasan", 2),
        ("Bansos (PKH, sembako)/DTSEN", 1),
        ("BPJS Kesehatan", 1),
        ("KTP/KK/akta", 1),
    ]
    assert ("(tidak diketahui)", 1) in list(wb["wilayah"].values)
    assert list(wb["rujukan"].values)[1:] == [("Dinsos", 1), ("Polisi", 1), ("UPTD PPA", 1)]
    assert len(wb["kategori"]._charts) == 1  # a native Excel bar chart beside the table

    hostile = io.BytesIO()
    render.to_xlsx(figures(hotline, "TST"), hostile, "en")
    wb = load_workbook(io.BytesIO(hostile.getvalue()))
    assert wb.sheetnames[0] == "summary"
    cells = {c.value: c for row in wb["area"].iter_rows() for c in row}
    assert cells["=HYPERLINK(1+2)"].data_type == "s"  # text, not a formula


def test_html_has_tables_charts_and_escapes_labels(hotline, october) -> None:
    fragment = render.to_html(figures(hotline), "id")
    assert fragment.startswith('<section class="figures" lang="id">')
    assert "Angka bulanan: Kota Parepare (PRE), Oktober 2026" in fragment
    # 5 breakdowns, then 7 for monev (who was helped: always their rows, even at zero; checks,
    # referral outcomes and overdue follow-ups of these cases)
    assert fragment.count("<svg") == 12 and fragment.count('role="img"') == 12
    for svg in re.findall(r"<svg.*?</svg>", fragment, re.S):
        ET.fromstring(svg)
    assert (
        '<tr data-figure="share_closed"><th scope="row">Kasus selesai (%)</th><td class="num">40,0%</td>'
        in (fragment)
    )
    assert '<td class="num">102</td>' in fragment and "Kekerasan" in fragment
    english = render.to_html(figures(hotline), "en")
    assert "Cases by category" in english and "40.0%" in english and "Violence" in english

    hostile = render.to_html(figures(hotline, "TST"), "id")
    assert "<script" not in hostile and "<b>" not in hostile
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in hostile  # table cell
    assert '&lt;script&gt;alert("x")&lt;/script&gt;' in hostile  # chart text
    for svg in re.findall(r"<svg.*?</svg>", hostile, re.S):
        ET.fromstring(svg)

    page = render.to_html_document(figures(hotline, "TST"), "id")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "<link" not in page and " src=" not in page and "href" not in page
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}  # namespaces only


# The command -------------------------------------------------------------------------------


def cli(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, list(args), catch_exceptions=False)


def test_report_command(app, hotline, october, tmp_path: Path) -> None:
    result = cli(app, "report", "--month", "2026-10", "--site", "pre")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert ["Ringkasan", "Jumlah kasus", "5"] in rows

    out = tmp_path / "oktober.xlsx"  # the format follows the extension
    result = cli(app, "report", "--month", "2026-10", "--site", "PRE", "--out", str(out))
    assert result.exit_code == 0 and "PRE 2026-10: 5 cases" in result.stderr
    assert load_workbook(out)["ringkasan"]["A1"].value.startswith("Angka bulanan")

    page = tmp_path / "report.txt"
    result = cli(app, "report", "--month", "2026-10", "--site", "PRE", "--format", "html", "--out", str(page))
    assert result.exit_code == 0 and page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    csv_file = tmp_path / "r.csv"
    result = cli(
        app, "report", "--month", "2026-10", "--site", "PRE", "--locale", "en", "--out", str(csv_file)
    )
    assert ["Summary", "Cases", "5"] in list(csv.reader(csv_file.open(encoding="utf-8-sig", newline="")))
    html = cli(app, "report", "--month", "2026-11", "--site", "PRE", "--format", "html")
    assert html.exit_code == 0 and "November 2026" in html.stdout

    for args, message in [
        (("--month", "2026-13", "--site", "PRE"), "--month must be YYYY-MM"),
        (("--month", "oktober", "--site", "PRE"), "--month must be YYYY-MM"),
        (("--month", "2026-10", "--site", "XYZ"), "unknown site 'XYZ'; the sites are: PRE, MSB, TST"),
        (("--month", "2026-10", "--site", "PRE", "--format", "xlsx"), "needs --out"),
        (("--month", "2026-10", "--site", "PRE", "--out", str(tmp_path / "no" / "r.csv")), "cannot write"),
    ]:
        result = cli(app, "report", *args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)
        assert result.stdout == ""


# Retention ----------------------------------------------------------------------------------

NOW = datetime(2027, 12, 1, 12, tzinfo=UTC)  # 365 days later is 2026-12-01 12:00 UTC
PHONES = {k: f"+62812000000{i:02d}" for i, k in enumerate("XYZWVUT", 11)}


def contact(s, key: str, last: datetime) -> Contact:  # type: ignore[no-untyped-def]
    c = Contact(
        phone=PHONES[key], name=f"Ibu {key}", profile_name=f"wa {key}", created_at=last, last_inbound_at=last
    )
    s.add(c)
    s.flush()
    s.add(
        Conversation(
            contact_id=c.id, site_id=_site(s, "PRE").id, data={"draft": f"rahasia {key}"}, updated_at=last
        )
    )
    s.flush()
    return c


def message(
    s, body: str, at: datetime, *, who: Contact | None = None, case: Case | None = None, **more
) -> Message:  # type: ignore[no-untyped-def]
    conversation = (
        s.scalars(select(Conversation.id).where(Conversation.contact_id == who.id)).first() if who else None
    )
    m = Message(
        sid=new_sid(),
        direction=more.pop("direction", "in"),
        party=more.pop("party", "resident"),
        channel="sms",
        contact_id=who.id if who else None,
        conversation_id=conversation,
        case_id=case.id if case else None,
        body=body,
        num_media=len(more.get("media", [])),
        created_at=at,
        **more,
    )
    s.add(m)
    s.flush()
    return m


@pytest.fixture
def aged(hotline) -> dict[str, int]:
    """A year after October 2026: old finished cases, an open one, a recently closed one, a
    resident who wrote last week, people who only ever texted."""
    ids: dict[str, int] = {}
    with hotline.db.session() as s:
        pre = _site(s, "PRE")
        lompoe = _area(s, pre, "Lompoe")
        ani = Member(site_id=pre.id, area_id=lompoe.id, name="Bu Ani", phone=MEMBER, channel="sms")
        s.add(ani)
        s.flush()
        x = contact(s, "X", wita(2026, 10, 20, 9))
        p1 = add_case(
            s,
            pre,
            "PRE-P1",
            wita(2026, 10, 2, 8),
            area=lompoe,
            status="closed",
            wait=15,
            closed=wita(2026, 10, 5, 9),
            contact=x,
            answers={"story": "sy dipukul suami", "nik": "7372010101010001", "contact": "message"},
        )
        message(
            s,
            "sy dipukul suami",
            p1.created_at,
            who=x,
            case=p1,
            media=[{"url": "https://api.twilio.com/m/1"}],
        )
        message(
            s,
            "Laporan diterima",
            p1.created_at,
            who=x,
            case=p1,
            direction="out",
            party="bot",
            address=PHONES["X"],
        )
        message(
            s,
            "CATAT P1 rumahnya di jalan mawar",
            p1.created_at,
            case=p1,
            party="member",
            member_id=ani.id,
            site_id=pre.id,
        )
        message(s, "STATUS", wita(2026, 10, 20, 9), who=x)
        event(s, p1, "note", member="Bu Ani", note="rumahnya di jalan mawar")
        event(s, p1, "referred", member="Bu Ani", to="UPTD PPA", note="uptd ppa, ibu takut")
        event(s, p1, "closed", member="Bu Ani", note="aman")
        offers(s, p1, ani, "accepted")

        y = contact(s, "Y", wita(2027, 11, 20, 10))
        p2 = add_case(
            s,
            pre,
            "PRE-P2",
            wita(2026, 10, 3, 8),
            category="bansos",
            status="closed",
            closed=wita(2026, 10, 6),
            contact=y,
        )
        message(s, "tidak dapat bansos", p2.created_at, who=y, case=p2)
        p3 = add_case(s, pre, "PRE-P3", wita(2027, 11, 20, 10), status="accepted", wait=5, contact=y)
        message(s, "dipukul lagi", p3.created_at, who=y, case=p3)
        message(s, "halo", wita(2026, 10, 1), who=y)

        z = contact(s, "Z", wita(2026, 10, 10))  # wrote long ago, but the case closed last month
        p4 = add_case(
            s,
            pre,
            "PRE-P4",
            wita(2026, 10, 10),
            category="bpjs",
            status="closed",
            closed=wita(2027, 11, 1),
            contact=z,
        )
        message(s, "kartu bpjs", p4.created_at, who=z, case=p4)

        w = contact(s, "W", wita(2026, 9, 1))  # cancelled: no closed_at, aged by updated_at
        p5 = add_case(s, pre, "PRE-P5", wita(2026, 9, 1), category="dokumen", status="cancelled", contact=w)
        message(s, "akta anak", p5.created_at, who=w, case=p5)

        v = contact(s, "V", wita(2026, 1, 5))  # texted once, never reported
        message(s, "halo ini siapa", wita(2026, 1, 5), who=v)
        u = contact(s, "U", wita(2027, 11, 30))  # texted yesterday, never reported
        message(s, "halo", wita(2027, 11, 30), who=u)

        t = contact(s, "T", wita(2027, 11, 25))  # an old closed case, but wrote last week
        p6 = add_case(
            s, pre, "PRE-P6", wita(2026, 10, 7), status="closed", closed=wita(2026, 10, 8), contact=t
        )
        message(s, "tolong", p6.created_at, who=t, case=p6)
        ids |= {k: c.id for k, c in zip("XYZWVUT", (x, y, z, w, v, u, t), strict=True)}
        ids |= {
            k: c.id
            for k, c in zip(("P1", "P2", "P3", "P4", "P5", "P6"), (p1, p2, p3, p4, p5, p6), strict=True)
        }
    return ids


def snapshot(hotline) -> dict[str, object]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return {
            "messages": sorted(
                (m.id, m.body, str(m.media), m.address, m.contact_id) for m in s.scalars(select(Message))
            ),
            "cases": sorted(
                (c.id, str(c.answers), c.contact_id, c.contact_ok) for c in s.scalars(select(Case))
            ),
            "contacts": sorted((c.id, c.phone, c.name, c.erased_at) for c in s.scalars(select(Contact))),
            "events": sorted((e.id, e.kind, str(e.data)) for e in s.scalars(select(CaseEvent))),
            "conversations": sorted((c.id, str(c.data)) for c in s.scalars(select(Conversation))),
            "audit": s.scalar(select(func.count(AuditLog.id))),
        }


EXPECTED = {"cases": 4, "messages": 8, "notes": 3, "contacts": 3, "contacts_kept": 2}


def test_purge_dry_run_counts_and_changes_nothing(hotline, aged) -> None:
    before = snapshot(hotline)
    with hotline.db.session() as s:
        counts = purge(s, older_than=timedelta(days=365), now=NOW, dry_run=True)
    assert {k: counts[k] for k in EXPECTED} == EXPECTED
    assert counts["dry_run"] is True and counts["cutoff"].startswith("2026-12-01T12:00:00")
    assert snapshot(hotline) == before


def test_purge_erases_old_finished_cases_and_keeps_the_counts(hotline, aged) -> None:
    months = [date(2026, 9, 1), OCTOBER, date(2027, 11, 1)]
    figures_before = [figures(hotline, month=m) for m in months]
    with hotline.db.session() as s:
        counts = purge(s, older_than=timedelta(days=365), now=NOW, dry_run=False)
    assert {k: counts[k] for k in EXPECTED} == EXPECTED and counts["dry_run"] is False
    assert [figures(hotline, month=m) for m in months] == figures_before

    with hotline.db.session() as s:
        case = {k: s.get_one(Case, aged[k]) for k in ("P1", "P2", "P3", "P4", "P5", "P6")}
        person = {k: s.get_one(Contact, aged[k]) for k in "XYZWVUT"}
        for key in ("P1", "P2", "P5", "P6"):  # anonymised and unlinked from the person
            c = case[key]
            assert (c.answers, c.contact_id, c.contact_ok) == ({}, None, False), key
            assert c.category and c.status in ("closed", "cancelled") and c.created_at
            said = s.scalars(select(Message).where(Message.case_id == c.id)).all()
            assert said and all(m.body == "" and m.media == [] for m in said), key
            assert all(
                m.contact_id is None and m.conversation_id is None for m in said if m.party != "member"
            )
            erased = [
                e for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id)) if e.kind == "erased"
            ]
            assert [(e.actor, e.created_at) for e in erased] == [("purge", NOW)], key
        p1_messages = s.scalars(
            select(Message).where(Message.case_id == aged["P1"]).order_by(Message.id)
        ).all()
        assert p1_messages[1].address is None  # the resident's number on the bot's message
        assert p1_messages[2].address is None and p1_messages[2].member_id is not None
        p1_events = {
            e.kind: e.data for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == aged["P1"]))
        }
        assert p1_events["note"] == {"member": "Bu Ani"}
        assert p1_events["referred"] == {"member": "Bu Ani", "to": "UPTD PPA"}  # the figure stays
        assert p1_events["closed"] == {"member": "Bu Ani"}
        assert (
            s.scalars(select(Assignment).where(Assignment.case_id == aged["P1"])).one().status == "accepted"
        )

        for key in ("P3", "P4"):  # open, and closed within the period: untouched
            c = case[key]
            assert c.answers["story"] and c.contact_id is not None
            assert all(m.body for m in s.scalars(select(Message).where(Message.case_id == c.id)))
            assert not s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.kind == "erased")
            ).all()

        for key in "XWV":  # nothing open or recent, no message since the cutoff: the number goes
            p = person[key]
            assert (p.phone, p.name, p.profile_name, p.erased_at) == (None, None, None, NOW), key
            assert all(m.body == "" for m in s.scalars(select(Message).where(Message.contact_id == p.id)))
            assert s.scalars(select(Conversation).where(Conversation.contact_id == p.id)).one().data == {}
        for key in "YZUT":  # an open or recent case, or a message since the cutoff: kept
            p = person[key]
            assert (p.phone, p.name, p.erased_at) == (PHONES[key], f"Ibu {key}", None), key
        y_texts = s.scalars(
            select(Message.body).where(Message.contact_id == aged["Y"]).order_by(Message.id)
        ).all()
        assert y_texts == ["dipukul lagi", "halo"]  # the open case and the rest of Y's chat stay

        audit = s.scalars(select(AuditLog).where(AuditLog.action == "purge")).one()
        assert audit.actor == "purge" and audit.created_at == NOW
        assert audit.details == {**EXPECTED, "older_than_days": 365, "cutoff": counts["cutoff"]}
        erase_rows = s.scalars(select(AuditLog).where(AuditLog.action == "erase")).all()
        assert sorted(r.details["contact_id"] for r in erase_rows) == sorted(aged[k] for k in "XWV")
        assert {r.actor for r in erase_rows} == {"purge"}

    with hotline.db.session() as s:  # a second run finds nothing left to do
        again = purge(s, older_than=timedelta(days=365), now=NOW + timedelta(hours=1), dry_run=False)
    assert {k: again[k] for k in EXPECTED} == dict.fromkeys(EXPECTED, 0)
    assert [figures(hotline, month=m) for m in months] == figures_before


def test_purge_command(app, hotline, aged) -> None:
    hotline.clock = lambda: NOW
    before = snapshot(hotline)
    result = cli(app, "purge", "--older-than", "365d", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "dry run: cases closed before 2026-12-01: would erase 4 cases, 8 messages, 3 notes, "
        "3 contacts' numbers (2 kept: an open or recent case, or wrote since); nothing changed\n"
    )
    assert snapshot(hotline) == before
    result = cli(app, "purge", "--older-than", "52w")  # 364 days: P1..P6 as before
    assert result.exit_code == 0 and "erased 4 cases, 8 messages" in result.stdout
    with hotline.db.session() as s:
        assert (
            s.scalars(select(AuditLog).where(AuditLog.action == "purge")).one().details["older_than_days"]
            == 364
        )
    for bad, message in [
        ("12m", "must be a number of days"),
        ("1d", "at least 30d"),
        ("abc", "365d, 52w, 1y"),
    ]:
        result = cli(app, "purge", "--older-than", bad)
        assert result.exit_code == 1 and message in result.stderr, bad


# End to end --------------------------------------------------------------------------------

# SMS: questions in pairs; the disability question on its own (not said)
REPORT = ("halo", "iya", "ok setuju", "1", "gak", "sy sendiri 34", "LEWATI", "1 sy dipukul", "suami")
TAIL = ("lompoe", "2 malam", "LEWATI", "1")  # ..., contact and safe time, code word, send


def test_a_real_report_counts_then_purges(app, client, hotline, redis, console, clock) -> None:
    with hotline.db.session() as s:
        pre = _site(s, "PRE")
        s.add(
            Member(
                site_id=pre.id,
                area_id=_area(s, pre, "Lompoe").id,
                name="Bu Ani",
                phone=MEMBER,
                channel="sms",
                shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
            )
        )
    warga = Resident(client, "+6281234567890")
    for body in REPORT + TAIL:
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last).group(1)
    work(app, redis)
    clock.advance(minutes=12)
    ani = Resident(client, MEMBER)
    assert "Anda tangani" in ani.says(f"TERIMA {code}")
    ani.says(f"RUJUK {code} uptd ppa")
    ani.says(f"SELESAI {code} sudah aman")
    work(app, redis)

    month = clock.now.astimezone(WITA).date()
    fig = figures(hotline, month=month)
    assert (fig.total, fig.accepted, fig.closed, fig.share_closed) == (1, 1, 1, 1.0)
    assert fig.by_category == {"kekerasan": 1} and fig.by_area == {"Lompoe": 1}
    assert fig.acceptance_median_minutes == fig.acceptance_p90_minutes == 12.0
    assert fig.referrals == {"UPTD PPA": 1} and fig.offers == 1 and fig.offers_expired == 0

    clock.advance(days=400)
    with hotline.db.session() as s:
        counts = purge(s, older_than=timedelta(days=365), now=clock(), dry_run=False)
    assert (counts["cases"], counts["contacts"], counts["notes"]) == (1, 1, 2)  # RUJUK and SELESAI texts
    # Retention erases the answers the age group came from (and a disability answer): those
    # purged cases count as unknown; everything else is unchanged.
    after = figures(hotline, month=month)
    assert fig.monev.splits["by_age_group"]["adult"] == {"kekerasan": 1}
    assert after.monev.splits["by_age_group"]["unknown"] == {"kekerasan": 1}
    kept = {k: v for k, v in fig.monev.splits.items() if k != "by_age_group"}
    assert {k: v for k, v in after.monev.splits.items() if k != "by_age_group"} == kept
    assert replace(after, monev=fig.monev) == fig
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        texts = s.scalars(select(Message.body).where(Message.case_id == case.id)).all()
        assert len(texts) > 10 and set(texts) == {""}  # the resident's, the bot's, the member's
        assert s.scalar(select(func.count(Contact.id)).where(Contact.phone == "+6281234567890")) == 0
        assert s.scalars(select(Message.address).where(Message.address.like("%81234567890%"))).all() == []
