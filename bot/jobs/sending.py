"""Handing queued messages to the transport, at most once, with WhatsApp's 24-hour rule.

`send_message` manages its own transactions: the message is claimed (pending -> handing) and
committed before the HTTP call, so a job that runs twice, or a worker killed mid-call, never
sends the same message again. Transient failures (rate limit, 5xx, timeouts) put it back to
pending and raise, so rq's Retry (or the in-process queue) tries again with backoff; permanent
ones are recorded on the message and, for opt-outs and bad numbers, on the recipient.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.jobs.queue import RETRY_SECONDS
from bot.jobs.transport import Outgoing, SendError
from bot.runtime import Hotline, is_on
from storage import assignments, delivery, outbox
from storage.models import Case, Contact, Member, Message, Outbox, Site
from storage.queries import queue_message

log = logging.getLogger(__name__)
WINDOW = timedelta(hours=24)  # WhatsApp: free text only this long after their last message
WINDOW_ERROR = 63016


class RetryLater(RuntimeError):
    """A transient failure: the job is retried with backoff."""


def _sender(site: Site, whatsapp: bool) -> str:
    """The site's number for this channel; the site's prefix stands in on a laptop without one."""
    for number in site.numbers:
        if number.startswith("whatsapp:") == whatsapp:
            return number
    return f"whatsapp:{site.prefix}" if whatsapp else site.prefix


def _one_line(text: str) -> str:
    """WhatsApp template variables may not hold newlines or tabs."""
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())


def _plan(session: Session, config: Mapping[str, Any], msg: Message, now: datetime) -> Outgoing | str:
    """What to hand to the transport, or why nothing may be sent."""
    site = session.get_one(Site, msg.site_id)
    if msg.member_id is not None:
        member = session.get_one(Member, msg.member_id)
        if member.unreachable or not member.active:
            return member.unreachable or "inactive"
        last_inbound = member.last_inbound_at
    else:
        contact = session.get(Contact, msg.contact_id) if msg.contact_id else None
        if contact is None or contact.phone is None or contact.stopped:
            return "stopped"  # BERHENTI, HAPUS or an opt-out since this was queued
        last_inbound = contact.last_inbound_at
    address = str(msg.address)
    whatsapp = address.startswith("whatsapp:")
    if whatsapp and not msg.template and not (last_inbound and now - last_inbound < WINDOW):
        if config.get("TWILIO_WA_TEMPLATE_SID"):
            msg.template = config["TWILIO_WA_TEMPLATE_SID"]
        elif _sms_fallback(config, msg):
            address, whatsapp = address.removeprefix("whatsapp:"), False
            msg.address, msg.channel = address, "sms"
        else:
            return "window"
    public = config.get("PUBLIC_URL")
    return Outgoing(
        to=address,
        sender=_sender(site, whatsapp),
        body=msg.body,
        # ?m= lets a callback that beats our commit of Twilio's SID find the message (signed).
        status_callback=f"{public.rstrip('/')}/twilio/status?m={msg.id}" if public else None,
        content_sid=msg.template,
        content_variables={"1": _one_line(msg.body)} if msg.template else None,
        # stored on the queued message ([{"url", "type"}], e.g. MEDIA); HAPUS empties it meanwhile
        media_urls=tuple(m["url"] for m in msg.media or [] if isinstance(m, dict) and m.get("url")),
    )


def _sms_fallback(config: Mapping[str, Any], msg: Message) -> bool:
    """SMS only for members: a resident chose WhatsApp, and an SMS on a shared phone shows more."""
    return is_on(config.get("HOTLINE_SMS_FALLBACK")) and msg.member_id is not None and msg.contact_id is None


def send_message(hotline: Hotline, outbox_id: int, message_id: int) -> None:
    now = hotline.clock()
    with hotline.work() as session:
        row = outbox.claim(session, outbox_id)
        if row is None:
            return
        msg = delivery.lock_message(session, message_id)
        if msg is None or msg.status != "pending":  # sent, or claimed by a run that died: never twice
            row.done_at = now
            return
        plan = _plan(session, hotline.config, msg, now)
        if isinstance(plan, str):
            msg.status, row.done_at = "failed", now
            msg.error_code = WINDOW_ERROR if plan == "window" else None
            row.error = f"not sent: {plan}"
            return
        msg.status, msg.sent_at = "handing", now
    try:
        provider_sid = hotline.transport.send(plan)
    except SendError as exc:
        _failed(hotline, outbox_id, message_id, exc)
        return
    with hotline.work() as session:
        msg = delivery.lock_message(session, message_id)  # a status callback may be writing it right now
        assert msg is not None
        _handed(session, msg, provider_sid, hotline.clock())
        done = session.get_one(Outbox, outbox_id)
        done.done_at, done.error = now, None
    log.info("message %s handed to the transport", message_id)


def _handed(session: Session, msg: Message, provider_sid: str, now: datetime) -> None:
    """Twilio has the message: its SID, "accepted" unless a status callback already said more,
    and an offer's deadline counted from now."""
    msg.provider_sid = msg.provider_sid or provider_sid
    if delivery.STATUS_RANK.get(msg.status, 0) < delivery.STATUS_RANK["accepted"]:
        msg.status = "accepted"
    if offer := assignments.start_clock(session, msg.id, now):
        case = session.get(Case, offer.case_id)
        urgent = case is not None and case.urgent  # the check goes in its case's lane
        outbox.add_job(session, "check_offer", {"assignment_id": offer.id}, now, offer.deadline_at, urgent)


