"""The parts every report shares: safety and consent first (SAFETY), and the closing steps
(TAIL: where, how to contact safely, name, summary). Category flows put their questions in
between; the menu that chooses one is built from them in flows/__init__.py."""

from __future__ import annotations

from flows import sms
from flows.model import (
    CONTACT,
    EMERGENCY,
    FIRST,
    NAME,
    PHONE,
    SUMMARY,
    AskWith,
    Choice,
    Codeword,
    Option,
    Phone,
    Place,
    PlacePick,
    Step,
    Text,
    YesNo,
    never_if,
    only_if,
    when,
)

CONSENT_VERSION = "2026-11-v2"  # bump when ask.consent changes; v2 says where a report goes
# The same consent read aloud to a resident by a KK member (posko, phone call): its own version,
# so a record says how the resident heard it. Follows CONSENT_VERSION (and ask.w.consent with it).
SPOKEN_CONSENT_VERSION = f"{CONSENT_VERSION}-lisan"

SAFETY = (
    Step("safe", "ask.safe", YesNo(), rules=(when("no", say="safety.leave", end="unsafe"),)),
    Step(
        "consent",
        "ask.consent",
        YesNo(),
        rules=(
            when("no", say="consent.declined", end="declined"),
            when("yes", consent=CONSENT_VERSION),
        ),
    ),
)

# After danger now, a child victim or DARURAT, "don't contact me" is asked again once: the
# resident hears what it means (nobody can follow up), and the second answer stands.
NEEDS_CONTACT = frozenset({"danger_now", "child_victim", "darurat", "forced_marriage"})

# When each safe time lets the hotline write to the resident, in the site's local time:
# [start, end) hours. "any", a skipped question and free text put no limit.
CONTACT_WINDOWS: dict[str, tuple[int, int]] = {"morning": (7, 11), "midday": (11, 15), "evening": (15, 21)}

# Asked in the violence and child-marriage flows only, of residents who may be contacted: a safer
# number for call-backs (a relative's, a friend's), and a code word that, texted alone later, is
# a silent alarm and lets the member check they speak to the right person.
SAFER_NUMBER = Step("safer_number", "ask.safer_number", Phone(), skip=True, ask_if=only_if(CONTACT, "call"))
CODEWORD = Step("codeword", "ask.codeword", Codeword(), skip=True, ask_if=only_if(CONTACT, "call", "message"))


# A resident reported for by a KK member who has no phone (see flows.onbehalf) is not asked how
# to be contacted: nothing is ever sent to them.
NO_PHONE = never_if(PHONE, "", None)

# On SMS the safe time comes with the contact method ("2 malam").
CONTACT_TIME = Step(
    "contact_time",
    "ask.contact_time",
    Choice(
        (
            Option("morning", "opt.time.morning", ("pagi",)),
            Option("midday", "opt.time.midday", ("siang",)),
            Option("evening", "opt.time.evening", ("sore", "malam")),
            Option("any", "opt.time.any", ("kapan saja", "bebas", "terserah")),
        ),
        free=True,
    ),
    skip=True,
    sms_with=AskWith("contact", "ask.contact_time.with.sms"),  # "2 malam"
    not_if=NO_PHONE,
)
# On SMS the name comes with "send" ("1 Rina"): a name alone is never read as a choice.
NAME_STEP = Step(
    "name",
    "ask.name",
    Text(limit=100),
    skip=True,
    role=NAME,
    sms_with=AskWith("confirm", "ask.name.with.sms", whole=False),
)


def closing(*safety: Step) -> tuple[Step, ...]:
    """The closing steps every report shares, with `safety` steps before the name."""
    return (
        Step("area", "ask.area", Place(), skip=True, skip_to="contact", role=EMERGENCY),
        Step("area_ok", "ask.area_ok", PlacePick(), next="contact"),
        Step(
            "contact",
            "ask.contact",
            Choice(
                (
                    Option("call", "opt.contact.call", ("telepon", "telpon", "tlp", "telp", "call")),
                    Option("message", "opt.contact.message", ("pesan", "sms", "wa", "whatsapp")),
                    Option("none", "opt.contact.none", ("saya sendiri", "saya yang", "jangan")),
                )
            ),
            rules=(
                when("none", recheck=NEEDS_CONTACT, say="contact.none_check"),
                when("none", goto="name"),
            ),
            role=CONTACT,
            not_if=NO_PHONE,
        ),
        CONTACT_TIME,
        *safety,
        NAME_STEP,
        Step(
            "confirm",
            "ask.confirm",
            Choice(
                (
                    Option("send", "opt.confirm.send", ("kirim", "send", "ya", "oke", "ok")),
                    Option("change", "opt.confirm.change", ("ubah", "ganti", "edit")),
                    Option("cancel", "opt.confirm.cancel", ("batal", "cancel")),
                )
            ),
            rules=(
                when("change", goto=FIRST),
                when("cancel", end="cancelled"),
                when("send", end="submitted"),
            ),
            role=SUMMARY,
        ),
    )


TAIL = closing()
SAFE_TAIL = closing(SAFER_NUMBER, CODEWORD)

# Keys said outside any step's own question and options: by the engine (welcome, global words,
# holds, the summary, submission) and by the answer readers (hint.*). Listed so extraction and
# `flows check` see them; case status labels come from storage.casestate.
SYSTEM_KEYS = (
    "welcome",
    "emergency",
    "help",
    "cancelled",
    "restarted",
    "status.none",
    "status.resident.open",
    "status.resident.done",
    "resident.ack",
    "resume.safe",
    "call.done",
    "call.after_consent",
    "note.media_kept",
    "hint.media",
    "hint.phone",
    "hint.codeword",
    "status.head",
    "status.line",
    "status.more",
    "erase.ask",
    "erase.done",
    "erase.kept",
    "stopped",
    "lang.set",
    "resume.ask",
    "handoff.offer",
    "handoff.done",
    "handoff.declined",
    "submitted",
    "submitted.call",
    "submitted.message",
    "submitted.none",
    "summary",
    "anonymous",
    "unknown",
    "urgent.noted",
    "skip.not_allowed",
    "hint.choice",
    "hint.choices",
    "hint.yes_no",
    "hint.text",
    "hint.age",
    "hint.place",
    "hint.place_unknown",
    "hint.pick",
    "hint.nik_length",
    "hint.nik_region",
    "hint.nik_date",
    "hint.bpjs_card",
    "hint.misses",
    "hint.form_command",
    "onbehalf.welcome",
    "onbehalf.submitted",
    "onbehalf.no_phone",
    "onbehalf.member_phone",
    "hint.member_phone",
    *sorted(sms.key(k) for k in sms.SHORT),  # the SMS wording, said instead on SMS
)
