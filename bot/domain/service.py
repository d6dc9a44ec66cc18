"""One inbound message, start to finish: the same path for the webhook and `hotline chat`.

In one transaction: find the site, the contact and their conversation (locked), record the
message (a duplicate MessageSid returns the stored reply and runs nothing), step the engine,
persist what happened, store the reply. After commit: push the outbox rows to the queue.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import duty, i18n, members, walkin
from bot.domain.engine import (
    ENGINE,
    IDLE,
    PAUSE,
    Consented,
    Context,
    Conv,
    Erase,
    Forget,
    Inbound,
    Key,
    Outcome,
    Say,
    ShowStatus,
    Stop,
    Submit,
    UrgentNow,
)
from bot.runtime import Hotline
from flows import reading
from flows.places import Place
from storage import assignments, cases, casestate, queries
from storage.db import reconnecting
from storage.directory import Snapshot
from storage.models import Case, Contact, Conversation, Member, Site

log = logging.getLogger(__name__)
STATUS_LIMIT = 3  # cases listed by STATUS: an SMS, not a report
RELAY_WINDOW = timedelta(hours=72)  # a resident's text this soon after a member's BALAS goes back


class NoSite(RuntimeError):
    """No site is loaded: the operator has to run `hotline sites load`."""


@dataclass(frozen=True)
class Incoming:
    sid: str
    sender: str  # E.164
    to: str  # E.164
    channel: str  # sms | whatsapp | console
    body: str
    media: tuple[tuple[str, str], ...] = ()  # (url, content type)
    profile_name: str | None = None
    spooled: bool = False  # replayed from the spool: no TwiML answer waits for the reply

    def to_spool(self) -> dict[str, Any]:
        return {**asdict(self), "media": [list(m) for m in self.media], "spooled": True}

    @classmethod
    def from_spool(cls, item: dict[str, Any]) -> Incoming:
        media = tuple((str(url), str(kind)) for url, kind in item.get("media", ()))
        return cls(**{**item, "media": media, "spooled": True})


@dataclass(frozen=True)
class Result:
    replies: list[str]
    duplicate: bool = False


def handle(hotline: Hotline, msg: Incoming) -> Result:
    """Safe to run twice: a second run of a message that committed finds its MessageSid."""
    return reconnecting(lambda: _handle(hotline, msg))


def _handle(hotline: Hotline, msg: Incoming) -> Result:
    now = hotline.clock()
    directory = hotline.db.directory.current()  # before the transaction: see storage.directory
    with hotline.work() as session:
        return _step(session, hotline, directory, msg, now)


def _step(session: Session, hotline: Hotline, directory: Snapshot, msg: Incoming, now: datetime) -> Result:
    site = directory.site_for_number(msg.to)  # detached: read, never written, on this path
    if site is None:
        raise NoSite("no site loaded")
    member = None
    if (member_id := directory.member_id_for(site.id, msg.sender)) is not None:
        member = session.get(Member, member_id)  # the cache may be a second old: check the row
        if not _still_member(member, site, msg.sender):
            member = None
        elif not _reporting(session, msg, site):
            return _member_step(session, hotline, session.merge(site, load=False), member, msg, now)
    contact = queries.contact_for(session, msg.sender, now, msg.channel)
    row = queries.lock_conversation(session, contact.id, site.id, now)
    run_before = row.run
    on_behalf = member is not None and row.state == IDLE and members.is_on_behalf_word(msg.body)
    inbound_id = _record(
        session, msg, now, contact_id=contact.id, conversation_id=row.id, run=row.run,
        **_author(member, on_behalf or bool(row.data.get("on_behalf"))),
    )  # fmt: skip
    if inbound_id is None:
        return Result(queries.stored_reply(session, msg.sid), duplicate=True)

    if msg.profile_name and not contact.profile_name:
        contact.profile_name = msg.profile_name[:200]
    if contact.codeword and reading.norm(msg.body) == contact.codeword:
        return _silent_alarm(session, contact, row, inbound_id, msg, now)
    # Within 72 hours of a member's BALAS, a reply goes back to them ("tolong" included).
    if row.state == IDLE and not row.data.get("hold") and reading.global_word(msg.body) in (None, "BANTUAN"):
        relay = assignments.relay_case(session, contact.id, now - RELAY_WINDOW)
        if relay is not None:
            return _relay_to_member(session, *relay, row, inbound_id, msg, now)
    places = places_of(directory, site.id)
    # A deep copy: the row must see a new value, or SQLAlchemy finds nothing changed in JSON.
    conv = Conv(row.flow, row.state, copy.deepcopy(row.data), row.locale, row.run, row.updated_at)
    inbound = Inbound(msg.body, len(msg.media), tuple(kind for _, kind in msg.media))
    ctx = Context(
        now, places, pause(hotline.config), channel=msg.channel, on_behalf=on_behalf, member=bool(member),
        members=directory.members.get(site.id, {}) if member else (),
    )  # fmt: skip
    outcome = ENGINE.step(conv, inbound, ctx)

    says, case_id = _apply(session, site, contact, row, conv, outcome, now, inbound_id, member)
    # The inbound joins the run it belongs to now (the first message of a report opens it).
    _save(row, conv, now)
    if conv.run != run_before:
        queries.tag_inbound(session, inbound_id, conv.run, case_id)
    return _reply(
        session, says, conv.locale, msg, now, inbound_id,
        contact_id=contact.id, conversation_id=row.id, run=conv.run, case_id=case_id,
    )  # fmt: skip


def _apply(
    session: Session,
    site: Site,
    contact: Contact,
    row: Conversation,
    conv: Conv,
    outcome: Outcome,
    now: datetime,
    inbound_id: int,
    member: Member | None = None,
) -> tuple[list[Say], int | None]:
    """Persist what the engine said happened; the replies (with the case code once there is one)
    and the case submitted, if any. `member`: the sender is a KK member (WARGA: for a resident)."""
    says = list(outcome.replies)
    case_id = None
    for effect in outcome.effects:
        match effect:
            case Consented(version, at):
                contact.consent_at, contact.consent_version = at, version
            case Submit(report):
                case = _submitted(session, site, contact, row, conv, report, now, member)
                case_id = case.id
                says = [Say(s.key, {"code": case.code, **s.params}, s.options) for s in says]
                if case.contact_id is None and report.get("on_behalf", {}).get("phone"):
                    says.append(Say("onbehalf.member_phone"))  # a member's number: not the resident's
            case ShowStatus():
                says[:0] = _status(session, contact, site, conv.locale)
            case Erase():
                cases.erase_contact(session, contact, now, actor="resident")
            case Stop():
                contact.stopped = True
            case Forget(run):
                queries.forget_run(session, row.id, run, keep=inbound_id)
            case UrgentNow():
                cases.make_latest_urgent(session, contact.id, now)
    return says, case_id


def places_of(directory: Snapshot, site_id: int) -> list[Place]:
    """The site's kelurahan/desa as the engine matches them, from the directory's snapshot."""
    return [Place(a.id, a.name, a.kecamatan, a.aliases) for a in directory.places.get(site_id, ())]


def _submitted(
    session: Session,
    site: Site,
    contact: Contact,
    row: Conversation,
    conv: Conv,
    report: dict[str, Any],
    now: datetime,
    member: Member | None,
) -> Case:
    """The case of a submitted report: the sender's own, or (WARGA) a resident's that a member
    took for them, which the member's own number has no part in."""
    practice = cases.is_practice(contact.phone, site.practice)
    if "on_behalf" in report:
        taken_by = f"member:{member.name}" if member is not None else "member"
        return walkin.record(
            session, site, report, locale=conv.locale, now=now, taken_by=taken_by,
            conversation=row, run=conv.run, practice=practice,
        )  # fmt: skip
    return cases.create_case(
        session, site_id=site.id, prefix=site.prefix, contact=contact, conversation=row, run=conv.run,
        report=report, locale=conv.locale, now=now, channel=contact.channel, practice=practice,
    )  # fmt: skip


