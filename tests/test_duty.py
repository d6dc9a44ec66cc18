"""KK duty end to end, through the signed webhook and a real rq worker: offers, deadlines,
escalation, member commands, relays both ways and the resident's notices."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from bot.domain import service
from bot.domain.service import Incoming
from bot.jobs.transport import TwilioTransport
from storage import users as accounts
from storage.models import Area, Assignment, AuditLog, Case, CaseEvent, Member, Message, Shift, Site
from tests.conftest import PRE_NUMBER, Clock, Resident, new_sid, work
from tests.fake_twilio import fake_twilio_fixture  # noqa: F401  (the fixture)

A, B, KETUA, KOORD, OTHER = (
    "+628110001001",
    "+628110001002",
    "+628110001003",
    "+628110001009",
    "+628110001005",
)
RESIDENT = "+6281234567890"
# A Kekerasan report from Lompoe; the resident asks for messages (2) or a call (1).
REPORT = (
    "halo",
    "iya",
    "ok setuju",
    "1",
    "gak",
    "sy sendiri 34",  # on SMS: who and the age, the kind and the story, who did it (and when)
    "LEWATI",  # a disability: not said
    "1 sy dipukul",
    "suami",
    "lompoe",
)
# contact with the safe time, [safer number: calls only], code word, send (with a name)
TAIL_MESSAGE = ("2 kapan saja", "LEWATI", "1")  # any time: notices go at once
TAIL_CALL = ("1 kapan saja", "LEWATI", "LEWATI", "1")


@pytest.fixture
def roster(hotline) -> dict[str, int]:
    """Lompoe: two pendamping always on duty, the ketua as backup; a coordinator for the site;
    a pendamping of another kelurahan (Lemoe)."""
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        lompoe = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lompoe")).one()
        lemoe = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lemoe")).one()
        people = [
            Member(
                site_id=site.id,
                area_id=lompoe.id,
                name="Bu Ani",
                phone=A,
                channel="sms",
                shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
            ),
            Member(
                site_id=site.id,
                area_id=lompoe.id,
                name="Bu Budi",
                phone=B,
                channel="sms",
                shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
            ),
            Member(
                site_id=site.id,
                area_id=lompoe.id,
                name="Pak Ketua",
                phone=KETUA,
                role="ketua",
                backup=True,
                channel="sms",
            ),
            Member(
                site_id=site.id,
                area_id=None,
                name="Koordinator",
                phone=KOORD,
                role="koordinator",
                channel="sms",
            ),
            Member(
                site_id=site.id,
                area_id=lemoe.id,
                name="Bu Lemoe",
                phone=OTHER,
                channel="sms",
                shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
            ),
        ]
        s.add_all(people)
        s.flush()
        return {m.phone: m.id for m in people}


def to(console, number: str) -> list[str]:
    return [m.body for m in console.sent if m.to.removeprefix("whatsapp:") == number]


def report(client, tail=TAIL_MESSAGE, number: str = RESIDENT) -> str:
    warga = Resident(client, number)
    for body in REPORT + tail:
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last)
    assert code, warga.last
    return code.group(1)


def events(hotline, code: str) -> list[str]:
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        return [
            e.kind
            for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
        ]


def test_offer_deadline_escalation_and_the_whole_follow_up(
    app, client, hotline, redis, console, roster, clock: Clock
):
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    [offer] = to(console, A)
    assert f"TERIMA {short}" in offer and "Lompoe" in offer and "Kekerasan" in offer
    assert "dipukul" not in offer  # never the narrative in a notification
    assert to(console, B) == []

    clock.advance(minutes=61)  # Bu Ani does not answer in time: Bu Budi is asked
    work(app, redis, until=clock())
    assert len(to(console, B)) == 1
    ani, budi = Resident(client, A), Resident(client, B)
    assert "tidak sedang ditawarkan" in ani.says(f"TOLAK {short}")

    assert f"{code} Anda tangani" in budi.says(f"terima {short.lower()}")
    work(app, redis)
    assert any("sudah diterima pendamping" in m for m in to(console, RESIDENT))
    assert "sudah diterima oleh Bu Budi" in ani.says(f"TERIMA {code}")

    details = budi.says(f"LIHAT {code}")
    assert "sy dipukul" in details and "Jenis: Fisik" in details and "pesan lewat hotline" in details
    assert RESIDENT not in details  # they asked for messages, not calls: the number stays hidden
    assert "Catatan disimpan" in budi.says(f"CATAT {short} sudah ditelepon, aman")
    assert "ke UPTD PPA dicatat" in budi.says(f"RUJUK pre {short} uptd ppa")
    assert "diteruskan ke warga" in budi.says(f"BALAS {short} Ibu, kami datang besok jam 9")
    work(app, redis)
    relayed = to(console, RESIDENT)[-1]
    assert relayed.startswith("Pesan pendamping")
    assert relayed.endswith(f"({code}): Ibu, kami datang besok jam 9")
    warga = Resident(client, RESIDENT)
    assert "diteruskan ke pendamping" in warga.says("baik bu terima kasih")
    work(app, redis)
    assert "Balasan warga: baik bu terima kasih" in to(console, B)[-1]
    assert "ditutup" in budi.says(f"SELESAI {short} sudah dirujuk")
    work(app, redis)
    assert "selesai ditangani" in to(console, RESIDENT)[-1]
    assert "sudah ditutup" in budi.says(f"SELESAI {short}")

    clock.advance(minutes=61)  # Bu Budi's own deadline check comes after she answered: nothing
    work(app, redis, until=clock())
    assert events(hotline, code) == [
        "submitted",
        "offered",
        "expired",
        "offered",
        "accepted",
        "note",
        "referred",
        "relayed",
        "closed",
    ]
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        assert case.status == "closed" and case.member_id == roster[B] and case.accepted_at and case.closed_at
        parties = {
            (m.direction, m.party) for m in s.scalars(select(Message).where(Message.case_id == case.id))
        }
        assert parties == {("in", "member"), ("in", "resident"), ("out", "bot")}  # relays are the bot's
        assert (
            s.scalars(select(AuditLog).where(AuditLog.action == "view_case")).one().actor
            == f"member:{roster[B]}"
        )
        sent = s.scalars(select(Message).where(Message.address.is_not(None))).all()
        assert sent and all(m.status == "accepted" and m.provider_sid for m in sent)


def test_tolak_moves_down_to_the_backup_then_the_coordinator(
    app, client, hotline, redis, console, roster, clock
):
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    for number in (A, B, KETUA, KOORD):
        assert f"TERIMA {short}" in to(console, number)[-1], number
        assert "dialihkan" in Resident(client, number).says(f"TOLAK {short}")
        work(app, redis)
    with hotline.db.session() as s:
        tiers = [
            (a.member_id, a.tier, a.status) for a in s.scalars(select(Assignment).order_by(Assignment.id))
        ]
    assert tiers == [
        (roster[A], "duty", "declined"),
        (roster[B], "duty", "declined"),
        (roster[KETUA], "backup", "declined"),
        (roster[KOORD], "coordinator", "declined"),
    ]
    assert events(hotline, code)[-1] == "unanswered"
    assert "belum diterima siapa pun" in to(console, KOORD)[-1]
    # the coordinator may still take it after all
    assert "Anda tangani" in Resident(client, KOORD).says(f"TERIMA {short}")


def test_urgent_case_alerts_everyone_on_duty_and_one_terima_wins(
    app, client, hotline, redis, console, roster
):
    warga = Resident(client, RESIDENT)
    for body in ("halo", "iya", "setuju", "1", "ya", "lompoe", "1", "2", "LEWATI", "LEWATI", "LEWATI", "1"):
        warga.says(body)
    code = re.search(r"PRE-\w{5}", warga.last).group(0)
    work(app, redis)
    for number in (A, B, KOORD):
        assert "MENDESAK" in to(console, number)[-1]
    assert to(console, KETUA) == []  # the backup only when nobody is on duty

    replies: dict[str, str] = {}

    def terima(number: str) -> None:
        msg = Incoming(sid=new_sid(), sender=number, to=PRE_NUMBER, channel="sms", body=f"TERIMA {code}")
        replies[number] = service.handle(hotline, msg).replies[0]

    threads = [threading.Thread(target=terima, args=(n,)) for n in (A, B)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in replies.items() if "Anda tangani" in r]
    assert len(winners) == 1
    [loser] = set(replies) - set(winners)
    assert "sudah diterima oleh" in replies[loser]
    with hotline.db.session() as s:
        statuses = sorted(a.status for a in s.scalars(select(Assignment)))
    assert statuses == ["accepted", "withdrawn", "withdrawn"]


def test_members_are_refused_on_cases_that_are_not_theirs(app, client, hotline, redis, console, roster):
    code = report(client, tail=TAIL_CALL)
    short = code.split("-")[1]
    work(app, redis)
    lemoe = Resident(client, OTHER)
    assert "bukan kasus Anda" in lemoe.says(f"LIHAT {short}")
    assert "tidak sedang ditawarkan" in lemoe.says(f"TERIMA {short}")
    assert "bukan kasus Anda" in lemoe.says(f"SELESAI {short}")
    assert "tidak ditemukan" in lemoe.says("LIHAT ZZZZZ")
    assert "Tulis kode" in lemoe.says("TERIMA")
    assert "Perintah tidak dikenal" in lemoe.says("halo")
    assert "Tidak ada kasus" in lemoe.says("KASUS")
    budi = Resident(client, B)
    assert "bukan kasus Anda" in budi.says(f"CATAT {short} coba")  # offered to Bu Ani, not her
    ani = Resident(client, A)
    assert "menunggu TERIMA" in ani.says("kasus")
    ani.says(f"TERIMA {short}")
    # a call was asked for: the member sees the number, and BALAS is refused
    assert RESIDENT in ani.says(f"LIHAT {short}")
    assert "tidak setuju dikirimi pesan" in ani.says(f"BALAS {short} halo bu")
    work(app, redis)
    assert to(console, RESIDENT) == []  # no message to a resident who did not agree to messages


def test_a_member_can_report_as_a_resident(client, hotline, roster):
    ani = Resident(client, A)
    assert "aman membalas" in ani.says("LAPOR")
    assert "Setuju?" in ani.says("iya")  # in a report, her words are a resident's
    ani.says("BATAL")
    assert "Perintah tidak dikenal" in ani.says("halo")


def test_hapus_erases_what_was_said_about_the_case_too(app, client, hotline, redis, console, roster):
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    ani = Resident(client, A)
    ani.says(f"TERIMA {short}")
    ani.says(f"CATAT {short} suaminya bernama Udin, rumah dekat masjid")
    ani.says(f"RUJUK {short} polisi")
    ani.says(f"BALAS {short} Bu, besok kami datang")
    work(app, redis)
    warga = Resident(client, RESIDENT)
    warga.says("jangan datang pagi, suami di rumah")
    work(app, redis)
    warga.says("HAPUS")
    warga.says("ya")
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        bodies = [m.body for m in s.scalars(select(Message).where(Message.case_id == case.id))]
        assert bodies and all(b == "" for b in bodies)
        assert s.scalars(select(Message.address).where(Message.address == RESIDENT)).all() == []
        notes = [e.data for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert not any("note" in d for d in notes)
        assert {"to": "Polisi"}.items() <= next(d for d in notes if "to" in d).items()  # counts stay


def test_darurat_on_an_offered_case_hurries_every_offer(app, client, hotline, redis, console, roster, clock):
    code = report(client)
    work(app, redis)
    assert "MENDESAK" not in to(console, A)[-1]
    assert "darurat" in Resident(client, RESIDENT).says("DARURAT").lower()
    work(app, redis)
    for number in (A, B, KOORD):  # the waiting offer is hurried, the rest alerted at once
        assert "MENDESAK" in to(console, number)[-1], number
    clock.advance(minutes=11)  # the urgent deadline, not the hour of the first offer
    work(app, redis, until=clock())
    assert "MENDESAK" in to(console, KETUA)[-1]  # then the backup
    assert events(hotline, code).count("expired") == 3


def test_members_type_the_way_people_type(app, client, hotline, redis, console, roster):
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    ani = Resident(client, A)
    assert "Perintah tidak dikenal" in ani.says("terima kasih")
    assert "dialihkan" in ani.says(f"tidak bisa {short}.")
    work(app, redis)
    budi = Resident(client, B)
    assert "Anda tangani" in budi.says(f"terima {code.lower()},")
    assert "ke DP3A dicatat" in budi.says(f"rujuk kode #{short} DP3A")
    assert "tidak dikenal" in budi.says(f"RUJUK {short} pak haji")
    budi.says(f"CATAT {short} baris satu\nbaris dua")
    with hotline.db.session() as s:
        notes = [e.data["note"] for e in s.scalars(select(CaseEvent).where(CaseEvent.kind == "note"))]
    assert notes == ["baris satu\nbaris dua"]


def test_a_member_in_a_report_of_her_own_still_takes_cases(app, client, hotline, redis, console, roster):
    code = report(client)
    work(app, redis)
    ani = Resident(client, A)
    assert "aman membalas" in ani.says("LAPOR")
    assert "Anda tangani" in ani.says(f"TERIMA {code}")
    assert "Setuju?" in ani.says("iya")  # and her report goes on where it was


def test_the_residents_reply_goes_back_to_the_member_who_wrote(app, client, hotline, redis, console, roster):
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    with hotline.db.session() as s:  # a bounced number is reachable again once they write
        s.get_one(Member, roster[KOORD]).unreachable = "bad_number"
    koordinator = Resident(client, KOORD)
    assert "diteruskan ke warga" in koordinator.says(f"BALAS {short} Ibu aman? Balas pesan ini.")
    with hotline.db.session() as s:
        assert s.get_one(Member, roster[KOORD]).unreachable is None
    work(app, redis)
    assert "diteruskan ke pendamping" in Resident(client, RESIDENT).says("iya saya aman")
    work(app, redis)
    assert "Balasan warga: iya saya aman" in to(console, KOORD)[-1]
    assert not any("Balasan warga" in m for m in to(console, A))


# -- What members read: labels, not stored values; their own report; referrals; media -------------


def _login(client, username: str) -> None:
    page = client.get("/console/login").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    client.post("/console/login", data={"username": username, "password": "kata-sandi", "csrf_token": token})


def test_members_and_coordinators_read_labels_never_stored_values(
    app, client, hotline, redis, console, roster
):
    warga = Resident(client, RESIDENT)
    kind = REPORT.index("1 sy dipukul")
    sexual = (*REPORT[:kind], "3 sy dipukul", *REPORT[kind + 1 :])  # the kind of violence: sexual
    for body in sexual + TAIL_MESSAGE:
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last).group(1)
    work(app, redis)
    details = Resident(client, A).says(f"LIHAT {code}")
    assert "Bahaya sekarang: tidak" in details  # a yes/no answer as a word
    assert "Tanda: kekerasan seksual (TPKS)" in details  # a flag as its label
    for stored in (": no", "tpks", "sexual", "partner", "evening", "self"):
        assert stored not in details, stored

    with hotline.db.session() as s:  # a coordinator reads the same words in the console
        accounts.create(s, "pare", "kata-sandi", "coordinator", ["PRE"], False, hotline.clock())
    _login(client, "pare")
    page = client.get(f"/console/cases/{code}").get_data(as_text=True)
    assert "kekerasan seksual (TPKS)" in page and "<dt>Bahaya sekarang</dt><dd>tidak</dd>" in page
    assert "<dd>tpks</dd>" not in page and "<dd>no</dd>" not in page and "<dd>sexual</dd>" not in page
    assert "<option>Unit PPA Polres</option>" in page and "<option>Rumah Sakit</option>" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/console/lang", data={"locale": "en", "back": f"/console/cases/{code}", "csrf_token": token})
    page = client.get(f"/console/cases/{code}").get_data(as_text=True)
    assert "sexual violence (TPKS)" in page and "<dt>Danger now</dt><dd>no</dd>" in page


def test_an_urgent_report_shows_its_flags_as_words(app, client, hotline, redis, console, roster):
    warga = Resident(client, RESIDENT)
    danger = (*REPORT[:4], "ya", *REPORT[REPORT.index("lompoe") :])  # in danger: straight to where
    for body in danger + TAIL_MESSAGE:
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last).group(1)
    details = Resident(client, KOORD).says(f"LIHAT {code}")
    assert "Tanda: bahaya sekarang" in details and "Bahaya sekarang: ya" in details
    assert "danger_now" not in details and ": yes" not in details


def test_a_member_answers_her_own_report_with_words_that_are_commands(
    app, client, hotline, redis, console, roster
):
    code = report(client)  # a case offered to Bu Ani while she reports something herself
    work(app, redis)
    ani = Resident(client, A)
    assert "aman membalas" in ani.says("LAPOR")
    story = REPORT.index("1 sy dipukul")
    for body in (*REPORT[1:story], "1 foto menyusul, sy dipukul", *REPORT[story + 1 :], *TAIL_MESSAGE[:-1]):
        assert "Tulis kode" not in ani.says(body), body
    assert "Kirim?" in ani.last
    assert "menunggu TERIMA" in ani.says("KASUS")  # KASUS alone is still hers
    assert code in ani.says(f"LIHAT {code.split('-')[1]}")  # and a command with a code
    reply = ani.says("kirim")
    assert "Tulis kode" not in reply
    assert re.search(r"Kode: PRE-\w{5}", reply), reply  # "kirim" sent her report, not a BALAS
    with hotline.db.session() as s:
        assert s.scalars(select(Case).where(Case.code != code)).one().answers["story"].startswith("foto")


def test_referrals_record_the_institution_people_mean(app, client, hotline, redis, console, roster):
    code = report(client)
    short = code.split("-")[1]
    work(app, redis)
    ani = Resident(client, A)
    ani.says(f"TERIMA {short}")
    said = {
        "unit ppa": "Unit PPA Polres",
        "ppa polres": "Unit PPA Polres",
        "polres": "Unit PPA Polres",
        "ppa": "UPTD PPA",
        "uptd": "UPTD PPA",
        "RS Bhayangkara, untuk visum": "Rumah Sakit",
        "rsud": "Rumah Sakit",
        "rumah sakit": "Rumah Sakit",
        "pa": "Pengadilan Agama",
        "pengadilan agama": "Pengadilan Agama",
        "kua": "KUA",
        "kantor desa": "Kelurahan/Desa",
        "pendamping pkh": "Pendamping PKH",
        "lbh": "LBH",
        "dp3akb": "DP3A",
        "bpjs kesehatan": "BPJS",
        "puskesmas lalu polres": "Puskesmas",  # the first named; the rest is a note
        "polisi": "Polisi",
    }
    for text, org in said.items():
        assert f"ke {org} dicatat" in ani.says(f"RUJUK {short} {text}"), text
    assert "tidak dikenal" in ani.says(f"RUJUK {short} pasar")  # "pa" only as a whole word
    with hotline.db.session() as s:
        stored = [e.data["to"] for e in s.scalars(select(CaseEvent).where(CaseEvent.kind == "referred"))]
    assert stored == list(said.values())


PHOTO = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Messages/MM1/Media/ME1"


def test_media_of_a_case_go_to_the_members_own_number(
    app, client, hotline, redis, console, roster, fake_twilio
):
    warga = Resident(client, RESIDENT)
    story = REPORT.index("1 sy dipukul")
    for body in REPORT[:story]:
        warga.says(body)
    warga.says("1 ini fotonya", NumMedia="1", MediaUrl0=PHOTO, MediaContentType0="image/jpeg")
    for body in REPORT[story + 1 :] + TAIL_MESSAGE:
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last).group(1)
    short = code.split("-")[1]
    work(app, redis)
    ani = Resident(client, A)
    assert f"Lampiran: 1 (MEDIA {short})" in ani.says(f"LIHAT {short}")
    assert "bukan kasus Anda" in Resident(client, OTHER).says(f"MEDIA {short}")
    assert "Tulis kode" in ani.says("foto")
    assert "hanya bisa diteruskan ke WhatsApp" in ani.says(f"foto kode {short}")  # SMS: no MMS here
    with hotline.db.session() as s:
        s.get_one(Member, roster[A]).channel = "whatsapp"
    assert "dikirim ke nomor Anda: 1 pesan" in ani.says(f"foto kode {short}")
    work(app, redis)
    [sent] = [m for m in console.sent if m.to == f"whatsapp:{A}" and m.media_urls]
    assert sent.media_urls == (PHOTO,) and f"Lampiran 1/1 dari warga, kasus {code}" in sent.body
    with hotline.db.session() as s:
        [seen] = s.scalars(select(AuditLog).where(AuditLog.action == "view_media")).all()
        assert seen.actor == f"member:{roster[A]}"
    # Twilio is handed its own media URL as is
    TwilioTransport(fake_twilio.account_sid, fake_twilio.auth_token, base_url=fake_twilio.url).send(sent)
    assert fake_twilio.last.form["MediaUrl"] == PHOTO and "Lampiran 1/1" in fake_twilio.last.form["Body"]

    other = report(client, number="+6281234567891")  # a report without pictures
    assert "tidak punya foto atau rekaman" in ani.says(f"rekaman {other}")
    warga.says("HAPUS")
    warga.says("ya")
    assert "sudah dihapus" in ani.says(f"MEDIA {short}")  # erased media cannot be forwarded
