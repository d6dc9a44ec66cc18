"""Runs any flow: reads one message against the conversation's state and returns what to say and
what happened. No I/O: the caller loads the conversation, persists the outcome and sends.

One `transitions` Machine per flow is built at import and shared by every conversation; each
message attaches the conversation with `add_model(..., initial=state)` and detaches it after.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from transitions import Machine
from transitions.core import MachineError

from flows import CATEGORIES, FLOWS, START, reading
from flows.common import CONSENT_VERSION, FIRST
from flows.model import DONE, Choice, Flow, Miss, Place, PlacePick, Read, Rule, Step, Text
from flows.places import Place as Area
from flows.places import match_places

# transitions logs every state change at INFO: noise on the per-message path.
logging.getLogger("transitions").setLevel(logging.WARNING)

IDLE = "idle"  # no report in progress
IDLE_LIMIT = timedelta(days=1)  # a report paused longer asks "continue or start again"
MISSES = 3  # unreadable answers before a KK member is offered
QUESTIONS_END = "area"  # first shared closing step: where DARURAT jumps to
NOT_ANSWERS = {s.name for s in START.steps} | {"area_ok", "confirm"}  # kept elsewhere or moot


@dataclass(frozen=True)
class Key:
    """A parameter that is itself a message key, translated when rendered."""

    key: str


@dataclass(frozen=True)
class Say:
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    options: tuple[Key | str, ...] = ()  # numbered after the text; str is said as is


@dataclass
class Conv:
    """The engine's view of a conversation row."""

    flow: str = START.name
    state: str = IDLE
    data: dict[str, Any] = field(default_factory=dict)
    locale: str = "id"
    run: int = 0
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Inbound:
    text: str
    num_media: int = 0


@dataclass(frozen=True)
class Context:
    now: datetime
    places: Sequence[Area] = ()


# Effects: what happened, for the caller to persist.
@dataclass(frozen=True)
class Consented:
    version: str
    at: datetime


@dataclass(frozen=True)
class Submit:
    report: dict[str, Any]


@dataclass(frozen=True)
class ShowStatus:
    pass


@dataclass(frozen=True)
class Erase:
    pass


@dataclass(frozen=True)
class Stop:
    pass


@dataclass(frozen=True)
class Forget:
    """Drop the texts of an unsubmitted report (declined consent, cancelled)."""

    run: int


@dataclass(frozen=True)
class UrgentNow:
    """DARURAT outside a report: the caller's latest open case becomes urgent."""


Effect = Consented | Submit | ShowStatus | Erase | Stop | Forget | UrgentNow


@dataclass
class Outcome:
    replies: list[Say] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


class _Model:
    """What a Machine drives: only the state; all data stays on the Conv."""

    def __init__(self) -> None:
        self.state = ""


def _value_is(rule: Rule):  # type: ignore[no-untyped-def]
    return lambda event: rule.applies(event.kwargs.get("value"))


def build_machine(flow: Flow) -> Machine:
    """Transitions generated from the flow's data: rules with a goto first, then the usual next."""
    machine = Machine(
        model=None,
        states=[s.name for s in flow.steps] + [DONE],
        initial=flow.first,
        auto_transitions=False,
        send_event=True,
    )
    for i, step in enumerate(flow.steps):
        for rule in step.rules:
            if rule.goto or rule.end:
                dest = DONE if rule.end else flow.first if rule.goto == FIRST else rule.goto
                machine.add_transition("answer", step.name, dest, conditions=[_value_is(rule)])
        machine.add_transition("answer", step.name, flow.following(step.name))
        if step.skip:
            machine.add_transition("skip", step.name, step.skip_to or flow.following(step.name))
        if isinstance(step.answer, PlacePick):
            machine.add_transition("retry", step.name, flow.steps[i - 1].name)
        if flow is not START and flow.has(QUESTIONS_END) and i < _index(flow, QUESTIONS_END):
            machine.add_transition("hurry", step.name, QUESTIONS_END)
    return machine


def _index(flow: Flow, name: str) -> int:
    return [s.name for s in flow.steps].index(name)


