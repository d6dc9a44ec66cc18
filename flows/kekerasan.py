"""Kekerasan: violence against a woman, a child, an elderly or disabled person."""

from flows.common import SAFE_TAIL
from flows.disability import disability
from flows.model import Age, AskWith, Choice, Flow, Option, Rule, Step, Text, YesNo, when

FOR_WHOM = Choice(
    (
        Option("self", "opt.who.self", ("saya", "saya sendiri", "diri sendiri", "aku")),
        Option("child", "opt.who.child", ("anak", "anak saya", "anak anak")),
        Option("woman", "opt.who.woman", ("perempuan", "ibu", "teman", "tetangga saya")),
        Option("elderly_disabled", "opt.who.elderly", ("lansia", "disabilitas", "difabel")),
        Option("other", "opt.who.other", ("lainnya", "lain", "orang lain")),
    )
)

FLOW = Flow(
    name="kekerasan",
    title="cat.kekerasan",
    words=("kekerasan", "kdrt", "dipukul", "pukul", "pelecehan", "kekerasan seksual"),
    intents=(
        "kdrt",
        "kekerasan",
        "dipukul",
        "dipukuli",
        "memukul",
        "disiksa",
        "dianiaya",
        "ditampar",
        "dicekik",
        "dilecehkan",
        "pelecehan",
        "diperkosa",
        "perkosa",
        "pemerkosaan",
        "dicabuli",
        "kekerasan seksual",
        "diancam",
        "ancaman",
    ),
    flag_words=(
        (
            "tpks",
            (
                "diperkosa",
                "perkosa",
                "pemerkosaan",
                "dicabuli",
                "pencabulan",
                "kekerasan seksual",
                "pelecehan seksual",
                "dilecehkan",
            ),
        ),
    ),
    steps=(
        Step(
            "danger",
            "ask.k.danger",
            YesNo(),
            rules=(
                when("yes", urgent=True, flag="danger_now", say="emergency", goto="area"),
                when("yes", "no", say="note.not_fault"),  # once, before any question about it
            ),
        ),
        Step("who", "ask.k.who", FOR_WHOM, rules=(when("child", urgent=True, flag="child_victim"),)),
        Step(
            "age",
            "ask.k.age",
            Age(),
            skip=True,
            rules=(Rule(under=18, urgent=True, flag="child_victim", say="note.child"),),
            sms_with=AskWith("who", "ask.k.age.with.sms"),  # "1 34", "anak 5 thn"
        ),
        # About the one it happened to. On SMS on its own: every question with a number here
        # already carries its optional one.
        disability("ask.k.disability"),
        Step(
            "kind",
            "ask.k.kind",
            Choice(
                (
                    Option("physical", "opt.kind.physical", ("fisik", "pukul", "dipukul")),
                    Option("psychological", "opt.kind.psych", ("psikis", "ancaman", "diancam")),
                    Option("sexual", "opt.kind.sexual", ("seksual", "pelecehan", "diperkosa")),
                    Option("neglect", "opt.kind.neglect", ("penelantaran", "ekonomi", "nafkah")),
                    Option("online", "opt.kind.online", ("online", "daring", "medsos", "sebar")),
                ),
                multi=True,
            ),
            rules=(when("sexual", flag="tpks", advice="submitted.tpks"),),
        ),
        # Told right after what happened, so words in it (sexual violence) count at "when".
        Step("story", "ask.k.story", Text(), skip=True, sms_with=AskWith("kind", "ask.k.story.with.sms")),
        Step(
            "perpetrator",
            "ask.k.perpetrator",
            Choice(
                (
                    Option("partner", "opt.perp.partner", ("suami", "istri", "pacar", "pasangan")),
                    Option("family", "opt.perp.family", ("orang tua", "ayah", "bapak", "keluarga")),
                    Option("acquaintance", "opt.perp.known", ("tetangga", "kenalan", "teman")),
                    Option("stranger", "opt.perp.stranger", ("orang asing", "tidak kenal")),
                    Option("unsaid", "opt.perp.unsaid", ("rahasia", "tidak mau")),
                )
            ),
        ),
        Step(
            "when",
            "ask.k.when",
            Choice(
                (
                    Option("today", "opt.when.today", ("hari ini", "tadi", "barusan", "td", "semalam")),
                    Option("days", "opt.when.days", ("kemarin", "kmrn", "2 hari", "3 hari", "kemarin lusa")),
                    Option("week", "opt.when.week", ("minggu ini",)),
                    Option("month", "opt.when.month", ("bulan ini",)),
                    Option("longer", "opt.when.longer", ("lama", "sudah lama", "tahun lalu")),
                ),
                free=True,
            ),
            skip=True,
            sms_with=AskWith("perpetrator", "ask.k.when.with.sms"),  # "suami, kemarin"
            # Sexual violence in the last 72 hours: medical care (visum, PEP) cannot wait.
            rules=(
                when("today", "days", needs_flag="tpks", urgent=True, flag="tpks_72h", say="tpks.medical"),
            ),
        ),
        *SAFE_TAIL,
    ),
)
