"""Reports a KK member takes for a resident, through the signed webhook: WARGA, the answers the
resident gives (at the posko or on the phone), the resident's own phone optional; the case says
where it came from and who heard the resident agree, and nothing is the member's own report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, make_url, select
from sqlalchemy import text as sql

from bot.domain import i18n, walkin
from bot.domain.engine import ENGINE, Consented, Context, Conv, Inbound, Submit
from flows.places import Place
from storage import cases, sitetime
from storage.db import Database
from storage.figures import monthly
from storage.models import Case, CaseEvent, Contact, Member, Message, Site
from tests.conftest import PG_URL, Resident, work
from tests.test_duty import KETUA, RESIDENT, A, B, roster, to  # noqa: F401  (roster: a fixture)

# A child hit by her father yesterday in Lompoe, reported by Bu Ani for a resident at the posko.
START = ("WARGA", "1", "ya")
CHILD = ("1", "tidak", "2 9", "LEWATI", "1 dipukul ayahnya", "2 kemarin", "lompoe")  # LEWATI: disability


def _taken(member: Resident, *answers: str) -> str:
    for body in answers:
        member.says(body)
    found = re.search(r"kode (PRE-\w{5})", member.last)
    assert found, member.last
    return found.group(1)


def _case(hotline, code: str) -> Case:
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        s.expunge(case)
        return case


def test_warga_without_a_phone_makes_a_posko_case_nobody_is_messaged_about(
    app, client, redis, hotline, console, roster
) -> None:
    ani = Resident(client, A)
    assert re.search(r"Laporan untuk warga.*lewat\?", ani.says("WARGA"), re.S)
    assert "setuju" in ani.says("1")
    assert "HP warga" in ani.says("ya")
    assert "1." in ani.says("tidak ada")  # the menu
    code = _taken(ani, *CHILD, "1")
    assert "Laporan warga tercatat" in ani.last and "Anda" not in ani.last.split("kode")[0]

    case = _case(hotline, code)
    assert (case.channel, case.contact_id, case.consent_by) == ("posko", None, "member:Bu Ani")
    assert case.consent_version and case.consent_at is not None
    assert case.urgent and "child_victim" in case.flags  # the same rules as a resident's report
    assert case.answers["age"] == 9 and "contact" not in case.answers  # never asked how to contact
    with hotline.db.session() as s:
        mine = s.scalars(select(Contact).where(Contact.phone == A)).one()
        assert mine.consent_at is None  # the member's own number agreed to nothing
        assert s.scalars(select(Case).where(Case.contact_id == mine.id)).all() == []
        taken = s.scalars(select(Message).where(Message.case_id == case.id, Message.direction == "in")).all()
        assert [m.body for m in taken][:2] == ["WARGA", "1"]  # what the member typed is its record
        submitted = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).first()
        assert submitted.data["consent_by"] == "member:Bu Ani" and submitted.data["channel"] == "posko"

    work(app, redis)
    offers = [m for n in (A, B, KETUA) for m in to(console, n) if "tidak punya HP" in m]
    assert offers and all("posko" in m.lower() for m in offers)
    holder = next(n for n in (A, B, KETUA) if any(code in m for m in to(console, n)))
    assert "Anda tangani" in Resident(client, holder).says(f"TERIMA {code.split('-')[1]}")
    work(app, redis)
    assert {m.to.removeprefix("whatsapp:") for m in console.sent} <= {A, B, KETUA, "+628110001009"}
    with hotline.db.session() as s:  # the monthly figures count it by the way it came
        month = sitetime.local(case.created_at, "Asia/Makassar").date().replace(day=1)
        channels = monthly(s, "PRE", month).monev.splits["by_channel"]
        assert channels["posko"] == {"kekerasan": 1} and channels["sms"] == {}


def test_warga_by_phone_with_the_residents_number_links_their_contact(
    app, client, redis, hotline, console, roster
) -> None:
    budi = Resident(client, B)
    lainnya = ("6", "1", "1", "Butuh kursi roda", "lompoe", "2 kapan saja", "1 Sari")
    code = _taken(budi, "warga", "telepon", "ya", "0812-3456-7890", *lainnya)
    case = _case(hotline, code)
    assert (case.channel, case.consent_by, case.contact_ok) == ("telepon", "member:Bu Budi", True)
    with hotline.db.session() as s:
        contact = s.get_one(Contact, case.contact_id)
        assert contact.phone == RESIDENT and contact.channel == "sms" and contact.name == "Sari"
    work(app, redis)
    short = code.split("-")[1]
    holder = next(n for n in (A, B, KETUA) if any(f"TERIMA {short}" in m for m in to(console, n)))
    assert "tidak punya HP" not in "\n".join(to(console, holder))
    Resident(client, holder).says(f"TERIMA {short}")
    work(app, redis)
    assert any(code in m for m in to(console, RESIDENT))  # asked for messages: told it was taken
    # The resident's own STATUS finds it by their number.
    assert code in Resident(client, RESIDENT).says("STATUS")


def test_warga_refused_consent_records_nothing(app, client, hotline, roster) -> None:
    ani = Resident(client, A)
    ani.says("WARGA")
    ani.says("posko")
    assert "tidak setuju" in ani.says("tidak")
    with hotline.db.session() as s:
        assert s.scalars(select(Case)).all() == []
    assert "TERIMA" in ani.says("BANTUAN")  # back on the member side: the command list


def test_warga_from_a_resident_is_an_ordinary_report(client) -> None:
    assert "aman membalas" in Resident(client, RESIDENT).says("warga")


def test_in_warga_the_residents_rights_are_not_the_members_to_use(app, client, hotline, roster) -> None:
    """HAPUS and BERHENTI end the draft like BATAL (the member's own number and records stay),
    TELEPON is a story like any other, and what the member types is on record as theirs."""
    ani = Resident(client, A)
    for body in (*START, "tidak ada", "6", "1", "1", "LEWATI"):
        ani.says(body)
    assert "Ceritakan" in ani.last or "?" in ani.last  # the story question
    code = _taken(ani, "telpon", "lompoe", "1")  # the story is "telpon", not a call
    case = _case(hotline, code)
    assert case.answers["story"] == "telpon" and "call_me" not in case.flags
    with hotline.db.session() as s:
        typed = s.scalars(select(Message).where(Message.case_id == case.id, Message.direction == "in")).all()
        assert {(m.party, m.member_id) for m in typed} == {("member", roster[A])}
    for word in ("HAPUS", "berhenti"):
        ani.says("WARGA")
        ani.says("1")
        assert "dibatalkan" in ani.says(word).lower()
    with hotline.db.session() as s:
        mine = s.scalars(select(Contact).where(Contact.phone == A)).one()
        assert not mine.stopped and mine.erased_at is None
        assert s.scalars(select(Message).where(Message.case_id == case.id, Message.body == "telpon")).one()


def test_a_members_own_number_is_never_the_residents(client, hotline, roster) -> None:
    ani = Resident(client, A)
    for body in START:
        ani.says(body)
    assert "bukan nomor warga" in ani.says(B)  # asked again at once
    code = _taken(ani, "tidak ada", "6", "1", "1", "butuh kursi roda", "lompoe", "1")
    case = _case(hotline, code)
    assert case.contact_id is None and case.contact_ok is False
    with hotline.db.session() as s:  # and were it given anyway (a member added meanwhile), no link
        site = s.get_one(Site, case.site_id)
        assert cases.resident_contact(s, site.id, B, case.created_at) is None


def test_a_warga_draft_left_a_day_asks_to_continue_and_one_left_by_a_former_member_is_dropped(
    client, hotline, clock, roster
) -> None:
    ani = Resident(client, A)
    for body in (*START, "tidak ada"):
        ani.says(body)
    clock.advance(days=2)
    assert "aman" not in ani.says("1").lower()  # no safety question for a member...
    assert "lanjut" in ani.last.lower()  # ...but continue or start again
    assert "Mau lapor apa" in ani.says("lanjut")
    with hotline.db.session() as s:
        s.scalars(select(Member).where(Member.phone == A)).one().active = False
    assert "aman membalas" in ani.says("1")  # a resident's start now: the draft is gone


def test_lihat_and_balas_of_a_resident_without_a_phone(app, client, redis, console, hotline, roster) -> None:
    code = _taken(Resident(client, A), *START, "tidak ada", *CHILD, "1")
    work(app, redis)
    short = code.split("-")[1]
    holder = next(n for n in (A, B, KETUA) if any(f"TERIMA {short}" in m for m in to(console, n)))
    member = Resident(client, holder)
    member.says(f"TERIMA {short}")
    assert "warga tanpa HP" in member.says(f"LIHAT {short}")
    assert "tidak punya HP" in member.says(f"BALAS {short} apa kabar?")


# -- the engine and the form share one path ----------------------------------------------------

PLACES = (Place(1, "Lompoe", "Bacukiki"),)
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def test_the_on_behalf_start_never_consents_for_the_member_and_menu_keeps_it() -> None:
    conv, ctx = Conv(), Context(NOW, PLACES, on_behalf=True, member=True)
    effects = []
    for text in ("WARGA", "2", "ya", "LEWATI", "MENU"):
        effects += ENGINE.step(conv, Inbound(text), ctx).effects
    assert not [e for e in effects if isinstance(e, Consented)]
    assert conv.flow == "onbehalf" and conv.data["on_behalf"] and conv.data["answers"]["channel"] == "telepon"
    plain = Conv()
    ENGINE.step(plain, Inbound("WARGA"), Context(NOW, PLACES))  # not a member: the resident's start
    assert plain.flow == "start"


def test_the_summary_of_a_resident_without_a_phone_says_so() -> None:
    conv, ctx = Conv(), Context(NOW, PLACES, on_behalf=True, member=True)
    for text in ("WARGA", "1", "ya", "tidak ada", "6", "2", "1", "LEWATI", "butuh kursi roda"):
        ENGINE.step(conv, Inbound(text), ctx)
    ENGINE.step(conv, Inbound("lompoe"), ctx)  # never asked how to contact: the name next
    out = ENGINE.step(conv, Inbound("LEWATI"), ctx)
    assert conv.state == "confirm", out.replies
    assert "warga tanpa HP" in i18n.render(out.replies, "id")


def test_the_form_is_read_by_the_same_readers_and_rules() -> None:
    fields = {"came_by": "posko", "consent": "yes", "danger": "no", "who": "child", "age": "9"}
    fields |= {"kind": ["physical"], "perpetrator": "family", "area": "Lompoe", "name": "Rina"}
    filled = walkin.fill("kekerasan", fields, PLACES, NOW)
    assert filled.errors == {} and filled.report is not None
    assert filled.report["urgent"] and filled.report["on_behalf"] == {"channel": "posko", "phone": None}
    assert filled.report["area_id"] == 1 and "contact" not in filled.asked
    assert walkin.fill("kekerasan", {**fields, "age": "banyak"}, PLACES, NOW).errors == {"age": "hint.age"}
    assert walkin.fill("kekerasan", {**fields, "who": "alien"}, PLACES, NOW).errors == {"who": "hint.choice"}
    assert walkin.fill("kekerasan", {**fields, "name": "batal"}, PLACES, NOW).errors == {
        "name": walkin.NOT_A_COMMAND
    }
    refused = walkin.fill("kekerasan", {**fields, "consent": "no"}, PLACES, NOW)
    assert refused.report is None and refused.errors == {"consent": "w.consent_declined"}
    danger = walkin.fill("kekerasan", {**fields, "danger": "yes"}, PLACES, NOW)
    assert "who" not in danger.asked and danger.report is not None  # straight to where
    given = {**fields, "own_phone": "081234567890", "contact": "message"}
    phone = walkin.fill("kekerasan", given, PLACES, NOW)
    assert phone.report is not None and phone.report["on_behalf"]["phone"] == RESIDENT
    assert phone.report["contact_ok"] and "codeword" in phone.asked
    assert not any(isinstance(e, Submit) for e in ENGINE.step(Conv(), Inbound("x"), Context(NOW)).effects)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_database(request, tmp_path) -> Iterator[str]:
    """An empty database to migrate: a SQLite file, or a database of its own beside the test
    PostgreSQL's (skipped without one)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not PG_URL:
        pytest.skip("needs HOTLINE_TEST_DATABASE_URL")
    name = "hotline_migration_0010"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sql(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(sql(f"CREATE DATABASE {name}"))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:  # FORCE: a failed test may leave its pool's connections open
        conn.execute(sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_migration_0010_gives_existing_cases_the_channel_they_came_by(old_database: str) -> None:
    db = Database(old_database)
    db.upgrade("0009")
    with db.engine.begin() as conn:
        conn.execute(
            sql(
                "INSERT INTO sites (id, prefix, name, region_code, timezone, numbers, practice, position)"
                " VALUES (1, 'PRE', 'P', '', 'Asia/Makassar', '[]', '[]', 0)"
            )
        )
        conn.execute(
            sql(
                "INSERT INTO contacts (id, phone, channel, stopped, created_at)"
                " VALUES (1, '+6281', 'whatsapp', FALSE, '2026-11-01')"
            )
        )
        for case_id, contact in ((1, 1), (2, 1), (3, None)):
            conn.execute(
                sql(
                    "INSERT INTO cases (id, code, site_id, contact_id, category, urgent, flags, status,"
                    " answers, contact_ok, locale, created_at, updated_at, practice)"
                    " VALUES (:id, :code, 1, :contact, 'lainnya', FALSE, '[]', 'new', '{}', FALSE, 'id',"
                    " '2026-11-01', '2026-11-01', FALSE)"
                ),
                {"id": case_id, "code": f"PRE-{case_id}", "contact": contact},
            )
        conn.execute(
            sql(
                "INSERT INTO messages (sid, direction, party, channel, contact_id, case_id, body, num_media,"
                " media, status, created_at) VALUES ('SM1', 'in', 'resident', 'sms', 1, 1, 'halo', 0, '[]',"
                " 'received', '2026-11-01')"
            )
        )
    db.upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(sql("SELECT id, channel, consent_by FROM cases ORDER BY id")).all()
    db.dispose()
    # By its first inbound message, else its contact's channel, else SMS.
    assert [tuple(r) for r in rows] == [(1, "sms", None), (2, "whatsapp", None), (3, "sms", None)]
