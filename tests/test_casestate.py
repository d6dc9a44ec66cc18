"""The case states and moves, declared once in storage.casestate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from storage import casestate
from storage.models import Case, CaseEvent, Member

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
    assert casestate.STATES[0] == "new" and casestate.STATES[:-1] == casestate.STEPS  # received .. closed
    for value, move in (*casestate.RESULTS.items(), *casestate.OUTCOMES.items()):
        assert move in casestate.MOVES, value
    assert {r for r, m in casestate.RESULTS.items() if m == "dismiss"} == casestate.NEEDS_REASON


def test_the_words_members_type_name_the_declared_values() -> None:
    from flows.members import OUTCOME_WORDS, RESULT_WORDS

    assert set(RESULT_WORDS) == set(casestate.RESULTS)
    assert set(OUTCOME_WORDS) == set(casestate.OUTCOMES)


@pytest.mark.parametrize(
    ("status", "move", "after"),
    [
        ("new", "offer", "offered"),
        ("offered", "accept", "accepted"),
        ("referred", "accept", "referred"),  # a new holder takes it where it stands
        ("in_follow_up", "accept", "in_follow_up"),
        ("referred", "reassign", "referred"),  # a referral outlives a change of hands
        ("verified", "reassign", "verified"),
        ("verified", "offer", "verified"),
        ("accepted", "reassign", "offered"),
        ("accepted", "verify", "verified"),
        ("verified", "verify", "verified"),  # checked again: the latest result stands
        ("referred", "verify", "referred"),  # a check recorded after an urgent referral
        ("accepted", "dismiss", "closed"),  # not found, or a duplicate
        ("in_follow_up", "dismiss", "closed"),
        ("accepted", "refer", "referred"),
        ("verified", "refer", "referred"),
        ("referred", "refer", "referred"),  # several referrals
        ("offered", "refer", "referred"),  # a koordinator may refer a case nobody has taken
        ("in_follow_up", "refer", "in_follow_up"),
        ("referred", "follow_up", "in_follow_up"),  # received, or the service given
        ("referred", "outcome", "referred"),  # refused, or no news
        ("in_follow_up", "outcome", "in_follow_up"),
        ("referred", "close", "closed"),
        ("in_follow_up", "close", "closed"),
        ("new", "cancel", "cancelled"),
        ("verified", "cancel", "cancelled"),
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
    if move in ("close", "cancel", "dismiss"):
        assert case.closed_at == NOW


@pytest.mark.parametrize(
    ("status", "move"),
    [
        ("closed", "close"),
        ("cancelled", "refer"),
        ("accepted", "offer"),
        ("offered", "verify"),  # checked only once someone has taken it
        ("new", "dismiss"),
        ("accepted", "follow_up"),  # an outcome needs a referral
        ("closed", "outcome"),
    ],
)
def test_a_move_the_table_does_not_allow_is_refused(status: str, move: str) -> None:
    session = FakeSession()
    case = Case(id=1, code="PRE-AAAAA", status=status)
    assert not casestate.allowed(status, move)
    with pytest.raises(casestate.IllegalMove, match=f"PRE-AAAAA is {status}"):
        casestate.move(session, case, move, NOW)  # type: ignore[arg-type]
    assert case.status == status and session.added == []


def _event(kind: str, minute: int, **data) -> CaseEvent:  # type: ignore[no-untyped-def]
    return CaseEvent(case_id=1, kind=kind, data=data, created_at=NOW.replace(minute=minute))


def test_referrals_take_their_latest_outcome_and_a_new_referral_waits_again() -> None:
    events = [
        _event("referred", 1, to="UPTD PPA"),
        _event("referred", 2, to="Dinsos"),
        _event("referral_outcome", 3, to="UPTD PPA", outcome="no_news"),
        _event("referral_outcome", 4, to="UPTD PPA", outcome="received", note="ditangani konselor"),
        _event("referred", 5, to="Dinsos"),  # referred again: news awaited again
        _event("note", 6, note="x"),
    ]
    found = casestate.referrals(events)
    assert [(r.to, r.outcome) for r in found] == [
        ("UPTD PPA", "received"),
        ("Dinsos", None),
        ("Dinsos", None),
    ]
    assert found[0].note == "ditangani konselor" and found[0].outcome_at == NOW.replace(minute=4)


def test_the_steps_reached_come_from_the_events() -> None:
    events = [
        _event("offered", 1),
        _event("accepted", 2),
        _event("verified", 3, result="found"),
        _event("referred", 4, to="UPTD PPA"),
        _event("referral_outcome", 5, to="UPTD PPA", outcome="refused"),
        _event("referral_outcome", 6, to="UPTD PPA", outcome="service_given"),
        _event("closed", 7),
    ]
    reached = casestate.reached(events, NOW)
    assert list(reached) == list(casestate.STEPS)
    assert reached["in_follow_up"] == NOW.replace(minute=6)  # a refusal is no follow-up
    dismissed = casestate.reached([_event("accepted", 2), _event("verified", 3, result="duplicate")], NOW)
    assert set(dismissed) == {"new", "accepted", "verified", "closed"}


@pytest.mark.parametrize(
    ("flags", "category", "guarded"),
    [
        (["tpks"], "kekerasan", True),
        (["child_victim", "danger_now"], "kekerasan", True),
        (["forced_marriage"], "perkawinan_anak", True),
        ([], "perkawinan_anak", True),  # a child marriage report is about a child
        (["danger_now"], "kekerasan", False),
        ([], "bansos", False),
    ],
)
def test_tpks_and_child_cases_are_guarded(flags: list[str], category: str, guarded: bool) -> None:
    assert casestate.guarded(Case(flags=flags, category=category)) is guarded