MACHINES: dict[str, Machine] = {name: build_machine(flow) for name, flow in FLOWS.items()}


def fire(conv: Conv, trigger: str, **kwargs: Any) -> str:
    """Move the conversation through its flow's shared machine; returns the new state."""
    machine = MACHINES[conv.flow]
    model = _Model()
    machine.add_model(model, initial=conv.state)  # without initial= the state silently resets
    try:
        model.trigger(trigger, **kwargs)  # type: ignore[attr-defined]
        conv.state = model.state
    finally:
        machine.remove_model(model)
    return conv.state


def detect_intent(text: str) -> str | None:
    for flow in CATEGORIES:
        if flow.intents and reading.contains_phrase(text, flow.intents):
            return flow.name
    return None


class Engine:
    def step(self, conv: Conv, msg: Inbound, ctx: Context) -> Outcome:
        out = Outcome()
        word = reading.global_word(msg.text) if msg.text else None
        data = conv.data
        paused = conv.updated_at is not None and ctx.now - conv.updated_at > IDLE_LIMIT
        if conv.state != IDLE and paused and not data.get("hold") and word is None:
            data["hold"] = "resume"
            out.replies.append(Say("resume.ask"))
        elif word and word != "LEWATI":
            self._word(word, conv, msg, ctx, out)
        elif data.get("hold"):
            self._hold(conv, msg, ctx, out)
        elif conv.state == IDLE:
            self._start(conv, msg, out)
        elif word == "LEWATI":
            self._skip(conv, ctx, out)
        else:
            self._answer(conv, msg, ctx, out)
        return out

    # -- starting, prompting, finishing -------------------------------------------------------

    def _start(self, conv: Conv, msg: Inbound, out: Outcome) -> None:
        conv.run += 1
        conv.flow, conv.state = START.name, START.first
        conv.data = {"answers": {}, "flags": [], "urgent": False, "misses": 0, "media": 0}
        if intent := detect_intent(msg.text):
            conv.data["intent"] = intent
        out.replies.append(Say("welcome"))
        self._prompt(conv, out)

    def _prompt(self, conv: Conv, out: Outcome) -> None:
        flow = FLOWS[conv.flow]
        step = flow.step(conv.state)
        if step.name == "confirm":
            out.replies.append(self._summary(conv, flow))
        if isinstance(step.answer, PlacePick):
            names = tuple(c["name"] for c in conv.data.get("candidates", []))
            out.replies.append(Say(step.prompt, options=names))
        elif isinstance(step.answer, Choice):
            out.replies.append(Say(step.prompt, options=tuple(Key(o.label) for o in step.answer.options)))
        else:
            out.replies.append(Say(step.prompt))

    def _summary(self, conv: Conv, flow: Flow) -> Say:
        data = conv.data
        contact = data["answers"].get("contact")
        return Say(
            "summary",
            {
                "category": Key(flow.title),
                "area": data.get("area_name") or Key("unknown"),
                "contact": Key(f"opt.contact.{contact}") if contact else Key("unknown"),
                "name": data["answers"].get("name") or Key("anonymous"),
            },
        )

    def _finish(self, conv: Conv) -> None:
        conv.flow, conv.state = START.name, IDLE
        conv.data = {}

    def _reprompt(self, conv: Conv, out: Outcome) -> None:
        if conv.state != IDLE:
            self._prompt(conv, out)

    # -- global words --------------------------------------------------------------------------

    def _word(self, word: str, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        data = conv.data
        in_report = conv.state != IDLE
        consented = bool(data.get("consent"))
        if word == "DARURAT":
            out.replies.append(Say("emergency"))
            if not in_report:
                out.effects.append(UrgentNow())
                return
            if consented:
                data["urgent"] = True
                _add_flag(data, "darurat")
                out.replies.append(Say("urgent.noted"))
                if not data.get("hold") and conv.flow != START.name:
                    with suppress(MachineError):  # past the questions already: carry on there
                        fire(conv, "hurry")
            if not data.get("hold"):
                self._reprompt(conv, out)
        elif word == "BATAL":
            if in_report:
                out.effects.append(Forget(conv.run))
                out.replies.append(Say("cancelled"))
                self._finish(conv)
            else:
                out.replies.append(Say("help"))
        elif word == "MENU":
            if in_report and consented:
                conv.flow, conv.state = START.name, "menu"
                keep = {"consent": data["consent"]}
                conv.data = {"answers": {}, "flags": [], "urgent": False, "misses": 0, "media": 0}
                conv.data.update(keep)
                out.replies.append(Say("restarted"))
                self._prompt(conv, out)
            else:
                self._start(conv, msg, out)
        elif word == "STATUS":
            out.effects.append(ShowStatus())
            if not data.get("hold"):
                self._reprompt(conv, out)
        elif word == "HAPUS":
            if not in_report:
                conv.data = data = {}
            data["hold"] = "erase"
            out.replies.append(Say("erase.ask"))
        elif word == "BANTUAN":
            out.replies.append(Say("help"))
            if not data.get("hold"):
                self._reprompt(conv, out)
        elif word in ("EN", "ID"):
            conv.locale = word.lower()
            out.replies.append(Say("lang.set"))
            if not data.get("hold"):
                self._reprompt(conv, out)
        elif word == "BERHENTI":
            out.effects.append(Stop())
            out.replies.append(Say("stopped"))

    def _skip(self, conv: Conv, ctx: Context, out: Outcome) -> None:
        step = FLOWS[conv.flow].step(conv.state)
        if not step.skip:
            out.replies.append(Say("skip.not_allowed"))
        else:
            conv.data["answers"][step.name] = None
            fire(conv, "skip")
        self._after_move(conv, ctx, out)

    # -- holds: a yes/no asked outside the flow ------------------------------------------------

    def _hold(self, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        data = conv.data
        hold = data["hold"]
        if hold == "resume":
            pick = reading.read_choice(
                msg.text,
                [("lanjut", "lanjutkan", "ya", "continue"), ("mulai baru", "baru", "ulang")],
            )
            if pick is None:
                out.replies.append(Say("resume.ask"))
            elif pick == 0:
                del data["hold"]
                self._prompt(conv, out)
            else:
                self._start(conv, msg, out)
            return
        answer = reading.read_yes_no(msg.text)
        if answer is None:
            out.replies.append(Say("hint.yes_no"))
            out.replies.append(Say("erase.ask" if hold == "erase" else "handoff.offer"))
            return
        del data["hold"]
        if hold == "erase":
            if answer:
                out.effects.append(Erase())
                out.replies.append(Say("erase.done"))
                self._finish(conv)
            else:
                out.replies.append(Say("erase.kept"))
                self._reprompt(conv, out)
        elif hold == "handoff":
            if answer:
                data["handoff"] = True
                data["answers"].setdefault("contact", "message")
                self._submit(conv, out, handoff=True)
            else:
                data["misses"] = 0
                out.replies.append(Say("handoff.declined"))
                self._prompt(conv, out)

    # -- answering the current step ------------------------------------------------------------

    def _answer(self, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        flow = FLOWS[conv.flow]
        step = flow.step(conv.state)
        data = conv.data
        if msg.num_media:
            data["media"] = data.get("media", 0) + msg.num_media
        result = self._read(step, msg, conv, ctx)
        if isinstance(result, Miss):
            data["misses"] = data.get("misses", 0) + 1
            if data["misses"] >= MISSES and data.get("consent"):
                data["hold"] = "handoff"
                out.replies.append(Say("handoff.offer"))
                return
            out.replies.append(Say("hint.misses" if data["misses"] >= MISSES else result.hint))
            self._prompt(conv, out)
            return
        data["misses"] = 0
        if result is RETRY:
            fire(conv, "retry")
            self._prompt(conv, out)
            return
        value = result.value
        data["answers"][step.name] = value
        end = None
        for rule in step.rules:
            if rule.applies(value):
                data["urgent"] = data["urgent"] or rule.urgent
                if rule.flag:
                    _add_flag(data, rule.flag)
                if rule.say:
                    out.replies.append(Say(rule.say))
                if rule.consent:
                    data["consent"] = {"version": CONSENT_VERSION, "at": ctx.now.isoformat()}
                    out.effects.append(Consented(CONSENT_VERSION, ctx.now))
                end = end or rule.end
        fire(conv, "answer", value=value)
        if end:
            self._end(end, conv, out)
            return
        if conv.flow == START.name and conv.state == DONE:  # the menu chose a category
            conv.flow, conv.state = value, FLOWS[value].first
        self._after_move(conv, ctx, out)

    def _after_move(self, conv: Conv, ctx: Context, out: Outcome) -> None:
        intent = conv.data.pop("intent", None) if conv.state == "menu" else None
        if intent:  # "sy mau lapor kdrt" before consent: skip the menu
            conv.flow, conv.state = intent, FLOWS[intent].first
        self._prompt(conv, out)

    def _read(self, step: Step, msg: Inbound, conv: Conv, ctx: Context) -> Read | Miss:
        if isinstance(step.answer, Text) and not reading.clean(msg.text) and msg.num_media:
            return Read("")  # a photo with no caption is an answer
        if isinstance(step.answer, PlacePick):
            return self._pick_place(msg, conv, ctx)
        result = step.answer.read(msg.text)
        if isinstance(step.answer, Place) and isinstance(result, Read):
            return self._match_place(result.value, conv, ctx)
        return result

    def _match_place(self, text: str, conv: Conv, ctx: Context) -> Read | Miss:
        found = match_places(text, ctx.places)
        if not found:
            return Miss("hint.place_unknown")
        conv.data["candidates"] = [{"id": p.id, "name": p.name, "kecamatan": p.kecamatan} for p, _ in found]
        return Read(text)

    def _pick_place(self, msg: Inbound, conv: Conv, ctx: Context) -> Read | Miss:
        candidates = conv.data.get("candidates", [])
        pick = reading.read_choice(msg.text, [(c["name"],) for c in candidates])
        yes = reading.read_yes_no(msg.text)
        if pick is None and yes is True and len(candidates) == 1:
            pick = 0
        if pick is None:
            if yes is False:
                return RETRY
            again = self._match_place(reading.clean(msg.text), conv, ctx)  # a new name typed
            return Miss("hint.pick") if isinstance(again, Read) else again
        chosen = candidates[pick]
        conv.data["area_id"], conv.data["area_name"] = chosen["id"], chosen["name"]
        conv.data.pop("candidates", None)
        return Read(chosen["name"])

    def _end(self, end: str, conv: Conv, out: Outcome) -> None:
        if end == "submitted":
            self._submit(conv, out)
            return
        if end in ("declined", "cancelled"):
            out.effects.append(Forget(conv.run))
        if end == "cancelled":
            out.replies.append(Say("cancelled"))
        self._finish(conv)

    def _submit(self, conv: Conv, out: Outcome, handoff: bool = False) -> None:
        data = conv.data
        answers = data["answers"]
        category = conv.flow if conv.flow != START.name else data.get("intent", "lainnya")
        method = answers.get("contact") or "none"
        report = {
            "category": category,
            "answers": {k: v for k, v in answers.items() if k not in NOT_ANSWERS},
            "urgent": bool(data.get("urgent")),
            "flags": list(data.get("flags", [])) + (["handoff"] if handoff else []),
            "area_id": data.get("area_id"),
            "contact_method": method,
            "contact_ok": method in ("call", "message"),
            "name": answers.get("name") or None,
            "media": data.get("media", 0),
            "consent": data.get("consent"),
        }
        out.effects.append(Submit(report))
        out.replies.append(Say("handoff.done" if handoff else "submitted"))
        if not handoff:
            out.replies.append(Say(f"submitted.{method}"))
        if "tpks" in report["flags"]:
            out.replies.append(Say("submitted.tpks"))
        self._finish(conv)


class _Retry(Read):
    pass


RETRY = _Retry(None)  # "none of these places": back to asking where


def _add_flag(data: dict[str, Any], flag: str) -> None:
    if flag not in data.setdefault("flags", []):
        data["flags"].append(flag)


ENGINE = Engine()
