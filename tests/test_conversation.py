"""Conversation scripts through the signed webhook: every flow in informal Indonesian, the
conversation saved and reloaded between turns (each turn is its own request and transaction)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from flows.reading import sms_segments
from storage.models import Case, CaseEvent, Contact, Conversation, Message, Outbox
from tests.conftest import MSB_NUMBER, Resident, work

START = (("halo", r"rahasia.*112.*aman membalas"), ("iya", r"setuju\?"))
CODE = r"Kode: (PRE|MSB)-[0-9A-HJKMNP-TV-Z]{5}"


@pytest.fixture
def wa(client) -> Resident:
    """A resident on WhatsApp: every question its own message, in the longer wording."""
    return Resident(client, "+6281234567890", whatsapp=True)


def only_case(hotline) -> Case:
    with hotline.db.session() as s:
        cases = s.scalars(select(Case).options(joinedload(Case.site), joinedload(Case.area))).all()
        assert len(cases) == 1
        return cases[0]


def test_kekerasan_report_end_to_end(resident: Resident, hotline, app, redis) -> None:
    """On SMS: two questions in one message where a flow pairs them, a place typed exactly taken
    as it is, short texts; thirteen replies of one segment each."""
    resident.script(
        *START,
        (
            "ok setuju",
            r"Mau lapor apa.*1\. Kekerasan.*2\. Bansos \(PKH, sembako\)/DTSEN.*5\. KTP/KK/akta.*6\. Lainnya",
        ),
        ("1", r"bahaya sekarang"),
        ("gak", r"bukan salah Anda.*Siapa yg mengalami, umur berapa\?.*1\. Saya sendiri"),
        ("sy sendiri, 34 thn", r"Apakah yg mengalami penyandang disabilitas \(sulit melihat.*LEWATI"),
        ("tidak", r"Jenis kekerasan\?.*cerita singkat.*1\. Fisik"),
        ("1 dan 2, sy dipukul suami krn telat masak", r"pelakunya, kapan terakhir"),
        ("suami, tadi malam", r"kelurahan/desa"),
        ("kel lompoe", r"menghubungi Anda\? Tulis juga waktu aman.*2\. SMS saja"),
        ("2 malam", r"kata kode rahasia"),
        ("LEWATI", r"Laporan: Kekerasan, Lompoe, SMS saja\.\nKirim\? Nama boleh.*1\. Kirim"),
        ("1", CODE + r".*mengirim pesan"),
    )
    case = only_case(hotline)
    assert case.category == "kekerasan" and case.site.prefix == "PRE"
    assert case.area.name == "Lompoe" and case.contact_ok and not case.urgent
    assert case.answers["kind"] == ["physical", "psychological"]
    assert case.answers["perpetrator"] == "partner"
    assert case.answers["age"] == 34 and case.answers["disability"] == "no"
    assert case.answers["story"] == "sy dipukul suami krn telat masak"
    assert case.answers["when"] == "today" and case.answers["contact_time"] == "evening"
    assert case.answers["name"] is None and case.answers["codeword"] is None
    assert case.consent_version and case.consent_at
    with hotline.db.session() as s:
        transcript = s.scalars(select(Message).where(Message.case_id == case.id)).all()
        assert len(transcript) == 2 * 13  # every message in and every reply out
        assert all(sms_segments(m.body) == 1 for m in transcript if m.direction == "out")
        assert transcript[0].body == "halo"
        jobs = s.scalars(select(Outbox)).all()
        assert [j.job for j in jobs] == ["assign_case"] and jobs[0].pushed_at is not None
        assert jobs[0].done_at is None
    work(app, redis)  # a real rq worker runs the queued job
    with hotline.db.session() as s:
        assert s.scalars(select(Outbox)).one().done_at is not None
        kinds = [e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert kinds == ["submitted", "awaiting_member"]


def test_kekerasan_on_whatsapp_asks_one_question_at_a_time(wa: Resident, hotline) -> None:
    wa.script(
        *START,
        ("ok setuju", r"Mau lapor apa"),
        ("1", r"bahaya sekarang"),
        ("gak", r"Siapa yang mengalami kekerasan\?.*1\. Saya sendiri"),
        ("sy sendiri", r"Berapa umur yang mengalami\?"),
        ("umur 34 thn", r"Apakah orang yang mengalami ini penyandang disabilitas"),
        ("gak bisa jalan", r"Jenis kekerasannya"),  # a difficulty said is a yes
        ("1 dan 2", r"Ceritakan"),
        ("sy dipukul suami krn telat masak", r"Siapa pelakunya\?"),
        ("suami", r"terakhir terjadi"),
        ("tadi malam", r"kelurahan/desa"),
        ("kel lompoe", r"menghubungi Anda dengan aman"),  # typed exactly: nothing to confirm
        ("2", r"waktu aman"),
        ("malam", r"kata kode rahasia"),
        ("LEWATI", r"Nama Anda"),
        ("LEWATI", r"Ringkasan: Kekerasan, Lompoe.*Pesan saja.*anonim.*Kirim laporan"),
        ("1", CODE + r".*mengirim pesan"),
    )
    case = only_case(hotline)
    assert case.area.name == "Lompoe" and case.answers["age"] == 34 and case.answers["disability"] == "yes"
    assert case.answers["kind"] == ["physical", "psychological"] and case.answers["when"] == "today"


def test_danger_now_takes_the_shortest_path(wa: Resident, hotline) -> None:
    wa.script(
        ("tolong sy mau lapor kdrt", r"aman membalas"),
        ("ya", r"setuju"),
        ("ya", r"bahaya sekarang"),  # the free-text intent skipped the menu
        ("iya", r"112.*Polisi 110.*kelurahan/desa"),
        ("watang bacukik", r"1\. Watang Bacukiki"),  # near, not exact: confirmed
        ("ya", r"menghubungi"),
        ("3", r"tidak bisa menindaklanjuti.*menghubungi Anda dengan aman"),  # danger: asked again once
        ("3", r"Nama"),
        ("Ani", r"Ringkasan.*Ani"),
        ("kirim", CODE + r".*tidak akan menghubungi"),
    )
    case = only_case(hotline)
    assert case.urgent and "danger_now" in case.flags and not case.contact_ok


def test_child_victim_is_urgent_and_sexual_violence_is_not_mediated(wa: Resident, hotline) -> None:
    wa.script(
        *START,
        ("ya", r"lapor apa"),
        ("kekerasan", r"bahaya"),
        ("tidak", r"Siapa"),
        ("anak", r"umur"),
        ("12", r"UPTD PPA.*disabilitas"),
        ("LEWATI", r"Jenis"),
        ("3", r"Ceritakan"),
        ("LEWATI", r"pelakunya"),
        ("5", r"terakhir"),
        ("LEWATI", r"kelurahan"),
        ("LEWATI", r"menghubungi"),
        ("1", r"waktu aman"),
        ("pagi", r"nomor lain yang lebih aman"),
        ("LEWATI", r"kata kode"),
        ("LEWATI", r"Nama"),
        ("bu rina", r"Ringkasan.*tidak disebut.*Telepon"),
        ("1", r"menelepon.*tidak boleh didamaikan"),
    )
    case = only_case(hotline)
    assert case.urgent and {"child_victim", "tpks"} <= set(case.flags)
    assert case.area_id is None and case.answers["disability"] is None  # LEWATI: nothing kept


def test_bansos_report_with_nik(wa: Resident, hotline) -> None:
    wa.script(
        *START,
        ("ya", r"lapor apa"),
        ("2", r"Bantuan apa"),
        ("pkh", r"Daftar bansos \(DTSEN\) diperbarui lewat kelurahan/desa.*Untuk siapa"),
        ("keluarga", r"Apakah orang yang perlu dibantu penyandang disabilitas"),
        ("ya", r"Ada siapa di rumah.*5\. Ibu kepala keluarga"),
        (
            "1 3",
            r"KTP dan Kartu Keluarga \(KK\)\?\n1\. Punya KTP dan KK\n2\. Tidak punya KTP\n"
            r"3\. Tidak punya KK \(Kartu Keluarga\)\n4\. Tidak punya keduanya",
        ),
        ("blm punya", r"NIK"),
        ("1234", r"16 angka"),
        ("7372014505800001", r"Ceritakan"),
        ("ibu sy lansia tdk dapat pkh lg", r"kelurahan"),
        ("ujung bulu", r"menghubungi"),
        ("pesan", r"waktu"),
        ("kapan saja", r"Nama"),
        ("LEWATI", r"Ringkasan: Bansos \(PKH, sembako\)/DTSEN"),
        ("1", CODE + r".*Pendamping posko akan mengirim pesan"),
    )
    case = only_case(hotline)
    assert case.category == "bansos" and "needs_documents" in case.flags
    assert case.answers["documents"] == "neither"
    assert case.answers["nik"] == "7372014505800001"
    assert case.answers["vulnerable"] == ["elderly", "young_children"] and case.answers["disability"] == "yes"


def test_bpjs_needing_treatment_is_urgent(wa: Resident, hotline) -> None:
    wa.script(
        *START,
        ("ya", r"lapor apa"),
        ("bpjs", r"Masalah BPJS"),
        (
            "bpjs sy nonaktif",
            r"PBI: bawa surat keterangan dari puskesmas/RS ke kelurahan/desa, "
            r"lalu Dinsos mengaktifkan kembali\.\nUntuk siapa",
        ),
        ("1", r"disabilitas"),
        ("tidak", r"berobat sekarang"),
        ("iya mau melahirkan", r"surat keterangan.*kartu BPJS"),
        ("0001234567890", r"Ceritakan"),
        ("LEWATI", r"kelurahan"),
        ("lakessi", r"menghubungi"),
        ("1", r"waktu"),
        ("LEWATI", r"Nama"),
        ("LEWATI", r"Ringkasan: BPJS"),
        ("kirim", CODE),
    )
    case = only_case(hotline)
    assert case.urgent and case.answers["card"] == "0001234567890"
    assert case.answers["problem"] == "pbi_inactive"


def test_bansos_never_registered_woman_head_without_kk(wa: Resident, hotline) -> None:
    wa.script(
        *START,
        ("ya", r"lapor apa"),
        ("bansos", r"Bantuan apa.*4\. Belum pernah terdaftar"),
        (
            "blm pernah terdaftar",
            r"Daftar bansos \(DTSEN\) diperbarui lewat kelurahan/desa atau aplikasi Cek Bansos "
            r"\(usul/sanggah\)\.\nUntuk siapa",
        ),
        ("sy sendiri", r"disabilitas"),
        ("LEWATI", r"Ada siapa"),
        ("sy janda, ibu kepala keluarga", r"Punya KTP dan KK.*Tidak punya KK \(Kartu Keluarga\)"),
        ("gak punya kk", r"NIK"),
        ("LEWATI", r"Ceritakan"),
        ("LEWATI", r"kelurahan"),
        ("LEWATI", r"menghubungi"),
        ("3", r"Nama"),
        ("LEWATI", r"Ringkasan: Bansos \(PKH, sembako\)/DTSEN"),
        ("1", CODE),
    )
    case = only_case(hotline)
    assert case.answers["program"] == "never" and case.answers["vulnerable"] == ["woman_head"]
    assert case.answers["documents"] == "no_kk" and "needs_documents" in case.flags


def test_document_options_are_plain(resident: Resident) -> None:
    resident.script(
        *START,
        ("ya", r"lapor apa"),
        ("5", r"Untuk siapa\? Penyandang disabilitas\? Misal: 1 tidak\n1\. Saya sendiri"),
        ("1", r"Dokumen apa.*\n1\. KTP\n2\. Kartu Keluarga \(KK\)\n3\. Akta kelahiran\n4\. Lainnya"),
        ("kartu keluarga", r"kelurahan/desa"),
    )


def test_english_replies_have_no_indonesian(wa: Resident, hotline) -> None:
    resident = wa
    resident.script(("halo", r"aman membalas"))
    turns = (
        ("EN", r"Language: English.*safe to reply"),
        ("yes", r"Agree\?"),
        ("yes", r"What to report.*2\. Welfare \(PKH, food\)/DTSEN.*5\. Papers \(KTP/KK\)"),
        ("2", r"Which assistance"),
        ("4", r"The aid list \(DTSEN\) is updated via the kelurahan/desa.*For whom"),
        ("1", r"Does the person who needs the help have a disability"),
        ("no", r"Who is in the household.*5\. Woman head of household"),
        ("5", r"KTP \(ID card\) and a KK \(family card\)\?.*3\. No KK \(family card\)\n4\. Neither"),
        ("4", r"NIK"),
        ("LEWATI", r"describe"),
        ("LEWATI", r"kelurahan"),
        ("LEWATI", r"contact you safely"),
        ("2", r"safe to contact"),
        ("LEWATI", r"Your name"),
        ("LEWATI", r"Summary: Welfare \(PKH, food\)/DTSEN.*Name: Anonymous\."),
        ("1", r"Code: (PRE|MSB)-.*A posko volunteer will message this number"),
    )
    said = []
    for turn in turns:
        resident.script(turn)
        said.append(resident.last)
    indonesian = {"anonim", "dan", "yang", "tidak", "untuk", "atau", "anda", "kami", "akan", "sudah"}
    assert indonesian.isdisjoint(re.findall(r"[a-z]+", "\n".join(said).lower())), said
    assert "needs_documents" in only_case(hotline).flags


def test_child_marriage_in_lombok_this_week(client, hotline) -> None:
    warga = Resident(client, "+6287711112222", to=MSB_NUMBER)
    warga.script(
        ("anak sy mau dinikahkan minggu ini", r"aman membalas"),
        ("iya", r"setuju"),
        ("setuju", r"keadaannya"),
        ("1", r"Kapan rencana.*umur anak"),  # on SMS: when, and the age
        ("minggu ini, 15 tahun", r"minimal 19.*dipaksa"),
        ("iya dipaksa", r"siapanya.*cerita singkat"),
        ("ortu, merarik kodek, diculik pacarnya", r"kelurahan/desa"),
        ("paok motong", r"menghubungi"),  # an alias, typed exactly
        ("2 siang", r"kata kode"),
        ("LEWATI", r"Perkawinan anak.*Nama boleh"),
        ("1", r"Kode: MSB-"),
    )
    case = only_case(hotline)
    assert case.site.prefix == "MSB" and case.area.name == "Paokmotong"
    assert case.urgent
    assert {"marriage_this_week", "forced_marriage", "tpks", "forced"} <= set(case.flags)
    assert case.answers["age"] == 15 and case.answers["relation"] == "parent"
    assert case.answers["story"] == "ortu, merarik kodek, diculik pacarnya"
    assert case.answers["contact_time"] == "midday"


@pytest.mark.parametrize(
    ("menu", "answers", "category"),
    [
        (
            "5",
            [
                ("1", r"disabilitas"),
                ("tidak", r"Dokumen apa"),
                ("1 dan 3", r"Ceritakan"),
                ("hilang waktu banjir", r"kelurahan"),
            ],
            "dokumen",
        ),
        (
            "ktp",
            [
                ("saya", r"disabilitas"),
                ("LEWATI", r"Dokumen apa"),
                ("ktp", r"Ceritakan"),
                ("LEWATI", r"kelurahan"),
            ],
            "dokumen",
        ),
        (
            "6",
            [
                ("lansia", r"Untuk siapa"),
                ("3", r"disabilitas"),
                ("ya", r"Ceritakan"),
                ("nenek butuh kursi roda", r"kelurahan"),
            ],
            "lainnya",
        ),
    ],
)
def test_documents_and_other_needs(wa: Resident, hotline, menu, answers, category) -> None:
    wa.script(*START, ("ya", r"lapor apa"), (menu, r"."), *answers)
    wa.script(("LEWATI", r"menghubungi"), ("3", r"Nama"), ("LEWATI", r"Ringkasan"), ("1", CODE))
    assert only_case(hotline).category == category


def test_not_safe_stops_and_no_consent_keeps_nothing(resident: Resident, hotline) -> None:
    resident.script(("halo", r"aman"), ("tidak", r"hapus chat ini.*HALO"))
    resident.script(("halo", r"aman"), ("ya", r"Setuju"), ("gak mau", r"tidak kami simpan.*SAPA 129"))
    with hotline.db.session() as s:
        assert s.scalars(select(Case)).all() == []
        declined_run = s.scalars(select(Message).order_by(Message.id)).all()[4:8]
        assert all(m.body == "" for m in declined_run[:3])


def test_global_words_in_the_middle_of_a_flow(resident: Resident, hotline) -> None:
    resident.script(*START, ("ya", r"lapor apa"), ("2", r"Bantuan apa"))
    resident.script(
        ("BANTUAN", r"MENU ulang.*TELEPON.*Bantuan apa"),
        ("tolong bantu saya", r"angka pilihan"),  # not a keyword: a sentence is an answer
        ("EN", r"Language: English.*Which assistance"),
        ("ID", r"Bahasa: Indonesia.*Bantuan apa"),
        ("status", r"Belum ada laporan.*Bantuan apa"),
        ("Darurat!", r"112.*mendesak.*kelurahan"),
        ("MENU", r"mulai lagi.*lapor apa"),
        ("1", r"bahaya"),
        ("batal", r"dibatalkan"),
        ("hapus", r"Hapus semua data"),
        ("tidak", r"tidak dihapus"),
        ("berhenti", r"tidak akan mengirim pesan"),
    )
    with hotline.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped
        assert s.scalars(select(Case)).all() == []


def test_lewati_only_where_allowed_and_three_misses_offer_a_member(resident: Resident, hotline) -> None:
    resident.script(*START, ("ya", r"lapor apa"), ("1", r"bahaya"))
    resident.script(
        ("LEWATI", r"perlu dijawab.*bahaya"),
        ("hmm", r"1 untuk Ya"),
        ("entahlah", r"1 untuk Ya"),
        ("???", r"pendamping posko menghubungi"),
        ("ya", r"pendamping posko akan menghubungi Anda\. Kode: PRE-"),
    )
    case = only_case(hotline)
    assert "handoff" in case.flags and case.contact_ok


def test_status_lists_only_the_callers_own_cases(client, hotline) -> None:
    ani, budi = Resident(client, "+6281111111111"), Resident(client, "+6282222222222")
    for who in (ani, budi):
        who.script(*START, ("ya", r"lapor apa"), ("6", r"terkait"), ("3", r"siapa"), ("1", r"Ceritakan"))
        who.script(
            ("butuh bantuan", r"kelurahan"),
            ("LEWATI", "."),
            ("3", "."),
            ("LEWATI", "."),
            ("1", CODE),
        )
    with hotline.db.session() as s:
        codes = {c.contact_id: c.code for c in s.scalars(select(Case))}
    reply = ani.says("STATUS")
    ani_code, budi_code = sorted(codes.values(), key=lambda c: c not in reply)
    assert ani_code in reply and budi_code not in reply
    assert "sedang ditangani" in reply and "Lainnya" not in reply  # codes and neutral states


def test_hapus_erases_personal_data(resident: Resident, hotline) -> None:
    resident.script(*START, ("ya", r"lapor apa"), ("6", r"terkait"), ("3", r"siapa"), ("1", r"Ceritakan"))
    resident.script(
        ("rumah sy di jl. mawar 5, nik 7372014505800001", r"kelurahan"),
        ("LEWATI", "."),
        ("1", "."),
        ("LEWATI", "."),
        ("Siti Aminah", "."),
        ("1", CODE),
        ("HAPUS", r"Hapus semua data"),
        ("ya", r"sudah dihapus"),
    )
    with hotline.db.session() as s:
        case = s.scalars(select(Case)).one()
        assert case.answers == {} and not case.contact_ok and case.category == "lainnya"
        contact = s.get(Contact, case.contact_id)
        assert contact.phone is None and contact.name is None and contact.erased_at
        bodies = [m.body for m in s.scalars(select(Message)) if m.direction == "in"]
        assert not any("mawar" in b or "Siti" in b or "7372" in b for b in bodies)
    assert "Belum ada laporan" in resident.says("STATUS")  # a new contact: nothing to show


def test_a_paused_report_asks_to_continue(resident: Resident, hotline) -> None:
    resident.script(*START, ("ya", r"lapor apa"), ("2", r"Bantuan apa"))
    real = hotline.clock
    hotline.clock = lambda: real() + timedelta(days=2)
    try:
        resident.script(
            ("pkh", r"aman membalas"),  # safe to reply? before anything about the report
            ("iye", r"belum selesai.*Lanjutkan"),
            ("1", r"Bantuan apa"),
            ("pkh", r"Untuk siapa"),
        )
    finally:
        hotline.clock = real
    with hotline.db.session() as s:
        assert s.scalars(select(Conversation)).one().state == "for_whom"
