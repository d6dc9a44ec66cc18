"""Monev: who the month's cases helped and what became of them, for each category.

INKLUSI's monthly reviews ask for the person helped by sex, age group and disability, the
channel the report came by, the on-the-spot check, what each referral came to, how long the
steps took, and the follow-ups nobody kept up. Read by storage.figures.monthly for the same
cohort (the cases submitted in the month). Only the few answers these figures need are read
(who, age, disability), never the story or a name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from storage import casestate
from storage.followup import DEFAULT_DAYS, days_for
from storage.followup import KINDS as REMINDER_KINDS
from storage.models import Case, CaseEvent

# The value rows of each breakdown, in the order people read them.
SEX = ("not_asked",)  # no flow asks the resident's sex: the figure says so, nothing is guessed
AGE_GROUPS = ("child", "adult", "elderly", "unknown")  # under 18, 18-59, 60 and over, not said
DISABILITY = ("yes", "no", "unknown")  # answers["disability"]; unknown: skipped or not asked
# Where the case came in (Case.channel): the resident wrote, or a member took it for them at the
# posko or on the phone; console: `hotline chat`.
CHANNELS = ("whatsapp", "sms", "posko", "telepon", "console", "unknown")
VERIFICATION = (*casestate.RESULTS, "not_yet")
OUTCOMES = (*casestate.OUTCOMES, "waiting")  # waiting: referred, nobody has said what came of it
SPLITS = ("by_sex", "by_age_group", "by_disability", "by_channel", "verification", "referral_outcomes")
DURATIONS = ("acceptance", "referral", "closure")  # days from submission to each step
ADULT, ELDERLY = 18, 60


@dataclass(frozen=True)
class Monev:
    # breakdown (SPLITS) -> value -> category -> cases; referral_outcomes' value is
    # "institution|outcome" and counts referrals (a case referred to two places counts twice).
    splits: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    # step (DURATIONS) -> (median days, 90th percentile days); None without data
    durations: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)  # category -> held cases overdue

    @property
    def overdue_total(self) -> int:
        return sum(self.overdue.values())


def overdue_after(category: str, urgent: bool, days_of: Mapping[str, int] = DEFAULT_DAYS) -> timedelta:
    """How long a held case may go without an event before its follow-up is overdue: the follow-up
    reminders' days (HOTLINE_FOLLOW_UP_DAYS, per category and urgency, read by the caller)."""
    return timedelta(days=days_for(days_of, category, urgent))


def age_group(answers: dict[str, Any], flags: Iterable[str]) -> str:
    """The age group of the person helped: the age answered (the victim's, or the child's in a
    child-marriage report), else a child victim flagged or chosen ("who": child)."""
    age = _number(answers.get("age"))
    if age is not None:
        return "child" if age < ADULT else "elderly" if age >= ELDERLY else "adult"
    if "child_victim" in flags or answers.get("who") == "child":
        return "child"
    return "unknown"


def disability(answers: dict[str, Any]) -> str:
    value = answers.get("disability")
    return value if value in ("yes", "no") else "unknown"


def _number(value: Any) -> int | None:
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def _days(start: datetime | None, end: datetime | None) -> float | None:
    start, end = _aware(start), _aware(end)
    return None if start is None or end is None else (end - start).total_seconds() / 86400


