"""The console's "Laporan baru" through Flask's test client: a form for every category drawn from
its flow, CSRF, bad input given back as a message, and the case it makes (channel, who heard the
resident agree, the resident's phone or none, practice, the assignment job, the audit row)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from flows import CATEGORIES, ON_BEHALF, bpjs
from flows.common import CONSENT_VERSION, SPOKEN_CONSENT_VERSION
from flows.model import MENU, SUMMARY, PlacePick
from storage.models import AuditLog, Case, Contact, Member, Outbox, Site
from tests.test_console import INLINE, accounts_made, csrf, login  # noqa: F401 (a fixture)

FORM = "/console/walkin"
# A child hit by her father yesterday, at the posko, no phone of her own.
CHILD = {
    "site": "PRE",
    "category": "kekerasan",
    "came_by": "posko",
    "consent": "yes",
    "danger": "no",
    "who": "child",
    "age": "9",
    "kind": ["physical"],
    "story": "dipukul ayahnya",
    "perpetrator": "family",
    "when": "days",
    "area": "Lompoe",
    "name": "",
}


def _once(page: bytes) -> str:
    """The form's one-time token."""
    return re.search(rb'name="once" value="([^"]+)"', page).group(1).decode()


def _tokens(client, query: str = "category=kekerasan") -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = client.get(f"{FORM}?{query}").data
    return {"csrf_token": csrf(page), "once": _once(page)}


def _post(client, **changes: Any):  # type: ignore[no-untyped-def]
    data = {**_tokens(client), **CHILD, **changes}
    return client.post(FORM, data={k: v for k, v in data.items() if v is not None})


def _cases(hotline) -> list[Case]:
    with hotline.db.session() as s:
        found = list(s.scalars(select(Case).order_by(Case.id)))
        s.expunge_all()
        return found


def _made(hotline, response) -> Case:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, response.data.decode()
    code = response.location.rsplit("/", 1)[1]
    [case] = [c for c in _cases(hotline) if c.code == code]
    return case


def _error(page: str, field: str) -> str:
    """The message beside a field of the form given back."""
    block = re.search(rf'data-field="{field}".*?(?=data-field=|</form>)', page, re.S)
    assert block, field
    found = re.search(r'class="error"[^>]*>([^<]+)<', block.group(0))
    return found.group(1) if found else ""


def test_every_category_has_its_form_with_every_question(client, accounts_made) -> None:
    login(client, "pare")
    chooser = client.get(FORM).data.decode()
    assert all(f'value="{f.name}"' in chooser for f in CATEGORIES) and INLINE.search(chooser) is None
    for flow in CATEGORIES:
        response = client.get(f"{FORM}?category={flow.name}")
        page = response.data.decode()
        assert response.status_code == 200, flow.name
        for step in (*ON_BEHALF.steps, *flow.steps):
            asked = step.role not in (MENU, SUMMARY) and not isinstance(step.answer, PlacePick)
            assert (f'name="{step.name}"' in page) == asked, (flow.name, step.name)
        assert '<option value="Lompoe"' in page and "Kesik" not in page  # the site's own places
        assert CONSENT_VERSION in page and "dgn izin Anda" in page  # the text read to the resident
        questions = page.split('id="walkin-questions"')[1]
        assert "boleh kosong" in page and "LEWATI" not in questions and "1 Ya 2 Tidak" not in questions
        assert "Nama warga" in questions and "Nama Anda" not in questions  # the resident's, not yours
        assert INLINE.search(page) is None and "walkin.js" in page


def test_the_form_needs_the_csrf_token(client, hotline, accounts_made) -> None:
    login(client, "pare")
    response = client.post(FORM, data=CHILD)
    assert response.status_code == 400 and _cases(hotline) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"story": "dipukul " * 1250}, "story", "Terlalu panjang: paling banyak 2000 karakter."),
        ({"age": "😀"}, "age", "Tulis umur dengan angka"),
        ({"age": "150"}, "age", "Tulis umur dengan angka"),
        ({"who": "alien"}, "who", "Pilih salah satu."),
        ({"kind": ["fisik", "x" * 500]}, "kind", "Pilih satu atau lebih."),
        ({"came_by": None}, "came_by", "Pilih salah satu."),
        ({"consent": None}, "consent", "Centang persetujuan lisan warga"),
        ({"area": "Kesik"}, "area", "Pilih kelurahan/desa dari daftar."),  # another site's place
        ({"name": "BATAL"}, "name", "satu kata perintah"),
        ({"name": "Rina\x00\x07" + "a" * 300}, "name", "Terlalu panjang"),
    ],
)
def test_bad_answers_come_back_beside_their_field(client, hotline, accounts_made, changes, field, message):
    login(client, "pare")
    response = _post(client, **changes)
    page = response.data.decode()
    assert response.status_code == 400
    assert "Laporan belum disimpan" in page and message in _error(page, field)
    assert 'value="family" checked' in page and (field == "age" or 'value="9"' in page)  # answers kept
    assert _cases(hotline) == []


