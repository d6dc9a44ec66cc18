"""Lainnya: any other need (disability, elderly care, ...), told in the resident's words."""

from flows.bansos import FOR_WHOM
from flows.common import TAIL
from flows.disability import disability
from flows.model import Choice, Flow, Option, Step, Text

FLOW = Flow(
    name="lainnya",
    title="cat.lainnya",
    words=("lainnya", "lain", "lain lain", "disabilitas", "lansia"),
    catch_all=True,  # a hand-off before the menu files its report here
    steps=(
        Step(
            "group",
            "ask.o.group",
            Choice(
                (
                    Option("disability", "opt.group.disability", ("disabilitas", "difabel")),
                    Option("elderly", "opt.group.elderly", ("lansia", "jompo")),
                    Option("other", "opt.group.other", ("lainnya", "lain")),
                ),
                free=True,
            ),
        ),
        Step("for_whom", "ask.o.for", FOR_WHOM),
        disability("ask.disability", sms_with=("for_whom", "ask.disability.with.sms")),  # "1 tidak"
        Step("story", "ask.o.story", Text()),
        *TAIL,
    ),
)
