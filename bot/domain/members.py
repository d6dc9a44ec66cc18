"""KK members' commands by text: TERIMA, TOLAK, LIHAT, CATAT, CEK, RUJUK, HASIL, SELESAI, KASUS,
BALAS, MEDIA. The case's life after acceptance (CEK, RUJUK, HASIL, SELESAI) is bot.domain.caselife.

`read_command` is pure; `run` acts on the case inside the caller's transaction (the case row
locked, so two members racing TERIMA queue up and exactly one wins) and returns the reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import caselife, duty, followup, i18n
from bot.domain.engine import Key, Say
from bot.runtime import Hotline
from flows import FLOWS
from flows.guidance import CODEWORD, NO_PHONE, SAFER
from flows.members import FIELDS, FLAGS, INSTITUTIONS, NEEDS_CODE, NEEDS_TEXT, VERBS, YES_NO
from flows.model import Choice, YesNo
from flows.reading import norm
from storage import assignments, audit, casebook, casestate, queries
from storage.cases import add_event
from storage.casestate import FINISHED, OPEN, OUTCOME_LABELS, RESULT_LABELS
from storage.models import Case, Contact, Member, Site

_WORDS = {word: verb for verb, words in VERBS.items() for word in words}
_EDGES = ".,;:!?#()[]'\"*_"
_THANKS = {"terima kasih", "trima kasih", "terimakasih", "makasih"}
_FILLERS = {"kode", "code", "no", "nomor", "nomer", "kasus", "#"}  # "TERIMA kode 7K3QX"
# Commands that move the case (storage.casestate), and what a member hears when its status does
# not allow it yet (a finished case: already closed).
_MOVES = {"CEK": "verify", "RUJUK": "refer", "HASIL": "outcome", "SELESAI": "close"}
_NOT_YET = {"CEK": "member.accept_first", "HASIL": "member.not_referred"}
HOLDER_ONLY = frozenset({"CATAT", "CEK", "RUJUK", "HASIL", "SELESAI", "BALAS"})  # see _may_act
TEXT_LIMIT = 1000  # a note or a relayed message; the full text stays in the transcript
STORY_LIMIT = 600  # LIHAT stays one message: Twilio refuses bodies over 1,600 characters
MEDIA_LIMIT = 10  # pictures and recordings forwarded by one MEDIA, one message each


@dataclass
class Act:
    """One command on one case, for the handlers below."""

    session: Session
    hotline: Hotline
    member: Member
    case: Case
    text: str  # what follows the code
    now: datetime
    params: dict[str, Any]  # code and short code, for every reply

    @property
    def actor(self) -> str:
        return f"member:{self.member.id}"


@dataclass(frozen=True)
class Command:
    verb: str  # a key of VERBS, or "" when not understood
    # Ways to read the code and what follows it, most likely first: "CATAT PRE 7K3QX ..." may be
    # the code "PRE7K3QX" or the code "PRE" is no code at all, so both are tried against the cases.
    readings: tuple[tuple[str | None, str, str], ...] = ()


def _verb(tokens: list[re.Match[str]]) -> tuple[str, int]:
    """The command word or phrase ("TOLAK", "tidak bisa"), and how many tokens it took."""
    words = [t.group().lower().strip(_EDGES) for t in tokens[:2]]
    if " ".join(words) in _THANKS:  # "terima kasih" is thanks, not TERIMA of a case "KASIH"
        return "", 2
    if len(words) == 2 and (verb := _WORDS.get(" ".join(words))):
        return verb, 2
    return (_WORDS.get(words[0], ""), 1) if words else ("", 0)


def read_command(body: str) -> Command:
    tokens = list(re.finditer(r"\S+", body))
    verb, i = _verb(tokens)
    if verb not in NEEDS_CODE:
        return Command(verb)
    while i < len(tokens) and tokens[i].group().lower().strip(_EDGES) in _FILLERS | {""}:
        i += 1
    readings = []
    words = [t.group().strip(_EDGES) for t in tokens]
    if i < len(tokens) and (code := assignments.read_code(words[i])):
        readings.append((*code, body[tokens[i].end() :].strip()))
    if i + 1 < len(tokens) and (code := assignments.read_code(words[i] + words[i + 1])) and code[0]:
        readings.append((*code, body[tokens[i + 1].end() :].strip()))
    return Command(verb, tuple(readings))


def is_case_command(body: str) -> bool:
    """A command about cases that reaches a member even while they are in a report of their own:
    KASUS alone, or a command followed by something that reads as a case code. Anything else is
    an answer to the report: "kirim" at "Kirim laporan?", "tidak bisa", "foto menyusul"."""
    tokens = list(re.finditer(r"\S+", body))
    verb, i = _verb(tokens)
    if verb == "KASUS":
        return i == len(tokens)
    if verb not in NEEDS_CODE:
        return False
    words = [t.group().strip(_EDGES) for t in tokens]
    while i < len(words) and words[i].lower() in _FILLERS | {""}:
        i += 1
    if i < len(words) and _typed_code(words[i]):
        return True
    pair = words[i : i + 2]  # "pre 7k3qx": a prefix, then the code
    if len(pair) < 2 or not pair[0].isalpha() or not _typed_code(pair[1]):
        return False
    code = assignments.read_code("".join(pair))
    return code is not None and code[0] is not None


def _typed_code(word: str) -> bool:
    """A word a member typed as a case code: one with a digit, or in capitals as the hotline
    writes codes. "besok" or "sekarang" read as codes by their letters alone, but are words."""
    if assignments.read_code(word) is None:
        return False
    return any(c.isdigit() for c in word) or not any(c.islower() for c in word)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


# Every way to write each institution, its own name included ("Kelurahan/Desa" as typed).
_ALIASES = tuple((_plain(a), name) for name, words in INSTITUTIONS.items() for a in (name, *words))


def institution(text: str) -> str | None:
    """The institution named in a RUJUK: the first one named (what follows is a note), and of
    names starting at the same word the longer ("unit ppa" before "ppa"). Whole words only."""
    low = f" {_plain(text)} "
    found = [(low.find(f" {alias} "), -len(alias), name) for alias, name in _ALIASES]
    return min(((at, size, name) for at, size, name in found if at >= 0), default=(0, 0, None))[2]


def _find(session: Session, member: Member, command: Command) -> tuple[Case | None, str]:
    for prefix, code, rest in command.readings:
        case = assignments.find_case(session, member.site_id, prefix, code)
        if case is not None:
            return case, rest
    return None, ""


def _may_view(session: Session, member: Member, case: Case) -> bool:
    if case.member_id == member.id or member.role == "koordinator":
        return True
    if member.area_id is not None and member.area_id == case.area_id:
        return True
    return assignments.offer_of(session, case.id, member.id) is not None


def _may_act(member: Member, case: Case) -> bool:
    """Notes, referrals, relays and closing: the holder, the site's coordinator, the area's ketua."""
    if case.member_id == member.id or member.role == "koordinator":
        return True
    return member.role == "ketua" and member.area_id is not None and member.area_id == case.area_id


def run(
    session: Session, hotline: Hotline, site: Site, member: Member, body: str, now: datetime
) -> tuple[list[Say], Case | None]:
    """Act on one command; returns the reply and the case it was about (for the transcript)."""
    command = read_command(body)
    if command.verb == "":
        return [Say("member.unknown"), Say("member.help")], None
    if command.verb == "BANTUAN":
        return [Say("member.help")], None
    if command.verb == "KASUS":
        return _list(session, member), None
    if not command.readings:
        return [Say("member.need_code", {"verb": command.verb})], None
    case, rest = _find(session, member, command)
    if case is None:
        return [Say("member.unknown_case", {"code": command.readings[0][1]})], None
    case = assignments.lock_case(session, case.id)
    if case is None:  # deleted meanwhile
        return [Say("member.unknown_case", {"code": command.readings[0][1]})], None
    params = {"code": case.code, "short": duty.short(case)}
    if command.verb in NEEDS_TEXT and not rest.strip():
        return [Say("member.need_text", {**params, "verb": command.verb})], case
    if command.verb in HOLDER_ONLY and not _may_act(member, case):
        return [Say("member.not_yours", params)], case
    if (move := _MOVES.get(command.verb)) and not casestate.allowed(case.status, move):
        closed = case.status in FINISHED
        key = "member.already_closed" if closed else _NOT_YET.get(command.verb, "member.already_closed")
        return [Say(key, params)], case
    act = Act(session, hotline, member, case, rest.strip()[:TEXT_LIMIT], now, params)
    return _HANDLERS[command.verb](act), case


def _terima(act: Act) -> list[Say]:
    session, member, case, now, params = act.session, act.member, act.case, act.now, act.params
    if case.status not in OPEN:
        return [Say("member.already_closed", params)]
    if case.member_id == member.id:
        return [Say("member.accepted", params)]
    if case.member_id is not None:
        holder = session.get_one(Member, case.member_id)
        return [Say("member.taken", {**params, "name": holder.name})]
    offer = assignments.offer_of(session, case.id, member.id)
    if (offer is None or offer.status == "declined") and not _may_act(member, case):
        return [Say("member.not_offered", params)]
    later = duty.accept(session, case, member, now, act.actor)
    followup.start(session, act.hotline, case, now)  # the reminders while it has no news
    return [Say("member.accepted", params), *duty.later_note(later, _zone(session, case))]


def _tolak(act: Act) -> list[Say]:
    session, member, case, now, params = act.session, act.member, act.case, act.now, act.params
    offer = assignments.offer_of(session, case.id, member.id)
    if offer is None or offer.status != "offered" or case.member_id is not None:
        return [Say("member.not_offered", params)]
    offer.status, offer.answered_at = "declined", now
    add_event(session, case, "declined", now, actor=act.actor, member=member.name)
    duty.assign_case(session, act.hotline, now, case.id, "declined")
    return [Say("member.declined", params)]


def _lihat(act: Act) -> list[Say]:
    session, member, case, now, params = act.session, act.member, act.case, act.now, act.params
    if not _may_view(session, member, case):
        return [Say("member.not_yours", params)]
    audit.record(session, act.actor, "view_case", now, case=case.code)
    site = session.get_one(Site, case.site_id)
    return [
        Say(
            "member.details",
            {
                **params,
                "category": Key(f"cat.{case.category}"),
                "area": case.area.name if case.area else Key("unknown"),
                "status": Key(casestate.LABELS[case.status]),
                "urgent": "!" if case.urgent else "",
                "date": i18n.local_datetime(case.created_at, site.timezone, duty.MEMBER_LOCALE),
                "flags": ", ".join(flag_labels(case.flags, duty.MEMBER_LOCALE)) or "-",
                "contact": _contact_line(session, case, holder=case.member_id == member.id),
                "answers": _answers(case),
            },
        ),
        *_life_lines(session, case),
        *duty.guidance(case),
    ]


def _life_lines(session: Session, case: Case) -> list[Say]:
    """LIHAT: the check's result (and its reason) and each referral with its outcome."""
    locale = duty.MEMBER_LOCALE
    says = []
    events = casestate.life_events(session, case.id)  # read once for both
    if (check := casestate.verification(events)) is not None:
        result = check.data.get("result")
        shown = i18n.text(RESULT_LABELS[result], locale) if result in RESULT_LABELS else str(result)
        reason = str(check.data.get("note") or "")[:STORY_LIMIT]
        says.append(Say("member.details_check", {"result": shown + (f" ({reason})" if reason else "")}))
    if referrals := casestate.referrals(events):
        shown = [
            f"{r.to} ({i18n.text(OUTCOME_LABELS.get(r.outcome or '', 'outcome.none'), locale)})"
            for r in referrals
        ]
        says.append(Say("member.details_referrals", {"referrals": ", ".join(shown)}))
    return says


