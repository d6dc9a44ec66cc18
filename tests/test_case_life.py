"""The case's whole life, through the signed webhook (members' CEK, RUJUK, HASIL, SELESAI) and
the console (the same steps and actions): received, offered, accepted, verified (or not found /
duplicate, with a reason), referred, in follow-up, closed; a TPKS or child case with a referral
nobody has news of closes only with an outcome or a reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain import caselife
from bot.domain.members import institution, read_command
from storage.models import Case, CaseEvent
from tests.conftest import Resident, work
from tests.test_console import accounts_made, csrf, login  # noqa: F401  (a fixture among them)
from tests.test_duty import KOORD, RESIDENT, A, B, report, roster, to  # noqa: F401  (roster: a fixture)


def _case(hotline, code: str) -> Case:
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        s.expunge(case)
        return case


def _events(hotline, code: str) -> list[tuple[str, dict]]:
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        rows = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))
        return [(e.kind, dict(e.data)) for e in rows]


def _flag(hotline, code: str, *flags: str) -> None:
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        case.flags = [*case.flags, *flags]


def _taken(app, client, redis, console, number: str = RESIDENT) -> tuple[str, str, Resident]:
    """A Kekerasan report from Lompoe, taken by the member it was offered to (Bu Ani, or Bu Budi
    when Bu Ani has another case)."""
    code = report(client, number=number)
    short = code.split("-")[1]
    work(app, redis)
    [offered] = [n for n in (A, B) if any(f"TERIMA {short}" in m for m in to(console, n))]
    member = Resident(client, offered)
    assert "Anda tangani" in member.says(f"TERIMA {short}")
    return code, short, member


# -- reading what members type -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "verb", "rest"),
    [
        ("cek", "CEK", None),
        ("CEK 7K3QX ada", "CEK", "ada"),
        ("cek kode 7K3QX tidak ditemukan", "CEK", "tidak ditemukan"),
        ("croscek pre-7k3qx benar", "CEK", "benar"),
        ("rujuk 7K3QX uptd ppa", "RUJUK", "uptd ppa"),
        ("hasil 7K3QX uptd diterima", "HASIL", "uptd diterima"),
        ("HASIL 7K3QX dinsos ditolak", "HASIL", "dinsos ditolak"),
        ("hasil rujukan 7K3QX polisi belum ada kabar", "HASIL", "polisi belum ada kabar"),
        ("selesai 7K3QX", "SELESAI", ""),
    ],
)
def test_the_commands_as_people_type_them(body: str, verb: str, rest: str | None) -> None:
    command = read_command(body)
    assert command.verb == verb
    if rest is not None:
        assert command.readings[0][1:] == ("7K3QX", rest)


@pytest.mark.parametrize(
    ("text", "result", "reason"),
    [
        ("ada", "found", ""),
        ("ditemukan, ibunya di rumah", "found", "ibunya di rumah"),
        ("Benar.", "found", ""),
        ("tidak ada", "not_found", ""),
        ("tidak ditemukan", "not_found", ""),
        ("tdk ada rumahnya kosong", "not_found", "rumahnya kosong"),
        ("alamat palsu", "not_found", "alamat"),
        ("ganda dengan 7K3QY", "duplicate", "dengan 7K3QY"),
        ("dobel", "duplicate", ""),
        ("duplikat: sama dengan kasus kemarin", "duplicate", "sama dengan kasus kemarin"),
        ("belum benar", None, ""),  # a negation turns it around: not read as found
        ("nanti saya kabari", None, ""),
        ("", None, ""),
    ],
)
def test_check_results_as_typed(text: str, result: str | None, reason: str) -> None:
    reading = caselife.read_result(text)
    assert reading.value == result
    if result is not None:
        assert (reading.after or reading.before) == reason


@pytest.mark.parametrize(
    ("text", "org", "outcome", "note"),
    [
        ("uptd diterima", "UPTD PPA", "received", ""),
        ("dinsos ditolak", "Dinsos", "refused", ""),
        ("Dinsos ditolak, belum terdaftar DTKS", "Dinsos", "refused", "belum terdaftar DTKS"),
        ("uptd ppa dilayani", "UPTD PPA", "service_given", ""),
        ("puskesmas sudah dibantu visum", "Puskesmas", "service_given", "visum"),
        ("polisi belum ada kabar", "Polisi", "no_news", ""),
        ("pa tidak ada kabar", "Pengadilan Agama", "no_news", ""),
        ("dukcapil tidak diterima", "Dukcapil", "refused", ""),  # not "diterima"
        ("diterima", None, "received", ""),
        ("uptd tidak dibantu", "UPTD PPA", None, ""),
    ],
)
def test_referral_outcomes_as_typed(text: str, org: str | None, outcome: str | None, note: str) -> None:
    reading = caselife.read_outcome(text)
    assert (institution(text), reading.value) == (org, outcome)
    if outcome is not None:
        assert reading.after == note


# -- by text -----------------------------------------------------------------------------------


def test_the_whole_life_by_text(app, client, hotline, redis, console, roster) -> None:
    code, short, ani = _taken(app, client, redis, console)
    budi = Resident(client, B)
    assert "Tulis hasil cek" in ani.says(f"cek {short}")
    assert "bukan kasus Anda" in budi.says(f"CEK {short} ada")  # holder only
    assert "belum dirujuk" in ani.says(f"HASIL {short} uptd diterima")
    assert "dicatat: benar, ditemukan" in ani.says(f"CEK {short} ada")
    assert _case(hotline, code).status == "verified"
    assert "UPTD PPA dicatat" in ani.says(f"rujuk {short} uptd ppa")
    assert "Dinsos dicatat" in ani.says(f"RUJUK {short} dinsos")
    assert "Tulis lembaganya" in ani.says(f"hasil {short} diterima")  # two referrals wait: which?
    assert "HASIL " + short + " UPTD PPA diterima" in ani.says(f"hasil {short} uptd")  # and what?
    reply = ani.says(f"hasil {short} uptd diterima")
    assert "ke UPTD PPA dicatat: diterima lembaga" in reply and "dalam pemantauan" in reply
    reply = ani.says(f"HASIL {short} dinsos ditolak belum terdaftar DTKS")
    assert "ditolak" in reply and "dalam pemantauan" in reply  # one institution follows it up
    details = ani.says(f"LIHAT {short}")
    assert "Cek: benar, ditemukan" in details
    assert "Rujukan: UPTD PPA (diterima lembaga), Dinsos (ditolak)" in details
    assert "dalam pemantauan" in ani.says("KASUS")
    warga = Resident(client, RESIDENT)
    status = warga.says("STATUS")
    assert "sedang ditangani" in status and "pemantauan" not in status  # residents see two words
    assert "ditutup" in ani.says(f"selesai {short}")  # not a TPKS or child case: no reason needed
    work(app, redis)
    assert "selesai ditangani" in to(console, RESIDENT)[-1]
    kinds = [kind for kind, _ in _events(hotline, code)]
    assert kinds[-6:] == [
        "verified",
        "referred",
        "referred",
        "referral_outcome",
        "referral_outcome",
        "closed",
    ]
    outcomes = [data for kind, data in _events(hotline, code) if kind == "referral_outcome"]
    assert [(d["to"], d["outcome"]) for d in outcomes] == [("UPTD PPA", "received"), ("Dinsos", "refused")]
    assert outcomes[1]["note"] == "belum terdaftar DTKS"
    assert "sudah ditutup" in ani.says(f"HASIL {short} uptd dilayani")


@pytest.mark.parametrize("flag", ["tpks", "child_victim"])
def test_a_tpks_or_child_case_with_an_open_referral_needs_an_outcome_or_a_reason(
    app, client, hotline, redis, console, roster, flag: str
) -> None:
    code, short, ani = _taken(app, client, redis, console)
    _flag(hotline, code, flag)
    ani.says(f"RUJUK {short} uptd ppa")
    refused = ani.says(f"SELESAI {short}")
    assert "rujukan ke UPTD PPA belum ada hasil" in refused
    assert f"HASIL {short} UPTD PPA" in refused and f"SELESAI {short} alasannya" in refused
    assert _case(hotline, code).status == "referred"
    assert "dicatat: belum ada kabar" in ani.says(f"hasil {short} uptd belum ada kabar")
    assert _case(hotline, code).status == "referred"  # no news is an outcome, not a follow-up
    ani.says(f"RUJUK {short} polisi")  # a second referral, again with no outcome
    assert "rujukan ke Polisi belum ada hasil" in ani.says(f"selesai {short}")
    assert "ditutup" in ani.says(f"SELESAI {short} korban pindah ke luar kota, UPTD dihubungi")
    closed = _case(hotline, code)
    assert closed.status == "closed" and closed.closed_at is not None
    assert _events(hotline, code)[-1][1]["note"] == "korban pindah ke luar kota, UPTD dihubungi"


def test_not_found_or_duplicate_needs_a_reason_and_ends_the_case(
    app, client, hotline, redis, console, roster
) -> None:
    koordinator = Resident(client, KOORD)
    waiting = report(client, number="+6281234567801")
    work(app, redis)
    assert "belum diterima. Kirim TERIMA" in koordinator.says(f"CEK {waiting.split('-')[1]} ada")

    code, short, ani = _taken(app, client, redis, console)
    assert "Tulis juga alasannya" in ani.says(f"cek kode {short} tidak ditemukan")
    assert _case(hotline, code).status == "accepted"
    reply = ani.says(f"CEK {short} tidak ditemukan rumah kosong, tetangga tidak kenal")
    assert "tidak ditemukan. Kasus ditutup" in reply
    case = _case(hotline, code)
    assert case.status == "closed" and case.closed_at is not None
    kind, data = _events(hotline, code)[-1]
    assert (kind, data["result"], data["note"]) == (
        "verified",
        "not_found",
        "rumah kosong, tetangga tidak kenal",
    )
    work(app, redis)
    assert "selesai ditangani" in to(console, RESIDENT)[-1]  # they agreed to messages
    assert "sudah ditutup" in ani.says(f"CEK {short} ada")

    twice = "+6281234567802"
    code, short, ani = _taken(app, client, redis, console, number=twice)
    reply = ani.says(f"CEK {short} ganda dengan {waiting}")
    assert "laporan ganda. Kasus ditutup" in reply
    work(app, redis)
    assert not any("selesai" in m for m in to(console, twice))  # their other report goes on
    details = Resident(client, KOORD).says(f"LIHAT {short}")
    assert f"Cek: laporan ganda (dengan {waiting})" in details


# -- in the console ----------------------------------------------------------------------------


def _post(client, code: str, action: str, **form: str) -> str:
    token = csrf(client.get(f"/console/cases/{code}").data)
    response = client.post(f"/console/cases/{code}/{action}", data={"csrf_token": token, **form})
    assert response.status_code == 302, (action, form, response.status_code)
    return client.get(response.location).data.decode()


def test_the_console_shows_the_steps_and_acts_by_the_same_rules(
    app, client, hotline, redis, console, roster, accounts_made
) -> None:
    waiting = report(client, number="+6281234567803")
    code, short, ani = _taken(app, client, redis, console)
    _flag(hotline, code, "child_victim")
    login(client, "pare")
    assert "Belum bisa" in _post(client, waiting, "verify", result="found")  # nobody has taken it
    page = _post(client, code, "verify")  # no result at all
    assert "Pilih hasil cek" in page
    assert "perlu alasan" in _post(client, code, "verify", result="duplicate")
    assert "Pilih hasil cek" in _post(client, code, "verify", result="found'; drop", note="x")
    page = _post(client, code, "verify", result="found", note="sudah croscek ke rumah")
    assert 'data-step="verified"' in page and "benar, ditemukan" in page
    assert _case(hotline, code).status == "verified"
    _post(client, code, "refer", to="uptd ppa")
    assert "Pilih rujukan" in _post(client, code, "outcome", to="Dinsos", outcome="received")  # not referred
    assert "Pilih rujukan" in _post(client, code, "outcome", to="UPTD PPA", outcome="lost")
    assert "Pilih rujukan" in _post(client, code, "outcome", outcome="received")
    page = _post(client, code, "close")
    assert "rujukan ke UPTD PPA belum ada hasil" in page and _case(hotline, code).status == "referred"
    page = _post(client, code, "outcome", to="UPTD PPA", outcome="service_given", note="visum selesai")
    assert _case(hotline, code).status == "in_follow_up"
    assert 'id="referrals"' in page and "sudah dilayani" in page
    listing = client.get("/console/cases?status=in_follow_up").data.decode()
    assert code in listing and waiting not in listing and 'value="verified"' in listing
    _post(client, code, "close")  # every referral has its outcome now
    assert _case(hotline, code).status == "closed"
    page = client.get(f"/console/cases/{code}").data.decode()
    assert 'class="done current" data-step="closed"' in page
    assert "sudah ditutup" in _post(client, code, "verify", result="found")
    details = ani.says(f"LIHAT {short}")
    assert "Rujukan: UPTD PPA (sudah dilayani)" in details
