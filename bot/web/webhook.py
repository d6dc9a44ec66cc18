"""The Twilio webhook, kept thin: check the signature, parse, hand to the service, answer TwiML."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.domain import service
from bot.domain.service import Incoming
from bot.jobs import runner
from bot.jobs.transport import classify
from bot.runtime import Hotline
from storage import delivery, outbox
from storage.db import UNAVAILABLE
from storage.models import Message

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)

MAX_MEDIA = 10  # Twilio's own limit per message
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # NUL breaks PostgreSQL text


class BadPayload(ValueError):
    pass


def e164(raw: str, region: str = "ID") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise BadPayload("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise BadPayload("not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse(form: Mapping[str, str]) -> Incoming:
    """Twilio's SMS and WhatsApp payloads, into one small value."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    sender, to = form.get("From", ""), form.get("To", "")
    if not re.fullmatch(r"[A-Za-z0-9]{10,64}", sid):
        raise BadPayload("MessageSid missing or malformed")
    if not sender or not to:
        raise BadPayload("From and To are required")
    whatsapp = sender.startswith("whatsapp:")
    try:
        num_media = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError as exc:
        raise BadPayload("NumMedia is not a number") from exc
    media = tuple(
        (form.get(f"MediaUrl{i}", ""), form.get(f"MediaContentType{i}", "application/octet-stream"))
        for i in range(max(num_media, 0))
        if form.get(f"MediaUrl{i}")
    )
    return Incoming(
        sid=sid,
        sender=e164((form.get("WaId") and "+" + form["WaId"]) or sender.removeprefix("whatsapp:")),
        to=e164(to.removeprefix("whatsapp:")),
        channel="whatsapp" if whatsapp else "sms",
        body=CONTROL.sub("", form.get("Body", "")),
        media=media,
        profile_name=form.get("ProfileName") or None,
    )


def signed(req) -> bool:  # type: ignore[no-untyped-def]
    """Check X-Twilio-Signature against the public URL Twilio called. Behind a TLS proxy
    `request.url` says http://, so the configured PUBLIC_URL is what counts."""
    config = current_app.config
    token = config.get("TWILIO_AUTH_TOKEN")
    if not token:
        return bool(config.get("HOTLINE_ALLOW_UNSIGNED"))
    public = config.get("PUBLIC_URL")
    url = public.rstrip("/") + req.full_path.rstrip("?") if public else req.url
    signature = req.headers.get("X-Twilio-Signature", "")
    return bool(signature) and RequestValidator(token).validate(url, req.form, signature)


def twiml(replies: list[str]) -> Response:
    response = MessagingResponse()
    for reply in replies:
        if reply:
            response.message(reply)
    return Response(str(response), mimetype="application/xml")


@bp.post("/twilio/messages")
def inbound() -> Response:
    if not signed(request):
        abort(403)
    try:
        msg = parse(request.form)
    except BadPayload as exc:
        return Response(f"Bad request: {exc}\n", status=400, mimetype="text/plain")
    spool = current_app.extensions["hotline_spool"]
    try:
        result = service.handle(current_app.extensions["hotline"], msg)
    except service.NoSite:
        log.error("inbound message refused: no site loaded (run `hotline sites load`)")
        return Response("No site configured\n", status=503, mimetype="text/plain")
    except UNAVAILABLE as exc:  # Twilio will not send it again: keep it, answer later
        where = spool.put(msg.to_spool())
        log.warning("database unavailable (%s): inbound %s spooled to %s", type(exc).__name__, msg.sid, where)
        return twiml([])
    log.info("inbound %s handled%s", msg.sid, " (duplicate)" if result.duplicate else "")
    if spool.waiting_on_disk():  # spooled here while Redis was down too: only we can see them
        threading.Thread(target=_replay, args=(current_app._get_current_object(),), daemon=True).start()
    return twiml(result.replies)


def _replay(app: Flask) -> None:
    with app.app_context():
        runner.replay_spool(app)


@dataclass(frozen=True)
class StatusReport:
    sid: str
    status: str
    error_code: int | None
    message_id: int | None  # ours, when the send job put `?m=<id>` in the callback URL


def parse_status(form: Mapping[str, str], args: Mapping[str, str]) -> StatusReport:
    """Twilio's delivery status callback (the Sms* names are the older aliases)."""
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    error_code = (form.get("ErrorCode") or "").strip()
    message_id = args.get("m", "")
    if not re.fullmatch(r"[A-Za-z0-9]{10,64}", sid):
        raise BadPayload("MessageSid missing or malformed")
    if not re.fullmatch(r"[a-z_]{1,16}", status):
        raise BadPayload("MessageStatus missing or malformed")
    if error_code and not re.fullmatch(r"[0-9]{1,9}", error_code):
        raise BadPayload("ErrorCode is not a number")
    if message_id and not re.fullmatch(r"[0-9]{1,18}", message_id):
        raise BadPayload("m is not a message id")
    return StatusReport(
        sid=sid,
        status=status,
        error_code=int(error_code) if error_code else None,
        message_id=int(message_id) if message_id else None,
    )


def record_delivery(hotline: Hotline, report: StatusReport) -> delivery.StatusChange | None:
    """One transaction: the new status, and what a fresh failure calls for; jobs pushed after."""
    now = hotline.clock()
    with hotline.work() as session:
        change = delivery.apply_status(
            session, report.sid, report.status, report.error_code, now, report.message_id
        )
        if change is not None and change.changed and report.status in delivery.FAILED:
            _after_failure(session, change.message, report.error_code, now)
    return change


def _after_failure(session: Session, message: Message, error_code: int | None, now: datetime) -> None:
    kind = classify(error_code)
    if kind in delivery.UNREACHABLE:
        delivery.mark_unreachable(session, message, kind)  # never retried: nothing more goes there
    elif kind == "window" and (
        message.channel == "whatsapp" or (message.address or "").startswith("whatsapp:")
    ):
        # Outside WhatsApp's 24 hours: the send_fallback job uses a template or SMS instead.
        outbox.add_job(session, "send_fallback", {"message_id": message.id}, now)


@bp.post("/twilio/status")
def status_callback() -> Response:
    """Always 204 once signed and well formed, even for a SID we never sent: any other answer
    only makes Twilio try again. Logs the SID and status, never numbers or text."""
    if not signed(request):
        abort(403)
    try:
        report = parse_status(request.form, request.args)
    except BadPayload as exc:
        return Response(f"Bad request: {exc}\n", status=400, mimetype="text/plain")
    change = record_delivery(current_app.extensions["hotline"], report)
    if change is None:
        log.info("status %s %s: unknown message, ignored", report.sid, report.status)
    else:
        log.info("status %s %s%s", report.sid, report.status, "" if change.changed else " (kept earlier)")
    return Response(status=204)
