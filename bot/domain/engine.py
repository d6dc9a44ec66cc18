"""Runs any flow: reads one message against the conversation's state and returns what to say and
what happened. No I/O: the caller loads the conversation, persists the outcome and sends.

One `transitions` Machine per flow is built at import and shared by every conversation. A move
takes an idle model of the Machine (added once: `add_model` binds a method per trigger and state
to it, the bulk of what a transition costs), sets it to the conversation's state, and gives it
back: there are as many models as moves ever ran at once, whatever threads come and go.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from transitions import Machine
from transitions.core import MachineError

from flows import CATEGORIES, ON_BEHALF, START, reading, sms
from flows.model import (
    CHANNEL,
    CONTACT,
    CONTACT_CALL,
    CONTACT_HANDOFF,
    CONTACT_NONE,
    CONTACT_OK,
    DONE,
    EMERGENCY,
    FIRST,
    FLAG_CALL,
    FLAG_DARURAT,
    FLAG_HANDOFF,
    MENU,
    NAME,
    PHONE,
    SUMMARY,
    Choice,
    Flow,
    Miss,
    Place,
    PlacePick,
    Read,
    Rule,
    Step,
    Text,
)
from flows.places import EXACT, match_places
from flows.places import Place as Area

# transitions logs every state change at INFO: noise on the per-message path.
logging.getLogger("transitions").setLevel(logging.WARNING)

IDLE = "idle"  # no report in progress
IDLE_LIMIT = timedelta(days=1)  # a report paused longer asks "continue or start again"
PAUSE = timedelta(minutes=30)  # a report paused longer asks again whether it is safe to reply
# Words that say nothing about the report, so they act at once even after a pause.
PAUSE_WORDS = frozenset({"BATAL", "HAPUS", "BERHENTI", "TELEPON"})
MISSES = 3  # unreadable answers before a KK member is offered


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
    media_types: tuple[str, ...] = ()  # e.g. "audio/ogg" for a WhatsApp voice note


@dataclass(frozen=True)
class Context:
    now: datetime
    places: Sequence[Area] = ()
    pause: timedelta = PAUSE  # HOTLINE_RESUME_MINUTES
    # What the replies go by: on SMS (each segment paid, a small screen) the shorter texts and
    # two questions in one message where a flow pairs them (flows.model.AskWith).
    channel: str = "whatsapp"
    # The sender is a KK member who asked to report for a resident (WARGA): a report started now
    # begins with the engine's `on_behalf` flow instead of the resident's safety and consent.
    on_behalf: bool = False
    # The sender is an active KK member of the site: a report taken for a resident is theirs to
    # carry on (one left by someone no longer a member is dropped).
    member: bool = False
    # The site's members' numbers, which are never a resident's own (asked in `on_behalf`).
    members: Collection[str] = ()


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
    channel: str = "whatsapp"  # the inbound's: how questions are asked (see Context.channel)

    @property
    def short(self) -> bool:
        return self.channel == sms.CHANNEL


class _Model:
    """What a Machine drives: only the state; all data stays on the Conv."""

    def __init__(self) -> None:
        self.state = ""


def _value_is(rule: Rule):  # type: ignore[no-untyped-def]
    return lambda event: rule.applies(event.kwargs.get("value"))


def build_machine(flow: Flow) -> Machine:
    """Transitions generated from the flow's data: rules with a goto first, then the usual next;
    "hurry" (DARURAT) from every question before the flow's EMERGENCY step to that step."""
    emergency = flow.with_role(EMERGENCY)
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
        if step.ask_if or step.not_if or isinstance(step.answer, PlacePick):  # not wanted: on to the next
            machine.add_transition("pass", step.name, flow.following(step.name))
        if isinstance(step.answer, PlacePick):
            machine.add_transition("retry", step.name, flow.steps[i - 1].name)
        if emergency is not None and i < flow.steps.index(emergency):
            machine.add_transition("hurry", step.name, emergency.name)
    return machine


