"""How messages leave the hotline: Twilio's REST API, or a console that records and prints."""

from __future__ import annotations

import json
import logging
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, TextIO

log = logging.getLogger(__name__)


def _no_query_strings(record: logging.LogRecord) -> bool:
    """urllib3 logs each request's URL at DEBUG; a list query names a phone number."""
    return "?" not in record.getMessage()


logging.getLogger("urllib3.connectionpool").addFilter(_no_query_strings)
# twilio's request log for calls that list messages by number: dropped whatever the level.
_QUIET = logging.getLogger(f"{__name__}.erasing")
_QUIET.addFilter(lambda record: False)
_QUIET.setLevel(logging.WARNING)

# Twilio error codes, by what the sender should do about them (https://www.twilio.com/docs/errors/<code>).
WINDOW = {63016}  # WhatsApp free text outside the 24-hour window: send a template instead
OPTED_OUT = {21610}  # the recipient replied STOP: nothing more until they send START
BAD_NUMBER = {
    21211,  # invalid 'To' phone number
    21614,  # 'To' is not a mobile number (landline), cannot receive SMS
    30005,  # unknown destination handset: number inactive or out of service
    30006,  # landline or unreachable carrier
    63003,  # channel (WhatsApp) could not find the 'To' address: inactive or not on WhatsApp
}
RATE_LIMITED = {20429}  # too many requests
IN_FLIGHT = {20009}  # a delete of a message Twilio is still processing (queued, sending, no DLR yet)
# "in_flight" comes only from deletes (`_delete_error`), never from `classify`.
RETRYABLE = frozenset({"rate_limited", "server", "timeout", "in_flight"})


def classify(code: int | None, http_status: int | None = None) -> str:
    """The kind of a Twilio failure, from its error code and (for REST calls) the HTTP status.
    21408 (geo permissions off for the destination country) is deliberately "other": it is an
    account setting to fix in the console, not a fault of the number."""
    if code in WINDOW:
        return "window"
    if code in OPTED_OUT:
        return "opted_out"
    if code in BAD_NUMBER:
        return "bad_number"
    if code in RATE_LIMITED or http_status == 429:
        return "rate_limited"
    if http_status is not None and 500 <= http_status < 600:
        return "server"
    return "other"


class SendError(Exception):
    """Any failure to hand a message to Twilio. Its text holds the code and HTTP status only:
    Twilio's own messages quote the phone number, which must not reach the logs."""

    def __init__(self, kind: str, code: int | None = None, http_status: int | None = None) -> None:
        self.kind = kind
        self.code = code
        self.http_status = http_status
        self.retryable = kind in RETRYABLE
        super().__init__(f"{kind} (code {code}, HTTP {http_status})")


@dataclass(frozen=True)
class Outgoing:
    to: str  # E.164, "whatsapp:" prefixed for WhatsApp
    sender: str  # the site's number the conversation uses
    body: str  # the text, or for a template what a person reads in the transcript
    status_callback: str | None = None
    content_sid: str | None = None  # a pre-approved WhatsApp template ("HX..."): body is not sent
    content_variables: dict[str, str] | None = None  # the template's {{1}}, {{2}}, ...
    media_urls: tuple[str, ...] = ()  # pictures or recordings to attach (Twilio's own URLs work as is)


@dataclass(frozen=True)
class Held:
    """A message the provider still holds: its SID, when it was created, how many media it has
    (None: unknown, ask)."""

    sid: str
    created: datetime | None
    num_media: int | None = None


class Transport(Protocol):
    def send(self, message: Outgoing) -> str:
        """Hand the message over; returns the provider's message id. Raises SendError."""
        ...

    def find(self, message: Outgoing, since: datetime) -> str | None:
        """The provider's id of this message if it was handed over since then (a worker died
        before it could record the answer), else None. Raises SendError."""
        ...


class Eraser(Protocol):
    """Deleting what the provider keeps of a resident's messages (HAPUS, purge)."""

    def held(self, to: str, sender: str) -> list[Held]:
        """Every message the provider holds on this route (To, From), all pages. Raises SendError."""
        ...

    def delete_message(self, sid: str, num_media: int | None = None) -> int | None:
        """Delete the message's media, then the message: how many media went, or None if the
        provider no longer has the message. Raises SendError ("in_flight" while it is still
        being sent: retry later)."""
        ...


def _same(message: Outgoing, to: str, sender: str, body: str) -> bool:
    """Ours: same route, and the same text (a template's text is Twilio's: its variable in it)."""
    if to != message.to or sender != message.sender:
        return False
    if message.content_sid:
        return all(v in body for v in (message.content_variables or {}).values())
    return body == message.body


@dataclass
class ConsoleTransport:
    """For laptops and tests: keeps every message and prints it, sends nothing."""

    stream: TextIO | None = field(default_factory=lambda: sys.stdout)
    sent: list[Outgoing] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # SIDs an erasure asked to delete
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def find(self, message: Outgoing, since: datetime) -> str | None:
        with self._lock:
            if any(_same(message, m.to, m.sender, m.body) for m in self.sent):
                return f"CONSOLE{uuid.uuid4().hex}"
        return None

    def send(self, message: Outgoing) -> str:
        with self._lock:
            self.sent.append(message)
        if self.stream is not None:
            print(f"\n[console -> {message.to}]\n{_printable(message)}\n", file=self.stream, flush=True)
        return f"CONSOLE{uuid.uuid4().hex}"

    def held(self, to: str, sender: str) -> list[Held]:
        return []  # no provider keeps a console's messages

    def delete_message(self, sid: str, num_media: int | None = None) -> int | None:
        with self._lock:
            self.deleted.append(sid)
        return 0


