"""The case states and moves, declared once in storage.casestate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import casestate
from storage.models import Case, Member

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class FakeSession:
    def __init__(self) -> None:
        self.added: list = []

    def add(self, row) -> None:  # type: ignore[no-untyped-def]
        self.added.append(row)


def test_the_table_covers_the_states() -> None:
    assert set(casestate.OPEN) | set(casestate.FINISHED) == set(casestate.STATES)
    for name, moves in casestate.MOVES.items():
        assert set(moves) <= set(casestate.OPEN), name  # nothing leaves a finished case
        assert set(moves.values()) <= set(casestate.STATES), name
    assert set(casestate.EVENTS) == set(casestate.MOVES)
    assert casestate.LABELS["cancelled"] == "status.cancelled"


@pytest.mark.parametrize(
    ("status", "move", "after"),
    [
        ("new", "offer", "offered"),
        ("offered", "accept", "accepted"),
        ("referred", "accept", "accepted"),  # as it always was
        ("referred", "reassign", "referred"),  # a referral outlives a change of hands
        ("accepted", "reassign", "offered"),
        ("accepted", "refer", "referred"),
        ("referred", "close", "closed"),
        ("new", "cancel", "cancelled"),
    ],
)
def test_allowed_moves_set_the_status_and_record_the_event(status: str, move: str, after: str) -> None:
    session = FakeSession()
    case = Case(id=1, code="PRE-AAAAA", status=status, member_id=9 if status == "accepted" else None)
    member = Member(id=5, name="Bu Ani")
    person = member if move in ("offer", "accept", "reassign") else None
    event = casestate.move(session, case, move, NOW, actor="user:x", person=person)  # type: ignore[arg-type]
    assert case.status == after and case.updated_at == NOW
    assert session.added == [event] and event.kind == casestate.EVENTS[move] and event.actor == "user:x"
    if move == "accept":
        assert (case.member_id, case.accepted_at) == (5, NOW) and event.data["member"] == "Bu Ani"
    if move == "reassign":
        assert (case.member_id, case.accepted_at) == (None, None)
    if move in ("close", "cancel"):
        assert case.closed_at == NOW


@pytest.mark.parametrize(
    ("status", "move"), [("closed", "close"), ("cancelled", "refer"), ("accepted", "offer")]
)
def test_a_move_the_table_does_not_allow_is_refused(status: str, move: str) -> None:
    session = FakeSession()
    case = Case(id=1, code="PRE-AAAAA", status=status)
    assert not casestate.allowed(status, move)
    with pytest.raises(casestate.IllegalMove, match=f"PRE-AAAAA is {status}"):
        casestate.move(session, case, move, NOW)  # type: ignore[arg-type]
    assert case.status == status and session.added == []