def test_malformed_posts_are_a_message_not_an_error(client, hotline, accounts_made) -> None:
    login(client, "pare")
    unknown = _post(client, category="bukan")
    assert unknown.status_code == 400 and "Kategori tidak dikenal" in unknown.data.decode()
    assert _post(client, category=None).status_code == 400
    odd = _post(client, **{"danger": ["mungkin", "no"], "who": "😀", "age": "\x00"})
    assert odd.status_code == 400 and "Pilih Ya atau Tidak." in _error(odd.data.decode(), "danger")
    assert _post(client, site="MSB").status_code == 404  # another account's site
    assert client.get(f"{FORM}?category=kekerasan&site=MSB").status_code == 404
    story = _post(client, story="Ibu 😀🙏 dipukul")  # emoji in a story are words like any other
    assert "😀🙏" in _made(hotline, story).answers["story"]


def test_a_resident_without_a_phone_gets_a_case_and_no_messages(client, hotline, accounts_made) -> None:
    login(client, "pare")
    response = _post(client, contact="call", codeword="melati")  # not asked without a phone
    case = _made(hotline, response)
    assert case.contact_id is None and not case.contact_ok
    assert case.channel == "posko" and case.consent_by == "user:pare" and not case.practice
    assert case.consent_version == SPOKEN_CONSENT_VERSION and case.consent_at is not None
    assert case.urgent and "child_victim" in case.flags  # a child: urgent, as on WhatsApp
    assert "contact" not in case.answers and "codeword" not in case.answers
    page = client.get(response.location).data.decode()
    assert f"Laporan tercatat, kode {case.code}" in page
    assert "Warga tanpa HP: tidak ada pesan yang dikirim" in page
    assert 'id="no-chat"' in page  # no conversation: taken on the form
    assert re.search(r'id="case-channel">Posko<', page)
    assert "Persetujuan lisan dicatat oleh pare (konsol)" in page
    assert f"versi {SPOKEN_CONSENT_VERSION}" in page
    listing = client.get("/console/cases").data.decode()
    assert case.code in listing and "<td>Posko</td>" in listing
    with hotline.db.session() as s:
        jobs = s.scalars(select(Outbox).where(Outbox.job == "assign_case")).all()
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "walkin")).all()
        assert [j.args["case_id"] for j in jobs] == [case.id]
        assert [(a.actor, a.details["case"]) for a in audit] == [("user:pare", case.code)]


def test_the_residents_own_phone_makes_their_contact(client, hotline, accounts_made) -> None:
    login(client, "pare")
    response = _post(
        client, came_by="telepon", own_phone="0812-3456-7001", contact="message", kind=["sexual"]
    )
    case = _made(hotline, response)
    with hotline.db.session() as s:
        contact = s.get(Contact, case.contact_id)
        assert contact is not None and contact.phone == "+6281234567001"
    assert case.channel == "telepon" and case.consent_by == "user:pare" and case.contact_ok
    assert case.answers["contact"] == "message" and "tpks" in case.flags
    page = client.get(response.location).data.decode()
    assert "Sampaikan kepada warga: Kekerasan seksual tidak boleh didamaikan" in page  # the advice
    assert re.search(r'id="case-channel">Telepon<', page) and "Warga tanpa HP" not in page


def test_practice_makes_a_practice_case(client, hotline, accounts_made) -> None:
    login(client, "pare")
    case = _made(hotline, _post(client, practice="1"))
    assert case.practice


def test_an_admin_chooses_the_site_and_an_english_console_reads_english(client, hotline, accounts_made):
    login(client, "admin")
    chooser = client.get(FORM).data.decode()
    assert 'name="site"' in chooser and 'value="MSB"' in chooser
    client.post("/console/lang", data={"csrf_token": csrf(chooser.encode()), "locale": "en"})
    page = client.get(f"{FORM}?category=bpjs&site=MSB").data.decode()
    assert "Kesik" in page and "Lompoe" not in page and "may be left empty" in page
    data = {"csrf_token": csrf(page.encode()), "once": _once(page.encode()), "site": "MSB"}
    data |= {"category": "bpjs", "came_by": "posko", "consent": "yes"}
    first = {name: bpjs.FLOW.step(name).answer.options[0].value for name in ("problem", "for_whom")}
    data |= {**first, "treatment": "yes", "area": "Kesik", "contact": "none"}
    case = _made(hotline, client.post(FORM, data=data))
    assert case.code.startswith("MSB-") and case.consent_by == "user:admin"


