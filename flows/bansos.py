"""Bansos / DTKS / DTSEN: a household left out of social assistance."""

from flows.common import TAIL
from flows.model import Choice, Flow, Nik, Option, Step, Text, YesNo, when

FOR_WHOM = Choice(
    (
        Option("self", "opt.for.self", ("saya", "saya sendiri", "aku")),
        Option(
            "household",
            "opt.for.household",
            ("keluarga", "serumah", "anak", "suami", "istri", "ibu", "bapak", "orang tua", "nenek"),
        ),
        Option("other", "opt.for.other", ("orang lain", "tetangga", "lainnya")),
    )
)

FLOW = Flow(
    name="bansos",
    title="cat.bansos",
    words=("bansos", "dtks", "dtsen", "pkh", "bpnt", "sembako", "bantuan sosial"),
    intents=(
        "bansos",
        "dtks",
        "dtsen",
        "pkh",
        "bpnt",
        "sembako",
        "blt",
        "bantuan sosial",
        "tidak dapat bantuan",
        "tidak terdaftar",
    ),
    steps=(
        Step(
            "program",
            "ask.b.program",
            Choice(
                (
                    Option("pkh", "opt.prog.pkh", ("pkh",)),
                    Option("bpnt", "opt.prog.bpnt", ("bpnt", "sembako")),
                    Option("other", "opt.prog.other", ("lainnya", "lain", "blt")),
                    Option("never", "opt.prog.never", ("belum pernah", "tidak pernah")),
                )
            ),
        ),
        Step("for_whom", "ask.b.for", FOR_WHOM),
        Step(
            "vulnerable",
            "ask.b.vulnerable",
            Choice(
                (
                    Option("elderly", "opt.vuln.elderly", ("lansia", "orang tua", "jompo")),
                    Option("disability", "opt.vuln.disability", ("disabilitas", "difabel")),
                    Option("young_children", "opt.vuln.children", ("balita", "anak kecil")),
                    Option("pregnant", "opt.vuln.pregnant", ("hamil", "ibu hamil")),
                    Option("woman_head", "opt.vuln.woman_head", ("janda", "kepala keluarga")),
                    Option("none", "opt.vuln.none", ("tidak ada", "tidak")),
                ),
                multi=True,
            ),
            skip=True,
        ),
        Step(
            "documents",
            "ask.b.documents",
            YesNo(),
            rules=(when("no", flag="needs_documents"),),
        ),
        Step("nik", "ask.b.nik", Nik(), skip=True),
        Step("story", "ask.b.story", Text(), skip=True),
        *TAIL,
    ),
)
