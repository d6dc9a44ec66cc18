"""The Twilio webhook, kept thin: check the signature, parse, hand to the service, answer TwiML."""

from __future__ import annotations

import hmac
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import phonenumbers
from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.domain import service
from bot.domain.service import Incoming
from bot.jobs import runner
from bot.jobs.transport import classify
from bot.runtime import Hotline
from storage import delivery, outbox
from storage.db import UNAVAILABLE, reconnecting
from storage.models import Message

log = logging.getLogger(__name__)
bp = Blueprint("twilio", __name__)

MAX_MEDIA = 10  # Twilio's own limit per message
MAX_ID = 2**31 - 1  # PostgreSQL `integer`: messages.id, messages.error_code
MAX_NAME = 200  # contacts.profile_name
MAX_URL = 2048
# NUL breaks PostgreSQL text; U+FFFE/U+FFFF are not XML, so a reply echoing them would be lost.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# Twilio's SIDs exactly: two letters for the kind, 32 lower-case hex digits. Twilio signs the
# sorted names and values glued together, so `MessageSid=<sid>NumMedia0` without `NumMedia`
# carries the same signature: only an exact format keeps a signed post from being replayed
# under a new dedupe key with a field boundary moved.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
ID = re.compile(r"[1-9][0-9]{0,9}")  # then at most MAX_ID
NUM_MEDIA = re.compile(r"[0-9]{1,2}")  # then at most MAX_MEDIA
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]"
MIME = re.compile(  # type/subtype, then parameters such as `; codecs=opus`
    rf"[A-Za-z0-9]{_TOKEN}{{0,63}}/[A-Za-z0-9]{_TOKEN}{{0,126}}"
    rf"""( ?; ?{_TOKEN}{{1,64}}=({_TOKEN}{{1,64}}|"[ !#-\[\]-~]{{0,64}}"))*"""
)
MAX_MIME = 255
URL_CHARS = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")  # RFC 3986, nothing else


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
    """Twilio's SMS and WhatsApp payloads, into one small value. Every field read is checked or
    cleaned of control characters here: nothing else stands between a post and the database."""
    sid = _sid(form, ("MessageSid", "SmsMessageSid", "SmsSid"))
    sender, to = form.get("From", ""), form.get("To", "")
    if not sender or not to:
        raise BadPayload("From and To are required")
    whatsapp = sender.startswith("whatsapp:")
    return Incoming(
        sid=sid,
        sender=e164((form.get("WaId") and "+" + form["WaId"]) or sender.removeprefix("whatsapp:")),
        to=e164(to.removeprefix("whatsapp:")),
        channel="whatsapp" if whatsapp else "sms",
        body=CONTROL.sub("", form.get("Body", "")),
        media=_media(form),
        profile_name=_name(form.get("ProfileName", "")),
    )


def _sid(form: Mapping[str, str], names: tuple[str, ...]) -> str:
    """The message's SID: every name it comes under has Twilio's exact format and the same
    value (they are aliases); an AccountSid, when sent, has its own format."""
    sids = {form[name] for name in names if name in form}
    if len(sids) != 1 or not MESSAGE_SID.fullmatch(sid := sids.pop()):
        raise BadPayload(f"{names[0]} missing or malformed")
    if "AccountSid" in form and not ACCOUNT_SID.fullmatch(form["AccountSid"]):
        raise BadPayload("AccountSid malformed")
    return sid


def _media(form: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """NumMedia (0 to 10), and for each of them Twilio's https URL and a MIME type."""
    raw = form.get("NumMedia", "0")
    if not NUM_MEDIA.fullmatch(raw) or int(raw) > MAX_MEDIA:
        raise BadPayload(f"NumMedia must be a whole number from 0 to {MAX_MEDIA}")
    return tuple(
        (_media_url(form.get(f"MediaUrl{i}", ""), i), _media_type(form.get(f"MediaContentType{i}", ""), i))
        for i in range(int(raw))
    )


def _media_url(url: str, i: int) -> str:
    """Twilio's own media URL: https on twilio.com or a subdomain (api.twilio.com, a regional
    edge), no user, no port."""
    if not url:
        raise BadPayload(f"MediaUrl{i} missing")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        ok = parts.scheme == "https" and parts.username is None and parts.port is None
    except ValueError:  # a port that is not a number, a broken [IPv6] host
        host, ok = "", False
    if not ok or len(url) > MAX_URL or not URL_CHARS.fullmatch(url):
        raise BadPayload(f"MediaUrl{i} is not a Twilio https URL")
    if not (host == "twilio.com" or host.endswith(".twilio.com")):
        raise BadPayload(f"MediaUrl{i} is not a Twilio https URL")
    return url


def _media_type(raw: str, i: int) -> str:
    kind = CONTROL.sub("", raw).strip()
    if not kind:
        return "application/octet-stream"
    if len(kind) > MAX_MIME or not MIME.fullmatch(kind):
        raise BadPayload(f"MediaContentType{i} is not a MIME type")
    return kind


def _name(raw: str) -> str | None:
    """WhatsApp's ProfileName on one line, without control characters, at most MAX_NAME."""
    name = " ".join(CONTROL.sub("", raw).split())[:MAX_NAME].strip()
    return name or None


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
    if not signature:
        return False
    # One HMAC for the URL as configured; twilio's validate (which tries the URL with and without
    # its port, two HMACs every time) only for a signature that did not match.
    validator = RequestValidator(token)
    expected = validator.compute_signature(url, req.form).encode()  # bytes: a non-ASCII header is
    return hmac.compare_digest(expected, signature.encode()) or validator.validate(  # no TypeError
        url, req.form, signature
    )


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
    if not spool.empty():  # older messages wait: this one queues behind them, in order
        spool.put(msg.to_spool())
        _replay_soon()
        return twiml([])
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
    return twiml(result.replies)


def _replay_soon() -> None:
    """Replay in the background (the worker's sweeper does too; a folder spool only we can see)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def replay() -> None:
        with app.app_context():
            runner.replay_spool(app)

    threading.Thread(target=replay, name="spool-replay", daemon=True).start()


@dataclass(frozen=True)
class StatusReport:
    sid: str
    status: str
    error_code: int | None
    message_id: int | None  # ours, when the send job put `?m=<id>` in the callback URL


def parse_status(form: Mapping[str, str], args: Mapping[str, str]) -> StatusReport:
    """Twilio's delivery status callback (the Sms* names are the older aliases)."""
    sid = _sid(form, ("MessageSid", "SmsSid"))
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not re.fullmatch(r"[a-z_]{1,16}", status):
        raise BadPayload("MessageStatus missing or malformed")
    error_code = (form.get("ErrorCode") or "").strip()
    return StatusReport(
        sid=sid,
        status=status,
        error_code=_id(error_code, "ErrorCode") if error_code else None,
        message_id=_id(args["m"], "m") if "m" in args else None,
    )


def _id(raw: str, name: str) -> int:
    """A whole number from 1 to MAX_ID, written plainly: what an `integer` column takes."""
    if not ID.fullmatch(raw) or int(raw) > MAX_ID:
        raise BadPayload(f"{name} must be a whole number from 1 to {MAX_ID}")
    return int(raw)


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
    hotline = current_app.extensions["hotline"]
    change = reconnecting(lambda: record_delivery(hotline, report))  # a status twice is kept once
    if change is None:
        log.info("status %s %s: unknown message, ignored", report.sid, report.status)
    else:
        log.info("status %s %s%s", report.sid, report.status, "" if change.changed else " (kept earlier)")
    return Response(status=204)
