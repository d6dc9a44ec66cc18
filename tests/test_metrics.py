"""GET /metrics: Prometheus text behind a bearer token, figures read at scrape time."""

from __future__ import annotations

import inspect
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from app import ConfigError, create_app
from bot.jobs.queue import RQQueue
from storage import monitoring, outbox
from storage.models import Member, Message, Outbox
from storage.queries import queue_message
from tests.conftest import PRE_NUMBER

METRICS_TOKEN = "metrics-token-0123456789abcdef"
RESIDENT = "+6281234567890"


@pytest.fixture
def scraper(app, client):
    app.config["HOTLINE_METRICS_TOKEN"] = METRICS_TOKEN
    return client


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.data
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def queue_one(hotline, address: str = f"whatsapp:{RESIDENT}") -> int:
    site = hotline.db.directory.current().site_for_number(PRE_NUMBER)  # as the webhook finds it
    assert site is not None
    with hotline.work() as session:
        message = queue_message(session, site_id=site.id, address=address, body="Halo", now=hotline.clock())
        return message.id


def test_no_token_configured_means_no_endpoint(app, client) -> None:
    app.config.pop("HOTLINE_METRICS_TOKEN", None)
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404
    app.config["HOTLINE_METRICS_TOKEN"] = ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token-0123456789abcdef",
        f"Bearer {METRICS_TOKEN}x",
        f"Basic {METRICS_TOKEN}",
        METRICS_TOKEN,
    ],
)
def test_a_missing_or_wrong_token_is_refused(scraper, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = scraper.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"hotline_" not in response.data


def test_the_right_token_gets_prometheus_text(scraper) -> None:
    response = scraper.get("/metrics", headers={"Authorization": f"bearer  {METRICS_TOKEN} "})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert response.headers["Cache-Control"] == "no-store"
    names = {f.name for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {
        "hotline_database_up",
        "hotline_outbox_open",
        "hotline_outbox_due_for_push",
        "hotline_outbox_exhausted",
        "hotline_messages_stuck_handing",
        "hotline_messages_pending",
        "hotline_messages_failed_24h",
        "hotline_members_unreachable",
        "hotline_queue_up",
        "hotline_queue_jobs",
        "hotline_queue_scheduled_jobs",
        "hotline_spool_messages",
    } <= names
    values = scrape(scraper)
    assert values[("hotline_database_up", ())] == 1
    assert values[("hotline_queue_up", ())] == 1
    assert values[("hotline_messages_pending", ())] == 0
    assert values[("hotline_queue_jobs", ())] == 0


def test_a_queued_message_is_pending_and_queued(scraper, hotline) -> None:
    queue_one(hotline)
    values = scrape(scraper)
    assert values[("hotline_messages_pending", ())] == 1
    assert values[("hotline_outbox_open", (("job", "send_message"),))] == 1
    assert values[("hotline_queue_jobs", ())] == 1  # pushed to rq after commit
    assert values[("hotline_outbox_due_for_push", ())] == 0  # pushed just now: not the sweeper's
    assert values[("hotline_messages_stuck_handing", ())] == 0


def test_a_message_handing_past_the_bound_counts_as_stuck(scraper, hotline) -> None:
    stuck, recent = queue_one(hotline), queue_one(hotline, f"whatsapp:{RESIDENT[:-1]}1")
    with hotline.work() as session:
        now = hotline.clock()
        for message_id, ago in ((stuck, timedelta(minutes=3)), (recent, timedelta(minutes=1))):
            message = session.get_one(Message, message_id)
            message.status, message.sent_at = "handing", now - ago
    values = scrape(scraper)
    assert values[("hotline_messages_stuck_handing", ())] == 1
    assert values[("hotline_messages_pending", ())] == 0


def test_failures_and_unreachable_members_are_counted_without_who(scraper, hotline) -> None:
    old, new = queue_one(hotline), queue_one(hotline)
    site = hotline.db.directory.current().site_for_number(PRE_NUMBER)
    assert site is not None
    with hotline.work() as session:
        now = hotline.clock()
        session.get_one(Message, new).status = "failed"
        message = session.get_one(Message, old)
        message.status, message.created_at = "undelivered", now - timedelta(hours=25)
        for i, kind in enumerate(("opted_out", "bad_number", "bad_number", None)):
            session.add(Member(site_id=site.id, name=f"Ibu {i}", phone=f"+62811999000{i}", unreachable=kind))
    response = scraper.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = response.get_data(as_text=True)
    values = parse(text)
    assert values[("hotline_messages_failed_24h", ())] == 1
    assert values[("hotline_members_unreachable", (("kind", "bad_number"),))] == 2
    assert values[("hotline_members_unreachable", (("kind", "opted_out"),))] == 1
    labels = {name for (_, pairs) in values for name, _ in pairs}
    assert labels <= {"job", "kind"}
    for personal in (RESIDENT, "+628119990001", "Ibu", "Halo"):
        assert personal not in text


def test_due_for_push_counts_what_the_sweeper_would_push(scraper, hotline) -> None:
    grace, stuck = (inspect.signature(outbox.due_for_push).parameters[p].default for p in ("grace", "stuck"))
    assert (grace, stuck) == (monitoring.PUSH_GRACE, monitoring.PUSH_STUCK)
    now = hotline.clock()
    ago = {"minutes": 2}
    rows = [
        {"created_at": now - timedelta(minutes=1)},  # never pushed (Redis was down): due
        {"created_at": now - timedelta(seconds=10)},  # never pushed, within the grace: not yet
        {"pushed_at": now - timedelta(**ago), "run_at": now - timedelta(**ago)},  # a worker died: due
        {"pushed_at": now - timedelta(**ago), "run_at": now + timedelta(hours=1)},  # for later
        {"pushed_at": now - timedelta(**ago), "done_at": now},  # done
        {"created_at": now - timedelta(minutes=5), "attempts": outbox.MAX_ATTEMPTS},  # given up
    ]
    with hotline.work() as session:  # added by hand, so the unit of work pushes none of them
        for row in rows:
            values = {"created_at": now - timedelta(**ago), "run_at": now - timedelta(**ago)} | row
            session.add(Outbox(job="check_offer", args={}, **values))
    with hotline.work() as session:
        assert monitoring.outbox_due(session, now) == len(outbox.due_for_push(session, now)) == 2
    values = scrape(scraper)
    assert values[("hotline_outbox_due_for_push", ())] == 2
    assert values[("hotline_outbox_exhausted", ())] == 1
    assert values[("hotline_outbox_open", (("job", "check_offer"),))] == 5


def test_the_spool_size_is_read_from_the_spool(app, scraper) -> None:
    class Spool:
        def size(self) -> int:
            return 3

    app.extensions["hotline_spool"] = Spool()
    assert scrape(scraper)[("hotline_spool_messages", ())] == 3
    app.extensions.pop("hotline_spool")
    assert scrape(scraper)[("hotline_spool_messages", ())] == 0


def test_every_app_answers_the_same(app, scraper, database_url: str, redis) -> None:
    """A second app on the same database and Redis (another gunicorn worker) reads the same."""
    queue_one(app.extensions["hotline"])
    other = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "HOTLINE_TRANSPORT": "console",
            "HOTLINE_QUEUE": RQQueue(redis),
            "HOTLINE_METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    try:
        first, second = scrape(scraper), scrape(other.test_client())
    finally:
        other.extensions["hotline"].db.dispose()
    assert first == second
    assert second[("hotline_messages_pending", ())] == 1


def test_a_database_and_redis_down_say_so(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'hotline.db'}",  # no such folder
            "HOTLINE_TRANSPORT": "console",
            "HOTLINE_QUEUE": RQQueue(Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)),
            "HOTLINE_METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    values = scrape(app.test_client())
    assert values[("hotline_database_up", ())] == 0
    assert values[("hotline_queue_up", ())] == 0
    names = {name for name, _ in values}
    assert "hotline_messages_pending" not in names  # left out, not reported as 0
    assert "hotline_queue_jobs" not in names


def test_the_in_process_queue_reports_its_heap(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
            "HOTLINE_TRANSPORT": "console",
            "HOTLINE_METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    hotline = app.extensions["hotline"]
    hotline.db.upgrade()
    hotline.queue.push(1, hotline.clock() + timedelta(hours=1))  # a deadline check for later
    values = scrape(app.test_client())
    assert values[("hotline_queue_up", ())] == 1
    assert values[("hotline_queue_jobs", ())] == 0
    assert values[("hotline_queue_scheduled_jobs", ())] == 1
    hotline.db.dispose()


@pytest.mark.parametrize("token", ["short", "with a space in it 0123456789", "é" * 20, 12345678901234567890])
def test_a_weak_or_odd_token_is_refused_at_start(token: object, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_METRICS_TOKEN"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "HOTLINE_METRICS_TOKEN": token})
