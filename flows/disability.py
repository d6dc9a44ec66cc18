"""The disability question the monev figures count (storage.monev: the person helped by sex, age
group and disability).

Asked once in every category flow, about the person the report is for (the one it happened to,
the child, whoever needs the help: not always the one texting), in that flow's own words, and
never required: LEWATI keeps nothing. The answer is kept as "yes" or "no".
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import reading
from flows.model import AskWith, Miss, Read, Step, YesNo

NAME = "disability"  # the answer's key in a report; storage.monev reads it there

# How people say a difficulty instead of answering yes: "gak bisa jalan", "sulit melihat", "tuli".
# Said, it is a yes, though "tidak bisa ..." alone reads as a no; denied ("tidak sulit berjalan",
# "bukan difabel") it is not.
_ACTIONS = (
    *("melihat", "lihat", "liat", "mendengar", "dengar", "denger", "berjalan", "jalan"),
    *("bicara", "berbicara", "mengingat", "ingat", "bergerak", "berdiri"),
)
DIFFICULTIES = (
    *("disabilitas", "penyandang disabilitas", "difabel", "cacat", "berkebutuhan khusus"),
    *("buta", "tunanetra", "tuna netra", "tuli", "tunarungu", "tuna rungu", "bisu", "tunawicara"),
    *("lumpuh", "tunadaksa", "tuna daksa", "kursi roda", "tunagrahita", "tuna grahita", "autis"),
    *(f"{hard} {action}" for hard in ("sulit", "susah", "kesulitan", "tidak bisa") for action in _ACTIONS),
)
# "bisa jalan" (can walk) is no yes, though "bisa" alone is one: asked again.
ABLE = tuple(f"bisa {action}" for action in _ACTIONS)


def _denied(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """Each phrase with a denial before it, normalised once (longest phrase first): read on every
    answer to the question, so not worked out again each time."""
    normed = sorted(map(reading.norm, phrases), key=len, reverse=True)
    return tuple(f" {denial} {phrase} " for phrase in normed for denial in reading.DENIALS)


_DENIED = {DIFFICULTIES: _denied(DIFFICULTIES), ABLE: _denied(ABLE)}


def _says(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether text names one of the phrases, leaving out those a denial goes before."""
    said = f" {reading.norm(text)} "
    for denied in _DENIED[phrases]:
        said = said.replace(denied, " ")
    return reading.contains_phrase(said, phrases)


@dataclass(frozen=True)
class Disability(YesNo):
    """Yes or no; a difficulty named and not denied is a yes ("tidak bisa jalan")."""

    def read(self, text: str) -> Read | Miss:
        if _says(text, DIFFICULTIES):
            return Read("yes")
        if _says(text, ABLE):
            return Miss("hint.yes_no")
        return super().read(text)


def disability(prompt: str, sms_with: tuple[str, str] | None = None) -> Step:
    """The question, its wording (`prompt`) saying who it is about. On SMS it can be asked with the
    required choice next to it: `sms_with` is (that step, the key of the text asking both). Only
    what follows the choice's number answers it ("2 tidak"): a whole "tidak" answers the choice."""
    pair = None if sms_with is None else AskWith(*sms_with, whole=False)
    return Step(NAME, prompt, Disability(), skip=True, sms_with=pair)
