"""Cost of one inbound message through the whole path (signature, parse, locked conversation,
engine, case, reply as TwiML), replaying complete Kekerasan reports.

    .venv/bin/python -m bench.webhook [DATABASE_URL]    (default: a fresh SQLite file)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import fakeredis
from twilio.request_validator import RequestValidator

from app import create_app
from bench.scripts import KEKERASAN
from bot.jobs.queue import RQQueue
from bot.jobs.transport import ConsoleTransport
from sitefiles.sites import read_sites
from storage.sites import load_sites

TOKEN, URL = "bench-token", "https://hotline.example.org"
REPORTS = 40


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'b.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "PUBLIC_URL": URL,
            "HOTLINE_CONSOLE": ConsoleTransport(stream=None),
            "HOTLINE_QUEUE": RQQueue(fakeredis.FakeRedis()),
        }
    )
    app.logger.disabled = True
    hotline = app.extensions["hotline"]
    hotline.db.upgrade()
    with hotline.db.session() as s:
        load_sites(s, read_sites(Path(__file__).resolve().parent.parent / "sites.toml"))
    client, validator = app.test_client(), RequestValidator(TOKEN)
    timings, sid = [], 0
    for n in range(REPORTS):
        for body in KEKERASAN:
            sid += 1
            form = {
                "MessageSid": f"SM{sid:032d}",
                "From": f"+62812{n:07d}",
                "To": "+6281100000001",
                "Body": body,
                "NumMedia": "0",
            }
            headers = {"X-Twilio-Signature": validator.compute_signature(URL + "/twilio/messages", form)}
            start = time.perf_counter()
            assert client.post("/twilio/messages", data=form, headers=headers).status_code == 200
            timings.append(time.perf_counter() - start)
    timings.sort()
    print(f"{url.split(':')[0]}: {len(timings)} messages, {REPORTS} complete reports")
    median, p90 = statistics.median(timings), timings[int(len(timings) * 0.9)]
    print(f"  median {median * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms, max {timings[-1] * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
