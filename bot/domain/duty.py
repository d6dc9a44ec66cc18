"""Who handles a case: offers to the on-duty KK member, deadlines and escalation.

The ladder for a case: on-duty members of its area (least busy first, one at a time), then the
area's backups, then the site's coordinators. Urgent cases skip the queue: every on-duty member
of the area and the coordinators are alerted at once. Every offer has a deadline; a check job
scheduled for it expires the offer and moves on, unless the offer was answered meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.domain import i18n
from bot.domain.engine import Key, Say
from bot.runtime import Hotline
from flows.common import CONTACT_WINDOWS
from flows.guidance import GUIDANCE, LATER, NO_CONTACT, NO_PHONE, TAKEN_FOR
from flows.model import CONTACT, CONTACT_MESSAGE, CONTACT_NONE
from storage import assignments, casestate, roster, sitetime
from storage.cases import add_event
from storage.casestate import OPEN
from storage.models import Assignment, Case, Contact, Member, Message, Site
from storage.outbox import add_job
from storage.queries import queue_message

OFFER_MINUTES = 60
OFFER_MINUTES_URGENT = 10
DEADLINE_SLACK = timedelta(seconds=5)  # the queue's clock and ours may differ a little
URGENT_REASONS = ("urgent", "codeword")  # DARURAT after a report, or the resident's code word
MEMBER_LOCALE = "id"


def short(case: Case) -> str:
    """The code without the site prefix: what a member types back."""
    return case.code.split("-", 1)[-1]


def member_address(member: Member, site: Site) -> str:
    """WhatsApp when the member prefers it and the site has a WhatsApp number, else SMS."""
    whatsapp = member.channel == "whatsapp" and any(n.startswith("whatsapp:") for n in site.numbers)
    return f"whatsapp:{member.phone}" if whatsapp else member.phone


def tell_member(
    session: Session,
    case: Case | None,
    member: Member,
    say: Say | list[Say],
    now: datetime,
    party: str = "bot",
) -> Message:
    """Queue a message to a member (sent after commit by the send job)."""
    site = session.get_one(Site, member.site_id)
    return queue_message(
        session,
        site_id=site.id,
        address=member_address(member, site),
        body=i18n.render(say if isinstance(say, list) else [say], MEMBER_LOCALE),
        now=now,
        party=party,
        member_id=member.id,
        case_id=case.id if case else None,
    )


def without_phone(case: Case) -> bool:
    """A report a member took for a resident who has no phone: nothing is ever sent to them."""
    return case.consent_by is not None and case.contact_id is None


def guidance(case: Case) -> list[Say]:
    """What the member must know before acting: by the case's flags (sexual violence, forced
    marriage, a request for a call), that a member took the report for the resident (and that
    one without a phone gets no messages), and when the resident does not want to be contacted."""
    says = [Say(GUIDANCE[flag]) for flag in dict.fromkeys(case.flags) if flag in GUIDANCE]
    if case.consent_by is not None:  # taken for the resident by a member or at the console
        says.append(Say(TAKEN_FOR, {"channel": Key(f"opt.channel.{case.channel}")}))
        if without_phone(case):
            says.append(Say(NO_PHONE))
            return says
    if case.answers.get(CONTACT) == CONTACT_NONE:
        says.append(Say(NO_CONTACT))
    return says


def may_message(session: Session, case: Case) -> Contact | None:
    """The resident, if they agreed to be messaged on this case and still can be."""
    if not case.contact_ok or case.answers.get(CONTACT) != CONTACT_MESSAGE or case.contact_id is None:
        return None
    contact = session.get(Contact, case.contact_id)
    if contact is None or contact.phone is None or contact.stopped:
        return None
    return contact


def tell_resident(
    session: Session, case: Case, contact: Contact, say: Say, now: datetime, **links: Any
) -> datetime | None:
    """Queue a message to the resident, to go inside the safe time they chose (site-local);
    returns when it will go if that is later than now."""
    site = session.get_one(Site, case.site_id)
    later = safe_time(case.answers.get("contact_time"), site.timezone, now)
    wa = contact.channel == "whatsapp"
    queue_message(
        session,
        site_id=case.site_id,
        address=f"whatsapp:{contact.phone}" if wa else str(contact.phone),
        body=i18n.render([say], case.locale),
        now=now,
        contact_id=contact.id,
        case_id=case.id,
        send_at=later,
        **links,
    )
    return later


def safe_time(choice: Any, tz: str, now: datetime) -> datetime | None:
    """The next moment inside the resident's safe time, or None when now is fine (inside it, or
    no window: "any", skipped, or a time in their own words the member reads in LIHAT)."""
    window = CONTACT_WINDOWS.get(choice) if isinstance(choice, str) else None
    return None if window is None else sitetime.next_within(now, tz, *window)


def later_note(later: datetime | None, tz: str) -> list[Say]:
    """What the member hears when their message to the resident waits for the safe time."""
    if later is None:
        return []
    return [Say(LATER, {"time": i18n.local_datetime(later, tz, MEMBER_LOCALE)})]


def offer_minutes(config: Mapping[str, Any], urgent: bool) -> float:
    """How long an offer waits for an answer (HOTLINE_OFFER_MINUTES[_URGENT])."""
    if urgent:
        return float(config.get("HOTLINE_OFFER_MINUTES_URGENT") or OFFER_MINUTES_URGENT)
    return float(config.get("HOTLINE_OFFER_MINUTES") or OFFER_MINUTES)


def _deadline(hotline: Hotline, case: Case, now: datetime) -> datetime:
    return now + timedelta(minutes=offer_minutes(hotline.config, case.urgent))


def _reachable(members: list[Member], exclude: set[int]) -> list[Member]:
    return [m for m in members if m.active and not m.unreachable and m.id not in exclude]


def _choose(session: Session, case: Case, now: datetime, tried: set[int]) -> list[tuple[Member, str]]:
    """The next people to ask, with their tier; nobody left gives []."""
    site = session.get_one(Site, case.site_id)
    duty: list[Member] = []
    backups: list[Member] = []
    if case.area_id is not None:
        on = roster.on_duty(session, site, now, area_id=case.area_id)
        duty = [m for m in on if not m.backup and m.role != "koordinator"]
        backups = roster.backups(session, site.id, case.area_id, at=now)
    coordinators = roster.coordinators(session, site.id)
    tiers = [
        ("duty", _reachable(duty, tried)),
        ("backup", _reachable(backups, tried)),
        ("coordinator", _reachable(coordinators, tried)),
    ]
    if case.urgent:  # everyone of the first tier with someone left, plus the coordinators
        for tier, people in tiers:
            if people:
                picked = [(m, tier) for m in people]
                if tier != "coordinator":
                    picked += [(m, "coordinator") for m in tiers[2][1] if m not in people]
                return picked
        return []
    for tier, people in tiers:
        if people:
            load = assignments.load(session, [m.id for m in people])
            least = min(people, key=lambda m: (load[m.id], m.id))
            return [(least, tier)]
    return []


def _offer_say(session: Session, case: Case, deadline: datetime) -> list[Say]:
    site = session.get_one(Site, case.site_id)
    params = {
        "code": case.code,
        "short": short(case),
        "category": Key(f"cat.{case.category}"),
        "area": case.area.name if case.area else Key("unknown"),
        "deadline": i18n.local_time(deadline, site.timezone, MEMBER_LOCALE),
    }
    offer = Say("member.offer_urgent" if case.urgent else "member.offer", params)
    practice = [Say("member.offer_practice", {"code": case.code})] if case.practice else []
    return [*practice, offer, *guidance(case)]


def _offer(
    session: Session, hotline: Hotline, case: Case, picked: list[tuple[Member, str]], now: datetime
) -> None:
    deadline = _deadline(hotline, case, now)
    for member, tier in picked:
        offer = assignments.add_offer(session, case, member, tier, now, deadline)
        offer.message_id = tell_member(session, case, member, _offer_say(session, case, deadline), now).id
        add_job(session, "check_offer", {"assignment_id": offer.id}, now, run_at=deadline)
        casestate.move(session, case, "offer", now, person=member, tier=tier, deadline=deadline.isoformat())


def _hurry(session: Session, hotline: Hotline, case: Case, waiting: list[Assignment], now: datetime) -> None:
    """The case turned urgent while offers wait: they get the urgent deadline and alert."""
    deadline = _deadline(hotline, case, now)
    for offer in waiting:
        if offer.deadline_at <= deadline:
            continue
        offer.deadline_at = deadline  # the old check finds it answered or expired: a no-op
        add_job(session, "check_offer", {"assignment_id": offer.id}, now, run_at=deadline)
        member = session.get_one(Member, offer.member_id)
        tell_member(session, case, member, _offer_say(session, case, deadline), now)
        add_event(session, case, "urgent_alert", now, member_id=member.id, member=member.name)


def assign_case(session: Session, hotline: Hotline, now: datetime, case_id: int, reason: str) -> None:
    """The job queued when a case is submitted, made urgent, declined or an offer expired."""
    case = assignments.lock_case(session, case_id)
    if case is None or case.status not in OPEN:
        return
    if case.member_id is not None:  # held already: an urgent turn alerts the holder
        if reason in URGENT_REASONS:
            holder = session.get_one(Member, case.member_id)
            key = "member.codeword_alarm" if reason == "codeword" else "member.urgent_holder"
            tell_member(session, case, holder, Say(key, {"code": case.code, "short": short(case)}), now)
            add_event(session, case, "urgent_alert", now, member_id=holder.id, member=holder.name)
        return
    waiting = assignments.pending(session, case.id)
    if reason in URGENT_REASONS:
        _hurry(session, hotline, case, waiting, now)
    elif waiting:
        return  # someone still has time to answer
    tried = {a.member_id for a in assignments.offers(session, case.id)}
    picked = _choose(session, case, now, tried)
    if picked:
        _offer(session, hotline, case, picked, now)
    elif not tried:
        add_event(session, case, "awaiting_member", now, reason=reason, note="nobody on the roster")
    elif not waiting:
        _unanswered(session, case, now)


def codeword_on_a_finished_case(session: Session, case: Case, now: datetime) -> None:
    """The code word after the case was closed: nobody holds it any more, so the site's
    coordinators hear it, and the case's timeline shows it."""
    add_event(session, case, "codeword", now, actor="codeword")
    for coordinator in _reachable(roster.coordinators(session, case.site_id), set()):
        tell_member(session, case, coordinator, Say("member.codeword_closed", {"code": case.code}), now)


