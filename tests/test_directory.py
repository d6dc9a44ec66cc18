"""The per-process directory (sites, places, members' numbers) and the statements a message costs.

A process reads what only `sites load` / `members load` change once and again when it changes:
in this process at once, in another within REFRESH_SECONDS. Residents' messages mid-report cost
five statements: the contact upsert, the conversation upsert (its lock), the inbound, the
conversation's new state, the reply.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from storage import directory, roster
from storage.db import Database
from storage.models import Area, Member, Site
from tests.conftest import PRE_NUMBER, Resident, post_signed, replies, twilio_form

MEMBER = "+6281399990001"


def _pre(session) -> Site:
    return session.scalars(select(Site).where(Site.prefix == "PRE")).one()


def _is_member_reply(client, number: str) -> bool:
    """KASUS lists a member's cases; a resident gets the start of a report instead."""
    reply = "\n".join(replies(post_signed(client, twilio_form(number, "KASUS"))))
    return "aman" not in reply.lower()


def test_a_member_added_in_this_process_is_known_at_once(app, hotline, client) -> None:
    assert not _is_member_reply(client, "+6281399990009")  # reads the directory once
    other = Database(hotline.db.url)  # another Database object: a CLI command run in-process
    try:
        with other.session() as s:
            s.add(Member(site_id=_pre(s).id, name="Bu Baru", phone=MEMBER, channel="sms"))
    finally:
        other.dispose()
    assert _is_member_reply(client, MEMBER)


def test_another_process_s_change_is_seen_within_the_refresh(app, hotline, client, monkeypatch) -> None:
    monkeypatch.setattr(directory, "REFRESH_SECONDS", 3600.0)
    assert hotline.db.directory.current().member_id_for(1, MEMBER) is None
    # What another process's `members load` leaves: a new row and the generation moved, and
    # nothing this process heard of.
    with hotline.db.engine.begin() as conn:
        site_id = conn.execute(text("SELECT id FROM sites WHERE prefix = 'PRE'")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO members (site_id, name, phone, role, backup, channel, active, created_at)"
                " VALUES (:site, 'Bu Lain', :phone, 'pendamping', false, 'sms', true, CURRENT_TIMESTAMP)"
            ),
            {"site": site_id, "phone": MEMBER},
        )
        conn.execute(directory._BUMP)
    assert hotline.db.directory.current().member_id_for(site_id, MEMBER) is None  # not yet looked
    monkeypatch.setattr(directory, "REFRESH_SECONDS", 0.0)
    assert hotline.db.directory.current().member_id_for(site_id, MEMBER) is not None


def test_a_deactivated_member_texts_as_a_resident(app, hotline, client) -> None:
    with hotline.db.session() as s:
        s.add(Member(site_id=_pre(s).id, name="Bu Ani", phone=MEMBER, channel="sms"))
    assert _is_member_reply(client, MEMBER)
    with hotline.db.session() as s:
        assert roster.set_active(s, MEMBER, False) == 1
    assert not _is_member_reply(client, MEMBER)


def test_a_member_s_own_messages_do_not_move_the_generation(app, hotline, client) -> None:
    with hotline.db.session() as s:
        s.add(Member(site_id=_pre(s).id, name="Bu Ani", phone=MEMBER, channel="sms"))
    before = hotline.db.directory.current().generation
    assert _is_member_reply(client, MEMBER)  # sets last_inbound_at on the member row
    assert hotline.db.directory.current().generation == before


def test_a_new_place_and_a_new_number_are_known(app, hotline, client) -> None:
    with hotline.db.session() as s:
        site = _pre(s)
        s.add(Area(site_id=site.id, name="Dusun Contoh", kecamatan="Soreang", aliases=[]))
        site.numbers = [*site.numbers, "+6281100000077"]
    snapshot = hotline.db.directory.current()
    assert snapshot.site_for_number("+6281100000077").prefix == "PRE"
    assert "Dusun Contoh" in [p.name for p in snapshot.places[snapshot.site_for_number(PRE_NUMBER).id]]


@pytest.fixture
def statements(hotline):
    seen: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    event.listen(hotline.db.engine, "before_cursor_execute", count)
    yield seen
    event.remove(hotline.db.engine, "before_cursor_execute", count)


def test_a_message_mid_report_costs_five_statements(app, hotline, client, statements) -> None:
    person = Resident(client, "+6281234500001")
    for answer, measured in (("halo", False), ("iya", True), ("setuju", False), ("1", True)):
        statements.clear()
        person.says(answer)
        assert not measured or len(statements) <= 5, statements  # consent adds its own update