def _member(hotline, prefix: str, phone: str, active: bool = True) -> None:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == prefix)).one()
        s.add(Member(site_id=site.id, name="Bu Ani", phone=phone, channel="sms", active=active))


def test_a_kk_members_own_number_is_refused_as_the_residents(client, hotline, accounts_made) -> None:
    _member(hotline, "PRE", "+628110001001")
    login(client, "pare")
    response = _post(client, own_phone="0811-0001-001", contact="message")
    page = response.data.decode()
    assert response.status_code == 400 and "Laporan belum disimpan" in page
    assert _error(page, "own_phone") == (
        "Nomor ini nomor anggota KK, bukan nomor warga. Kosongkan bila warga tidak punya HP."
    )
    assert 'value="0811-0001-001"' in page and 'value="family" checked' in page  # kept to correct
    assert _cases(hotline) == []
    with hotline.db.session() as s:
        assert s.scalars(select(Contact)).all() == []
    case = _made(hotline, _post(client, own_phone=""))  # left empty: a resident without a phone
    assert case.contact_id is None


def test_another_sites_or_a_former_members_number_is_a_residents(client, hotline, accounts_made) -> None:
    _member(hotline, "MSB", "+628110001001")
    _member(hotline, "PRE", "+628110001002", active=False)
    login(client, "pare")
    for number in ("+628110001001", "+628110001002"):
        case = _made(hotline, _post(client, own_phone=number, contact="message"))
        with hotline.db.session() as s:
            assert s.get_one(Contact, case.contact_id).phone == number


def test_the_same_form_posted_twice_makes_one_case(client, hotline, accounts_made) -> None:
    login(client, "pare")
    data = {**_tokens(client), **CHILD}
    first = client.post(FORM, data=data)
    case = _made(hotline, first)
    assert "Laporan tercatat" in client.get(first.location).data.decode()
    again = client.post(FORM, data=data)  # a double click, or the browser's back and send again
    assert again.status_code == 302 and again.location == first.location
    page = client.get(again.location).data.decode()
    assert f"Laporan ini sudah tersimpan, kode {case.code}" in page and "Laporan tercatat" not in page
    assert [c.code for c in _cases(hotline)] == [case.code]
    with hotline.db.session() as s:
        jobs = s.scalars(select(Outbox).where(Outbox.job == "assign_case")).all()
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "walkin")).all()
    assert len(jobs) == 1 and [a.details["once"] for a in audit] == [data["once"]]
    other = _made(hotline, _post(client))  # a new form: a new report
    assert other.code != case.code and len(_cases(hotline)) == 2


def test_a_form_given_back_keeps_its_token_and_a_missing_one_is_a_message(client, hotline, accounts_made):
    login(client, "pare")
    tokens = _tokens(client)
    wrong = client.post(FORM, data={**tokens, **CHILD, "age": "x"})
    assert wrong.status_code == 400 and _once(wrong.data) == tokens["once"]  # no case yet
    fixed = client.post(FORM, data={**tokens, **CHILD})
    case = _made(hotline, fixed)
    assert client.post(FORM, data={**tokens, **CHILD}).location == fixed.location
    for once in (None, "", "kurang", "<script>" * 4):
        data = {**tokens, **CHILD, "once": once}
        response = client.post(FORM, data={k: v for k, v in data.items() if v is not None})
        page = response.data.decode()
        assert response.status_code == 400 and "Formulir ini sudah lama" in page
        assert _once(response.data) not in (tokens["once"], once) and "<script>" not in page
    assert [c.code for c in _cases(hotline)] == [case.code]


def test_a_case_from_the_terminals_chat_says_so(client, hotline, accounts_made) -> None:
    login(client, "pare")
    case = _made(hotline, _post(client))
    with hotline.db.session() as s:
        s.get_one(Case, case.id).channel = "console"
    page = client.get(f"/console/cases/{case.code}").data.decode()
    assert re.search(r'id="case-channel">Terminal \(hotline chat\)<', page)