def _unanswered(session: Session, case: Case, now: datetime) -> None:
    """Everyone was asked and nobody took it: the coordinators hear so, once."""
    if any(e.kind == "unanswered" for e in case.events):
        return
    add_event(session, case, "unanswered", now)
    for coordinator in _reachable(roster.coordinators(session, case.site_id), set()):
        tell_member(
            session,
            case,
            coordinator,
            Say("member.unanswered", {"code": case.code, "short": short(case)}),
            now,
        )


def check_offer(session: Session, hotline: Hotline, now: datetime, assignment_id: int) -> None:
    """The deadline of one offer. An offer answered meanwhile makes this a no-op (stale timer),
    and so does one whose deadline moved later when its message reached Twilio late: the check
    scheduled then will come."""
    offer = session.get(Assignment, assignment_id)
    if offer is None:
        return
    # The case first, as TERIMA and TOLAK lock it: one lock order, no deadlock.
    case = assignments.lock_case(session, offer.case_id)
    session.refresh(offer)
    if case is None or offer.status != "offered" or now < offer.deadline_at - DEADLINE_SLACK:
        return
    offer.status, offer.answered_at = "expired", now
    member = session.get_one(Member, offer.member_id)
    add_event(session, case, "expired", now, member_id=member.id, member=member.name)
    assign_case(session, hotline, now, case.id, "expired")


