"""The coordinators' console through Flask's test client: login, throttling, CSRF, site scoping
(URL guessing included), redaction, actions and the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from storage import users as accounts
from storage.models import AuditLog, Case, CaseEvent, LoginAttempt
from tests.conftest import MSB_NUMBER, Resident, work

PASSWORD = "kata-sandi-rahasia"
REPORT = (
    "halo",
    "iya",
    "setuju",
    "6",
    "3",
    "1",
    "tetangga sy 0812-3456-7890 butuh kursi roda",
    "{area}",
    "2",  # on SMS: messages (no safe time said), then send with a name
    "1 Siti",
)


@pytest.fixture
def accounts_made(hotline) -> None:
    with hotline.db.session() as s:
        now = hotline.clock()
        accounts.create(s, "admin", PASSWORD, "admin", [], False, now)
        accounts.create(s, "pare", PASSWORD, "coordinator", ["PRE"], False, now)
        accounts.create(s, "masbagik", PASSWORD, "coordinator", ["MSB"], True, now)
        accounts.create(s, "mantan", PASSWORD, "coordinator", ["PRE"], False, now)
        accounts.set_active(s, "mantan", False)


def submit(client, number: str, area: str, to: str | None = None) -> str:
    resident = Resident(client, number, **({"to": to} if to else {}))
    for body in REPORT:
        resident.says(body.format(area=area))
    return re.search(r"Kode: ((PRE|MSB)-\w{5})", resident.last).group(1)


def csrf(page: bytes) -> str:
    return re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()


def login(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf(client.get("/console/login").data)
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def cases(client, accounts_made) -> dict[str, str]:
    return {
        "PRE": submit(client, "+6281234500001", "lompoe"),
        "MSB": submit(client, "+6281234500002", "kesik", to=MSB_NUMBER),
    }


def test_anonymous_is_sent_to_the_login(client) -> None:
    for path in (
        "/console/",
        "/console/cases",
        "/console/cases/PRE-AAAAA",
        "/console/export",
        "/console/figures",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/console/login" in response.location


def test_login_failures_are_throttled_and_recorded(client, hotline, accounts_made) -> None:
    assert login(client, "pare", "salah").status_code == 401
    assert login(client, "siapa", "salah").status_code == 401  # unknown names answer the same
    for _ in range(4):
        login(client, "pare", "salah")
    response = login(client, "pare")  # right password, but too many failures lately
    assert response.status_code == 429 and b"Terlalu banyak" in response.data
    with hotline.db.session() as s:
        assert s.scalars(select(LoginAttempt).where(LoginAttempt.ok)).all() == []


def test_a_disabled_account_cannot_log_in_and_its_session_ends(client, hotline, accounts_made) -> None:
    assert login(client, "mantan").status_code == 401
    assert login(client, "pare").status_code == 302
    assert client.get("/console/cases").status_code == 200
    with hotline.db.session() as s:
        accounts.set_active(s, "pare", False)
    assert client.get("/console/cases").status_code == 302


def test_forms_need_the_csrf_token(client, cases) -> None:
    login(client, "pare")
    response = client.post(f"/console/cases/{cases['PRE']}/note", data={"note": "tanpa token"})
    assert response.status_code == 400
    bad = client.post("/console/login", data={"username": "pare", "password": PASSWORD})
    assert bad.status_code == 400


def test_a_coordinator_sees_only_their_site_even_by_guessing_urls(client, hotline, cases) -> None:
    login(client, "pare")
    listing = client.get("/console/cases").data.decode()
    assert cases["PRE"] in listing and cases["MSB"] not in listing
    assert client.get(f"/console/cases/{cases['MSB']}").status_code == 404
    assert client.get(f"/console/cases/{cases['MSB'].lower()}").status_code == 404
    assert client.get("/console/cases?site=MSB").data.decode().count("MSB-") == 0
    token = csrf(client.get(f"/console/cases/{cases['PRE']}").data)
    assert client.post(f"/console/cases/{cases['MSB']}/close", data={"csrf_token": token}).status_code == 404
    assert client.get("/console/figures?site=MSB").status_code == 404
    with hotline.db.session() as s:
        assert s.scalars(select(Case.status).where(Case.code == cases["MSB"])).one() != "closed"


def test_the_case_page_is_redacted_without_the_contacts_grant_and_audited(client, hotline, cases) -> None:
    login(client, "pare")
    page = client.get(f"/console/cases/{cases['PRE']}").data.decode()
    assert "kursi roda" in page and "0812-3456-7890" not in page and "Siti" not in page
    assert "Warga-" in page  # the resident as a pseudonym
    client.post("/console/logout", data={"csrf_token": csrf(page.encode())})
    login(client, "admin")
    page = client.get(f"/console/cases/{cases['PRE']}").data.decode()
    assert "0812-3456-7890" in page and "Siti" in page
    with hotline.db.session() as s:
        views = s.scalars(select(AuditLog).where(AuditLog.action == "view_case")).all()
    assert [v.actor for v in views] == ["user:pare", "user:admin"]


def test_actions_note_refer_reassign_close(client, hotline, redis, roster_lompoe, cases) -> None:
    work(client.application, redis)
    login(client, "pare")
    code = cases["PRE"]
    page = client.get(f"/console/cases/{code}").data
    token = csrf(page)
    client.post(f"/console/cases/{code}/note", data={"csrf_token": token, "note": "sudah dikunjungi"})
    client.post(f"/console/cases/{code}/refer", data={"csrf_token": token, "to": "Dinsos"})
    client.post(f"/console/cases/{code}/reassign", data={"csrf_token": token, "member": str(roster_lompoe)})
    client.post(f"/console/cases/{code}/close", data={"csrf_token": token, "note": "selesai"})
    problem = client.post(f"/console/cases/{code}/close", data={"csrf_token": token}, follow_redirects=True)
    assert "sudah ditutup" in problem.data.decode()
    with hotline.db.session() as s:
        case = s.scalars(select(Case).where(Case.code == code)).one()
        kinds = [e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
        assert case.status == "closed"
    assert kinds[-5:] == ["note", "referred", "reassigned", "offered", "closed"]
    timeline = client.get(f"/console/cases/{code}").data.decode()
    assert "sudah dikunjungi" in timeline and "Dinsos" in timeline


def test_export_refuses_contacts_without_the_grant(client, cases) -> None:
    login(client, "pare")
    token = csrf(client.get("/console/export").data)
    refused = client.post("/console/export", data={"csrf_token": token, "format": "csv", "contacts": "1"})
    assert refused.status_code == 400
    ok = client.post("/console/export", data={"csrf_token": token, "format": "csv"})
    assert ok.status_code == 200 and cases["PRE"].encode() in ok.data and cases["MSB"].encode() not in ok.data


def test_members_and_problems_pages(client, roster_lompoe, cases) -> None:
    login(client, "pare")
    assert "Bu Ani" in client.get("/console/members").data.decode()
    assert client.get("/console/problems").status_code == 200


@pytest.fixture
def roster_lompoe(hotline) -> int:
    from storage.models import Area, Member, Shift, Site

    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        area = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lompoe")).one()
        member = Member(
            site_id=site.id,
            area_id=area.id,
            name="Bu Ani",
            phone="+628110001001",
            channel="sms",
            shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
        )
        s.add(member)
        s.flush()
        return member.id


def test_a_malformed_export_filter_is_a_message_not_an_error(client, cases) -> None:
    login(client, "pare")
    token = csrf(client.get("/console/export").data)
    form = {
        "csrf_token": token,
        "format": "csv",
        "codes": "bukan-kode!!",
        "from": "2026-12-01",
        "to": "2026-01-01",
    }
    response = client.post("/console/export", data=form, follow_redirects=True)
    assert response.status_code == 200 and "Saringan tidak terbaca" in response.data.decode()
    assert client.get("/console/cases?page=abc&area=x&from=kemarin&urgent=9").status_code == 200
    assert client.get("/console/figures?month=2026-13").status_code == 200


def test_notes_and_odd_input_for_an_account_without_contacts(client, hotline, cases) -> None:
    login(client, "admin")
    code = cases["PRE"]
    token = csrf(client.get(f"/console/cases/{code}").data)
    note = "telp Siti di 0812-9999-8888, NIK 7372014508900001"
    client.post(f"/console/cases/{code}/note", data={"csrf_token": token, "note": note})
    assert "0812-9999-8888" in client.get(f"/console/cases/{code}").data.decode()  # admin: contacts
    client.post("/console/logout", data={"csrf_token": token})
    login(client, "pare")
    page = client.get(f"/console/cases/{code}")
    text = page.data.decode()
    assert "0812-9999-8888" not in text and "7372014508900001" not in text and "Siti" not in text
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    for query in ("month=9999-12", "month=0001-01", "month=2026-13"):
        assert client.get(f"/console/figures?{query}").status_code == 200
    for query in ("from=0001-01-01&to=9999-12-31", "page=%C2%B2&area=%C2%B2", "code=%00x", "status=%00"):
        assert client.get(f"/console/cases?{query}").status_code == 200, query


def test_throttling_is_per_name_and_address_not_name_alone(client, hotline, accounts_made) -> None:
    for _ in range(5):
        login(client, "admin", "salah")
    assert login(client, "admin").status_code == 429  # this address, this name
    other = client.application.test_client()
    token = csrf(other.get("/console/login").data)
    response = other.post(
        "/console/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 302  # the admin elsewhere is not locked out


def _second_member(hotline) -> int:
    from storage.models import Area, Member, Shift, Site

    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == "PRE")).one()
        area = s.scalars(select(Area).where(Area.site_id == site.id, Area.name == "Lompoe")).one()
        member = Member(
            site_id=site.id,
            area_id=area.id,
            name="Pak Budi",
            phone="+628110001002",
            channel="sms",
            backup=True,
            shifts=[Shift(weekday=None, start_minute=0, end_minute=1440)],
        )
        s.add(member)
        s.flush()
        return member.id


def _case(hotline, code: str) -> Case:
    with hotline.db.session() as s:
        return s.scalars(select(Case).where(Case.code == code)).one()


def _texts_to(console, number: str) -> list[str]:
    return [m.body for m in console.sent if m.to.removeprefix("whatsapp:") == number]


def test_reassigning_an_accepted_case_lets_the_holder_go(
    client, hotline, redis, console, roster_lompoe, cases
) -> None:
    budi = _second_member(hotline)
    code = cases["PRE"]
    short = code.split("-")[1]
    work(client.application, redis)
    assert "anda tangani" in Resident(client, "+628110001001").says(f"TERIMA {short}").lower()
    accepted = _case(hotline, code)
    assert accepted.status == "accepted" and accepted.member_id == roster_lompoe

    login(client, "pare")
    token = csrf(client.get(f"/console/cases/{code}").data)
    client.post(f"/console/cases/{code}/reassign", data={"csrf_token": token, "member": str(budi)})
    handed = _case(hotline, code)
    assert (handed.status, handed.member_id, handed.accepted_at) == ("offered", None, None)
    work(client.application, redis)
    assert any(short in text for text in _texts_to(console, "+628110001002"))  # Pak Budi's offer

    Resident(client, "+628110001002").says(f"terima {short}")
    taken = _case(hotline, code)
    assert taken.status == "accepted" and taken.member_id == budi and taken.accepted_at is not None
    with hotline.db.session() as s:
        kinds = [e.kind for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == taken.id))]
    assert kinds[-4:] == ["accepted", "reassigned", "offered", "accepted"]


def test_a_coordinator_cancels_a_report_with_a_reason(client, hotline, redis, console, roster_lompoe, cases):
    code = cases["PRE"]
    short = code.split("-")[1]
    work(client.application, redis)
    ani = Resident(client, "+628110001001")
    ani.says(f"TERIMA {short}")
    work(client.application, redis)
    resident_before = len(_texts_to(console, "+6281234500001"))
    login(client, "pare")
    token = csrf(client.get(f"/console/cases/{code}").data)
    empty = client.post(f"/console/cases/{code}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "Tulis alasannya" in empty.data.decode() and _case(hotline, code).status == "accepted"

    client.post(f"/console/cases/{code}/cancel", data={"csrf_token": token, "note": "laporan ganda"})
    cancelled = _case(hotline, code)
    assert cancelled.status == "cancelled" and cancelled.closed_at is not None
    work(client.application, redis)
    assert any("dibatalkan" in text for text in _texts_to(console, "+628110001001"))  # the holder
    assert len(_texts_to(console, "+6281234500001")) == resident_before  # the resident: nothing
    again = client.post(
        f"/console/cases/{code}/cancel", data={"csrf_token": token, "note": "lagi"}, follow_redirects=True
    )
    assert "sudah ditutup atau dibatalkan" in again.data.decode()
    assert "sudah ditutup" in ani.says(f"SELESAI {short} beres")
    with hotline.db.session() as s:
        event = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == cancelled.id, CaseEvent.kind == "cancelled")
        ).one()
    assert event.actor == "user:pare" and event.data["note"] == "laporan ganda"
    page = client.get(f"/console/cases/{code}").data.decode()
    assert "Dibatalkan" in page and "laporan ganda" in page


def test_date_filters_and_this_month_follow_a_wib_sites_own_midnight(client, hotline, clock, accounts_made):
    """A WIB site (UTC+7): 23:30 on the 10th there is 00:30 on the 11th in WITA (UTC+8)."""
    from datetime import UTC, datetime

    from storage.models import Site

    with hotline.db.session() as s:
        s.scalars(select(Site).where(Site.prefix == "MSB")).one().timezone = "Asia/Jakarta"
    clock.now = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)  # 23:30 WIB on 10 November
    late = submit(client, "+6281234500009", "kesik", to=MSB_NUMBER)
    clock.now = datetime(2026, 11, 10, 17, 30, tzinfo=UTC)  # 00:30 WIB on 11 November
    next_day = submit(client, "+6281234500008", "kesik", to=MSB_NUMBER)
    login(client, "masbagik")
    tenth = client.get("/console/cases?from=2026-11-10&to=2026-11-10").data.decode()
    eleventh = client.get("/console/cases?from=2026-11-11&to=2026-11-11").data.decode()
    assert late in tenth and next_day not in tenth
    assert next_day in eleventh and late not in eleventh
    clock.now = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 23:30 WIB on 30 November (WITA: 1 Dec)
    login(client, "masbagik")  # the session above is older than 8 hours by now
    figures = client.get("/console/figures").data.decode()
    assert 'value="2026-11"' in figures


# -- nothing lost, nobody let in: the client's address, server-side sessions, headers -----------

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"
INLINE = re.compile(r"<script\b(?![^>]*\bsrc=)|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I)


def _login_from(client, forwarded: str, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    """A login whose request says X-Forwarded-For: `forwarded` (a client can say anything)."""
    token = csrf(client.get("/console/login").data)
    return client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers={"X-Forwarded-For": forwarded},
    )


def _app_like(app, **changes):  # type: ignore[no-untyped-def]
    """A second app on the same database and queue, with the conftest settings and `changes`."""
    from app import create_app

    keys = ("TESTING", "DATABASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_URL")
    keys += ("HOTLINE_TRANSPORT", "HOTLINE_CONSOLE", "HOTLINE_QUEUE")
    return create_app({k: app.config[k] for k in keys} | changes)


def test_a_rotated_x_forwarded_for_does_not_escape_the_throttle(client, hotline, accounts_made) -> None:
    for i in range(accounts.MAX_FAILURES_PER_ADDRESS):
        name = "admin" if i < accounts.MAX_FAILURES else f"tebakan{i}"
        assert _login_from(client, f"198.51.100.{i}", name, "salah").status_code == 401
    assert _login_from(client, "198.51.100.200", "admin").status_code == 429  # this name here
    assert _login_from(client, "198.51.100.201", "pare").status_code == 429  # this address at all
    with hotline.db.session() as s:
        assert set(s.scalars(select(LoginAttempt.ip))) == {"127.0.0.1"}  # the socket's address


def test_behind_one_trusted_proxy_its_entry_is_the_address(app, hotline, accounts_made) -> None:
    proxied = _app_like(app, HOTLINE_TRUSTED_PROXIES="1")  # as the environment gives it
    try:
        client = proxied.test_client()
        for _ in range(accounts.MAX_FAILURES):
            assert _login_from(client, "203.0.113.5", "admin", "salah").status_code == 401
        assert _login_from(client, "203.0.113.5", "admin").status_code == 429
        # What the client wrote before the proxy's entry is not believed.
        assert _login_from(client, "192.0.2.77, 203.0.113.5", "admin").status_code == 429
        assert _login_from(proxied.test_client(), "198.51.100.7", "admin").status_code == 302
    finally:
        proxied.extensions["hotline"].db.dispose()
    with hotline.db.session() as s:
        assert set(s.scalars(select(LoginAttempt.ip))) == {"203.0.113.5", "198.51.100.7"}


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "11", True])
def test_trusted_proxies_must_be_a_small_whole_number(app, value) -> None:
    from app import ConfigError

    with pytest.raises(ConfigError, match="HOTLINE_TRUSTED_PROXIES"):
        _app_like(app, HOTLINE_TRUSTED_PROXIES=value)


def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, accounts_made) -> None:
    login(client, "pare")
    page = client.get("/console/cases")
    assert page.status_code == 200
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/console/cases").status_code == 200
    client.post("/console/logout", data={"csrf_token": csrf(page.data)})
    refused = thief.get("/console/cases")
    assert refused.status_code == 302 and "/console/login" in refused.location
    assert login(client, "pare").status_code == 302  # logging in again works; the copy stays dead
    assert client.get("/console/cases").status_code == 200
    thief.set_cookie("session", copied)
    assert thief.get("/console/cases").status_code == 302


def test_a_password_change_ends_the_sessions_made_before(app, client, accounts_made) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    login(client, "pare")
    assert client.get("/console/cases").status_code == 200
    env = {"DATABASE_URL": app.config["DATABASE_URL"], "TWILIO_AUTH_TOKEN": ""}

    def password(name: str, typed: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["users", "password", name], input=typed, env=env)

    short = password("pare", "pendek\npendek\n")
    assert short.exit_code == 1 and "10" in short.output
    assert client.get("/console/cases").status_code == 200  # nothing changed
    assert password("siapa", "kata-sandi-yang-baru\nkata-sandi-yang-baru\n").exit_code == 1
    changed = password("pare", "kata-sandi-yang-baru\nkata-sandi-yang-baru\n")
    assert changed.exit_code == 0 and "kata-sandi-yang-baru" not in changed.output
    assert client.get("/console/cases").status_code == 302
    assert login(client, "pare").status_code == 401
    assert login(client, "pare", "kata-sandi-yang-baru").status_code == 302


def test_disabling_an_account_ends_its_sessions_even_once_enabled_again(app, client, hotline, accounts_made):
    login(client, "pare")
    assert client.get("/console/cases").status_code == 200
    copied = client.get_cookie("session").value
    with hotline.db.session() as s:
        accounts.set_active(s, "pare", False)
    with hotline.db.session() as s:
        accounts.set_active(s, "pare", True)
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/console/cases").status_code == 302


def test_every_console_response_carries_the_security_headers(app, client, cases) -> None:
    responses = [
        client.get("/console/login"),
        client.get("/console/cases"),  # a redirect to the login
        client.get("/console/static/console.css"),
        client.get("/console/no-such-page"),
    ]
    login(client, "pare")
    responses += [
        client.get("/console/cases"),
        client.get(f"/console/cases/{cases['MSB']}"),  # another site's case: 404
        client.get("/console/figures?format=csv"),
    ]
    for response in responses:
        headers = response.headers
        assert headers["Content-Security-Policy"] == CSP, response
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert headers["Strict-Transport-Security"] == HSTS  # the conftest's PUBLIC_URL is https
    plain = _app_like(app, PUBLIC_URL="http://localhost:5000")
    try:
        response = plain.test_client().get("/console/login")
    finally:
        plain.extensions["hotline"].db.dispose()
    assert response.headers["Content-Security-Policy"] == CSP
    assert "Strict-Transport-Security" not in response.headers


def test_no_console_page_has_inline_script_or_style(client, roster_lompoe, cases) -> None:
    pages = {"/console/login": client.get("/console/login")}
    login(client, "pare")
    for path in (
        "/console/login",
        "/console/cases",
        f"/console/cases/{cases['PRE']}",
        "/console/members",
        "/console/problems",
        "/console/export",
        "/console/figures",
    ):
        pages[path] = client.get(path)
    assert "<svg" in pages["/console/figures"].data.decode()  # the charts are there
    for path, response in pages.items():
        assert response.status_code == 200, path
        found = INLINE.search(response.data.decode())
        assert found is None, f"{path}: {found and found.group(0)}"