def _zone(session: Session, case: Case) -> str:
    return session.get_one(Site, case.site_id).timezone


def _contact_line(session: Session, case: Case, holder: bool = False) -> str:
    """How the resident wants to be reached. Their number, and the safer one they gave, only
    when they asked for a call; their code word only to the holder, to check who answers."""
    method = case.answers.get("contact") or "none"
    contact = session.get(Contact, case.contact_id) if case.contact_id else None
    line = (
        i18n.text(f"member.contact.{method}", duty.MEMBER_LOCALE)
        if method in ("call", "message", "none")
        else method
    )
    if duty.without_phone(case):
        line = i18n.text("onbehalf.no_phone", duty.MEMBER_LOCALE)
    if method == "call" and contact is not None and contact.phone:
        line += f" {contact.phone}"
    if method == "call" and (safer := case.answers.get("safer_number")):
        line += " " + i18n.text(SAFER, duty.MEMBER_LOCALE, number=safer)
    if holder and (word := case.answers.get("codeword")):
        line += " " + i18n.text(CODEWORD, duty.MEMBER_LOCALE, word=word)
    if contact is not None and contact.name:
        line += f" ({contact.name})"
    return line


def _answers(case: Case) -> str:
    """The report's answers as 'question: answer' lines, each as its label, never as stored."""
    locale = duty.MEMBER_LOCALE
    lines = []
    for name, value in case.answers.items():
        if name not in FIELDS or value in (None, "", []):
            continue
        if name == "nik":  # enough to match a document; the whole number only in the console
            shown = "*" * 12 + str(value)[-4:]
        else:
            shown = answer_text(case.category, name, value, locale)
        if len(shown) > STORY_LIMIT:
            shown = shown[:STORY_LIMIT].rstrip() + "..."
        lines.append(f"- {i18n.text(f'field.{name}', locale)}: {shown}")
    if case.answers.get("media"):
        label = i18n.text("field.media", locale)
        lines.append(f"- {label}: {case.answers['media']} (MEDIA {duty.short(case)})")
    return "\n".join(lines) or "-"


