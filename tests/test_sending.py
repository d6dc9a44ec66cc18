"""The send job end to end: a queued message goes through a real rq worker and the real twilio
client (TwilioTransport) to a local fake of Twilio's Messages API. At most once, WhatsApp's
24-hour window (template, SMS fallback for members), permanent errors recorded, transient ones
retried by rq's Retry (and by the in-process queue), and a status callback that beats the job."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import select

from app import create_app
from bot.jobs.queue import SEND, LocalQueue
from bot.jobs.runner import run_outbox, sweep
from bot.jobs.transport import Outgoing, TwilioTransport
from sitefiles.sites import read_sites
from storage import outbox
from storage.models import Contact, Member, Message, Outbox, Site
from storage.queries import queue_message
from storage.sites import load_sites
from tests.conftest import PRE_NUMBER, PUBLIC_URL, ROOT, post_signed, work
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)

MEMBER = "+6281377770000"
RESIDENT = "+6281234567890"
WA_PRE = f"whatsapp:{PRE_NUMBER}"
TEMPLATE = "HX" + "0" * 32


@pytest.fixture
def twilio(hotline, fake_twilio: FakeTwilio, clock) -> FakeTwilio:  # type: ignore[no-untyped-def]
    """The app fixture's hotline, sending through the real twilio client to the fake."""
    hotline.transport = TwilioTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, timeout=0.5, base_url=fake_twilio.url
    )
    hotline.config.pop("TWILIO_WA_TEMPLATE_SID", None)
    hotline.config.pop("HOTLINE_SMS_FALLBACK", None)
    return fake_twilio


def pre_site(session) -> int:  # type: ignore[no-untyped-def]
    return session.scalars(select(Site.id).where(Site.prefix == "PRE")).one()


def add_member(hotline, *, last_inbound_at: datetime | None = None, **fields) -> int:  # type: ignore[no-untyped-def]
    fields.setdefault("channel", "whatsapp")
    with hotline.db.session() as s:
        row = Member(
            site_id=pre_site(s), name="Ibu Sari", phone=MEMBER, last_inbound_at=last_inbound_at, **fields
        )
        s.add(row)
        s.flush()
        return row.id


def add_contact(hotline, *, last_inbound_at: datetime | None, stopped: bool = False) -> int:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        row = Contact(phone=RESIDENT, channel="whatsapp", last_inbound_at=last_inbound_at, stopped=stopped)
        s.add(row)
        s.flush()
        return row.id


def send(hotline, address: str, body: str = "Kasus baru PRE-7K3Q", **links) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Queue a message as the app does and push its job after commit: (message id, outbox id)."""
    with hotline.db.session() as s:
        msg = queue_message(s, site_id=pre_site(s), address=address, body=body, now=hotline.clock(), **links)
        message_id = msg.id
        rows = [(o.id, o.run_at) for o in outbox.added(s)]
    for outbox_id, run_at in rows:
        assert hotline.push(outbox_id, run_at)
    [(outbox_id, _)] = rows
    return message_id, outbox_id


def message(hotline, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.get_one(Message, message_id)


def job(hotline, outbox_id: int) -> Outbox:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.get_one(Outbox, outbox_id)


def member_row(hotline, member_id: int) -> Member:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.get_one(Member, member_id)


def scheduled(redis) -> list[str]:  # type: ignore[no-untyped-def]
    return Queue(SEND, connection=redis).scheduled_job_registry.get_job_ids()


def later(seconds: float) -> datetime:
    """Wall-clock time: rq schedules its retries by the real clock, not the hotline's."""
    return datetime.now(UTC) + timedelta(seconds=seconds)


def callback_path(message_id: int) -> str:
    return f"/twilio/status?m={message_id}"


# -- SMS, at most once ----------------------------------------------------------------------