def compute(
    session: Session,
    in_month: ColumnElement[bool],
    now: datetime | None = None,
    follow_up_days: Mapping[str, int] | None = None,
) -> Monev:
    """The monev figures of the cases `in_month` selects; overdue follow-ups as of `now`, after
    `follow_up_days` (storage.followup.parse_days; default: its defaults)."""
    now = _aware(now) or datetime.now(UTC)
    days_of = DEFAULT_DAYS if follow_up_days is None else follow_up_days
    cases = list(
        session.execute(
            select(
                Case.id,
                Case.category,
                Case.urgent,
                Case.status,
                Case.flags,
                Case.created_at,
                Case.accepted_at,
                Case.closed_at,
                Case.answers["age"].as_string(),
                Case.answers["who"].as_string(),
                Case.answers["disability"].as_string(),
                Case.channel,
            ).where(in_month)
        )
    )
    events = _events(session, [c.id for c in cases])
    splits: dict[str, dict[str, dict[str, int]]] = {
        name: defaultdict(lambda: defaultdict(int)) for name in SPLITS
    }
    waits: dict[str, list[float]] = {step: [] for step in DURATIONS}
    overdue: dict[str, int] = defaultdict(int)
    for c in cases:
        answers = {"age": c[8], "who": c[9], "disability": c[10]}
        mine = events.get(c.id, [])
        splits["by_sex"]["not_asked"][c.category] += 1
        splits["by_age_group"][age_group(answers, c.flags or ())][c.category] += 1
        splits["by_disability"][disability(answers)][c.category] += 1
        splits["by_channel"][c.channel if c.channel in CHANNELS else "unknown"][c.category] += 1
        check = casestate.verification(mine)
        splits["verification"][str(check.data.get("result")) if check else "not_yet"][c.category] += 1
        for ref in casestate.referrals(mine):
            splits["referral_outcomes"][f"{ref.to}|{ref.outcome or 'waiting'}"][c.category] += 1
        _add_waits(waits, c, mine)
        quiet_for = overdue_after(c.category, c.urgent, days_of)
        if c.status in casestate.HELD and _quiet_since(c, mine) + quiet_for <= now:
            overdue[c.category] += 1
    return Monev(
        splits={name: _ordered(name, rows) for name, rows in splits.items()},
        durations={step: _median_p90(values) for step, values in waits.items()},
        overdue=dict(overdue),
    )


def _events(session: Session, case_ids: list[int]) -> dict[int, list[CaseEvent]]:
    found: dict[int, list[CaseEvent]] = defaultdict(list)
    if not case_ids:
        return found
    stmt = (
        select(CaseEvent).where(CaseEvent.case_id.in_(case_ids)).order_by(CaseEvent.created_at, CaseEvent.id)
    )
    for event in session.scalars(stmt):
        found[event.case_id].append(event)
    return found


def _add_waits(waits: dict[str, list[float]], c: Any, events: list[CaseEvent]) -> None:
    referred = next((e.created_at for e in events if e.kind == "referred"), None)
    closed = c.closed_at if c.status == "closed" else None
    for step, end in (("acceptance", c.accepted_at), ("referral", referred), ("closure", closed)):
        days = _days(c.created_at, end)
        if days is not None:
            waits[step].append(days)


def _quiet_since(c: Any, events: list[CaseEvent]) -> datetime:
    """The case's latest news as the follow-up reminders read it (storage.followup.last_news:
    any event but the reminders themselves), else its acceptance or submission: a follow-up is
    overdue here exactly when its reminder is due."""
    events = [e for e in events if e.kind not in REMINDER_KINDS]
    times = [
        _aware(t) for t in (c.created_at, c.accepted_at, *(e.created_at for e in events)) if t is not None
    ]
    return max(t for t in times if t is not None)


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    from storage.figures import percentile  # figures imports this module

    def rounded(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    return rounded(percentile(values, 0.5)), rounded(percentile(values, 0.9))


def _ordered(name: str, rows: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Known values in their reading order (shown even at zero), then others most first."""
    known = {
        "by_sex": SEX,
        "by_age_group": AGE_GROUPS,
        "by_disability": DISABILITY,
        "by_channel": CHANNELS,
        "verification": VERIFICATION,
    }.get(name, ())
    plain = {k: dict(v) for k, v in rows.items()}
    rest = sorted((k for k in plain if k not in known), key=lambda k: (-sum(plain[k].values()), k))
    return {k: plain.get(k, {}) for k in known} | {k: plain[k] for k in rest}