def answer_text(category: str, name: str, value: Any, locale: str) -> str:
    """One stored answer as people read it: a choice as its option's label, yes/no as "ya" or
    "tidak", several values joined; free text, numbers and places as given."""
    flow = FLOWS.get(category)
    step = flow.step(name) if flow is not None and flow.has(name) else None
    values = value if isinstance(value, list) else [value]
    if step is not None and isinstance(step.answer, Choice):
        labels = {o.value: o.label for o in step.answer.options}
        return ", ".join(i18n.text(labels[v], locale) if v in labels else str(v) for v in values)
    if step is not None and isinstance(step.answer, YesNo) and value in YES_NO:
        return i18n.text(YES_NO[value], locale)
    return ", ".join(str(v) for v in values)


def flag_labels(flags: list[str], locale: str) -> list[str]:
    """A case's flags as their labels ("tpks" -> "kekerasan seksual (TPKS)")."""
    return [i18n.text(f"flag.{flag}", locale) if flag in FLAGS else str(flag) for flag in flags]


def _catat(act: Act) -> list[Say]:
    duty.note(act.session, act.case, act.now, act.actor, act.member.name, act.text)
    return [Say("member.noted", act.params)]


def _rujuk(act: Act) -> list[Say]:
    org = institution(act.text)
    if org is None:
        return [Say("member.unknown_org", act.params)]
    duty.refer(act.session, act.case, act.now, act.actor, act.member.name, org, act.text)
    return [Say("member.referred", {**act.params, "org": org})]


