"""BPJS Kesehatan: PBI deactivated, never enrolled, or moving to PBI."""

from flows.bansos import FOR_WHOM
from flows.common import TAIL
from flows.disability import disability
from flows.model import Choice, Digits, Flow, Option, Step, Text, YesNo, when

FLOW = Flow(
    name="bpjs",
    title="cat.bpjs",
    words=("bpjs", "kis", "jkn", "bpjs kesehatan"),
    intents=("bpjs", "kis", "jkn", "pbi", "kartu sehat", "berobat"),
    steps=(
        Step(
            "problem",
            "ask.p.problem",
            Choice(
                (
                    Option("pbi_inactive", "opt.bpjs.inactive", ("nonaktif", "mati", "tidak aktif")),
                    Option("never", "opt.bpjs.never", ("belum punya", "tidak punya")),
                    Option("to_pbi", "opt.bpjs.to_pbi", ("pindah", "pbi", "tidak mampu bayar")),
                    Option("other", "opt.bpjs.other", ("lainnya", "lain")),
                )
            ),
            # PBI is switched back on (2026): a letter from the puskesmas/RS, taken to the
            # kelurahan/desa, and Dinsos reactivates it.
            rules=(when("pbi_inactive", say="info.p.pbi"),),
        ),
        Step("for_whom", "ask.p.for", FOR_WHOM),
        disability("ask.disability", sms_with=("for_whom", "ask.disability.with.sms")),  # "1 tidak"
        Step(
            "treatment",
            "ask.p.treatment",
            YesNo(),
            rules=(when("yes", urgent=True, flag="needs_treatment", say="note.bpjs_letter"),),
        ),
        Step("card", "ask.p.card", Digits(13, "hint.bpjs_card"), skip=True),
        Step("story", "ask.p.story", Text(), skip=True),
        *TAIL,
    ),
)