def reconcile(hotline: Hotline) -> int:
    """Messages left "handing" by a worker that died mid-send: ask Twilio whether it accepted
    each one (recent messages to that number with the same text) and record it, or put it back
    to pending and send it. Never twice: a message Twilio has is only recorded."""
    now = hotline.clock()
    with hotline.work() as session:
        stuck = delivery.stuck_handing(session, now)
    for message_id in stuck:
        with hotline.work() as session:
            msg = delivery.lock_message(session, message_id)
            if msg is None or msg.status != "handing" or msg.sent_at is None:
                continue  # finished meanwhile
            plan = _plan(session, hotline.config, msg, now)
            if isinstance(plan, str):  # opted out or erased since: nothing to send or ask about
                msg.status, msg.error_code = "failed", WINDOW_ERROR if plan == "window" else None
                continue
            try:
                found = hotline.transport.find(plan, since=msg.sent_at)
            except SendError as exc:  # Twilio unreachable: ask again at the next sweep
                log.warning("reconcile of message %s postponed: %s", message_id, exc.kind)
                continue
            if found:
                _handed(session, msg, found, now)
                log.info("message %s was accepted by Twilio before its worker died", message_id)
            else:
                msg.status, msg.sent_at = "pending", None
                outbox.add_job(session, "send_message", {"message_id": msg.id}, now)
                log.info("message %s never reached Twilio: sending it again", message_id)
    return len(stuck)


def _failed(hotline: Hotline, outbox_id: int, message_id: int, exc: SendError) -> None:
    now = hotline.clock()
    with hotline.work() as session:
        msg = delivery.lock_message(session, message_id)
        assert msg is not None
        row = session.get_one(Outbox, outbox_id)
        row.error = f"{exc.kind} {exc.code or exc.http_status or ''}".strip()
        if exc.retryable:
            row.run_at = now + timedelta(seconds=RETRY_SECONDS[0])  # the sweeper leaves it to the retry
            if msg.status == "handing":  # a callback may have shown Twilio has it after all
                msg.status, row.done_at = "pending", None  # a duplicate run may have closed the row
        else:
            msg.status, msg.error_code, row.done_at = "failed", exc.code, now
            if exc.kind in ("opted_out", "bad_number"):
                delivery.mark_unreachable(session, msg, exc.kind)
            elif exc.kind == "window":
                outbox.add_job(session, "send_fallback", {"message_id": msg.id}, now)
    log.warning("message %s not sent: %s %s", message_id, exc.kind, exc.code or exc.http_status or "")
    if exc.retryable:
        raise RetryLater(exc.kind)


def send_fallback(session: Session, hotline: Hotline, now: datetime, message_id: int) -> None:
    """A WhatsApp message refused outside the 24-hour window (63016, said at once or in a status
    callback): again as the approved template, or by SMS to a member, once."""
    msg = session.get(Message, message_id)
    if msg is None or not (msg.address or "").startswith("whatsapp:"):
        return
    if delivery.fell_back(session, msg.id):
        return  # already fell back (a callback repeated)
    config = hotline.config
    links = {
        "member_id": msg.member_id,
        "contact_id": msg.contact_id,
        "case_id": msg.case_id,
        "reply_to_id": msg.id,
    }
    if config.get("TWILIO_WA_TEMPLATE_SID") and not msg.template:
        address, template = str(msg.address), config["TWILIO_WA_TEMPLATE_SID"]
    elif _sms_fallback(config, msg):
        address, template = str(msg.address).removeprefix("whatsapp:"), None
    else:
        return  # stays failed: the coordinators' delivery problems list shows it
    if msg.site_id is None:  # every queued message names its site; a TwiML reply is no fallback
        return
    queue_message(
        session,
        site_id=msg.site_id,
        address=address,
        body=msg.body,
        now=now,
        party=msg.party,
        template=template,
        **links,
    )