def _cek(act: Act) -> list[Say]:
    """CEK kode hasil [alasan]: found, or not found / a duplicate with a reason (the case ends)."""
    reading = caselife.read_result(act.text)
    if reading.value is None:
        return [Say("member.verify_how", act.params)]
    reason, who = reading.after or reading.before, act.member.name
    try:
        later = caselife.verify(act.session, act.case, act.now, act.actor, who, reading.value, reason)
    except casestate.ReasonNeeded:
        return [Say("member.verify_reason", act.params)]
    say = Say(
        "member.verified_closed" if act.case.status in FINISHED else "member.verified",
        {**act.params, "result": Key(RESULT_LABELS[reading.value])},
    )
    return [say, *duty.later_note(later, _zone(act.session, act.case))]


def _hasil(act: Act) -> list[Say]:
    """HASIL kode [lembaga] hasil [catatan]: what became of one of the case's referrals."""
    referrals = casestate.referrals_of(act.session, act.case)
    if not referrals:
        return [Say("member.not_referred", act.params)]
    org = institution(act.text)
    referral = caselife.referral_for(referrals, org)
    if referral is None:
        names = ", ".join(dict.fromkeys(r.to for r in referrals))
        return [Say("member.outcome_which", {**act.params, "orgs": names})]
    reading = caselife.read_outcome(act.text)
    if reading.value is None:
        return [Say("member.outcome_how", {**act.params, "org": referral.to})]
    caselife.outcome(
        act.session, act.case, act.now, act.actor, act.member.name, referral.to, reading.value, reading.after
    )
    params = {
        **act.params,
        "org": referral.to,
        "outcome": Key(OUTCOME_LABELS[reading.value]),
        "status": Key(casestate.LABELS[act.case.status]),
    }
    return [Say("member.outcome", params)]


