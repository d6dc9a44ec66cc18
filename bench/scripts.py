"""Conversations the benchmarks replay: a complete report in each flow, as a resident types it.

On SMS some questions come two in one message (flows.model.AskWith), so a resident answers them
in one reply ("sy sendiri, 34 thn"); WhatsApp asks them one by one. KEKERASAN is the SMS report
the webhook benchmark replays (its posts carry no "whatsapp:" prefix)."""

START = ("halo", "iya", "ok setuju")  # safe to reply, consent

KEKERASAN = (
    *START,
    "1",
    "gak",  # not in danger now
    "sy sendiri, 34 thn",  # who, and the age
    "tidak",  # no disability
    "1 dan 2, sy dipukul suami krn telat masak",  # what kind, and the story
    "suami, tadi malam",  # who did it, and when
    "kel lompoe",  # matched exactly: nothing to confirm
    "2 malam",  # messages, and the safe time
    "LEWATI",  # no code word
    "1",  # send, anonymous
)

KEKERASAN_WHATSAPP = (
    *START,
    "1",
    "gak",
    "sy sendiri",
    "umur 34 thn",
    "tidak",  # no disability
    "1 dan 2",
    "sy dipukul suami krn telat masak",
    "suami",
    "tadi malam",
    "kel lompoe",
    "2",
    "malam",
    "LEWATI",  # no code word
    "LEWATI",  # anonymous
    "1",
)

# flow -> channel -> what the resident sends, first message to "send"
REPORTS: dict[str, dict[str, tuple[str, ...]]] = {
    "kekerasan": {"sms": KEKERASAN, "whatsapp": KEKERASAN_WHATSAPP},
    "bansos": {
        "sms": (
            *START,
            "2",
            "1",
            "1 tidak",
            "1,4",
            "1",
            "LEWATI",
            "PKH saya dicoret",
            "lompoe",
            "2 pagi",
            "1",
        ),
        "whatsapp": (
            *START,
            "2",
            "1",
            "1",
            "tidak",  # no disability
            "1,4",
            "1",
            "LEWATI",
            "PKH saya dicoret",
            "lompoe",
            "2",
            "pagi",
            "LEWATI",
            "1",
        ),
    },
    "bpjs": {
        "sms": (*START, "3", "1", "1 tidak", "tidak", "LEWATI", "kartu tdk aktif", "lompoe", "2 pagi", "1"),
        "whatsapp": (
            *START,
            "3",
            "1",
            "1",
            "tidak",  # no disability
            "tidak",
            "LEWATI",
            "kartu tdk aktif",
            "lompoe",
            "2",
            "pagi",
            "LEWATI",
            "1",
        ),
    },
    "perkawinan_anak": {
        "sms": (
            *START,
            "4",
            "1",
            "2 16",
            "3 tidak",  # forced: not known; no disability
            "2 anak sy mau dinikahkan",
            "lompoe",
            "2 malam",
            "LEWATI",
            "1",
        ),
        "whatsapp": (
            *START,
            "4",
            "1",
            "2",
            "16",
            "tidak",  # no disability
            "3",
            "2",
            "anak sy mau dinikahkan",
            "lompoe",
            "2",
            "malam",
            "LEWATI",
            "LEWATI",
            "1",
        ),
    },
    "dokumen": {
        "sms": (*START, "5", "2 tidak", "3 akta anak hilang", "lompoe", "2 pagi", "1"),
        "whatsapp": (
            *START,
            "5",
            "2",
            "tidak",
            "3",
            "akta anak hilang",
            "lompoe",
            "2",
            "pagi",
            "LEWATI",
            "1",
        ),
    },
    "lainnya": {
        "sms": (*START, "6", "1", "1 ya", "butuh kursi roda", "lompoe", "2 pagi", "1"),
        "whatsapp": (*START, "6", "1", "1", "ya", "butuh kursi roda", "lompoe", "2", "pagi", "LEWATI", "1"),
    },
}
