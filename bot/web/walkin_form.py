"""The console's "Laporan baru" form, drawn from the flows themselves: one field per question.

Pure: `fields` turns flows (the on-behalf start, then a category) into field descriptions the
template renders, with the conditions under which each is asked, read from the same data the
engine follows (`ask_if`, `not_if`, a rule's `goto`, a skip's `skip_to`). A few lines of script
(static/walkin.js) apply them as the coordinator fills the form; the server never trusts them:
bot.domain.walkin runs the answers through the engine, which ignores what it does not ask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.domain.engine import answer_key
from flows import START
from flows.model import (
    FIRST,
    MENU,
    NAME,
    SUMMARY,
    Age,
    Choice,
    Codeword,
    Digits,
    Flow,
    Nik,
    Phone,
    Place,
    PlacePick,
    Step,
    Text,
    YesNo,
)

LINE_LIMIT = 200  # a one-line answer (an age, a number, a code word): longer is a mistake

# What a chat question says about answering by chat, needless in a form: "1 Ya 2 Tidak" at the
# end, and a sentence offering LEWATI ("Atau LEWATI.") where the form marks "boleh kosong".
_NUMBERED = re.compile(r"\s*\b1\s+\w+\s+2\s+\w+[.!]?\s*$")
_SENTENCE = re.compile(r"[^.?!]*[.?!]+\s*|[^.?!]+$")


@dataclass(frozen=True)
class Condition:
    """Another field's answer: `field` is one of `values` (a list answer: any of them). None
    stands for no answer (left empty, or the field not asked at all)."""

    field: str
    values: tuple[str | None, ...]


@dataclass(frozen=True)
class Field:
    name: str  # the step's name: the form field's name, as bot.domain.walkin reads it
    kind: str  # radio | checkboxes | yesno | consent | textarea | line | place
    prompt: str  # message key of the question
    options: tuple[tuple[str, str], ...] = ()  # (value, message key of its label)
    optional: bool = False  # may be left empty (the step takes LEWATI)
    limit: int = LINE_LIMIT  # characters
    inputmode: str = "text"  # the keyboard a phone shows: text | numeric | tel
    show_if: tuple[Condition, ...] = ()  # asked only when each holds (while it is shown)
    hide_if: tuple[Condition, ...] = ()  # not asked when any holds (and its field is shown)
    consent: str | None = None  # the consent version a "yes" records (the consent field)

    @property
    def rules(self) -> dict[str, list[list[Any]]]:
        """The conditions as the form's script reads them (JSON): [[field, [values]], ...]."""
        return {
            "show": [[c.field, list(c.values)] for c in self.show_if],
            "hide": [[c.field, list(c.values)] for c in self.hide_if],
        }


def fields(*flows: Flow) -> list[Field]:
    """The fields of `flows`, in order: every question a member could be asked, but the menu
    (the form's category), a place pick (the form lists the places) and the summary (the form's
    own button)."""
    steps = [s for f in flows for s in f.steps if _shown(s)]
    by_key = {answer_key(s): s.name for s in steps}
    names = {s.name for s in steps}
    jumps = _jumps(flows, names)
    return [
        _field(
            step,
            show_if=_condition(step.ask_if, by_key),
            hide_if=(*_condition(step.not_if, by_key), *jumps.get(step.name, ())),
        )
        for step in steps
    ]


def _shown(step: Step) -> bool:
    return step.role not in (MENU, SUMMARY) and not isinstance(step.answer, PlacePick)


def _condition(rule: tuple[str, Any] | None, by_key: dict[str, str]) -> tuple[Condition, ...]:
    if rule is None or rule[0] not in by_key:
        return ()
    key, values = rule
    return (Condition(by_key[key], _values(values)),)


def _values(values: Any) -> tuple[str | None, ...]:
    """The answers a rule names, as a form holds them: "" is no answer, like None."""
    found = {None if v in (None, "") else str(v) for v in values}
    return tuple(sorted(found, key=lambda v: (v is None, v or "")))


def _jumps(flows: tuple[Flow, ...], names: set[str]) -> dict[str, list[Condition]]:
    """The fields a rule's jump passes over, with the answer that jumps: "danger now" goes
    straight to the place, so who, what and when are not asked. A skipped question that leads
    elsewhere (`skip_to`) passes over what lies between too."""
    hidden: dict[str, list[Condition]] = {}
    for flow in flows:
        order = [s.name for s in flow.steps]
        for step in flow.steps:
            if step.name not in names:
                continue
            targets = [(r.goto, _values(r.when)) for r in step.rules if r.goto and r.goto != FIRST]
            if step.skip_to:
                targets.append((step.skip_to, (None,)))
            for target, values in targets:
                if target not in order:
                    continue
                for name in order[order.index(step.name) + 1 : order.index(target)]:
                    if name in names:
                        hidden.setdefault(name, []).append(Condition(step.name, values))
    return hidden


def _field(step: Step, **conditions: tuple[Condition, ...]) -> Field:
    answer, optional = step.answer, step.skip
    common: dict[str, Any] = {"name": step.name, "prompt": step.prompt, "optional": optional, **conditions}
    if isinstance(answer, Choice):
        options = tuple((o.value, o.label) for o in answer.options)
        return Field(kind="checkboxes" if answer.multi else "radio", options=options, **common)
    if isinstance(answer, YesNo):
        version = next((r.consent for r in step.rules if r.consent), None)
        return Field(kind="consent" if version else "yesno", consent=version, **common)
    if isinstance(answer, Place):
        return Field(kind="place", **common)
    if isinstance(answer, Text):
        return Field(kind="line" if step.role == NAME else "textarea", limit=answer.limit, **common)
    if isinstance(answer, Age | Digits | Nik):
        return Field(kind="line", inputmode="numeric", limit=LINE_LIMIT, **common)
    if isinstance(answer, Phone):
        return Field(kind="line", inputmode="tel", **common)
    if isinstance(answer, Codeword):
        return Field(kind="line", **common)
    raise ValueError(f"step {step.name}: no form field for {type(answer).__name__}")


def resident_consent() -> str:
    """The message key of the consent text residents read themselves: read aloud at the posko."""
    step = next(s for s in START.steps if any(r.consent for r in s.rules))
    return step.prompt


def plain(text: str) -> str:
    """A chat question as a form's label: without "1 Ya 2 Tidak" and the LEWATI sentence."""
    kept = "".join(s for s in _SENTENCE.findall(text.strip()) if "LEWATI" not in s).strip() or text
    return _NUMBERED.sub("", kept).strip() or kept
