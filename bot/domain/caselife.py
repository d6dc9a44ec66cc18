"""The case from acceptance to closing, as the posko works it: the check on the spot (CEK),
referrals (RUJUK) and what became of them (HASIL), and closing (SELESAI). Members' commands and
the console both act through here, so the rules are the same wherever a case is handled:

- a check that finds nothing, or a duplicate, needs a reason and ends the case (closed);
- an outcome belongs to a referral the case has (its latest one to that institution);
- a TPKS or child case whose referral has no outcome closes only with a reason
  (storage.casestate.move refuses it too, whoever asks).

Reading what members type (`read_result`, `read_outcome`) is pure; the rest runs inside the
caller's unit of work, the case row locked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.domain import duty
from bot.domain.engine import Say
from flows.members import NEGATIONS, OUTCOME_WORDS, RESULT_WORDS
from storage import assignments, casestate
from storage.casestate import Referral
from storage.models import Case

_EDGES = " ,.;:-"


@dataclass(frozen=True)
class Reading:
    value: str | None  # a result or an outcome; None when none was named
    after: str = ""  # what follows it: a reason, a note
    before: str = ""  # what came before it (the institution, or a reason said first)


def _words(text: str) -> list[tuple[str, int]]:
    """Each word of the text, plain (lower case, letters and digits), with the index of the
    whitespace-separated token of the original text it came from."""
    found = []
    for i, token in enumerate(text.split()):
        found += [(w, i) for w in re.sub(r"[^\w]+", " ", token.lower()).split()]
    return found


def _read(text: str, table: dict[str, tuple[str, ...]]) -> Reading:
    """The phrase of `table` that starts first (the longer of two at one word), whole words only;
    a phrase right after a negation that is not a phrase of its own reads as nothing."""
    words = _words(text)
    plain = [w for w, _ in words]
    best: tuple[int, int, str] | None = None
    for value, phrases in table.items():
        for phrase in phrases:
            size = len(phrase.split())
            for at in range(len(plain) - size + 1):
                if " ".join(plain[at : at + size]) == phrase:
                    if best is None or (at, -size) < (best[0], -best[1]):
                        best = (at, size, value)
                    break
    if best is None:
        return Reading(None)
    at, size, value = best
    if at > 0 and plain[at - 1] in NEGATIONS:
        return Reading(None)
    tokens = text.split()
    first, last = words[at][1], words[at + size - 1][1]
    after, before = " ".join(tokens[last + 1 :]), " ".join(tokens[:first])
    return Reading(value, after.strip(_EDGES), before.strip(_EDGES))


def read_result(text: str) -> Reading:
    """CEK: "ada" found, "tidak ditemukan ..." not found, "ganda dengan 7K3QY" duplicate."""
    return _read(text, RESULT_WORDS)


def read_outcome(text: str) -> Reading:
    """HASIL: "diterima", "sudah dibantu", "ditolak karena ...", "belum ada kabar"."""
    return _read(text, OUTCOME_WORDS)


def verify(
    session: Session, case: Case, now: datetime, actor: str, who: str, result: str, reason: str = ""
) -> datetime | None:
    """Record the check. Not found or a duplicate ends the case: offers lapse, and a resident
    who agreed to messages hears it was closed when it was not found (a duplicate's resident
    follows their other report). Returns when that notice goes if it waits for their safe time.
    Not found and duplicate need the reason (casestate.ReasonNeeded, before anything changes)."""
    if result in casestate.NEEDS_REASON and not reason.strip():
        raise casestate.ReasonNeeded(case, result)
    move = casestate.RESULTS[result]
    casestate.move(session, case, move, now, actor=actor, member=who, result=result, note=reason)
    if move != "dismiss":
        return None
    assignments.withdraw_others(session, case.id, None, now)
    if result == "not_found" and (contact := duty.may_message(session, case)):
        return duty.tell_resident(session, case, contact, Say("resident.closed", {"code": case.code}), now)
    return None


def outcome(
    session: Session, case: Case, now: datetime, actor: str, who: str, org: str, result: str, note: str = ""
) -> None:
    """What became of the case's referral to `org` (the caller checked it has one)."""
    move = casestate.OUTCOMES[result]
    casestate.move(session, case, move, now, actor=actor, member=who, to=org, outcome=result, note=note)


def referral_for(referrals: list[Referral], org: str | None) -> Referral | None:
    """The referral an outcome is about: the latest one to `org`; with no institution named,
    the only one the case has, or the only one still waiting for news."""
    if org is not None:
        return next((r for r in reversed(referrals) if r.to == org), None)
    if len({r.to for r in referrals}) == 1:
        return referrals[-1]
    waiting = {r.to: r for r in referrals if r.outcome is None}
    return next(iter(waiting.values())) if len(waiting) == 1 else None