def answer_key(step: Step) -> str:
    """Where a step's answer is kept in the report: the contact method and the name under their
    role, whatever the step is called (duty and the console read them there); the rest by name."""
    return step.role if step.role in (CONTACT, NAME, CHANNEL, PHONE) else step.name


class Engine:
    """Runs the flows it is given: `start` (safety, consent and a MENU step choosing a category)
    and the category flows, one of them `catch_all` for a report whose category is unknown;
    `on_behalf`, when given, is the start of a report a KK member takes for a resident (its
    CHANNEL and PHONE answers go into the report's "on_behalf", its MENU is the same)."""

    def __init__(self, start: Flow, categories: Sequence[Flow], on_behalf: Flow | None = None) -> None:
        self.start = start
        self.on_behalf = on_behalf or start
        self.categories = tuple(categories)
        self.flows = {f.name: f for f in (start, self.on_behalf, *self.categories)}
        self.starts = {start.name, self.on_behalf.name}
        self.machines: dict[str, Machine] = {name: build_machine(f) for name, f in self.flows.items()}
        self._idle: dict[Machine, list[_Model]] = {}  # models not moving a conversation now
        self._adding = threading.Lock()
        menu = start.with_role(MENU)
        fallbacks = [f.name for f in self.categories if f.catch_all]
        if menu is None or len(fallbacks) != 1:
            raise ValueError("the start flow needs a MENU step, and exactly one category catch_all=True")
        other = self.on_behalf.with_role(MENU)
        if other is None or other.name != menu.name:
            raise ValueError("the on_behalf flow ends in the start flow's MENU step")
        self.menu, self.fallback = menu.name, fallbacks[0]
        # Kept elsewhere (consent on the contact or case, the resident's number on the case), or
        # moot (a place pick, the summary's "send").
        self.unrecorded = {s.name for f in (start, self.on_behalf) for s in f.steps} | {CHANNEL, PHONE} | {
            s.name
            for f in self.categories
            for s in f.steps
            if isinstance(s.answer, PlacePick) or s.role == SUMMARY
        }
        # Advice said again at submission for a flag a rule of the flow raised (sexual violence).
        self.advice = {
            f.name: {r.flag: r.advice for s in f.steps for r in s.rules if r.flag and r.advice}
            for f in self.categories
        }

    def fire(self, conv: Conv, trigger: str, **kwargs: Any) -> str:
        """Move the conversation through its flow's shared machine; returns the new state."""
        machine = self.machines[conv.flow]
        idle = self._idle.setdefault(machine, [])
        try:
            model = idle.pop()  # atomic: two threads never get one model
        except IndexError:
            model = self._new_model(machine)
        try:
            machine.set_state(conv.state, model=model)
            model.trigger(trigger, **kwargs)  # type: ignore[attr-defined]
            conv.state = model.state
        finally:
            idle.append(model)
        return conv.state

    def _new_model(self, machine: Machine) -> _Model:
        """Another model for `machine`: as many exist as conversations ever moved at once."""
        model = _Model()
        with self._adding:  # add_model appends to the Machine's own list
            machine.add_model(model, initial=machine.initial)
        return model

    def detect_intent(self, text: str) -> str | None:
        for flow in self.categories:
            if flow.intents and reading.contains_phrase(text, flow.intents):
                return flow.name
        return None

    def step(self, conv: Conv, msg: Inbound, ctx: Context) -> Outcome:
        out = Outcome(channel=ctx.channel)
        self._step(conv, msg, ctx, out)
        if out.short:
            out.replies = [_shorter(say) for say in out.replies]
        return out

    def _step(self, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        word = reading.global_word(msg.text) if msg.text else None
        if conv.data.get("on_behalf"):
            word = self._on_behalf(conv, word, ctx, out)
        data = conv.data
        if conv.state != IDLE and word not in PAUSE_WORDS and self._paused(conv, word, ctx, out):
            return
        if word == "TELEPON" and self._telepon_answers(conv):
            self._answer(conv, msg, ctx, out)  # "telepon" answers "how may we contact you?"
        elif word and word != "LEWATI":
            self._word(word, conv, msg, ctx, out)
        elif data.get("hold"):
            self._hold(conv, msg, ctx, out)
        elif conv.state == IDLE:
            self._start(conv, msg, out, on_behalf=ctx.on_behalf)
        elif word == "LEWATI":
            self._skip(conv, ctx, out)
        else:
            self._answer(conv, msg, ctx, out)

    def _paused(self, conv: Conv, word: str | None, ctx: Context, out: Outcome) -> bool:
        """A report paused a while asks something first; True when that is this turn's reply.
        A resident, after `ctx.pause`: on a shared phone the next message may not be theirs, so
        nothing about the report until they say it is safe to reply (DARURAT still marks it
        urgent first; after a day "continue or start again" follows). A member taking a report
        for a resident is not at risk: after a day, only "continue or start again"."""
        data = conv.data
        quiet = ctx.now - conv.updated_at if conv.updated_at is not None else timedelta(0)
        if data.get("on_behalf"):
            if quiet <= IDLE_LIMIT or data.get("hold"):
                return False
            data["hold"] = "resume"
            out.replies.append(Say("resume.ask"))
            return True
        if quiet <= ctx.pause or data.get("hold") == "safe_again":
            return False
        if word == "DARURAT":
            self._darurat(conv, out, reprompt=False)
        data["hold"], data["long_pause"] = "safe_again", quiet > IDLE_LIMIT
        out.replies.append(Say("resume.safe"))
        return True

    def _on_behalf(self, conv: Conv, word: str | None, ctx: Context, out: Outcome) -> str | None:
        """A report a member takes for a resident. One left by someone no longer a member is
        dropped, and their message read afresh. The resident's rights over their own number are
        not the member's to use on theirs: HAPUS and BERHENTI end the draft like BATAL, and
        TELEPON is plain text but where it answers."""
        if not ctx.member:
            out.effects.append(Forget(conv.run))
            self._finish(conv)
            return word
        if word in ("HAPUS", "BERHENTI"):
            return "BATAL"
        if word == "TELEPON" and not self._telepon_answers(conv):
            return None
        return word

    def _telepon_answers(self, conv: Conv) -> bool:
        """TELEPON is the answer, not the command, where a step asks for a way (how to contact
        the resident, how the report came in)."""
        return self._at_role(conv, CONTACT) or self._at_role(conv, CHANNEL)

    # -- starting, prompting, finishing -------------------------------------------------------

    def _start(self, conv: Conv, msg: Inbound, out: Outcome, on_behalf: bool = False) -> None:
        """A new report: the resident's start, or the member's for a resident (WARGA, and a
        report begun again inside one)."""
        on_behalf = on_behalf or bool(conv.data.get("on_behalf"))
        start = self.on_behalf if on_behalf else self.start
        conv.run += 1
        conv.flow, conv.state = start.name, start.first
        conv.data = {"answers": {}, "flags": [], "urgent": False, "misses": 0, "media": 0}
        if on_behalf:
            conv.data["on_behalf"] = True
        elif intent := self.detect_intent(msg.text):
            conv.data["intent"] = intent
            self._flag_words(self.flows[intent], msg.text, conv.data)
        out.replies.append(Say("onbehalf.welcome" if on_behalf else "welcome"))
        self._prompt(conv, out)

    def _prompt(self, conv: Conv, out: Outcome) -> None:
        flow = self.flows[conv.flow]
        step = flow.step(conv.state)
        while not _wanted(step, conv.data):  # e.g. a number to call, a place typed exactly
            step = flow.step(self.fire(conv, "pass"))
        pair = self._pair(conv, out)
        asked = step if pair is None else _required(pair)
        if step.role == SUMMARY or asked.role == SUMMARY:
            out.replies.append(self._summary(conv, flow))
        prompt = step.prompt if pair is None else _optional(pair).sms_with.prompt  # type: ignore[union-attr]
        if isinstance(asked.answer, PlacePick):
            names = tuple(c["name"] for c in conv.data.get("candidates", []))
            out.replies.append(Say(prompt, options=names))
        elif isinstance(asked.answer, Choice):
            out.replies.append(Say(prompt, options=tuple(Key(o.label) for o in asked.answer.options)))
        else:
            out.replies.append(Say(prompt))

    def _pair(self, conv: Conv, out: Outcome) -> tuple[Step, Step] | None:
        """The two steps asked in one message at the current state, on SMS (see AskWith)."""
        if not out.short or conv.state in (IDLE, DONE):
            return None
        pair = self.flows[conv.flow].pair(conv.state)
        if pair is None or not all(_wanted(s, conv.data) for s in pair):
            return None
        return pair

    def _summary(self, conv: Conv, flow: Flow) -> Say:
        data = conv.data
        method = data["answers"].get(CONTACT)
        step = flow.with_role(CONTACT)
        options = step.answer.options if step is not None and isinstance(step.answer, Choice) else ()
        labels = {o.value: o.label for o in options}
        contact = Key(labels[method]) if method in labels else Key("unknown")
        if data.get("on_behalf") and not data["answers"].get(PHONE):
            contact = Key("onbehalf.no_phone")  # never asked: nothing will be sent
        return Say(
            "summary",
            {
                "category": Key(flow.title),
                "area": data.get("area_name") or Key("unknown"),
                "contact": contact,
                "name": data["answers"].get(NAME) or Key("anonymous"),
            },
        )

    def _finish(self, conv: Conv) -> None:
        conv.flow, conv.state = self.start.name, IDLE
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
            self._darurat(conv, out)
        elif word == "BATAL":
            if in_report:
                out.effects.append(Forget(conv.run))
                out.replies.append(Say("cancelled"))
                self._finish(conv)
            else:
                out.replies.append(Say("help"))
        elif word == "MENU":
            if in_report and consented:
                on_behalf = bool(data.get("on_behalf"))
                conv.flow = (self.on_behalf if on_behalf else self.start).name
                conv.state = self.menu
                # Consent stays, and a member's answers about how the report came in.
                answers = {k: v for k, v in data["answers"].items() if on_behalf and k in (CHANNEL, PHONE)}
                conv.data = {"answers": answers, "flags": [], "urgent": False, "misses": 0, "media": 0}
                conv.data.update({k: data[k] for k in ("consent", "on_behalf") if k in data})
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
            if not in_report and not data.get("hold"):  # "bantuan"/"tolong" as a first message
                self._start(conv, msg, out)
                return
            out.replies.append(Say("help"))
            if not data.get("hold"):
                self._reprompt(conv, out)
        elif word == "TELEPON":
            self._call_me(conv, msg, out)
        elif word in ("EN", "ID"):
            conv.locale = word.lower()
            out.replies.append(Say("lang.set"))
            if not data.get("hold"):
                self._reprompt(conv, out)
        elif word == "BERHENTI":
            out.effects.append(Stop())
            out.replies.append(Say("stopped"))

    def _flag_words(self, flow: Flow, text: str, data: dict[str, Any]) -> None:
        for flag, words in flow.flag_words:
            if reading.contains_phrase(text, words):
                _add_flag(data, flag)

    def _darurat(self, conv: Conv, out: Outcome, reprompt: bool = True) -> None:
        """Emergency numbers at once; a report in progress turns urgent and goes straight to
        where, and outside a report the latest open case turns urgent."""
        data = conv.data
        out.replies.append(Say("emergency"))
        if conv.state == IDLE:
            out.effects.append(UrgentNow())
            return
        if data.get("consent"):
            data["urgent"] = True
            _add_flag(data, FLAG_DARURAT)
            out.replies.append(Say("urgent.noted"))
            if data.get("hold") in (None, "safe_again") and conv.flow not in self.starts:
                with suppress(MachineError):  # past the questions already: carry on there
                    self.fire(conv, "hurry")
        if reprompt and not data.get("hold"):
            self._reprompt(conv, out)

    def _at_role(self, conv: Conv, role: str) -> bool:
        return conv.state not in (IDLE, DONE) and self.flows[conv.flow].step(conv.state).role == role

    def _call_me(self, conv: Conv, msg: Inbound, out: Outcome) -> None:
        """TELEPON: a call instead of typing. With consent, a case now with what is known; before
        it, safety and consent come first and the case follows the "yes"."""
        if conv.state == IDLE:
            self._start(conv, msg, out)
            conv.data["call_me"] = True
            return
        data = conv.data
        data["call_me"] = True
        if data.get("consent"):  # an open question (a hold included) gives way to the call
            self._submit(conv, out, kind="call")
            return
        out.replies.append(Say("call.after_consent"))
        if not data.get("hold"):
            self._reprompt(conv, out)

    def _recheck(self, step: Step, value: Any, data: dict[str, Any], out: Outcome) -> bool:
        """An answer asked again once (see Rule.recheck): True when this one is not taken yet."""
        flags = data.get("flags", [])
        rule = next((r for r in step.rules if r.recheck and r.applies(value) and r.fits(flags)), None)
        done = data.setdefault("rechecked", [])
        if rule is None or step.name in done:
            return False
        done.append(step.name)
        out.replies.append(Say(rule.say or ""))
        return True

    def _skip(self, conv: Conv, ctx: Context, out: Outcome) -> None:
        step = self.flows[conv.flow].step(conv.state)
        if not step.skip:
            out.replies.append(Say("skip.not_allowed"))
        else:
            conv.data["answers"][answer_key(step)] = None
            self.fire(conv, "skip")
        self._after_move(conv, ctx, out)

    # -- holds: a yes/no asked outside the flow ------------------------------------------------

    def _safe_again(self, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        """After a pause: is it safe to reply? Yes: back to the report (after a day, "continue or
        start again" first). No: how to stay safe, and the same question next time."""
        data = conv.data
        answer = reading.read_yes_no(msg.text)
        if answer is None:
            out.replies.extend([Say("hint.yes_no"), Say("resume.safe")])
        elif not answer:
            out.replies.append(Say("safety.leave"))
        elif data.pop("long_pause", False):
            data["hold"] = "resume"
            out.replies.append(Say("resume.ask"))
        else:
            del data["hold"]
            self._prompt(conv, out)

    def _hold(self, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        data = conv.data
        hold = data["hold"]
        if hold == "safe_again":
            self._safe_again(conv, msg, ctx, out)
            return
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
                data["answers"].setdefault(CONTACT, CONTACT_HANDOFF)
                self._submit(conv, out, kind="handoff")
            else:
                data["misses"] = 0
                out.replies.append(Say("handoff.declined"))
                self._prompt(conv, out)

    # -- answering the current step ------------------------------------------------------------

    def _answer(self, conv: Conv, msg: Inbound, ctx: Context, out: Outcome) -> None:
        flow = self.flows[conv.flow]
        data = conv.data
        pair = self._pair(conv, out)
        lead = flow.step(conv.state) if pair is None else _required(pair)
        if msg.num_media:
            data["media"] = data.get("media", 0) + msg.num_media
        split = _split(lead, msg.text) if pair is not None else None
        result = self._read(lead, msg if split is None else replace(msg, text=split[0]), conv, ctx)
        voice_or_photo = bool(msg.num_media) and not reading.clean(msg.text)
        if isinstance(result, Miss) and voice_or_photo:
            result = Miss("hint.media")  # the bot cannot listen: say how to answer instead
        if isinstance(result, Miss):
            data["misses"] = data.get("misses", 0) + 1
            if data["misses"] >= MISSES and data.get("consent") and not data.get("on_behalf"):
                data["hold"] = "handoff"
                out.replies.append(Say("handoff.offer"))
                return
            out.replies.append(Say("hint.misses" if data["misses"] >= MISSES else result.hint))
            self._prompt(conv, out)
            return
        data["misses"] = 0
        if result is RETRY:
            self.fire(conv, "retry")
            self._prompt(conv, out)
            return
        taken = [(lead, result.value, voice_or_photo)]
        if pair is not None:  # the optional one reads what the required one left
            optional = _optional(pair)
            rest = _rest(optional, lead, msg.text, split)
            photo = rest is None and bool(msg.num_media) and isinstance(optional.answer, Text)
            rest = "" if photo else rest  # a photo with only the number is the story
            taken = [(s, result.value, False) if s is lead else (s, rest, photo) for s in pair]
        for step, value, media_note in taken:
            if conv.state != step.name:  # the first answer led elsewhere ("none": no safe time)
                break
            if self._take(conv, step, value, media_note, ctx, out):
                return
        self._after_move(conv, ctx, out)

    def _take(
        self, conv: Conv, step: Step, value: Any, voice_or_photo: bool, ctx: Context, out: Outcome
    ) -> bool:
        """Store one step's answer and do what it means; True when the turn is over (the same
        question asked again, the report finished)."""
        data = conv.data
        flow = self.flows[conv.flow]
        if value is None and step.skip and step.sms_with is not None:  # nothing said for it
            data["answers"][answer_key(step)] = None
            self.fire(conv, "skip")
            return False
        if voice_or_photo and isinstance(step.answer, Text):
            out.replies.append(Say("note.media_kept"))
        if isinstance(step.answer, Text) and isinstance(value, str):
            self._flag_words(flow, value, data)
        flags = data.setdefault("flags", [])
        if self._recheck(step, value, data, out):
            self._prompt(conv, out)
            return True
        data["answers"][answer_key(step)] = value
        end = None
        for rule in step.rules:
            if rule.applies(value) and not rule.recheck and rule.fits(flags):
                data["urgent"] = data["urgent"] or rule.urgent
                if rule.flag:
                    _add_flag(data, rule.flag)
                if rule.say:
                    out.replies.append(Say(rule.say))
                if rule.consent:
                    data["consent"] = {"version": rule.consent, "at": ctx.now.isoformat()}
                    if not data.get("on_behalf"):  # the member's own number consents to nothing
                        out.effects.append(Consented(rule.consent, ctx.now))
                end = end or rule.end
        self.fire(conv, "answer", value=value)
        if end:
            self._end(end, conv, out)
            return True
        if data.get("call_me") and data.get("consent"):  # TELEPON before consent: now we may
            self._submit(conv, out, kind="call")
            return True
        if conv.flow in self.starts and conv.state == DONE:  # the menu chose a category
            conv.flow, conv.state = value, self.flows[value].first
        return False

    def _after_move(self, conv: Conv, ctx: Context, out: Outcome) -> None:
        at_menu = conv.flow in self.starts and conv.state == self.menu
        intent = conv.data.pop("intent", None) if at_menu else None
        if intent:  # "sy mau lapor kdrt" before consent: skip the menu
            conv.flow, conv.state = intent, self.flows[intent].first
        self._prompt(conv, out)

    def _read(self, step: Step, msg: Inbound, conv: Conv, ctx: Context) -> Read | Miss:
        if isinstance(step.answer, Text) and not reading.clean(msg.text) and msg.num_media:
            return Read("")  # a photo with no caption is an answer
        if isinstance(step.answer, PlacePick):
            return self._pick_place(msg, conv, ctx)
        result = step.answer.read(msg.text)
        if isinstance(step.answer, Place) and isinstance(result, Read):
            return self._match_place(result.value, conv, ctx)
        if step.role == PHONE and isinstance(result, Read) and result.value in ctx.members:
            return Miss("hint.member_phone")  # a member's own number is not the resident's
        return result

    def _match_place(self, text: str, conv: Conv, ctx: Context) -> Read | Miss:
        found = match_places(text, ctx.places)
        if not found:
            return Miss("hint.place_unknown")
        if len(found) == 1 and found[0][1] >= EXACT:  # its name or an alias: nothing to confirm
            place = found[0][0]
            conv.data["area_id"], conv.data["area_name"] = place.id, place.name
            conv.data.pop("candidates", None)
            return Read(text)
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
            if isinstance(again, Read) and "candidates" not in conv.data:
                return Read(conv.data["area_name"])  # typed exactly: taken
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

    def _submit(self, conv: Conv, out: Outcome, kind: str = "report") -> None:
        """Make the case: a whole `report`, a `handoff` after too many unreadable answers, or a
        `call` (TELEPON) with what is known so far."""
        data = conv.data
        answers = data["answers"]
        if kind == "call":
            answers[CONTACT] = CONTACT_CALL
        category = conv.flow if conv.flow not in self.starts else data.get("intent", self.fallback)
        method = answers.get(CONTACT) or CONTACT_NONE
        extra = {"handoff": [FLAG_HANDOFF], "call": [FLAG_CALL]}.get(kind, [])
        report = {
            "category": category,
            "answers": {k: v for k, v in answers.items() if k not in self.unrecorded},
            "urgent": bool(data.get("urgent")),
            "flags": list(data.get("flags", [])) + [f for f in extra if f not in data.get("flags", [])],
            "area_id": data.get("area_id"),
            "contact_method": method,
            "contact_ok": method in CONTACT_OK,
            "name": answers.get(NAME) or None,
            "media": data.get("media", 0),
            "consent": data.get("consent"),
        }
        if data.get("on_behalf"):  # how it came in, and the resident's number ("" or None: none)
            report["on_behalf"] = {"channel": answers.get(CHANNEL), "phone": answers.get(PHONE) or None}
            out.replies.append(Say("onbehalf.submitted"))
        else:
            out.replies.append(Say({"handoff": "handoff.done", "call": "call.done"}.get(kind, "submitted")))
            if kind == "report":
                out.replies.append(Say(f"submitted.{method}"))
        out.effects.append(Submit(report))
        advice = self.advice.get(category, {})
        for key in dict.fromkeys(advice[f] for f in report["flags"] if f in advice):
            out.replies.append(Say(key))
        self._finish(conv)


class _Retry(Read):
    pass


RETRY = _Retry(None)  # "none of these places": back to asking where


def _shorter(say: Say) -> Say:
    """The SMS wording of a reply: its text, its options and the keys among its parameters."""
    params = {k: Key(sms.key(v.key)) if isinstance(v, Key) else v for k, v in say.params.items()}
    options = tuple(Key(sms.key(o.key)) if isinstance(o, Key) else o for o in say.options)
    return Say(sms.key(say.key), params, options)


def _wanted(step: Step, data: dict[str, Any]) -> bool:
    """Whether a step is asked now: its `ask_if`, and a place to confirm only when there are
    candidates (a place typed exactly was taken as it is)."""
    if isinstance(step.answer, PlacePick) and not data.get("candidates"):
        return False
    return step.wanted(data.get("answers", {}))


def _required(pair: tuple[Step, Step]) -> Step:
    return pair[0] if pair[1].sms_with is not None else pair[1]


def _optional(pair: tuple[Step, Step]) -> Step:
    return pair[1] if pair[1].sms_with is not None else pair[0]


def _split(lead: Step, text: str) -> tuple[str, str] | None:
    several = isinstance(lead.answer, Choice) and lead.answer.multi
    return reading.split_lead(text, several=several)


def _rest(step: Step, lead: Step, text: str, split: tuple[str, str] | None) -> Any:
    """The optional step's answer in a paired message, None when nothing is said for it."""
    assert step.sms_with is not None and isinstance(lead.answer, Choice)
    if split is None and not step.sms_with.whole:
        return None
    rest = text if split is None else split[1]
    if not reading.clean(rest) or reading.global_word(rest) == "LEWATI":
        return None
    words = [w for o in lead.answer.options for w in (o.value.replace("_", " "), *o.words)]
    if split is None and isinstance(step.answer, Text) and not reading.says_more(rest, words):
        return None  # "anak": the option, not a story
    answer = step.answer
    if split is None and isinstance(answer, Choice) and answer.free:
        answer = replace(answer, free=False)  # the whole answer is not this question's free text
    result = answer.read(rest)
    return result.value if isinstance(result, Read) else None


def _add_flag(data: dict[str, Any], flag: str) -> None:
    if flag not in data.setdefault("flags", []):
        data["flags"].append(flag)


ENGINE = Engine(START, CATEGORIES, ON_BEHALF)
MACHINES = ENGINE.machines