def _record(session: Session, msg: Incoming, now: datetime, **who: object) -> int | None:
    """The inbound message, unless its MessageSid was seen before (then None: a Twilio retry)."""
    values = {
        "sid": msg.sid,
        "direction": "in",
        "channel": msg.channel,
        "body": msg.body,
        "num_media": len(msg.media),
        "media": [{"url": u, "type": t} for u, t in msg.media],
        "created_at": now,
        **who,
    }
    return queries.record_inbound(session, values)


def _author(member: Member | None, for_resident: bool) -> dict[str, Any]:
    """Who wrote an inbound on the resident side: the resident, or a member taking a report for
    one (WARGA), whose words are theirs on the record (transcripts, exports, the console)."""
    if member is not None and for_resident:
        return {"party": "member", "member_id": member.id}
    return {"party": "resident"}


def _still_member(member: Member | None, site: Site, sender: str) -> bool:
    return (
        member is not None
        and member.active
        and member.site_id == site.id
        and member.phone == sender.removeprefix("whatsapp:")
    )


def _reporting(session: Session, msg: Incoming, site: Site) -> bool:
    """A member texting LAPOR, or in the middle of a report, is a resident for now; a case
    command (TERIMA 7K3QX, KASUS) still reaches the member side."""
    if members.is_case_command(msg.body):
        return False
    state = queries.conversation_state(session, msg.sender, site.id)
    return members.is_resident_word(msg.body) or state not in (None, IDLE)


