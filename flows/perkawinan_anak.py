"""Perkawinan anak: a child about to be married, matched, or already married.

The legal minimum age is 19 for both (UU 16/2019). In Lombok the practice is called
"merarik kodek" (merarik: elopement-marriage; kodek: small)."""

from flows.common import SAFE_TAIL
from flows.disability import disability
from flows.model import Age, AskWith, Choice, Flow, Option, Rule, Step, Text, when

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
                    Option(
                        "taken",
                        "opt.marr.taken",
                        ("dibawa lari", "dilarikan", "merarik", "merariq", "kawin lari", "diculik"),
                    ),
                    Option("married", "opt.marr.married", ("sudah menikah", "sudah nikah", "sudah kawin")),
                    Option("matched", "opt.marr.matched", ("dijodohkan", "jodoh", "lamaran")),
                )
            ),
            rules=(
                # Taken away (merarik) but not yet married: the wedding may be days away.
                when("taken", urgent=True, flag="taken_away", goto="age"),
                when("married", goto="age"),
            ),
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
            rules=(
                # Under 19 (UU 16/2019) a marriage needs dispensasi kawin from the Pengadilan
                # Agama; forcing a child to marry is pemaksaan perkawinan (UU TPKS Pasal 10(2)).
                Rule(under=19, flag="forced_marriage", say="note.marriage_age"),
                Rule(under=19, flag="tpks"),
            ),
            sms_with=AskWith("when", "ask.c.age.with.sms"),  # "minggu ini, 15 thn"
        ),
        # About the child, asked after the age (a married or taken child's report starts there).
        disability("ask.c.disability", sms_with=("forced", "ask.c.disability.with.sms")),  # "2 tidak"
        Step(
            "forced",
            "ask.c.forced",
            Choice(
                (
                    Option("yes", "opt.forced.yes", ("ya", "iya", "dipaksa", "terpaksa")),
                    Option(
                        "no", "opt.forced.no", ("tidak", "mau sendiri", "tidak dipaksa", "tidak terpaksa")
                    ),
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
        Step("story", "ask.c.story", Text(), skip=True, sms_with=AskWith("relation", "ask.c.story.with.sms")),
        *SAFE_TAIL,
    ),
)
