"""Conversations the benchmarks replay: a complete Kekerasan report, as a resident types it."""

KEKERASAN = (
    "halo",
    "iya",
    "ok setuju",
    "1",
    "gak",
    "sy sendiri",
    "umur 34 thn",
    "1 dan 2",
    "suami",
    "tadi malam",
    "sy dipukul suami krn telat masak",
    "kel lompoe",
    "1",
    "2",
    "malam",
    "LEWATI",  # no code word
    "LEWATI",  # anonymous
    "1",
)
