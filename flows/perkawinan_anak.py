"""Perkawinan anak: a child about to be married, matched, or already married.

The legal minimum age is 19 for both (UU 16/2019). In Lombok the practice is called
"merarik kodek" (merarik: elopement-marriage; kodek: small)."""

from flows.common import TAIL
from flows.model import Age, Choice, Flow, Option, Rule, Step, Text, when

FLOW = Flow(
    name="perkawinan_anak",
    title="cat.perkawinan_anak",
    words=("perkawinan anak", "pernikahan anak", "nikah anak", "nikah dini", "merarik kodek"),
    intents=(
        "dinikahkan",
        "nikahkan",
        "menikahkan",
        "dikawinkan",
        "kawin anak",
        "nikah anak",
        "nikah dini",
        "pernikahan dini",
        "perkawinan anak",
        "pernikahan anak",
        "merarik",
        "merariq",
        "merarik kodek",
        "dijodohkan",
        "kawin muda",
        "nikah muda",
        "menikah muda",
    ),
    steps=(
        Step(
            "status",
            "ask.c.status",
            Choice(
                (
                    Option("planned", "opt.marr.planned", ("akan", "mau dinikahkan", "rencana")),
                    Option("married", "opt.marr.married", ("sudah", "sudah menikah")),
                    Option("matched", "opt.marr.matched", ("dijodohkan", "jodoh", "lamaran")),
                )
            ),
            rules=(when("married", goto="age"),),
        ),
        Step(
            "when",
            "ask.c.when",
            Choice(
                (
                    Option("this_week", "opt.marr.week", ("minggu ini", "besok", "lusa")),
                    Option("this_month", "opt.marr.month", ("bulan ini",)),
                    Option("later", "opt.marr.later", ("nanti", "belum tahu", "tidak tahu")),
                )
            ),
            rules=(when("this_week", urgent=True, flag="marriage_this_week"),),
        ),
        Step(
            "age",
            "ask.c.age",
            Age(),
            skip=True,
            rules=(Rule(under=19, flag="under_legal_age"),),
        ),
        Step(
            "forced",
            "ask.c.forced",
            Choice(
                (
                    Option("yes", "opt.forced.yes", ("ya", "iya", "dipaksa", "terpaksa")),
                    Option("no", "opt.forced.no", ("tidak", "mau sendiri")),
                    Option("unknown", "opt.forced.unknown", ("tidak tahu", "entah")),
                )
            ),
            rules=(when("yes", flag="forced"),),
        ),
        Step(
            "relation",
            "ask.c.relation",
            Choice(
                (
                    Option("child", "opt.rel.child", ("saya sendiri", "saya")),
                    Option("parent", "opt.rel.parent", ("orang tua", "ibu", "bapak", "ayah")),
                    Option("family", "opt.rel.family", ("keluarga", "kakak", "paman", "bibi")),
                    Option("community", "opt.rel.community", ("guru", "tetangga", "teman")),
                    Option("other", "opt.rel.other", ("lainnya", "lain")),
                )
            ),
        ),
        Step("story", "ask.c.story", Text(), skip=True),
        *TAIL,
    ),
)