def _selesai(act: Act) -> list[Say]:
    """SELESAI kode [alasan]. A TPKS or child case with a referral nobody has news of closes
    only with a reason: the member hears which referral, and the two ways on."""
    try:
        later = duty.close(act.session, act.case, act.now, act.actor, act.member.name, act.text)
    except casestate.OpenReferral as refused:  # before anything changed
        waiting = refused.institutions
        return [Say("member.open_referral", {**act.params, "orgs": ", ".join(waiting), "org": waiting[0]})]
    return [Say("member.closed", act.params), *duty.later_note(later, _zone(act.session, act.case))]


def _balas(act: Act) -> list[Say]:
    if duty.without_phone(act.case):
        return [Say(NO_PHONE)]
    contact = duty.may_message(act.session, act.case)
    if contact is None:
        return [Say("member.no_messages", {**act.params, "contact": _contact_line(act.session, act.case)})]
    say = Say("resident.relay", {"code": act.case.code, "text": act.text})
    later = duty.tell_resident(act.session, act.case, contact, say, act.now, member_id=act.member.id)
    add_event(act.session, act.case, "relayed", act.now, actor=act.actor, member=act.member.name)
    return [Say("member.relayed", act.params), *duty.later_note(later, _zone(act.session, act.case))]


def _media(act: Act) -> list[Say]:
    """MEDIA: the pictures and recordings the resident sent with the case, forwarded to the
    member's own number one per message (Twilio fetches its own media URLs), audited."""
    session, member, case, now, params = act.session, act.member, act.case, act.now, act.params
    if not _may_view(session, member, case):
        return [Say("member.not_yours", params)]
    said = [m for m in casebook.transcript(session, case.id) if m.direction == "in" and m.party == "resident"]
    items = [item for m in said for item in m.media or [] if isinstance(item, dict) and item.get("url")]
    if not items:  # HAPUS or the purge keeps how many there were, not the media
        return [Say("member.media_erased" if any(m.num_media for m in said) else "member.media_none", params)]
    site = session.get_one(Site, member.site_id)
    if not duty.member_address(member, site).startswith("whatsapp:"):
        return [Say("member.media_whatsapp", params)]  # no MMS in Indonesia: a link in an SMS leaks
    items = items[:MEDIA_LIMIT]
    audit.record(session, act.actor, "view_media", now, case=case.code, count=len(items))
    for n, item in enumerate(items, 1):
        say = Say("member.media_item", {**params, "n": n, "total": len(items)})
        queries.queue_message(
            session,
            site_id=site.id,
            address=duty.member_address(member, site),
            body=i18n.render([say], duty.MEMBER_LOCALE),
            now=now,
            member_id=member.id,
            case_id=case.id,
            media=[{"url": item["url"], "type": item.get("type")}],
        )
    return [Say("member.media_sent", {**params, "count": len(items)})]


_HANDLERS: dict[str, Callable[[Act], list[Say]]] = {
    "TERIMA": _terima,
    "TOLAK": _tolak,
    "LIHAT": _lihat,
    "CATAT": _catat,
    "CEK": _cek,
    "RUJUK": _rujuk,
    "HASIL": _hasil,
    "SELESAI": _selesai,
    "BALAS": _balas,
    "MEDIA": _media,
}


def _list(session: Session, member: Member) -> list[Say]:
    held, offered = assignments.member_cases(session, member.id)
    if not held and not offered:
        return [Say("member.cases_none")]
    says = [Say("member.cases_head")]
    for case in held:
        says.append(
            Say(
                "member.cases_line",
                {
                    "short": duty.short(case),
                    "category": Key(f"cat.{case.category}"),
                    "status": Key(casestate.LABELS[case.status]),
                    "urgent": "!" if case.urgent else "",
                },
            )
        )
    for case in offered:
        says.append(
            Say(
                "member.cases_offer",
                {
                    "short": duty.short(case),
                    "category": Key(f"cat.{case.category}"),
                    "urgent": "!" if case.urgent else "",
                },
            )
        )
    return says


def is_resident_word(body: str) -> bool:
    """LAPOR (a member reporting as a resident) and WARGA (for one) go through the resident
    conversation."""
    return _WORDS.get(norm(body)) in ("LAPOR", "WARGA")


def is_on_behalf_word(body: str) -> bool:
    """WARGA: the member answers a report's questions for a resident who came or phoned."""
    return _WORDS.get(norm(body)) == "WARGA"
