"""Bansos / DTKS / DTSEN: a household left out of social assistance."""

from flows.common import TAIL
from flows.disability import disability
from flows.model import Choice, Flow, Nik, Option, Step, Text, when


def _lacking(*documents: str) -> tuple[str, ...]:
    """How people say a document is missing: "tidak punya ktp", "blm ada kk", "ktp tidak ada"."""
    return tuple(
        phrase
        for doc in documents
        for deny in ("tidak", "belum")
        for phrase in (f"{deny} punya {doc}", f"{deny} ada {doc}", f"{doc} {deny} ada", f"{doc} {deny} punya")
    )


# Missing documents keep a household out of DTSEN (no NIK to match): one plain option each. A
# bare "punya"/"ada" is not read as having both: "g punya" is not normalised to a denial.
DOCUMENTS = Choice(
    (
        Option(
            "both",
            "opt.docs.both",
            (
                "punya semua",
                "ada semua",
                "lengkap",
                "punya keduanya",
                "ada keduanya",
                "punya ktp dan kk",
                "ada ktp dan kk",
                "sudah punya",
                "sudah ada",
            ),
        ),
        Option("no_ktp", "opt.docs.no_ktp", (*_lacking("ktp", "e ktp"), "ktp hilang")),
        Option("no_kk", "opt.docs.no_kk", (*_lacking("kk", "kartu keluarga"), "kk hilang")),
        Option(
            "neither",
            "opt.docs.neither",
            (
                *_lacking("keduanya", "dua duanya", "semua", "ktp dan kk", "ktp kk"),
                "tidak punya",
                "belum punya",
                "tidak ada",
                "belum ada",
                "gada",
                "gaada",
                "tidak",
            ),
        ),
    )
)

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
            # Who gets bansos is read from DTSEN; it is updated through the kelurahan/desa or by
            # the resident in the Cek Bansos app (usul/sanggah), whatever the answer.
            rules=(when("pkh", "bpnt", "other", "never", say="info.b.dtsen"),),
        ),
        Step("for_whom", "ask.b.for", FOR_WHOM),
        disability("ask.disability", sms_with=("for_whom", "ask.disability.with.sms")),  # "1 tidak"
        Step(
            "vulnerable",
            "ask.b.vulnerable",
            Choice(
                (
                    Option("elderly", "opt.vuln.elderly", ("lansia", "orang tua", "jompo")),
                    Option("disability", "opt.vuln.disability", ("disabilitas", "difabel")),
                    Option("young_children", "opt.vuln.children", ("balita", "anak kecil")),
                    Option("pregnant", "opt.vuln.pregnant", ("hamil", "ibu hamil")),
                    Option(
                        "woman_head",
                        "opt.vuln.woman_head",
                        (
                            "ibu kepala keluarga",
                            "perempuan kepala keluarga",
                            "janda",
                            "kepala keluarga",
                            "pekka",
                        ),
                    ),
                    Option("none", "opt.vuln.none", ("tidak ada", "tidak")),
                ),
                multi=True,
            ),
            skip=True,
        ),
        Step(
            "documents",
            "ask.b.documents",
            DOCUMENTS,
            rules=(when("no_ktp", "no_kk", "neither", flag="needs_documents"),),
        ),
        Step("nik", "ask.b.nik", Nik(), skip=True),
        Step("story", "ask.b.story", Text(), skip=True),
        *TAIL,
    ),
)
