"""Reports a KK member takes for a resident: at the posko, on the phone, or by WARGA.

A web form ("Laporan baru" in the console) is one more way to answer a flow: `fill` runs its
fields through the engine as if the member had typed them one by one after WARGA (on the
console channel: the longer wording, one question a message), so the same readers validate
them and the same rules apply (urgency, flags, the questions a rule skips or asks, TPKS
advice). `record` makes the case of such a report, for WARGA and the form
alike: the resident's own number if they have one, never the member's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain.engine import ENGINE, IDLE, Context, Conv, Inbound, Outcome, Submit
from flows import MENU as MENU_STEP
from flows import reading
from flows.model import SUMMARY, Choice, Place, PlacePick, Step, YesNo
from flows.places import Place as Area
from storage import cases
from storage.models import Case, Conversation, Site

CONSOLE = "console"  # the channel a form's answers are read as (the longer wording, no pairs)
START_WORD = "WARGA"
NOT_A_COMMAND = "hint.form_command"  # an answer that is a whole command word (BATAL, HAPUS)
MENU = MENU_STEP.name
CONSENT_BY_LIMIT = 80  # storage.models.Case.consent_by
TRIES = 2  # a question asked again once (a recheck) takes the same answer the second time


@dataclass
class Filled:
    """A form run through a flow: the report, or what is wrong with which field (message keys)."""

    report: dict[str, Any] | None = None
    errors: dict[str, str] = field(default_factory=dict)
    said: list[str] = field(default_factory=list)  # advice said at submission (e.g. TPKS)
    asked: list[str] = field(default_factory=list)  # the steps the flow asked, in order


def fill(
    category: str,
    fields: Mapping[str, Any],
    places: Sequence[Area],
    now: datetime,
    members: Collection[str] = (),
) -> Filled:
    """Answer the on-behalf start and `category`'s questions from `fields` (by step name).

    Values: a choice by its option value (a list for several), yes/no as "yes"/"no", a place by
    its name, anything else as typed; empty leaves an optional question unanswered. The start's
    fields are `came_by` (posko or telepon), `consent` and `own_phone`. `members`: the site's
    members' numbers, refused as the resident's (as WARGA refuses them)."""
    conv = Conv()
    ctx = Context(now, places, channel=CONSOLE, on_behalf=True, member=True, members=members)
    filled = Filled()
    ENGINE.step(conv, Inbound(START_WORD), ctx)
    answers = {**fields, MENU: category}
    tries: dict[str, int] = {}
    while conv.state != IDLE and not filled.errors:
        step = ENGINE.flows[conv.flow].step(conv.state)
        tries[step.name] = tries.get(step.name, 0) + 1
        text, error = _typed(step, answers.get(step.name))
        if error is None and tries[step.name] > TRIES:
            error = "hint.misses"
        if error is not None:
            filled.errors[step.name] = error
            break
        if tries[step.name] == 1:
            filled.asked.append(step.name)
        before = (conv.flow, conv.state)
        out = ENGINE.step(conv, Inbound(text), ctx)
        _took(filled, step, before, conv, out)
    return filled


def _took(filled: Filled, step: Step, before: tuple[str, str], conv: Conv, out: Outcome) -> None:
    submitted = [e.report for e in out.effects if isinstance(e, Submit)]
    if submitted:
        filled.report = submitted[0]
        filled.said = [s.key for s in out.replies[1:]]  # after "recorded, code ...": advice
        return
    hints = [s.key for s in out.replies if s.key.startswith("hint.")]
    if (conv.flow, conv.state) == before and hints:
        filled.errors[step.name] = hints[0]
    elif conv.state == IDLE:  # ended without a case: only a refused consent does (_typed sends)
        filled.errors[step.name] = "w.consent_declined"


def _typed(step: Step, value: Any) -> tuple[str, str | None]:
    """What a member would have typed for `value` at `step`, or the error."""
    if step.role == SUMMARY:
        return "1", None  # the form's own button is the "send"
    if isinstance(step.answer, PlacePick):
        return "1", None  # never asked: a place from the form's list is matched exactly
    values = [str(v).strip() for v in (value if isinstance(value, list) else [value]) if v not in (None, "")]
    if not values:
        return ("LEWATI", None) if step.skip else ("", _empty_hint(step))
    if isinstance(step.answer, Choice):
        numbers = {o.value: str(i) for i, o in enumerate(step.answer.options, 1)}
        if any(v not in numbers for v in values):
            if step.answer.free and len(values) == 1:
                return values[0], _command(values[0])
            return "", "hint.choices" if step.answer.multi else "hint.choice"
        return " ".join(numbers[v] for v in values), None
    if isinstance(step.answer, YesNo):
        yes_no = {"yes": "ya", "no": "tidak"}
        return (yes_no[values[0]], None) if values[0] in yes_no else ("", "hint.yes_no")
    return values[0], _command(values[0])


def _command(text: str) -> str | None:
    """A field saying only BATAL, HAPUS or MENU would be read as that command, not an answer."""
    return NOT_A_COMMAND if reading.global_word(text) not in (None, "TELEPON") else None


def _empty_hint(step: Step) -> str:
    if isinstance(step.answer, Place):
        return "hint.place"
    return {Choice: "hint.choice", YesNo: "hint.yes_no"}.get(type(step.answer), "hint.text")


def record(
    session: Session,
    site: Site,
    report: dict[str, Any],
    *,
    locale: str,
    now: datetime,
    taken_by: str,
    conversation: Conversation | None = None,
    run: int = 0,
    practice: bool = False,
) -> Case:
    """The case of a report taken for a resident (`report["on_behalf"]`: channel and phone).
    `taken_by` heard the resident agree ("member:Ani", "user:koord"); `conversation` and `run`
    are the member's messages that took it (WARGA), none for the console's form."""
    behalf = report["on_behalf"]
    phone = behalf.get("phone") or None
    # A member's own number given as the resident's is not theirs to hold: no contact then.
    contact = cases.resident_contact(session, site.id, phone, now) if phone else None
    return cases.create_case(
        session,
        site_id=site.id,
        prefix=site.prefix,
        contact=contact,
        conversation=conversation,
        run=run,
        report=report,
        locale=locale,
        now=now,
        channel=behalf.get("channel") or "posko",
        practice=practice or cases.is_practice(phone, site.practice),
        consent_by=taken_by[:CONSENT_BY_LIMIT],
    )
