"""Erasing one report at the resident's request from the console ("Hapus data laporan"): a
resident without a phone cannot text HAPUS. The answers, message texts and notes go, Twilio's
copies are queued for deletion, the figures' fields stay; CSRF, a reason and the confirmation box
are needed, and another site's coordinator finds no such case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.models import AuditLog, Case, CaseEvent, Contact, Message, Outbox
from tests.test_console import accounts_made, cases, csrf, login  # noqa: F401 (fixtures)
from tests.test_console_walkin import _made, _post

REASON = "diminta warga di posko, 3 Mei"
KEPT = ("code", "site_id", "area_id", "category", "urgent", "flags", "status", "created_at", "channel")


def _case(hotline, code: str) -> Case:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        found = s.scalars(select(Case).where(Case.code == code)).one()
        s.expunge(found)
        return found


def _erase(client, code: str, **changes: Any):  # type: ignore[no-untyped-def]
    token = csrf(client.get(f"/console/cases/{code}").data)
    data = {"csrf_token": token, "reason": REASON, "confirm": "1", **changes}
    return client.post(f"/console/cases/{code}/erase", data={k: v for k, v in data.items() if v is not None})


def _erasures(hotline) -> list[AuditLog]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == "erase_case")))


def test_a_walkin_residents_report_is_erased_and_its_figures_stay(client, hotline, accounts_made) -> None:
    login(client, "pare")
    case = _made(hotline, _post(client, story="dipukul ayahnya, Rina kelas 3", name="Rina"))
    page = client.get(f"/console/cases/{case.code}").data.decode()
    assert "Hapus data laporan (permintaan warga)" in page and 'id="erase-form"' in page
    client.post(
        f"/console/cases/{case.code}/note",
        data={"csrf_token": csrf(page.encode()), "note": "Rina di rumah nenek"},
    )
    response = _erase(client, case.code)
    assert response.status_code == 302 and response.location.endswith(f"/console/cases/{case.code}")
    erased = _case(hotline, case.code)
    assert erased.answers == {} and not erased.contact_ok and erased.consent_by == "user:pare"
    assert all(getattr(erased, name) == getattr(case, name) for name in KEPT)
    with hotline.db.session() as s:
        events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    assert (events[-1].kind, events[-1].actor, events[-1].data) == ("erased", "user:pare", {"note": REASON})
    assert not [e for e in events[:-1] if "note" in e.data] and "note" in [e.kind for e in events]
    [row] = _erasures(hotline)
    assert row.actor == "user:pare"
    assert row.details == {"case": case.code, "reason": REASON, "messages": 0, "notes": 1}
    page = client.get(response.location).data.decode()
    assert "Data laporan ini sudah dihapus" in page and 'id="erase-form"' not in page
    assert "dipukul" not in page and "Rina" not in page and "Data pribadi dihapus" in page


def test_a_texted_report_loses_its_texts_and_twilios_copies_are_queued(client, hotline, cases) -> None:
    code = cases["PRE"]
    case = _case(hotline, code)
    login(client, "admin")
    assert _erase(client, code).status_code == 302
    erased = _case(hotline, code)
    assert erased.answers == {} and erased.contact_id is None and not erased.contact_ok
    assert all(getattr(erased, name) == getattr(case, name) for name in KEPT)
    with hotline.db.session() as s:
        texts = list(s.scalars(select(Message).where(Message.case_id == case.id)))
        [job] = s.scalars(select(Outbox).where(Outbox.job == "erase_at_twilio")).all()
        contact = s.get_one(Contact, case.contact_id)
    assert len(texts) > 5 and {(m.body, tuple(m.media), m.address, m.contact_id) for m in texts} == {
        ("", (), None, None)
    }
    assert job.args["phones"] == [] and len(job.args["sids"]) >= len(
        [m for m in texts if m.direction == "in"]
    )
    assert contact.phone == "+6281234500001" and contact.erased_at is None  # their number: theirs to erase
    [row] = _erasures(hotline)
    assert row.details["messages"] == len(texts) and row.actor == "user:admin"
    page = client.get(f"/console/cases/{code}").data.decode()
    assert "kursi roda" not in page and "Siti" not in page and "Data laporan ini sudah dihapus" in page
    again = _erase(client, code)  # once is enough
    assert "sudah dihapus" in client.get(again.location).data.decode() and len(_erasures(hotline)) == 1


def test_erasing_needs_csrf_a_reason_the_box_and_the_cases_site(client, hotline, cases) -> None:
    code = cases["PRE"]
    before = _case(hotline, code)
    login(client, "pare")
    token = csrf(client.get(f"/console/cases/{code}").data)
    no_csrf = client.post(f"/console/cases/{code}/erase", data={"reason": REASON, "confirm": "1"})
    assert no_csrf.status_code == 400
    for changes, message in (
        ({"confirm": None}, "Centang kotak konfirmasi"),
        ({"confirm": "0"}, "Centang kotak konfirmasi"),
        ({"reason": "  "}, "Tulis alasannya."),
    ):
        response = _erase(client, code, **changes)
        assert message in client.get(response.location).data.decode()
    client.post("/console/logout", data={"csrf_token": token})
    login(client, "masbagik")  # another site's coordinator: no such case
    assert _erase(client, cases["MSB"], confirm=None).status_code == 302
    token = csrf(client.get(f"/console/cases/{cases['MSB']}").data)
    other = client.post(
        f"/console/cases/{code}/erase", data={"csrf_token": token, "reason": REASON, "confirm": "1"}
    )
    assert other.status_code == 404
    assert _case(hotline, code).answers == before.answers != {} and _erasures(hotline) == []