def _printable(message: Outgoing) -> str:
    if not message.content_sid:
        return "\n".join([message.body, *(f"[media] {url}" for url in message.media_urls)])
    variables = " ".join((message.content_variables or {}).values())
    return f"[template {message.content_sid}] {variables}".rstrip()


class TwilioTransport:
    """The real REST client, with an HTTP timeout so a slow Twilio cannot hang a worker."""

    def __init__(
        self, account_sid: str, auth_token: str, timeout: float = 10.0, base_url: str | None = None
    ) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        # The timeout covers connecting and each read; without it requests waits forever.
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        # Listing messages puts a number in the query string, which twilio's client logs at INFO:
        # erasure and the send reconciler go through a client whose request log stays quiet.
        quiet = TwilioHttpClient(timeout=timeout, logger=_QUIET)
        self.erasing = Client(account_sid, auth_token, http_client=quiet)
        if base_url:  # a local fake of Twilio's API in tests
            self.client.api.base_url = base_url.rstrip("/")
            self.erasing.api.base_url = base_url.rstrip("/")

    def send(self, message: Outgoing) -> str:
        try:
            return self.client.messages.create(**_create_args(message)).sid
        except Exception as exc:
            # `from None`: the chained twilio/requests exception quotes the number.
            raise _send_error(exc) from None

    def find(self, message: Outgoing, since: datetime) -> str | None:
        """Twilio's recent messages on this route, newest first; ours if one was created since
        the claim (a minute of slack for clocks) with the same text."""
        try:
            recent = self.erasing.messages.list(to=message.to, from_=message.sender, limit=20)
        except Exception as exc:
            raise _send_error(exc) from None
        after = since - timedelta(minutes=1)
        for item in recent:
            created = item.date_created
            if (
                created is not None
                and created >= after
                and _same(message, item.to, item.from_, item.body or "")
            ):
                return item.sid
        return None

    def held(self, to: str, sender: str) -> list[Held]:
        """The messages Twilio keeps on this route, inbound and outbound, TwiML replies too."""
        try:
            found = self.erasing.messages.list(to=to, from_=sender, page_size=1000)
        except Exception as exc:
            raise _send_error(exc) from None
        return [Held(item.sid, item.date_created, _count(item.num_media)) for item in found if item.sid]

    def delete_message(self, sid: str, num_media: int | None = None) -> int | None:
        """Media first (DELETE .../Messages/{sid}/Media/{media}.json): deleting the message
        removes its media too, but not media another message shares (a member's MEDIA
        forward of it), so each is deleted by name. Then the message (204; 404: gone)."""
        try:
            removed = self._delete_media(sid) if num_media is None or num_media > 0 else 0
            self.erasing.messages(sid).delete()
        except SendError:
            raise  # a media delete already said why
        except Exception as exc:
            error = _delete_error(exc)
            if error is None:
                return None
            raise error from None
        return removed

    def _delete_media(self, sid: str) -> int:
        removed = 0
        for item in self.erasing.messages(sid).media.list():
            try:
                self.erasing.messages(sid).media(item.sid).delete()
            except Exception as exc:
                if (error := _delete_error(exc)) is not None:
                    raise error from None
                continue  # gone meanwhile
            removed += 1
        return removed


def _count(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _delete_error(exc: Exception) -> SendError | None:
    """None when Twilio no longer has it (404): deleted before. 20009 (or a bare 409) means
    the message is still on its way: "in_flight", retried later."""
    error = _send_error(exc)
    if error.http_status == 404:
        return None
    if error.code in IN_FLIGHT or (error.code is None and error.http_status == 409):
        return SendError("in_flight", 20009, error.http_status)
    return error


def _create_args(message: Outgoing) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"to": message.to, "from_": message.sender}
    if message.content_sid:
        # Twilio wants ContentVariables as a JSON string, and no Body next to a template.
        kwargs["content_sid"] = message.content_sid
        if message.content_variables:
            kwargs["content_variables"] = json.dumps(message.content_variables, ensure_ascii=False)
    else:
        kwargs["body"] = message.body
        if message.media_urls:
            kwargs["media_url"] = list(message.media_urls)
    if message.status_callback:
        kwargs["status_callback"] = message.status_callback
    return kwargs


def _send_error(exc: Exception) -> SendError:
    from requests import RequestException
    from requests.exceptions import ChunkedEncodingError, Timeout
    from requests.exceptions import ConnectionError as RequestsConnectionError
    from twilio.base.exceptions import TwilioRestException, TwilioServiceException

    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = exc.status if isinstance(exc.status, int) else None
        code = exc.code if isinstance(exc.code, int) else None
        if code == status:  # twilio-python puts the HTTP status in `code` when the body has none
            code = None
        return SendError(classify(code, status), code, status)
    if isinstance(exc, Timeout | RequestsConnectionError | ChunkedEncodingError):
        return SendError("timeout")  # a dropped connection too: Twilio may be back in a moment
    if isinstance(exc, RequestException):
        return SendError("other")
    log.warning("twilio send failed unexpectedly: %s", type(exc).__name__)
    return SendError("other")
