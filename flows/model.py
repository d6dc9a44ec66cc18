"""The vocabulary flows are written in: steps, answer kinds and rules. Pure data plus parsing.

A step names the message key of its question, how its answer is read, where each answer leads
and what an answer means (urgent, a flag, something to say at once). The engine runs any flow
written with these; adding a question never touches the engine.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from flows import reading

DONE = "done"  # the state every flow ends in
GREETINGS = frozenset({"halo", "hallo", "hai", "hi", "hello", "tes", "test", "assalamualaikum", "permisi"})
FIRST = "@first"  # a goto resolved to the flow's first question ("change" in the summary)

# Step roles: what the engine must know about a step beyond its answer, so that it never needs a
# step's name. A flow gives each role to at most one step.
EMERGENCY = "emergency"  # DARURAT jumps here from the questions before it (the first closing step)
CONTACT = "contact"  # the answer is how to reach the resident: one of CONTACT_METHODS
NAME = "name"  # the answer is the name the resident gave, if any
SUMMARY = "summary"  # the report is read back before this step asks to send it
MENU = "menu"  # the answer is the name of a category flow (the start flow's last step)
# A report a KK member takes on a resident's behalf (walk-in, phone call): where it came in, and
# the resident's own number ("" when they have none).
CHANNEL = "channel"
PHONE = "phone"
ROLES = frozenset({EMERGENCY, CONTACT, NAME, SUMMARY, MENU, CHANNEL, PHONE})
CONTACT_METHODS = ("call", "message", "none")  # option values of the CONTACT step
CONTACT_OK = frozenset({"call", "message"})  # the resident agreed to be contacted
CONTACT_MESSAGE = "message"  # notices and BALAS relays go only to those who chose messages
# Flags the engine itself raises, whatever the flow: DARURAT inside a report, a hand-off after
# too many unreadable answers, TELEPON.
FLAG_DARURAT, FLAG_HANDOFF, FLAG_CALL = "darurat", "handoff", "call_me"
CONTACT_CALL = "call"  # TELEPON: the resident asked to be called
CONTACT_NONE = "none"  # no contact: the resident follows up with their code
CONTACT_HANDOFF = "message"  # a hand-off to a person (too many unreadable answers) asks by message


@dataclass(frozen=True)
class Read:
    """An answer understood: `value` is what is stored."""

    value: Any


@dataclass(frozen=True)
class Miss:
    """An answer not understood; `hint` is the message key explaining what is expected."""

    hint: str


@dataclass(frozen=True)
class Option:
    value: str
    label: str  # message key
    words: tuple[str, ...] = ()  # what people type for it besides its number


@dataclass(frozen=True)
class Choice:
    options: tuple[Option, ...]
    multi: bool = False
    free: bool = False  # an answer matching no option is kept as free text

    def read(self, text: str) -> Read | Miss:
        words = [(o.value.replace("_", " "), *o.words) for o in self.options]
        if self.multi:
            picked = reading.read_choices(text, words)
            if picked:
                return Read([self.options[i].value for i in picked])
        else:
            index = reading.read_choice(text, words)
            if index is not None:
                return Read(self.options[index].value)
        if self.free and reading.norm(text):
            return Read(reading.clean(text)[:500])
        return Miss("hint.choices" if self.multi else "hint.choice")


@dataclass(frozen=True)
class YesNo:
    have: bool = False  # the question asks "do you have ...": "ada"/"punya" are yes, "belum ada" no

    def read(self, text: str) -> Read | Miss:
        answer = reading.read_yes_no(text, have=self.have)
        return Miss("hint.yes_no") if answer is None else Read("yes" if answer else "no")


@dataclass(frozen=True)
class Text:
    limit: int = 2000  # kept in the case; the full message stays in the transcript

    def read(self, text: str) -> Read | Miss:
        text = reading.clean(text)
        return Read(text[: self.limit]) if text else Miss("hint.text")


@dataclass(frozen=True)
class Age:
    def read(self, text: str) -> Read | Miss:
        age = reading.read_age(text)
        return Miss("hint.age") if age is None else Read(age)


@dataclass(frozen=True)
class Digits:
    length: int
    hint: str

    def read(self, text: str) -> Read | Miss:
        digits = reading.read_digits(text, self.length)
        return Miss(self.hint) if digits is None else Read(digits)


@dataclass(frozen=True)
class Nik:
    def read(self, text: str) -> Read | Miss:
        nik, reason = reading.check_nik(text)
        return Read(nik) if nik else Miss(f"hint.nik_{reason}")


@dataclass(frozen=True)
class Phone:
    """Another number to call (a relative's, a friend's), as E.164."""

    def read(self, text: str) -> Read | Miss:
        if reading.read_yes_no(text, have=True) is False:  # "tidak ada", "gak": none to give
            return Read("")
        number = reading.read_phone(text)
        return Miss("hint.phone") if number is None else Read(number)


@dataclass(frozen=True)
class Codeword:
    """A word the resident chooses; texted alone later, it is a silent alarm."""

    def read(self, text: str) -> Read | Miss:
        """One word of letters that nothing else reads: a yes or no, a command, a greeting, a
        number would turn everyday replies into alarms. A plain "no" declines the question."""
        if reading.read_yes_no(text, have=True) is False:
            return Read("")
        word = reading.norm(text)
        everyday = reading.read_yes_no(text) is not None or reading.global_word(text) or word in GREETINGS
        if not re.fullmatch(r"[a-z]{3,30}", word) or everyday:
            return Miss("hint.codeword")
        return Read(word)


@dataclass(frozen=True)
class Place:
    """A kelurahan/desa of the site; matched by the engine against the site's own areas."""

    def read(self, text: str) -> Read | Miss:
        text = reading.clean(text)
        return Read(text[:120]) if reading.norm(text) else Miss("hint.place")


