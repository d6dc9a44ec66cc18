"""A local fake of Twilio's Messages API, so tests run the real `twilio` client without the
network. It answers like Twilio (201 and a message resource, or Twilio-shaped errors), checks
basic auth, records every request's form, and can be told what to answer next:

    fake_twilio.fail(400, 63016)      # next create fails with Twilio error 63016
    fake_twilio.fail(500)             # next create gets a bare 500
    fake_twilio.stall(2.0)            # next create answers only after 2 s (past a client timeout)

GET on the Messages list answers with the messages created so far, filtered by To and From,
newest first, as Twilio's list does (what the send reconciler reads).

Erasure (HAPUS, purge) deletes there: DELETE a message (204, and its media with it; 404 for one
Twilio does not have; Twilio's 20009 while it is still being sent), GET a message's Media list
and DELETE one media (204 or 404). Messages Twilio would hold without our API creating them
(inbound ones, TwiML replies) are put there by hand, with their media:

    sid = fake_twilio.seed(to=HOTLINE, sender=RESIDENT, body="halo", media=1)
    fake_twilio.in_flight(sid, times=1)   # the next DELETE of it answers 409 / 20009
    fake_twilio.on_route(RESIDENT)         # what Twilio still holds to or from a number

Use the `fake_twilio` fixture (import it into the test module) and point a TwilioTransport at
`fake_twilio.url` with `fake_twilio.account_sid` / `fake_twilio.auth_token`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

MAX_STALL = 5.0  # seconds: a stalled answer never holds a test run longer than this
MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json")
# One message, its media list, one media: (account, message SID[, media SID]).
MESSAGE_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/((?:SM|MM)[0-9a-f]{32})\.json")
MEDIA_LIST_PATH = re.compile(
    r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/((?:SM|MM)[0-9a-f]{32})/Media\.json"
)
MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages/((?:SM|MM)[0-9a-f]{32})/Media/(ME[0-9a-f]{32})\.json"
)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    form: dict[str, str]  # decoded; a repeated key (MediaUrl) keeps its last value
    authorized: bool


@dataclass(frozen=True)
class Scripted:
    status: int = 201
    code: int | None = None
    delay: float = 0.0


class FakeTwilio:
    def __init__(self, account_sid: str | None = None, auth_token: str = "fake-auth-token") -> None:
        self.account_sid = account_sid or "AC" + uuid.uuid4().hex
        self.auth_token = auth_token
        self.requests: list[Recorded] = []
        self.created: list[dict[str, Any]] = []  # message resources, in creation order
        self.media: dict[str, list[dict[str, Any]]] = {}  # message SID -> its media resources
        self.deleted: list[str] = []  # SIDs deleted (messages and media), in order
        self._in_flight: dict[str, int] = {}  # message SID -> DELETEs still refused with 20009
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting --------------------------------------------------------------------------

    def fail(self, status: int, code: int | None = None) -> FakeTwilio:
        """The next create answers with this HTTP status and, if given, Twilio error code."""
        return self._queue(Scripted(status=status, code=code))

    def stall(self, seconds: float, status: int = 201) -> FakeTwilio:
        """The next create answers only after `seconds` (capped at MAX_STALL)."""
        return self._queue(Scripted(status=status, delay=min(seconds, MAX_STALL)))

    def in_flight(self, sid: str, times: int = 1) -> FakeTwilio:
        """The next `times` DELETEs of this message answer 409 with Twilio's 20009, as for a
        message still queued or sending."""
        with self._lock:
            self._in_flight[sid] = times
        return self

    def _queue(self, step: Scripted) -> FakeTwilio:
        with self._lock:
            self._script.append(step)
        return self

    def _next(self) -> Scripted:
        with self._lock:
            return self._script.popleft() if self._script else Scripted()

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "fake Twilio is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-twilio", daemon=True
        )  # a short poll interval: stop() returns at once
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes any stalled answer at once
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=MAX_STALL)
        self._server = self._thread = None

    # -- answers ----------------------------------------------------------------------------

    def _answer(
        self, method: str, path: str, headers: Any, raw: bytes, query: str = ""
    ) -> tuple[int, dict[str, Any]]:
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        authorized = headers.get("Authorization", "") == _basic(self.account_sid, self.auth_token)
        with self._lock:
            self.requests.append(Recorded(method, path, form, authorized))
        if one := self._one(method, path, authorized):
            return one
        match = MESSAGES_PATH.fullmatch(path)
        if method not in ("POST", "GET") or not match or match.group(1) != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if not authorized:
            return _error(401, 20003, "Authenticate")
        if method == "GET":
            return 200, self._list(dict(parse_qsl(query)), path)
        step = self._next()
        if step.delay:
            self._stopping.wait(step.delay)
        if step.status >= 400:
            return _error(step.status, step.code, f"Scripted failure {step.code or step.status}")
        missing = _missing(form)
        if missing:
            return _error(400, *missing)
        resource = self._resource(form)
        self._attach(resource, [v for k, v in parse_qsl(raw.decode("utf-8", "replace")) if k == "MediaUrl"])
        with self._lock:
            self.created.append(resource)
        return step.status, resource

    def _one(self, method: str, path: str, authorized: bool) -> tuple[int, dict[str, Any]] | None:
        """One message or its media (GET, DELETE); None for any other path."""
        for pattern in (MESSAGE_PATH, MEDIA_LIST_PATH, MEDIA_PATH):
            if match := pattern.fullmatch(path):
                break
        else:
            return None
        account, sid, *media_sid = match.groups()
        if account != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if not authorized:
            return _error(401, 20003, "Authenticate")
        if pattern is MESSAGE_PATH:
            return self._delete_message(sid) if method == "DELETE" else self._fetch(sid)
        if pattern is MEDIA_LIST_PATH and method == "GET":
            return self._media_list(sid, path)
        if pattern is MEDIA_PATH and method == "DELETE":
            return self._delete_media(sid, media_sid[0])
        return _error(405, 20004, "Method not allowed")

    def _fetch(self, sid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            found = next((m for m in self.created if m["sid"] == sid), None)
        return (200, found) if found else _error(404, 20404, "The requested resource was not found")

    def _delete_message(self, sid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self._in_flight.get(sid, 0) > 0:
                self._in_flight[sid] -= 1
                return _error(409, 20009, "Cannot delete this resource before it is complete")
            found = next((m for m in self.created if m["sid"] == sid), None)
            if found is None:
                return _error(404, 20404, "The requested resource was not found")
            self.created.remove(found)
            self.deleted += [*(m["sid"] for m in self.media.pop(sid, [])), sid]
        return 204, {}

    def _media_list(self, sid: str, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if not any(m["sid"] == sid for m in self.created):
                return _error(404, 20404, "The requested resource was not found")
            items = list(self.media.get(sid, []))
        page = {"first_page_uri": path, "next_page_uri": None, "previous_page_uri": None, "uri": path}
        return 200, {"media_list": items, "page": 0, "page_size": 50, "start": 0, "end": len(items), **page}

    def _delete_media(self, sid: str, media_sid: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            items = self.media.get(sid, [])
            found = next((m for m in items if m["sid"] == media_sid), None)
            if found is None:
                return _error(404, 20404, "The requested resource was not found")
            items.remove(found)
            self.deleted.append(media_sid)
            for message in self.created:
                if message["sid"] == sid:
                    message["num_media"] = str(len(items))
        return 204, {}

    def accepted(self, to: str, sender: str, body: str) -> str:
        """A message Twilio has, as if created through the API (e.g. by a worker that died before
        it could record the answer); returns its SID."""
        resource = self._resource({"To": to, "From": sender, "Body": body})
        with self._lock:
            self.created.append(resource)
        return str(resource["sid"])

    def seed(
        self,
        *,
        to: str,
        sender: str,
        body: str = "",
        sid: str | None = None,
        media: int = 0,
        direction: str = "inbound",
        created: datetime | None = None,
    ) -> str:
        """A message Twilio holds that our API calls did not create: an inbound one (give the
        webhook's MessageSid as `sid`), or a TwiML reply (direction "outbound-reply"), with
        `media` pictures; `created` when Twilio made it (default now). Returns its SID."""
        resource = self._resource({"To": to, "From": sender, "Body": body}, sid=sid, created=created)
        resource |= {"direction": direction, "status": "received" if direction == "inbound" else "delivered"}
        self._attach(resource, ["https://example.org/photo.jpg"] * media)
        with self._lock:
            self.created.append(resource)
        return str(resource["sid"])

    def on_route(self, number: str) -> list[dict[str, Any]]:
        """The messages Twilio still holds to or from this number, SMS or WhatsApp."""
        with self._lock:
            return [m for m in self.created if number in (_bare(m["to"]), _bare(m["from"]))]

    def _attach(self, resource: dict[str, Any], urls: list[str]) -> None:
        """Twilio keeps a copy of each attachment as a Media resource of the message."""
        sid = str(resource["sid"])
        base = str(resource["uri"]).removesuffix(".json")
        items = []
        for _ in urls:
            media_sid = "ME" + uuid.uuid4().hex
            items.append(
                {
                    "account_sid": self.account_sid,
                    "content_type": "image/jpeg",
                    "date_created": resource["date_created"],
                    "date_updated": resource["date_created"],
                    "parent_sid": sid,
                    "sid": media_sid,
                    "uri": f"{base}/Media/{media_sid}.json",
                }
            )
        resource["num_media"] = str(len(items))
        with self._lock:
            self.media[sid] = items

    def _list(self, query: dict[str, str], path: str) -> dict[str, Any]:
        with self._lock:
            found = [
                m
                for m in reversed(self.created)
                if (not query.get("To") or m["to"] == query["To"])
                and (not query.get("From") or m["from"] == query["From"])
            ]
        size = int(query.get("PageSize") or 50)
        return {
            "messages": found[:size],
            "first_page_uri": path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": size,
            "uri": path,
        }

    def _resource(
        self, form: dict[str, str], sid: str | None = None, created: datetime | None = None
    ) -> dict[str, Any]:
        sid = sid or "SM" + uuid.uuid4().hex
        now = format_datetime(created or datetime.now(UTC), usegmt=True).replace("GMT", "+0000")
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form.get("To"),
            "uri": f"{base}.json",
        }


def _bare(address: str | None) -> str:
    return (address or "").removeprefix("whatsapp:")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _missing(form: dict[str, str]) -> tuple[int, str] | None:
    """Twilio's own checks on a create, the ones our sends could trip."""
    if not form.get("To"):
        return 21604, "A 'To' phone number is required."
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603, "A 'From' phone number is required."
    if not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
        return 21602, "Message body is required."
    if form.get("ContentVariables") and not form.get("ContentSid"):
        return 21654, "ContentSid Required"
    return None


def _error(status: int, code: int | None, message: str) -> tuple[int, dict[str, Any]]:
    """Twilio's legacy error body; a bare 5xx carries no Twilio code."""
    more_info = f"https://www.twilio.com/docs/errors/{code}" if code else None
    return status, {"code": code, "message": message, "more_info": more_info, "status": status}


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers at shutdown
        timeout = MAX_STALL  # a client that never sends its body cannot hold a thread

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), 1024 * 1024)
            raw = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            status, payload = fake._answer(method, path, self.headers, raw, query)
            body = b"" if status == 204 else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (its timeout): nothing to answer
                pass

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

    return Handler


@pytest.fixture(name="fake_twilio")
def fake_twilio_fixture() -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()
