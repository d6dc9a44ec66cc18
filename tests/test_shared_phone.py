"""Safe on a shared phone, right about sexual violence and child marriage, understood in local
words: conversations through the signed webhook, typed the way residents type."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from flows.common import CONSENT_VERSION
from storage.models import Case, CaseEvent, Contact, Message, Outbox
from tests.conftest import MSB_NUMBER, Resident, work
from tests.test_duty import KOORD, RESIDENT, A, roster, to  # noqa: F401 (roster: a fixture)

CODE = r"Kode: (PRE|MSB)-[0-9A-HJKMNP-TV-Z]{5}"
# Safety, consent, the menu's Kekerasan, not in danger now, for herself (34), a disability not
# said, physical, husband: on SMS the age comes with "who", the story with the kind, "when" with
# who did it (AskWith).
KEKERASAN = ("halo", "iya", "setuju", "1", "gak", "sy sendiri 34", "LEWATI", "1", "suami")


def case_of(hotline, number: str = RESIDENT) -> Case:
    with hotline.db.session() as s:
        contact = s.scalars(select(Contact).where(Contact.phone == number)).one()
        return s.scalars(select(Case).where(Case.contact_id == contact.id)).one()


def code_in(text: str) -> str:
    found = re.search(r"(PRE|MSB)-(\w{5})", text)
    assert found, text
    return found.group(0)


def test_a_paused_report_asks_whether_it_is_safe_before_anything_else(client, clock) -> None:
    warga = Resident(client, RESIDENT)
    for body in KEKERASAN[:4]:
        warga.says(body)
    assert "bahaya sekarang" in warga.last
    clock.advance(minutes=31)
    asked = warga.says("halo")
    assert "aman membalas" in asked and "bahaya" not in asked and "Kekerasan" not in asked
    assert "hapus chat ini" in warga.says("gak")  # not safe: how to leave no trace
    assert "aman membalas" in warga.says("tes")  # still asked, whoever writes next
    assert "bahaya sekarang" in warga.says("iye")  # safe: back to the question it was on
    clock.advance(days=2)
    warga.says("halo")
    assert "Lanjutkan" in warga.says("ya")  # after a day: continue or start again


def test_status_names_no_category_and_the_last_message_says_how_to_leave_no_trace(client, hotline) -> None:
    warga = Resident(client, RESIDENT)
    for body in (*KEKERASAN, "lompoe", "3"):
        warga.says(body)
    submitted = warga.says("kirim")
    assert "Hapus chat ini" in submitted
    status = warga.says("STATUS")
    assert code_in(submitted) in status and "sedang ditangani" in status
    assert "Kekerasan" not in status and "kekerasan" not in status
    warga.says("HAPUS")
    assert "Hapus juga chat ini" in warga.says("ya")


def test_the_consent_says_where_a_report_goes(client, hotline) -> None:
    warga = Resident(client, RESIDENT)
    warga.says("halo")
    consent = warga.says("ya")
    assert "pendamping posko" in consent and "kecuali kasus anak" in consent and "UPTD PPA" in consent
    assert CONSENT_VERSION == "2026-11-v2"


def test_not_your_fault_is_said_once_in_plain_words(client) -> None:
    warga = Resident(client, RESIDENT)
    said = [warga.says(body) for body in KEKERASAN]
    assert sum("bukan salah Anda" in text for text in said) == 1


@pytest.mark.usefixtures("roster")
def test_notices_wait_for_the_residents_safe_time_and_the_member_hears_when(
    app, client, hotline, redis, console, clock
) -> None:
    clock.now = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 22:00 in Parepare (WITA)
    warga = Resident(client, RESIDENT)
    for body in (*KEKERASAN, "lompoe", "2 pagi", "LEWATI"):
        warga.says(body)
    code = code_in(warga.says("1"))
    work(app, redis)
    accepted = Resident(client, A).says(f"TERIMA {code}")
    assert "27 Nov 2026 07:00" in accepted  # the member is told when the notice will go
    relayed = Resident(client, A).says(f"BALAS {code} besok saya telepon ya bu")
    assert "27 Nov 2026 07:00" in relayed
    work(app, redis)
    assert to(console, RESIDENT) == []  # nothing at 22:00
    with hotline.db.session() as s:
        waiting = s.scalars(select(Message).where(Message.address == RESIDENT, Message.direction == "out"))
        assert {m.status for m in waiting if m.status != "replied"} == {"pending"}
        runs = [o.run_at for o in s.scalars(select(Outbox).where(Outbox.job == "send_message"))]
    assert datetime(2026, 11, 26, 23, 0, tzinfo=UTC) in runs  # 07:00 WITA
    clock.now = datetime(2026, 11, 26, 23, 1, tzinfo=UTC)
    work(app, redis)
    sent = to(console, RESIDENT)
    assert len(sent) == 2 and "diterima" in sent[0] and "besok saya telepon" in sent[1]


@pytest.mark.usefixtures("roster")
def test_a_code_word_is_a_silent_alarm_and_a_safer_number_is_for_calls(
    app, client, hotline, redis, console
) -> None:
    warga = Resident(client, RESIDENT)
    for body in (*KEKERASAN, "lompoe", "1"):
        warga.says(body)
    assert "nomor lain" in warga.last
    assert "tidak terbaca" in warga.says("nomor kakak")
    assert "kata kode" in warga.says("0813 1111 2222")
    warga.says("Melati")
    warga.says("LEWATI")
    code = code_in(warga.says("1"))
    case = case_of(hotline)
    assert not case.urgent and case.answers["safer_number"] == "+6281311112222"
    work(app, redis)
    Resident(client, A).says(f"TERIMA {code}")
    details = Resident(client, A).says(f"LIHAT {code}")
    assert "melati" in details.lower() and "+6281311112222" in details

    reply = warga.says("melati!")
    assert reply == "Terima kasih, pesan Anda sudah kami terima."
    assert case_of(hotline).urgent
    with hotline.db.session() as s:
        alarm = s.scalars(select(CaseEvent).where(CaseEvent.kind == "urgent")).one()
    assert alarm.actor == "codeword"
    work(app, redis)
    assert any("MENDESAK" in text or code in text for text in to(console, A)[-2:])


@pytest.mark.usefixtures("roster")
def test_dont_contact_me_after_danger_is_asked_again_once_and_the_member_is_told(
    app, client, hotline, redis, console
) -> None:
    warga = Resident(client, RESIDENT)
    for body in ("halo", "iya", "setuju", "1", "iya", "lompoe"):
        warga.says(body)
    assert "tak bisa menindaklanjuti" in warga.says("3")
    assert "Nama" in warga.says("jangan")  # the second answer stands
    warga.says("LEWATI")
    warga.says("1")
    case = case_of(hotline)
    assert case.urgent and not case.contact_ok and case.answers["contact"] == "none"
    work(app, redis)
    offer = to(console, A)[0]
    assert "TIDAK mau dihubungi" in offer


@pytest.mark.usefixtures("roster")
def test_sexual_violence_in_the_last_72_hours_is_urgent_with_medical_advice(
    app, client, hotline, redis, console
) -> None:
    warga = Resident(client, RESIDENT)
    for body in ("halo", "iya", "setuju", "1", "gak", "sy sendiri", "LEWATI", "3"):
        warga.says(body)
    advice = warga.says("5 kmrn malam")  # who did it, and when
    assert "PEP" in advice and "72 jam" in advice
    for body in ("lompoe", "3"):
        warga.says(body)
    warga.says("kirim")
    case = case_of(hotline)
    assert case.urgent and {"tpks", "tpks_72h"} <= set(case.flags)
    work(app, redis)
    offer = to(console, A)[0]
    assert "jangan didamaikan" in offer and "visum" in offer


def test_a_child_taken_away_but_not_married_is_forced_marriage_and_urgent(client, hotline) -> None:
    warga = Resident(client, RESIDENT, to=MSB_NUMBER)
    for body in ("halo", "iye", "aok"):
        warga.says(body)
    assert "Perkawinan anak" in warga.last or "4." in warga.last
    warga.says("4")
    assert "umur" in warga.says("sdh dibawa lari tp blm nikah").lower()
    told = warga.says("15 thn")
    assert "minimal 19 th" in told and "pidana" in told  # on SMS without the dispensation detail
    case_flags = {"taken_away", "forced_marriage"}
    for body in ("ya", "3", "kesik", "3"):
        warga.says(body)
    assert "tak bisa menindaklanjuti" in warga.last  # a child: "don't contact me" is asked again
    for body in ("3", "LEWATI", "1"):
        warga.says(body)
    case = case_of(hotline)
    assert case.urgent and case.answers["status"] == "taken" and case_flags <= set(case.flags)


def test_help_words_as_a_first_message_start_a_report(client) -> None:
    for i, first in enumerate(("bantuan", "tolong", "halo kak", "mau lapor", "BANTUAN!")):
        reply = Resident(client, f"+62812345000{i}").says(first)
        assert "aman membalas" in reply and "Perintah:" not in reply, first
    warga = Resident(client, "+6281234500009")
    warga.says("halo")
    assert "Perintah: MENU" in warga.says("bantuan")  # once under way: the list of words


def test_a_voice_note_answers_a_free_text_question_and_is_kept(client, hotline) -> None:
    warga = Resident(client, RESIDENT)
    voice = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/v1", "MediaContentType0": "audio/ogg"}
    for body in KEKERASAN[:4]:
        warga.says(body)
    assert "belum bisa kami dengar" in warga.says("", **voice)  # a yes/no question: say how
    for body in ("gak", "sy sendiri 34", "LEWATI", "1", "suami", "lompoe", "3"):
        warga.says(body)
    assert "Nama boleh" in warga.last
    assert "belum bisa kami dengar" in warga.says("", **voice)  # "send?" is no free text
    for body in ("LEWATI", "1"):
        warga.says(body)
    on_whatsapp = "+6281234500055"
    warga = Resident(client, on_whatsapp, whatsapp=True)  # on WhatsApp the story is its own question
    for body in (*KEKERASAN[:5], "sy sendiri", "34", "LEWATI", "1"):
        warga.says(body)
    assert "Ceritakan" in warga.last
    kept = warga.says("", **voice)
    assert "kami simpan" in kept and "pelakunya" in kept
    for body in ("suami", "LEWATI", "lompoe", "3", "LEWATI", "1"):
        warga.says(body)
    case = case_of(hotline, on_whatsapp)
    assert case.answers["media"] == 1
    with hotline.db.session() as s:
        media = [m.media for m in s.scalars(select(Message).where(Message.case_id == case.id)) if m.media]
    assert {"url": "https://api.twilio.com/m/v1", "type": "audio/ogg"} in media[-1]


@pytest.mark.usefixtures("roster")
def test_telepon_asks_for_a_call_with_what_is_known(app, client, hotline, redis, console) -> None:
    warga = Resident(client, RESIDENT)
    for body in KEKERASAN[:6]:
        warga.says(body)
    done = warga.says("TELEPON")
    assert "akan menelepon" in done and re.search(CODE, done)
    case = case_of(hotline)
    assert "call_me" in case.flags and case.answers["contact"] == "call" and case.contact_ok
    assert case.answers["who"] == "self"
    work(app, redis)
    assert "minta ditelepon" in to(console, KOORD)[0]  # no kelurahan yet: the koordinator


def test_telepon_before_consent_keeps_safety_and_consent_first(client, hotline) -> None:
    warga = Resident(client, "+6281234500077")
    first = warga.says("telepon")
    assert "aman membalas" in first
    assert "setuju" in warga.says("ya").lower()
    done = warga.says("ya")
    assert "akan menelepon" in done
    with hotline.db.session() as s:
        case = s.scalars(select(Case)).one()
    assert case.category == "lainnya" and "call_me" in case.flags and case.consent_at is not None


def test_a_report_typed_without_a_long_pause_is_never_interrupted(client, clock) -> None:
    """Only a pause of more than 30 minutes asks again."""
    warga = Resident(client, RESIDENT)
    for body in KEKERASAN[:-1]:
        clock.advance(minutes=5)
        warga.says(body)
    assert "pelakunya" in warga.last
    clock.advance(minutes=29)
    assert "kelurahan/desa" in warga.says("suami minggu ini")


def test_after_a_pause_no_command_word_brings_the_report_back(client, clock) -> None:
    warga = Resident(client, RESIDENT)
    for body in KEKERASAN[:5]:
        warga.says(body)
    for word in ("STATUS", "EN", "LEWATI", "bantuan"):
        clock.advance(minutes=31)
        reply = warga.says(word)
        assert "Siapa yang mengalami" not in reply and "Who experienced" not in reply, word
        warga.says("ID")
    clock.advance(minutes=31)
    reply = warga.says("DARURAT")  # still marks it urgent and gives the numbers, but no question
    assert "112" in reply and "mendesak" in reply and "Siapa yang mengalami" not in reply
    assert "kelurahan/desa" in warga.says("ya")  # safe: on to where, the shortest path


def test_the_pause_is_configurable(app, client, clock) -> None:
    app.config["HOTLINE_RESUME_MINUTES"] = "5"
    warga = Resident(client, RESIDENT)
    for body in KEKERASAN[:4]:
        warga.says(body)
    clock.advance(minutes=6)
    assert "aman membalas" in warga.says("gak")


def test_a_code_word_must_be_one_unusual_word_and_no_declines(client, hotline) -> None:
    warga = Resident(client, RESIDENT)
    for body in (*KEKERASAN, "lompoe", "2"):
        warga.says(body)
    assert "kata kode" in warga.last
    for everyday in ("iya", "1 2 3"):  # a third miss would offer a person instead
        assert "1 kata" in warga.says(everyday), everyday
    assert "Nama" in warga.says("gak")  # a plain no declines the question
    warga.says("1")
    assert not case_of(hotline).answers.get("codeword")
    with hotline.db.session() as s:
        assert s.scalars(select(Contact).where(Contact.phone == RESIDENT)).one().codeword is None
    assert "Terima kasih, pesan Anda sudah kami terima" not in warga.says("tidak")


def test_no_safer_number_is_an_answer_too(client) -> None:
    warga = Resident(client, RESIDENT)
    for body in (*KEKERASAN, "lompoe", "1"):
        warga.says(body)
    assert "kata kode" in warga.says("tidak ada")


@pytest.mark.usefixtures("roster")
def test_a_code_word_after_the_case_is_closed_reaches_the_coordinator(
    app, client, hotline, redis, console
) -> None:
    warga = Resident(client, RESIDENT)
    for body in (*KEKERASAN, "lompoe", "2", "mawar"):
        warga.says(body)
    code = code_in(warga.says("1"))
    work(app, redis)
    Resident(client, A).says(f"TERIMA {code}")
    Resident(client, A).says(f"SELESAI {code} sudah aman")
    work(app, redis)
    assert warga.says("Mawar") == "Terima kasih, pesan Anda sudah kami terima."
    work(app, redis)
    alarm = to(console, KOORD)[-1]
    assert "kata kodenya" in alarm and code in alarm
    with hotline.db.session() as s:
        assert s.scalars(select(CaseEvent).where(CaseEvent.kind == "codeword")).one().actor == "codeword"


def test_sexual_violence_on_the_danger_path_is_still_tpks(client, hotline) -> None:
    warga = Resident(client, RESIDENT)
    for body in ("sy diperkosa tadi malam", "ya", "ya", "ya", "lompoe", "3", "3"):
        warga.says(body)
    assert "didamaikan" in warga.says("kirim")
    case = case_of(hotline)
    assert case.urgent and {"danger_now", "tpks"} <= set(case.flags)
