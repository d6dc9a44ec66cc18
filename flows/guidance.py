"""What a KK member must know before acting on a report, said with the offer and in LIHAT:
by the report's flags, when the resident does not want to be contacted, and when a message to
the resident waits for their safe time. Message keys; the
words are in the catalogs (Bahasa Indonesia first)."""

from __future__ import annotations

# flag -> guidance. Sexual violence and forced marriage may not be mediated or settled by adat or
# marriage (UU TPKS 12/2022 Pasal 23); referral to UPTD PPA with the victim's agreement.
GUIDANCE: dict[str, str] = {
    "tpks": "guide.tpks",
    "tpks_72h": "guide.tpks_72h",
    "forced_marriage": "guide.forced_marriage",
    "call_me": "guide.call_me",
}
NO_CONTACT = "guide.no_contact"  # the resident chose "don't contact me", even after being asked again
# A report a member took for a resident (posko, phone call): who took it; and when the resident
# has no phone of their own, that the hotline sends them nothing.
TAKEN_FOR = "guide.taken_for"
NO_PHONE = "guide.no_phone"
LATER = "member.resident_later"  # a message to the resident waits for the safe time they chose
SAFER = "member.safer_number"  # the safer number a resident gave for calls, in LIHAT
CODEWORD = "member.codeword"  # the resident's code word, in the holder's LIHAT
ALARM, ALARM_CLOSED = "member.codeword_alarm", "member.codeword_closed"  # the code word texted
KEYS = (*GUIDANCE.values(), NO_CONTACT, TAKEN_FOR, NO_PHONE, LATER, SAFER, CODEWORD, ALARM, ALARM_CLOSED)