@dataclass(frozen=True)
class PlacePick:
    """Confirming one of the places the engine matched; its options are made per conversation."""

    def read(self, text: str) -> Read | Miss:  # the engine reads it against its candidates
        return Miss("hint.pick")


Answer = Choice | YesNo | Text | Age | Digits | Nik | Phone | Codeword | Place | PlacePick


@dataclass(frozen=True)
class AskWith:
    """On SMS, an optional step asked in the same message as the required step next to it (each
    SMS costs the resident money). `prompt` asks both; the required step reads the leading
    number(s) of the answer and this step what follows them ("1 34": who, then the age). An
    answer without a leading number is read whole by the required step and, when `whole`, by
    this one too ("suami, kemarin"); nothing left for this step is a LEWATI."""

    step: str  # the required step, just before or just after this one
    prompt: str  # message key of the question asking both
    whole: bool = True


@dataclass(frozen=True)
class Rule:
    """What an answer means beyond being stored. It applies when the answer is one of `when`
    (any of them, for several choices) or a number below `under`."""

    when: frozenset[str] = frozenset()
    under: int | None = None
    urgent: bool = False
    flag: str | None = None
    say: str | None = None  # message key said at once, before the next question
    goto: str | None = None  # jump instead of the step's usual next one
    end: str | None = None  # finish the conversation with this outcome (see engine)
    consent: str | None = None  # the answer records the resident's consent to this wording version
    advice: str | None = None  # message key said again at submission when the report has `flag`
    needs_flag: str | None = None  # applies only to a report already carrying this flag
    # Asked again once: when the report carries one of these flags, the first such answer is not
    # taken; `say` explains what it means and the step is asked again ("don't contact me" when a
    # child is the victim). The second answer stands.
    recheck: frozenset[str] = frozenset()

    def applies(self, value: Any) -> bool:
        if self.under is not None:
            return isinstance(value, int) and value < self.under
        values = value if isinstance(value, list) else [value]
        return any(v in self.when for v in values)

    def fits(self, flags: Collection[str]) -> bool:
        """The report's flags allow the rule (see `needs_flag` and `recheck`)."""
        if self.needs_flag is not None and self.needs_flag not in flags:
            return False
        return not self.recheck or bool(self.recheck & set(flags))


def when(*values: str, **then: Any) -> Rule:
    return Rule(when=frozenset(values), **then)


@dataclass(frozen=True)
class Step:
    name: str
    prompt: str  # message key of the question
    answer: Answer
    skip: bool = False  # LEWATI allowed
    next: str | None = None  # defaults to the following step
    skip_to: str | None = None  # where LEWATI leads, if not where an answer does
    rules: tuple[Rule, ...] = ()
    role: str | None = None  # one of ROLES, for the engine
    # Asked only when an earlier answer (by its key in the report) is one of these values.
    ask_if: tuple[str, frozenset[str]] | None = None
    # Not asked when an earlier answer is one of these (an answer never given does not count):
    # no question about contacting a resident who has no phone.
    not_if: tuple[str, frozenset[str | None]] | None = None
    sms_with: AskWith | None = None  # on SMS, asked together with a required step (see AskWith)

    def __post_init__(self) -> None:
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"step {self.name}: unknown role {self.role!r}")
        for rule in self.rules:
            if rule.advice and not rule.flag:
                raise ValueError(f"step {self.name}: advice is said for a flag; the rule has none")
            if rule.recheck and not rule.say:
                raise ValueError(f"step {self.name}: a recheck must say why the question comes again")
            if (rule.recheck or rule.needs_flag) and (rule.goto or rule.end):
                raise ValueError(f"step {self.name}: a rule that reads the flags cannot jump")

    def wanted(self, answers: Mapping[str, Any]) -> bool:
        """Whether the step is asked, given the answers so far (see `ask_if`, `not_if`)."""
        if self.not_if is not None:
            key, values = self.not_if
            if key in answers and answers[key] in values:
                return False
        if self.ask_if is None:
            return True
        key, values = self.ask_if
        return answers.get(key) in values