def _member_step(
    session: Session, hotline: Hotline, site: Site, member: Member, msg: Incoming, now: datetime
) -> Result:
    inbound_id = _record(session, msg, now, party="member", member_id=member.id, site_id=site.id)
    if inbound_id is None:
        return Result(queries.stored_reply(session, msg.sid), duplicate=True)
    member.last_inbound_at = now  # opens WhatsApp's 24-hour window for messages to them
    member.unreachable = None  # they just wrote from this number: it works
    says, case = members.run(session, hotline, site, member, msg.body, now)
    case_id = case.id if case is not None else None
    if case_id is not None:
        queries.tag_inbound(session, inbound_id, None, case_id)
    return _reply(
        session, says, duty.MEMBER_LOCALE, msg, now, inbound_id,
        member_id=member.id, site_id=site.id, case_id=case_id,
    )  # fmt: skip


def pause(config: Mapping[str, Any]) -> timedelta:
    """How long a report may pause before its safety question (HOTLINE_RESUME_MINUTES)."""
    minutes = config.get("HOTLINE_RESUME_MINUTES")
    return timedelta(minutes=float(minutes)) if minutes else PAUSE


def _silent_alarm(
    session: Session, contact: Contact, row: Conversation, inbound_id: int, msg: Incoming, now: datetime
) -> Result:
    """The resident's code word, texted alone: their latest open case becomes urgent and the
    members are alerted; the reply says nothing anyone holding the phone could read into."""
    case = cases.make_latest_urgent(session, contact.id, now, actor="codeword", reason="codeword")
    if case is None and (case := cases.latest_case(session, contact.id)) is not None:
        duty.codeword_on_a_finished_case(session, case, now)
    if case is not None:
        queries.tag_inbound(session, inbound_id, row.run, case.id)
    return _reply(
        session, [Say("resident.ack")], row.locale, msg, now, inbound_id,
        contact_id=contact.id, conversation_id=row.id, run=row.run, case_id=case.id if case else None,
    )  # fmt: skip


def _relay_to_member(
    session: Session,
    case: Case,
    member_id: int,
    row: Conversation,
    inbound_id: int,
    msg: Incoming,
    now: datetime,
) -> Result:
    """A resident answering a member's BALAS: their words go back to the member who wrote."""
    member = session.get_one(Member, member_id)
    text = reading.clean(msg.body)[: members.TEXT_LIMIT] or f"[{len(msg.media)} media]"
    say = Say("member.resident_reply", {"short": duty.short(case), "text": text})
    duty.tell_member(session, case, member, say, now)
    queries.tag_inbound(session, inbound_id, row.run, case.id)
    row.updated_at = now
    return _reply(
        session, [Say("resident.relay_ack", {"code": case.code})], row.locale, msg, now, inbound_id,
        contact_id=case.contact_id, conversation_id=row.id, run=row.run, case_id=case.id,
    )  # fmt: skip


def _reply(
    session: Session,
    says: list[Say],
    locale: str,
    msg: Incoming,
    now: datetime,
    inbound_id: int,
    **links: Any,
) -> Result:
    """The reply for the TwiML answer, stored against the inbound it answers (a Twilio retry
    gets it back). A message replayed from the spool has no answer waiting: its reply is sent."""
    reply = i18n.render(says, locale)
    links["reply_to_id"] = inbound_id
    if msg.spooled:
        site_id = links.pop("site_id", None)
        site_id = site_id or session.get_one(Conversation, links["conversation_id"]).site_id
        address = f"whatsapp:{msg.sender}" if msg.channel == "whatsapp" else msg.sender
        queries.queue_message(session, site_id=site_id, address=address, body=reply, now=now, **links)
    else:
        queries.add_reply(session, body=reply, channel=msg.channel, now=now, **links)
    return Result([reply])


def _save(row: Conversation, conv: Conv, now: datetime) -> None:
    row.flow, row.state, row.data = conv.flow, conv.state, conv.data
    row.locale, row.run, row.turn = conv.locale, conv.run, row.turn + 1
    row.updated_at = now


def _status(session: Session, contact: Contact, site: Site, locale: str) -> list[Say]:
    """STATUS: the sender's own cases, found by their own number, never anyone else's. Codes and
    neutral states only: whoever holds a shared phone learns nothing about what was reported."""
    mine = cases.cases_of(session, contact.id, limit=STATUS_LIMIT + 1)
    if not mine:
        return [Say("status.none")]
    lines = [Say("status.head")]
    for case in mine[:STATUS_LIMIT]:
        state = "status.resident.open" if case.status in casestate.OPEN else "status.resident.done"
        lines.append(Say("status.line", {"code": case.code, "status": Key(state)}))
    if len(mine) > STATUS_LIMIT:
        lines.append(Say("status.more"))
    return lines