# -- what a member (by text) or a coordinator (in the console) does to a case ---------------------


def note(session: Session, case: Case, now: datetime, actor: str, who: str, text: str) -> None:
    add_event(session, case, "note", now, actor=actor, member=who, note=text)
    case.updated_at = now


def refer(
    session: Session, case: Case, now: datetime, actor: str, who: str, org: str, text: str = ""
) -> None:
    casestate.move(session, case, "refer", now, actor=actor, member=who, to=org, note=text)


def close(
    session: Session, case: Case, now: datetime, actor: str, who: str, text: str = ""
) -> datetime | None:
    """Closed, with the resident told so if they agreed to messages; returns when that notice
    goes if it waits for their safe time."""
    casestate.move(session, case, "close", now, actor=actor, member=who, note=text)
    assignments.withdraw_others(session, case.id, None, now)
    if contact := may_message(session, case):
        return tell_resident(session, case, contact, Say("resident.closed", {"code": case.code}), now)
    return None


def cancel(session: Session, case: Case, now: datetime, actor: str, who: str, text: str) -> None:
    """A coordinator withdraws a report that needs no handling (a duplicate, a test, spam): open
    offers lapse and the holder, if any, is told. The resident is not: nothing was done for them
    to hear about, and on a shared phone a notice is one more trace."""
    holder = session.get(Member, case.member_id) if case.member_id is not None else None
    casestate.move(session, case, "cancel", now, actor=actor, member=who, note=text)
    assignments.withdraw_others(session, case.id, None, now)
    if holder is not None:
        tell_member(session, case, holder, Say("member.cancelled", {"code": case.code}), now)


def accept(session: Session, case: Case, member: Member, now: datetime, actor: str) -> datetime | None:
    """The member takes the case: other offers lapse (those alerted hear who has it), and the
    resident is told if they agreed to messages; returns when that notice goes if it waits."""
    offer = assignments.offer_of(session, case.id, member.id)
    if offer is not None and offer.status in ("offered", "expired", "withdrawn"):
        offer.status, offer.answered_at = "accepted", now
    taken = Say("member.taken", {"code": case.code, "short": short(case), "name": member.name})
    for other_id in assignments.withdraw_others(session, case.id, offer.id if offer else None, now):
        tell_member(session, case, session.get_one(Member, other_id), taken, now)
    casestate.move(session, case, "accept", now, actor=actor, person=member)
    if contact := may_message(session, case):
        return tell_resident(session, case, contact, Say("resident.accepted", {"code": case.code}), now)
    return None


def reassign(
    session: Session, hotline: Hotline, case: Case, member: Member, now: datetime, actor: str
) -> None:
    """A coordinator hands the case to a member of their choice: open offers lapse, the holder
    (if any) lets go, and the chosen member gets an offer with its deadline."""
    assignments.withdraw_others(session, case.id, None, now)
    casestate.move(session, case, "reassign", now, actor=actor, person=member)
    _offer(session, hotline, case, [(member, "manual")], now)
