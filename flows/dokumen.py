"""Dokumen kependudukan: KTP, Kartu Keluarga, akta kelahiran (Dukcapil)."""

from flows.bansos import FOR_WHOM
from flows.common import TAIL
from flows.disability import disability
from flows.model import AskWith, Choice, Flow, Option, Step, Text

FLOW = Flow(
    name="dokumen",
    title="cat.dokumen",
    words=("dokumen", "ktp", "akta", "kartu keluarga", "adminduk"),
    intents=("ktp", "e ktp", "ektp", "akta", "akte", "kartu keluarga", "dukcapil", "adminduk"),
    # For whom first, then the document and, on SMS in the same answer, what went wrong with it
    # ("3 akta hilang"): each question with a number carries its optional one.
    steps=(
        Step("for_whom", "ask.d.for", FOR_WHOM),
        disability("ask.disability", sms_with=("for_whom", "ask.disability.with.sms")),  # "1 tidak"
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
        Step("story", "ask.d.story", Text(), skip=True, sms_with=AskWith("document", "ask.d.story.with.sms")),
        *TAIL,
    ),
)
