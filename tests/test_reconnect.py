"""Dead pooled connections without pool_pre_ping: the work in flight runs again on a fresh one.

After a database restart every pooled connection is dead. Without a ping before each transaction
the first message meets one, SQLAlchemy drops every connection as old, and `storage.db.reconnecting`
runs the message again: the resident still gets their answer in the TwiML, nothing is spooled.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot.domain import service
from storage.db import reconnecting
from storage.models import Message
from tests.conftest import PG_URL, Resident
from tests.test_console import accounts_made, login  # noqa: F401 (fixtures)


def _dead_connection() -> OperationalError:
    closed = Exception("server closed the connection")
    return OperationalError("SELECT 1", {}, closed, connection_invalidated=True)


def test_work_meeting_a_dead_connection_runs_once_more() -> None:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise _dead_connection()
        return "done"

    assert reconnecting(work) == "done" and len(calls) == 2


def test_other_database_errors_are_not_repeated() -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("lock timeout"))

    with pytest.raises(OperationalError):
        reconnecting(work)
    assert len(calls) == 1


def test_a_message_meeting_a_dead_connection_is_answered(app, client, monkeypatch) -> None:
    real, failed = service._handle, []

    def once_dead(*args):  # type: ignore[no-untyped-def]
        if not failed:
            failed.append(1)
            raise _dead_connection()
        return real(*args)

    monkeypatch.setattr(service, "_handle", once_dead)
    assert "aman" in Resident(client, "+6281234577001").says("halo").lower()
    assert failed and app.extensions["hotline_spool"].empty()


@pytest.mark.skipif(not PG_URL, reason="kills PostgreSQL backends: needs HOTLINE_TEST_DATABASE_URL")
def test_backends_killed_under_the_pool_lose_no_answer(app, client, hotline) -> None:
    """What a PostgreSQL restart does to a pool: every pooled connection's backend is gone."""
    resident = Resident(client, "+6281234577002")
    assert "aman" in resident.says("halo").lower()  # the pool now holds a connection
    with hotline.db.engine.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert resident.says("iya").strip()  # answered in the TwiML, not spooled
    assert app.extensions["hotline_spool"].empty()
    with hotline.db.session() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == 2


def test_the_console_says_reload_when_the_database_is_away(app, client, accounts_made, monkeypatch) -> None:
    assert login(client, "pare").status_code == 302
    from storage import casebook

    def away(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise _dead_connection()

    for name in dir(casebook):
        if callable(getattr(casebook, name)) and not name.startswith("_"):
            monkeypatch.setattr(casebook, name, away)
    response = client.get("/console/cases")
    assert response.status_code == 503
    assert "Muat ulang" in response.get_data(as_text=True)
