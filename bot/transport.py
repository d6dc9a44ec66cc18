"""How messages leave the hotline: Twilio's REST API, or a console that records and prints."""

from __future__ import annotations

import logging
import sys
import threading
import uuid
from dataclasses import dataclass, field
from typing import Protocol, TextIO

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    to: str  # E.164, "whatsapp:" prefixed for WhatsApp
    sender: str  # the site's number the conversation uses
    body: str
    status_callback: str | None = None


class Transport(Protocol):
    def send(self, message: Outgoing) -> str:
        """Hand the message over; returns the provider's message id."""
        ...


@dataclass
class ConsoleTransport:
    """For laptops and tests: keeps every message and prints it, sends nothing."""

    stream: TextIO | None = field(default_factory=lambda: sys.stdout)
    sent: list[Outgoing] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send(self, message: Outgoing) -> str:
        with self._lock:
            self.sent.append(message)
        if self.stream is not None:
            print(f"\n[console -> {message.to}]\n{message.body}\n", file=self.stream, flush=True)
        return f"CONSOLE{uuid.uuid4().hex}"


class TwilioTransport:
    """The real REST client, with an HTTP timeout so a slow Twilio cannot hang a worker."""

    def __init__(
        self, account_sid: str, auth_token: str, timeout: float = 10.0, base_url: str | None = None
    ) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if base_url:  # a local fake of Twilio's API in tests
            self.client.api.base_url = base_url.rstrip("/")

    def send(self, message: Outgoing) -> str:
        kwargs = {"to": message.to, "from_": message.sender, "body": message.body}
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        return self.client.messages.create(**kwargs).sid