def test_sms_to_a_member_goes_once_from_the_site_number(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms")
    message_id, outbox_id = send(hotline, MEMBER, "TERIMA PRE-7K3Q", member_id=member_id)
    work(app, redis)

    [seen] = twilio.requests
    assert seen.authorized
    assert seen.form == {
        "To": MEMBER,
        "From": PRE_NUMBER,
        "Body": "TERIMA PRE-7K3Q",
        "StatusCallback": f"{PUBLIC_URL}/twilio/status?m={message_id}",
    }
    msg = message(hotline, message_id)
    assert (msg.status, msg.channel, msg.address, msg.template, msg.error_code) == (
        "accepted",
        "sms",
        MEMBER,
        None,
        None,
    )
    assert msg.provider_sid and msg.provider_sid.startswith("SM") and len(msg.provider_sid) == 34
    assert msg.sent_at is not None
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.attempts == 1 and row.error is None
    assert scheduled(redis) == []


def test_a_job_run_twice_sends_once(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms")
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)
    sid = message(hotline, message_id).provider_sid
    assert len(twilio.requests) == 1

    assert hotline.push(outbox_id)  # the sweeper after a lost ack, or a duplicate push
    work(app, redis)
    assert len(twilio.requests) == 1
    msg = message(hotline, message_id)
    assert (msg.status, msg.provider_sid) == ("accepted", sid)
    assert job(hotline, outbox_id).attempts == 1  # done: not even claimed again


def test_a_message_left_handing_by_a_killed_worker_is_never_sent_again(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms")
    with hotline.db.session() as s:
        msg = queue_message(
            s, site_id=pre_site(s), address=MEMBER, body="halo", now=hotline.clock(), member_id=member_id
        )
        msg.status = "handing"  # claimed and committed, then the worker died mid-call
        message_id = msg.id
        [row] = outbox.added(s)
        outbox_id = row.id
    hotline.push(outbox_id)
    work(app, redis)

    assert twilio.requests == []
    msg = message(hotline, message_id)
    assert (msg.status, msg.provider_sid) == ("handing", None)
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.attempts == 1 and row.error is None


# -- WhatsApp's 24-hour window --------------------------------------------------------------


def test_whatsapp_inside_the_window_is_free_text(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["TWILIO_WA_TEMPLATE_SID"] = TEMPLATE  # configured, but not needed
    member_id = add_member(hotline, last_inbound_at=clock.now - timedelta(hours=23))
    message_id, outbox_id = send(hotline, f"whatsapp:{MEMBER}", "Kasus baru\nPRE-7K3Q", member_id=member_id)
    work(app, redis)

    [seen] = twilio.requests
    assert (seen.form["To"], seen.form["From"], seen.form["Body"]) == (
        f"whatsapp:{MEMBER}",
        WA_PRE,
        "Kasus baru\nPRE-7K3Q",
    )
    assert "ContentSid" not in seen.form and "ContentVariables" not in seen.form
    msg = message(hotline, message_id)
    assert (msg.status, msg.channel, msg.address, msg.template) == (
        "accepted",
        "whatsapp",
        f"whatsapp:{MEMBER}",
        None,
    )
    assert msg.provider_sid and job(hotline, outbox_id).done_at is not None


@pytest.mark.parametrize("last_inbound_hours", [25, None])  # outside the window, or never wrote
def test_whatsapp_outside_the_window_uses_the_template(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio, last_inbound_hours: int | None
) -> None:
    hotline.config["TWILIO_WA_TEMPLATE_SID"] = TEMPLATE
    hotline.config["HOTLINE_SMS_FALLBACK"] = "1"  # the template comes first
    last = clock.now - timedelta(hours=last_inbound_hours) if last_inbound_hours else None
    member_id = add_member(hotline, last_inbound_at=last)
    body = "Kasus baru PRE-7K3Q\n\tKekerasan, Lompoe\n"
    message_id, outbox_id = send(hotline, f"whatsapp:{MEMBER}", body, member_id=member_id)
    work(app, redis)

    [seen] = twilio.requests
    assert "Body" not in seen.form
    assert (seen.form["To"], seen.form["From"], seen.form["ContentSid"]) == (
        f"whatsapp:{MEMBER}",
        WA_PRE,
        TEMPLATE,
    )
    assert json.loads(seen.form["ContentVariables"]) == {"1": "Kasus baru PRE-7K3Q / Kekerasan, Lompoe"}
    assert seen.form["StatusCallback"].endswith(callback_path(message_id))
    msg = message(hotline, message_id)
    assert (msg.status, msg.template, msg.channel, msg.address, msg.body) == (
        "accepted",
        TEMPLATE,
        "whatsapp",
        f"whatsapp:{MEMBER}",
        body,  # the transcript keeps the text
    )
    assert job(hotline, outbox_id).done_at is not None


def test_whatsapp_outside_the_window_without_template_falls_back_to_sms(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["HOTLINE_SMS_FALLBACK"] = "1"
    member_id = add_member(hotline, last_inbound_at=clock.now - timedelta(days=3))
    message_id, outbox_id = send(hotline, f"whatsapp:{MEMBER}", "Kasus baru PRE-7K3Q", member_id=member_id)
    work(app, redis)

    [seen] = twilio.requests
    assert (seen.form["To"], seen.form["From"]) == (MEMBER, PRE_NUMBER)
    assert seen.form["Body"] == "Kasus baru PRE-7K3Q"
    assert "ContentSid" not in seen.form
    msg = message(hotline, message_id)
    assert (msg.status, msg.channel, msg.address, msg.template) == ("accepted", "sms", MEMBER, None)
    assert msg.provider_sid and job(hotline, outbox_id).done_at is not None


def test_whatsapp_outside_the_window_with_no_way_out_is_not_sent(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["HOTLINE_SMS_FALLBACK"] = "0"
    member_id = add_member(hotline, last_inbound_at=clock.now - timedelta(hours=24, seconds=1))
    message_id, outbox_id = send(hotline, f"whatsapp:{MEMBER}", member_id=member_id)
    work(app, redis)

    assert twilio.requests == []
    msg = message(hotline, message_id)
    assert (msg.status, msg.error_code, msg.provider_sid, msg.channel) == ("failed", 63016, None, "whatsapp")
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.error == "not sent: window"
    with hotline.db.session() as s:
        assert s.scalars(select(Outbox).where(Outbox.job == "send_fallback")).all() == []
    assert scheduled(redis) == []


# -- Twilio says 63016: one fallback --------------------------------------------------------


@pytest.mark.parametrize("by", ["template", "sms"])
def test_twilio_refusing_free_text_gets_one_fallback(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio, by: str
) -> None:
    if by == "template":
        hotline.config["TWILIO_WA_TEMPLATE_SID"] = TEMPLATE
    else:
        hotline.config["HOTLINE_SMS_FALLBACK"] = "yes"
    # Inside the window by our clock (their last message was lost, or our clock is off).
    member_id = add_member(hotline, last_inbound_at=clock.now - timedelta(hours=1))
    twilio.fail(400, 63016)
    message_id, outbox_id = send(hotline, f"whatsapp:{MEMBER}", "Kasus baru PRE-7K3Q", member_id=member_id)
    work(app, redis)

    first, second = twilio.requests
    assert first.form["Body"] == "Kasus baru PRE-7K3Q" and "ContentSid" not in first.form
    msg = message(hotline, message_id)
    assert (msg.status, msg.error_code, msg.provider_sid) == ("failed", 63016, None)
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.error == "window 63016" and row.attempts == 1
    assert member_row(hotline, member_id).unreachable is None

    with hotline.db.session() as s:
        [fallback_job] = s.scalars(select(Outbox).where(Outbox.job == "send_fallback")).all()
        [retry] = s.scalars(select(Message).where(Message.reply_to_id == message_id)).all()
    assert fallback_job.done_at is not None and fallback_job.args == {"message_id": message_id}
    assert retry.status == "accepted" and retry.provider_sid and retry.member_id == member_id
    if by == "template":
        assert "Body" not in second.form
        assert (second.form["To"], second.form["From"], second.form["ContentSid"]) == (
            f"whatsapp:{MEMBER}",
            WA_PRE,
            TEMPLATE,
        )
        assert json.loads(second.form["ContentVariables"]) == {"1": "Kasus baru PRE-7K3Q"}
        assert (retry.template, retry.channel) == (TEMPLATE, "whatsapp")
    else:
        assert (second.form["To"], second.form["From"], second.form["Body"]) == (
            MEMBER,
            PRE_NUMBER,
            "Kasus baru PRE-7K3Q",
        )
        assert (retry.template, retry.channel, retry.address) == (None, "sms", MEMBER)
    assert second.form["StatusCallback"].endswith(callback_path(retry.id))

    # A repeated fallback (a 63016 status callback as well, or a re-push) sends nothing more.
    with hotline.db.session() as s:
        again = outbox.add_job(s, "send_fallback", {"message_id": message_id}, hotline.clock())
        again_id = again.id
    hotline.push(again_id)
    hotline.push(fallback_job.id)
    work(app, redis)
    assert len(twilio.requests) == 2
    assert job(hotline, again_id).done_at is not None
    with hotline.db.session() as s:
        assert len(s.scalars(select(Message).where(Message.reply_to_id == message_id)).all()) == 1


# -- permanent errors -----------------------------------------------------------------------


def test_an_opt_out_is_not_retried_and_nothing_more_goes_there(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms")
    twilio.fail(400, 21610)
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)

    assert len(twilio.requests) == 1
    msg = message(hotline, message_id)
    assert (msg.status, msg.error_code, msg.provider_sid) == ("failed", 21610, None)
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.error == "opted_out 21610" and row.attempts == 1
    assert member_row(hotline, member_id).unreachable == "opted_out"
    assert scheduled(redis) == []  # not retried
    work(app, redis, until=later(400))
    assert len(twilio.requests) == 1

    later_id, later_outbox = send(hotline, MEMBER, "TERIMA PRE-AAAA", member_id=member_id)
    work(app, redis)
    assert len(twilio.requests) == 1
    msg = message(hotline, later_id)
    assert (msg.status, msg.error_code) == ("failed", None)
    assert job(hotline, later_outbox).error == "not sent: opted_out"


def test_a_bad_number_is_flagged(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms")
    twilio.fail(400, 21211)
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)

    msg = message(hotline, message_id)
    assert (msg.status, msg.error_code) == ("failed", 21211)
    assert job(hotline, outbox_id).error == "bad_number 21211"
    assert member_row(hotline, member_id).unreachable == "bad_number"
    assert scheduled(redis) == []
    send(hotline, MEMBER, member_id=member_id)
    work(app, redis)
    assert len(twilio.requests) == 1


def test_an_inactive_member_gets_nothing(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms", active=False)
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)
    assert twilio.requests == []
    assert message(hotline, message_id).status == "failed"
    assert job(hotline, outbox_id).error == "not sent: inactive"


# -- transient errors: rq's Retry runs the job again ----------------------------------------


@pytest.mark.parametrize(
    ("script", "error"),
    [
        (lambda fake: fake.fail(429, 20429), "rate_limited 20429"),
        (lambda fake: fake.fail(429), "rate_limited 429"),
        (lambda fake: fake.fail(500), "server 500"),
        (lambda fake: fake.stall(1.0), "timeout"),  # past the client's 0.5 s timeout
    ],
    ids=["429-20429", "429", "500", "timeout"],
)
def test_a_transient_failure_is_retried_by_rq(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio, script, error: str
) -> None:
    member_id = add_member(hotline, channel="sms")
    script(twilio)
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    started = time.monotonic()
    work(app, redis)
    assert time.monotonic() - started < 4  # nothing hangs

    assert len(twilio.requests) == 1
    msg = message(hotline, message_id)
    assert (msg.status, msg.provider_sid, msg.error_code) == ("pending", None, None)
    row = job(hotline, outbox_id)
    assert row.done_at is None and row.attempts == 1 and row.error == error

    # rq's Retry put the job in the scheduled registry, ten seconds out (Retry interval[0]).
    job_id = f"outbox-{outbox_id}"
    assert scheduled(redis) == [job_id]
    at = Queue(SEND, connection=redis).scheduled_job_registry.get_scheduled_time(job_id)
    assert later(5) < at.astimezone(UTC) < later(15)

    work(app, redis, until=later(11))
    assert len(twilio.requests) == 2
    assert twilio.requests[0].form == twilio.requests[1].form  # the same message, again
    msg = message(hotline, message_id)
    assert msg.status == "accepted" and msg.provider_sid and msg.error_code is None
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.attempts == 2
    assert scheduled(redis) == []


def test_a_retried_send_that_succeeds_clears_the_outbox_error(  # type: ignore[no-untyped-def]
    app, hotline, redis, twilio: FakeTwilio
) -> None:
    member_id = add_member(hotline, channel="sms")
    twilio.fail(500)
    _, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)
    work(app, redis, until=later(11))
    row = job(hotline, outbox_id)
    assert row.done_at is not None
    assert row.error is None


class RunAgainDuringSend:
    """A second run of the same job (a duplicate push picked up by another worker) while the
    first is still in its HTTP call."""

    def __init__(self, inner: TwilioTransport) -> None:
        self.inner = inner
        self.outbox_id: int | None = None

    def send(self, message: Outgoing) -> str:
        if self.outbox_id is not None:
            outbox_id, self.outbox_id = self.outbox_id, None
            run_outbox(outbox_id)  # sees the message "handing" and sends nothing
        return self.inner.send(message)


def test_a_transient_failure_while_a_duplicate_run_saw_handing_is_still_retried(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    racing = RunAgainDuringSend(hotline.transport)
    hotline.transport = racing
    member_id = add_member(hotline, channel="sms")
    twilio.fail(500)
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    racing.outbox_id = outbox_id
    work(app, redis)
    assert len(twilio.requests) == 1 and message(hotline, message_id).status == "pending"

    work(app, redis, until=later(11))  # rq's retry
    clock.advance(minutes=16)
    sweep(hotline)  # and the sweeper's re-push of unfinished rows
    work(app, redis, until=later(11))
    assert message(hotline, message_id).status == "accepted"  # not stuck "pending" for ever
    assert len(twilio.requests) == 2
    assert job(hotline, outbox_id).done_at is not None


# -- residents ------------------------------------------------------------------------------


def test_a_resident_outside_the_window_gets_the_template(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["TWILIO_WA_TEMPLATE_SID"] = TEMPLATE
    contact_id = add_contact(hotline, last_inbound_at=clock.now - timedelta(days=2))
    message_id, outbox_id = send(
        hotline, f"whatsapp:{RESIDENT}", "Laporan PRE-7K3Q diterima", contact_id=contact_id
    )
    work(app, redis)

    [seen] = twilio.requests
    assert "Body" not in seen.form
    assert (seen.form["To"], seen.form["From"], seen.form["ContentSid"]) == (
        f"whatsapp:{RESIDENT}",
        WA_PRE,
        TEMPLATE,
    )
    assert json.loads(seen.form["ContentVariables"]) == {"1": "Laporan PRE-7K3Q diterima"}
    msg = message(hotline, message_id)
    assert (msg.status, msg.template, msg.channel) == ("accepted", TEMPLATE, "whatsapp")
    assert job(hotline, outbox_id).done_at is not None


def test_a_resident_never_gets_the_sms_fallback(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["HOTLINE_SMS_FALLBACK"] = "1"
    contact_id = add_contact(hotline, last_inbound_at=clock.now - timedelta(days=2))
    message_id, outbox_id = send(hotline, f"whatsapp:{RESIDENT}", contact_id=contact_id)
    work(app, redis)

    assert twilio.requests == []
    msg = message(hotline, message_id)
    assert (msg.status, msg.error_code, msg.channel, msg.address) == (
        "failed",
        63016,
        "whatsapp",
        f"whatsapp:{RESIDENT}",
    )
    assert job(hotline, outbox_id).error == "not sent: window"


def test_a_resident_refusing_free_text_gets_no_sms_fallback(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["HOTLINE_SMS_FALLBACK"] = "1"
    contact_id = add_contact(hotline, last_inbound_at=clock.now - timedelta(hours=1))
    twilio.fail(400, 63016)
    message_id, _ = send(hotline, f"whatsapp:{RESIDENT}", contact_id=contact_id)
    work(app, redis)

    assert len(twilio.requests) == 1
    assert (message(hotline, message_id).status, message(hotline, message_id).error_code) == ("failed", 63016)
    with hotline.db.session() as s:
        assert s.scalars(select(Message).where(Message.reply_to_id == message_id)).all() == []


def test_a_stopped_resident_gets_nothing(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    hotline.config["TWILIO_WA_TEMPLATE_SID"] = TEMPLATE
    contact_id = add_contact(hotline, last_inbound_at=clock.now - timedelta(hours=1), stopped=True)
    message_id, outbox_id = send(hotline, f"whatsapp:{RESIDENT}", contact_id=contact_id)
    work(app, redis)

    assert twilio.requests == []
    msg = message(hotline, message_id)
    assert (msg.status, msg.error_code, msg.provider_sid) == ("failed", None, None)
    row = job(hotline, outbox_id)
    assert row.done_at is not None and row.error == "not sent: stopped"


def test_a_resident_who_opts_out_is_stopped(  # type: ignore[no-untyped-def]
    app, hotline, redis, clock, twilio: FakeTwilio
) -> None:
    contact_id = add_contact(hotline, last_inbound_at=clock.now - timedelta(hours=1))
    twilio.fail(400, 21610)
    send(hotline, f"whatsapp:{RESIDENT}", contact_id=contact_id)
    work(app, redis)
    with hotline.db.session() as s:
        assert s.get_one(Contact, contact_id).stopped is True
    send(hotline, f"whatsapp:{RESIDENT}", contact_id=contact_id)
    work(app, redis)
    assert len(twilio.requests) == 1


# -- a status callback that beats the send job ----------------------------------------------


class CallbackDuringSend:
    """Twilio's status callback arrives while the job is still in its HTTP call (before or
    after Twilio answered), through the signed webhook."""

    def __init__(self, inner: TwilioTransport, client, status: str, before: bool) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.client, self.status, self.before = inner, client, status, before
        self.callback_sid = "SM" + "f" * 32

    def _callback(self, message: Outgoing, sid: str) -> None:
        assert message.status_callback and message.status_callback.startswith(PUBLIC_URL)
        path = message.status_callback.removeprefix(PUBLIC_URL)
        form = {
            "AccountSid": "AC" + "0" * 32,
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": self.status,
            "SmsStatus": self.status,
            "To": message.to,
            "From": message.sender,
        }
        response = post_signed(self.client, form, path=path)  # signed over the URL with ?m=
        assert response.status_code == 204, response.data

    def send(self, message: Outgoing) -> str:
        if self.before:
            self._callback(message, self.callback_sid)
            return self.inner.send(message)
        sid = self.inner.send(message)
        self._callback(message, sid)
        return sid


def test_a_callback_before_a_transient_failure_keeps_the_message_sent(  # type: ignore[no-untyped-def]
    app, hotline, redis, client, twilio: FakeTwilio
) -> None:
    racing = CallbackDuringSend(hotline.transport, client, "sent", before=True)
    hotline.transport = racing
    member_id = add_member(hotline, channel="sms")
    twilio.fail(500)  # Twilio had it, but our call failed
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)

    assert len(twilio.requests) == 1
    msg = message(hotline, message_id)
    assert (msg.status, msg.provider_sid) == ("sent", racing.callback_sid)  # not back to pending
    row = job(hotline, outbox_id)
    assert row.done_at is None and row.error == "server 500"

    work(app, redis, until=later(11))  # rq's retry runs: the message is not pending, not resent
    assert len(twilio.requests) == 1
    msg = message(hotline, message_id)
    assert (msg.status, msg.provider_sid) == ("sent", racing.callback_sid)
    assert job(hotline, outbox_id).done_at is not None
    assert scheduled(redis) == []


def test_a_callback_before_the_job_stored_the_sid_is_not_overwritten(  # type: ignore[no-untyped-def]
    app, hotline, redis, client, twilio: FakeTwilio
) -> None:
    hotline.transport = CallbackDuringSend(hotline.transport, client, "delivered", before=False)
    member_id = add_member(hotline, channel="sms")
    message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)
    work(app, redis)

    assert len(twilio.requests) == 1
    msg = message(hotline, message_id)
    assert msg.status == "delivered"  # the job's "accepted" does not move it back
    assert msg.provider_sid and msg.provider_sid.startswith("SM")
    assert job(hotline, outbox_id).done_at is not None


# -- without Redis: the in-process queue retries too ----------------------------------------


def test_the_in_process_queue_retries_a_failed_send(tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'local.db'}",
            "REDIS_URL": "",
            "HOTLINE_TRANSPORT": "twilio",
            "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
            "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
            "TWILIO_API_URL": fake_twilio.url,
            "PUBLIC_URL": PUBLIC_URL,
        }
    )
    hotline = app.extensions["hotline"]
    assert isinstance(hotline.queue, LocalQueue) and isinstance(hotline.transport, TwilioTransport)
    try:
        hotline.db.upgrade()
        specs = read_sites(ROOT / "sites.toml")
        with hotline.db.session() as s:
            load_sites(s, specs)
            s.scalars(select(Site).where(Site.prefix == "PRE")).one().numbers = [PRE_NUMBER, WA_PRE]

        def run(outbox_id: int) -> None:
            with app.app_context():
                run_outbox(outbox_id)

        hotline.queue = LocalQueue(run, retry_seconds=(0.1,))
        member_id = add_member(hotline, channel="sms")
        fake_twilio.fail(500)
        message_id, outbox_id = send(hotline, MEMBER, member_id=member_id)

        deadline = time.monotonic() + 5
        while message(hotline, message_id).status != "accepted" and time.monotonic() < deadline:
            time.sleep(0.02)
        hotline.queue.drain(timeout=2)

        assert len(fake_twilio.requests) == 2
        assert fake_twilio.requests[1].form["From"] == PRE_NUMBER
        msg = message(hotline, message_id)
        assert msg.status == "accepted" and msg.provider_sid
        row = job(hotline, outbox_id)
        assert row.done_at is not None and row.attempts == 2
    finally:
        hotline.db.dispose()
