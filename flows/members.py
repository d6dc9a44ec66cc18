"""What KK members type to the hotline, as data: command words, the institutions a case can be
referred to, and the message keys the member side says. No I/O; `bot/members.py` runs it.

A command is one line: a verb, then (for most) a case code, then free text:
`TERIMA 7K3QX`, `CATAT PRE-7K3QX sudah ditelepon`, `RUJUK 7k3qx uptd ppa`, `KASUS`.
"""

from __future__ import annotations

# verb -> the words that mean it (first is what the help text shows)
VERBS: dict[str, tuple[str, ...]] = {
    "TERIMA": ("terima", "accept", "ambil", "ok terima"),
    "TOLAK": ("tolak", "decline", "tidak bisa", "gak bisa"),
    "LIHAT": ("lihat", "detail", "rincian", "view"),
    "CATAT": ("catat", "catatan", "note"),
    "RUJUK": ("rujuk", "rujukan", "refer"),
    "SELESAI": ("selesai", "tutup", "close", "done"),
    "KASUS": ("kasus", "kasus saya", "cases"),
    "BALAS": ("balas", "reply", "kirim"),
    "BANTUAN": ("bantuan", "help", "menu", "?"),
    "LAPOR": ("lapor", "report"),
}
NEEDS_CODE = frozenset({"TERIMA", "TOLAK", "LIHAT", "CATAT", "RUJUK", "SELESAI", "BALAS"})
NEEDS_TEXT = frozenset({"CATAT", "RUJUK", "BALAS"})

# Where a case can be referred (DESIGN.md section 5), with the ways people write them.
INSTITUTIONS: dict[str, tuple[str, ...]] = {
    "UPTD PPA": ("uptd ppa", "uptd", "ppa", "p2tp2a"),
    "DP3A": ("dp3a", "dppa", "dinas pp", "dinas pemberdayaan perempuan"),
    "Dinsos": ("dinsos", "dinas sosial", "sosial"),
    "Dukcapil": ("dukcapil", "capil", "disdukcapil", "catatan sipil"),
    "BPJS": ("bpjs", "bpjs kesehatan"),
    "Puskesmas": ("puskesmas", "pkm", "rumah sakit", "rs", "faskes"),
    "Polisi": ("polisi", "polsek", "polres", "kepolisian", "unit ppa polres"),
    "Lainnya": ("lainnya", "lain", "lain lain", "other"),
}

# Answers shown to a member by LIHAT, each under its own short label ("field.<step>").
FIELDS = (
    "danger",
    "who",
    "age",
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

KEYS = (
    *(f"field.{name}" for name in FIELDS),
    "member.offer",
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
    "resident.accepted",
    "resident.closed",
    "resident.relay",
    "resident.relay_ack",
)
