"""What KK members type to the hotline, as data: command words, the institutions a case can be
referred to, and the message keys the member side says. No I/O; `bot/members.py` runs it.

A command is one line: a verb, then (for most) a case code, then free text:
`TERIMA 7K3QX`, `CATAT PRE-7K3QX sudah ditelepon`, `CEK 7K3QX ada`, `RUJUK 7k3qx uptd ppa`,
`HASIL 7K3QX uptd diterima`, `SELESAI 7K3QX`, `KASUS`.
"""

from __future__ import annotations

from flows import FLOWS

# verb -> the words that mean it (first is what the help text shows)
VERBS: dict[str, tuple[str, ...]] = {
    "TERIMA": ("terima", "accept", "ambil", "ok terima"),
    "TOLAK": ("tolak", "decline", "tidak bisa", "gak bisa"),
    "LIHAT": ("lihat", "detail", "rincian", "view"),
    "CATAT": ("catat", "catatan", "note"),
    "CEK": ("cek", "croscek", "crosscek", "crosscheck", "verifikasi", "periksa", "check", "verify"),
    "RUJUK": ("rujuk", "rujukan", "refer"),
    "HASIL": ("hasil", "hasil rujukan", "outcome"),
    "SELESAI": ("selesai", "tutup", "close", "done"),
    "KASUS": ("kasus", "kasus saya", "cases"),
    "BALAS": ("balas", "reply", "kirim"),
    "BANTUAN": ("bantuan", "help", "menu", "?"),
    "LAPOR": ("lapor", "report"),
    # A report for a resident at the posko or on the phone: the member answers for them.
    "WARGA": ("warga", "lapor warga", "laporan warga", "walk in", "walkin", "for resident"),
    "MEDIA": ("media", "foto", "suara", "rekaman", "video", "lampiran"),
}
NEEDS_CODE = frozenset(
    {"TERIMA", "TOLAK", "LIHAT", "CATAT", "CEK", "RUJUK", "HASIL", "SELESAI", "BALAS", "MEDIA"}
)
NEEDS_TEXT = frozenset({"CATAT", "RUJUK", "BALAS"})

# Where a case can be referred (DESIGN.md section 5), with the ways people write them. The name
# is what a referral event stores and the monthly figures group by: keep a name once it is used.
# The first institution named after the code is the one (the rest of the text is a note); two
# names starting at the same word go to the longer ("unit ppa" before "ppa"). Whole words only.
INSTITUTIONS: dict[str, tuple[str, ...]] = {
    "UPTD PPA": ("uptd ppa", "uptd", "ppa", "p2tp2a", "uptd p2tp2a", "uptd pppa"),
    "Unit PPA Polres": (
        "unit ppa polres",
        "unit ppa",
        "ppa polres",
        "ppa polresta",
        "polres",
        "polresta",
        "unit ppa polresta",
        "satreskrim",
        "sat reskrim",
    ),
    "Polisi": ("polisi", "polsek", "kepolisian", "polda", "bhabinkamtibmas"),
    "DP3A": (
        "dp3a",
        "dp3akb",
        "dp3ap2kb",
        "dppa",
        "dpppa",
        "dinas pp",
        "dinas pppa",
        "dinas p3a",
        "dinas pemberdayaan perempuan",
    ),
    "Dinsos": ("dinsos", "dinas sosial", "sosial"),
    "Dukcapil": ("dukcapil", "capil", "disdukcapil", "catatan sipil", "dinas kependudukan"),
    "BPJS": ("bpjs", "bpjs kesehatan", "bpjs kes", "jkn", "kis"),  # the name: BPJS Kesehatan
    "Puskesmas": ("puskesmas", "pkm", "pustu", "faskes", "bidan", "bidan desa"),
    "Rumah Sakit": ("rumah sakit", "rs", "rsud", "rsu", "rsia", "rs bhayangkara", "rumah sakit bhayangkara"),
    "Pengadilan Agama": ("pengadilan agama", "pa"),
    "KUA": ("kua", "kantor urusan agama"),
    "Kelurahan/Desa": (
        "kantor kelurahan",
        "kelurahan",
        "kantor lurah",
        "lurah",
        "kantor desa",
        "desa",
        "kades",
        "kepala desa",
        "pemdes",
        "pemerintah desa",
    ),
    "Pendamping PKH": ("pendamping pkh", "pkh", "sdm pkh"),
    "LBH": ("lbh", "bantuan hukum", "lembaga bantuan hukum", "posbakum", "paralegal", "pengacara", "advokat"),
    "Lainnya": ("lainnya", "lain", "lain lain", "other"),
}

