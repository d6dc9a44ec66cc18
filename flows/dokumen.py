"""Dokumen kependudukan: KTP, Kartu Keluarga, akta kelahiran (Dukcapil)."""

from flows.bansos import FOR_WHOM
from flows.common import TAIL
from flows.model import AskWith, Choice, Flow, Option, Step, Text

FLOW = Flow(
    name="dokumen",
    title="cat.dokumen",
    words=("dokumen", "ktp", "akta", "kartu keluarga", "adminduk"),
    intents=("ktp", "e ktp", "ektp", "akta", "akte", "kartu keluarga", "dukcapil", "adminduk"),
    steps=(
        Step(
            "document",
            "ask.d.document",
            Choice(
                (
                    Option("ktp", "opt.doc.ktp", ("ktp", "e ktp", "ektp")),
                    # "kk" alone is ambiguous (kakak / Kartu Keluarga); only the full name counts
                    Option("kk", "opt.doc.kk", ("kartu keluarga",)),
                    Option("birth", "opt.doc.birth", ("akta", "akte", "akta lahir")),
                    Option("other", "opt.doc.other", ("lainnya", "lain", "surat")),
                ),
                multi=True,
            ),
        ),
        Step("for_whom", "ask.d.for", FOR_WHOM),
        Step("story", "ask.d.story", Text(), skip=True, sms_with=AskWith("for_whom", "ask.d.story.with.sms")),
        *TAIL,
    ),
)
