"""Shorter wording for SMS, as data: every segment costs the resident money and a basic phone
shows little. A key listed in SHORT has a `<key>.sms` text in the catalogs, said instead of it
when the resident writes by SMS; WhatsApp keeps the longer form. Questions asked together on
SMS are declared on their steps (flows.model.AskWith)."""

from __future__ import annotations

CHANNEL = "sms"

SHORT = frozenset(
    {
        # questions
        "ask.k.age",
        "ask.k.story",
        "ask.k.disability",
        "ask.safer_number",
        "ask.contact",
        "ask.name",
        "ask.b.vulnerable",
        "ask.b.documents",
        "ask.c.age",
        "ask.p.treatment",
        "ask.p.card",
        # options
        "opt.who.elderly",
        "opt.kind.physical",
        "opt.kind.psych",
        "opt.kind.neglect",
        "opt.kind.online",
        "opt.perp.known",
        "opt.perp.partner",
        "opt.contact.call",
        "opt.contact.message",
        "opt.contact.none",
        "opt.marr.taken",
        "opt.docs.no_kk",
        "opt.vuln.disability",
        "opt.vuln.woman_head",
        # what is said along the way (the two infos: short enough for "for whom" with the
        # disability question after them in one SMS)
        "info.b.dtsen",
        "info.p.pbi",
        "contact.none_check",
        "summary",
        "submitted",
        "submitted.none",
        "submitted.call",
        "submitted.tpks",
        "note.child",
        "note.marriage_age",
        "tpks.medical",
    }
)


def key(message: str) -> str:
    """The key said on SMS for `message`."""
    return f"{message}.sms" if message in SHORT else message