def only_if(key: str, *values: str) -> tuple[str, frozenset[str]]:
    return key, frozenset(values)


def never_if(key: str, *values: str | None) -> tuple[str, frozenset[str | None]]:
    return key, frozenset(values)


@dataclass(frozen=True)
class Flow:
    name: str
    title: str  # message key naming the category
    steps: tuple[Step, ...]
    intents: tuple[str, ...] = ()  # phrases that jump here from free text ("lapor kdrt")
    words: tuple[str, ...] = ()  # words naming it in the menu
    catch_all: bool = False  # the category of a report whose need was never said (a hand-off)
    # Flags raised by words in the resident's own text (the first message, free-text answers):
    # "sy diperkosa" on the shortest path after "danger now" is still sexual violence.
    flag_words: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _index: Mapping[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", MappingProxyType({s.name: s for s in self.steps}))
        roles = [s.role for s in self.steps if s.role]
        if len(roles) != len(set(roles)):
            raise ValueError(f"flow {self.name}: a role is given to two steps")
        contact = self.with_role(CONTACT)
        if contact is not None and (
            not isinstance(contact.answer, Choice)
            or {o.value for o in contact.answer.options} != set(CONTACT_METHODS)
        ):
            raise ValueError(f"flow {self.name}: the CONTACT step's options must be {CONTACT_METHODS}")
        for step in self.steps:
            if step.sms_with is not None:
                self._check_pair(step, step.sms_with)

    def _check_pair(self, step: Step, pair: AskWith) -> None:
        other = self._index.get(pair.step)
        if other is None or (
            pair.step != self.following(step.name) and step.name != self.following(pair.step)
        ):
            raise ValueError(f"flow {self.name}: {step.name} is asked with a step not next to it")
        if not step.skip or other.skip or not isinstance(other.answer, Choice):
            raise ValueError(f"flow {self.name}: {step.name} (optional) pairs with a required choice")
        if other.sms_with is not None or step.ask_if is not None:
            raise ValueError(f"flow {self.name}: {step.name} pairs with a step already paired or asked if")

    def with_role(self, role: str) -> Step | None:
        return next((s for s in self.steps if s.role == role), None)

    def step(self, name: str) -> Step:
        return self._index[name]

    def has(self, name: str) -> bool:
        return name in self._index

    @property
    def first(self) -> str:
        return self.steps[0].name

    def following(self, name: str) -> str:
        """Where a step leads when no rule says otherwise."""
        step = self._index[name]
        if step.next:
            return step.next
        names = [s.name for s in self.steps]
        i = names.index(name)
        return names[i + 1] if i + 1 < len(names) else DONE

    def destinations(self, name: str) -> list[str]:
        step = self._index[name]
        ends = [DONE for r in step.rules if r.end]
        gotos = [self.first if r.goto == FIRST else r.goto for r in step.rules if r.goto]
        skip = [step.skip_to] if step.skip_to else []
        return [*gotos, *ends, *skip, self.following(name)]

    def pair(self, name: str) -> tuple[Step, Step] | None:
        """(first, second) in flow order when the step at `name` asks two questions on SMS: it is
        the first of a pair (the optional one before its required step, or the required one
        before its optional one)."""
        step = self._index[name]
        if step.sms_with is not None and self.following(name) == step.sms_with.step:
            return step, self._index[step.sms_with.step]
        later = self._index.get(self.following(name))
        if later is not None and later.sms_with is not None and later.sms_with.step == name:
            return step, later
        return None

    def message_keys(self) -> set[str]:
        keys = {self.title}
        for s in self.steps:
            keys.add(s.prompt)
            if s.sms_with is not None:
                keys.add(s.sms_with.prompt)
            keys.update(r.say for r in s.rules if r.say)
            keys.update(r.advice for r in s.rules if r.advice)
            if isinstance(s.answer, Choice):
                keys.update(o.label for o in s.answer.options)
        return keys