# What a member found at the check (CEK kode hasil [alasan]), as typed; the values are
# storage.casestate.RESULTS. The phrase that starts first wins, the longer of two at one word
# ("tidak ada" before "ada"); what follows it is the reason.
RESULT_WORDS: dict[str, tuple[str, ...]] = {
    "found": ("ada", "ditemukan", "benar", "betul", "sesuai", "valid", "terverifikasi", "found"),
    "not_found": (
        "tidak ada",
        "tdk ada",
        "gak ada",
        "ga ada",
        "nggak ada",
        "ndak ada",
        "tidak ditemukan",
        "tdk ditemukan",
        "belum ditemukan",
        "blm ditemukan",
        "tidak benar",
        "tdk benar",
        "tidak sesuai",
        "tidak valid",
        "palsu",
        "fiktif",
        "not found",
    ),
    "duplicate": ("ganda", "dobel", "double", "duplikat", "laporan ganda", "sudah dilaporkan", "duplicate"),
}
# What became of a referral (HASIL kode lembaga hasil [catatan]); values: casestate.OUTCOMES.
OUTCOME_WORDS: dict[str, tuple[str, ...]] = {
    "received": ("diterima", "sudah diterima", "diproses", "sedang diproses", "ditangani", "received"),
    "service_given": (
        "dilayani",
        "sudah dilayani",
        "terlayani",
        "dibantu",
        "sudah dibantu",
        "sudah dapat",
        "sudah selesai",
        "served",
        "service given",
    ),
    "refused": ("ditolak", "tidak diterima", "tdk diterima", "tidak dilayani", "tdk dilayani", "refused"),
    "no_news": (
        "belum ada kabar",
        "blm ada kabar",
        "tidak ada kabar",
        "tdk ada kabar",
        "gak ada kabar",
        "belum ada jawaban",
        "tidak ada jawaban",
        "belum ada respon",
        "tidak ada respon",
        "belum diterima",
        "belum dilayani",
        "belum dibantu",
        "no news",
    ),
}
# A word that turns the phrase after it around ("belum ditemukan" is listed; "belum benar" is not,
# and is not read as "benar").
NEGATIONS = frozenset({"tidak", "tdk", "gak", "ga", "nggak", "ndak", "belum", "blm", "bukan"})

# Flags a report can carry, each shown to members and coordinators under its label "flag.<name>",
# never as stored: every flag a flow's rules raise, the engine's own, and flags old cases still carry.
ENGINE_FLAGS = ("darurat", "handoff", "call_me")  # DARURAT, a hand-off to a person, TELEPON
OLD_FLAGS = ("under_legal_age",)  # no flow raises it any more
FLAGS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *(
                rule.flag
                for flow in FLOWS.values()
                for step in flow.steps
                for rule in step.rules
                if rule.flag
            ),
            *ENGINE_FLAGS,
            *OLD_FLAGS,
        ]
    )
)

# Answers shown to a member by LIHAT, each under its own short label ("field.<step>").
FIELDS = (
    "danger",
    "who",
    "age",
    "disability",
    "kind",
    "perpetrator",
    "when",
    "story",
    "contact_time",
    "program",
    "for_whom",
    "vulnerable",
    "documents",
    "nik",
    "problem",
    "treatment",
    "card",
    "status",
    "forced",
    "relation",
    "document",
    "group",
)
# Answers the console shows besides FIELDS (LIHAT has them in its contact line and heading).
CONSOLE_FIELDS = ("area", "contact", "name", "media", "safer_number", "codeword")
YES_NO = {"yes": "answer.yes", "no": "answer.no"}  # how a YesNo answer is shown

KEYS = (
    *(f"field.{name}" for name in (*FIELDS, *CONSOLE_FIELDS)),
    *(f"flag.{name}" for name in FLAGS),
    *YES_NO.values(),
    "member.offer",
    "member.offer_practice",
    "member.media_whatsapp",
    "member.offer_urgent",
    "member.unanswered",
    "member.urgent_holder",
    "member.accepted",
    "member.taken",
    "member.declined",
    "member.not_offered",
    "member.not_yours",
    "member.unknown_case",
    "member.need_code",
    "member.need_text",
    "member.details",
    "member.noted",
    "member.referred",
    "member.unknown_org",
    "member.verified",
    "member.verified_closed",
    "member.verify_how",
    "member.verify_reason",
    "member.accept_first",
    "member.outcome",
    "member.outcome_how",
    "member.outcome_which",
    "member.not_referred",
    "member.open_referral",
    "member.details_check",
    "member.details_referrals",
    "outcome.none",
    "member.closed",
    "member.cancelled",
    "member.already_closed",
    "member.relayed",
    "member.no_messages",
    "member.cases_head",
    "member.cases_line",
    "member.cases_offer",
    "member.cases_none",
    "member.help",
    "member.unknown",
    "member.resident_reply",
    "member.contact.call",
    "member.contact.message",
    "member.contact.none",
    "member.media_sent",
    "member.media_item",
    "member.media_none",
    "member.media_erased",
    "resident.accepted",
    "resident.closed",
    "resident.relay",
    "resident.relay_ack",
)
