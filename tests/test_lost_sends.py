"""Sends that cannot be lost: a worker killed between our commit and Twilio's answer, lost jobs
found within a minute, an offer's deadline counted from when Twilio accepted its message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.jobs import sending
from bot.jobs.transport import SendError, TwilioTransport
from storage import delivery, outbox
from storage.models import Assignment, CaseEvent, Message, Outbox
from tests.conftest import PRE_NUMBER, Resident, work
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)
from tests.test_duty import REPORT, TAIL_MESSAGE, roster  # noqa: F401  (roster: a fixture)
from tests.test_sending import MEMBER, add_member, job, message, send, twilio  # noqa: F401

SMS_BODY = "Kasus baru PRE-7K3QX"


def killed_mid_send(hotline, message_id: int) -> None:
    """What a worker SIGKILLed after committing the claim leaves: the message "handing"."""
    with hotline.db.session() as s:
        msg = s.get_one(Message, message_id)
        msg.status, msg.sent_at = "handing", hotline.clock()


def test_a_message_twilio_accepted_before_the_worker_died_is_recorded_not_sent_again(
    app, hotline, redis, twilio: FakeTwilio, clock
) -> None:
    member_id = add_member(hotline, channel="sms")
    message_id, outbox_id = send(hotline, MEMBER, SMS_BODY, member_id=member_id)
    killed_mid_send(hotline, message_id)
    sid = twilio.accepted(MEMBER, PRE_NUMBER, SMS_BODY)  # Twilio had it; our worker never heard
    work(app, redis)  # the job runs again (the sweeper re-pushed it): never twice
    assert message(hotline, message_id).status == "handing" and job(hotline, outbox_id).done_at
    assert sending.reconcile(hotline) == 0  # under two minutes: it may still be on its way
    with hotline.db.session() as s:  # ... and the console shows it as a problem once stuck
        assert delivery.delivery_problems(s, now=clock()).messages == []
    clock.advance(minutes=3)
    with hotline.db.session() as s:
        assert [m.id for m in delivery.delivery_problems(s, now=clock()).messages] == [message_id]
    assert sending.reconcile(hotline) == 1
    work(app, redis)
    found = message(hotline, message_id)
    assert (found.status, found.provider_sid) == ("accepted", sid)
    creates = [r for r in twilio.requests if r.method == "POST"]
    assert creates == []  # recorded from Twilio's list, never sent a second time


def test_a_message_twilio_never_got_is_sent_once(
    app, hotline, redis, twilio: FakeTwilio, clock
) -> None:
    member_id = add_member(hotline, channel="sms")
    message_id, _ = send(hotline, MEMBER, SMS_BODY, member_id=member_id)
    killed_mid_send(hotline, message_id)
    work(app, redis)
    clock.advance(minutes=3)
    assert sending.reconcile(hotline) == 1
    assert message(hotline, message_id).status == "pending"
    work(app, redis)
    creates = [r for r in twilio.requests if r.method == "POST"]
    assert len(creates) == 1 and creates[0].form["Body"] == SMS_BODY
    assert message(hotline, message_id).status == "accepted"
    assert sending.reconcile(hotline) == 0


def test_twilio_unreachable_leaves_it_for_the_next_sweep(
    hotline, twilio: FakeTwilio, clock
) -> None:
    member_id = add_member(hotline, channel="sms")
    message_id, _ = send(hotline, MEMBER, SMS_BODY, member_id=member_id)
    killed_mid_send(hotline, message_id)
    clock.advance(minutes=3)
    hotline.transport = TwilioTransport(twilio.account_sid, "wrong-token", timeout=0.5, base_url=twilio.url)
    assert sending.reconcile(hotline) == 1
    assert message(hotline, message_id).status == "handing"  # not guessed either way


def test_lost_jobs_are_found_within_a_minute_and_later_ones_are_left_alone(hotline, clock) -> None:
    now = clock()
    with hotline.db.session() as s:
        lost = outbox.add_job(s, "assign_case", {"case_id": 1, "reason": "submitted"}, now)
        later = outbox.add_job(s, "check_offer", {"assignment_id": 1}, now, run_at=now + timedelta(hours=1))
        retrying = outbox.add_job(s, "assign_case", {"case_id": 2, "reason": "submitted"}, now)
        ids = (lost.id, later.id, retrying.id)
        outbox.mark_pushed(s, list(ids), now)
        outbox.record_failure(s, retrying.id, "Timeout", retry_at=now + timedelta(minutes=5))
    with hotline.db.session() as s:
        due = {r.id for r in outbox.due_for_push(s, now + timedelta(seconds=50))}
    assert due == {lost.id}  # pushed 50 s ago and not done: run again; the others wait their time


def test_an_offer_deadline_runs_from_when_twilio_accepted_its_message(
    app, client, hotline, redis, console, roster, clock, monkeypatch
) -> None:
    warga = Resident(client, "+6281234567890")
    for body in REPORT + TAIL_MESSAGE:
        warga.says(body)
    offered_at = clock()
    with hotline.db.session() as s:  # the offer is made, but its message waits (Twilio busy)
        from bot.jobs.runner import run_outbox

        assign = s.scalars(select(Outbox).where(Outbox.job == "assign_case")).one().id

    def busy(message):  # type: ignore[no-untyped-def]
        raise SendError("server", None, 503)

    monkeypatch.setattr(console, "send", busy)
    with app.app_context():
        run_outbox(assign)  # the send it tries at once fails: the send lane retries it later
    monkeypatch.undo()
    clock.advance(minutes=30)
    work(app, redis)  # the send job runs half an hour late
    with hotline.db.session() as s:
        offer = s.scalars(select(Assignment)).one()
        assert offer.message_id is not None
        assert offer.deadline_at == clock() + timedelta(minutes=60)  # from the send, not the offer
    clock.advance(minutes=31)  # past the first deadline: the old check finds time left
    work(app, redis, until=offered_at + timedelta(minutes=61))
    with hotline.db.session() as s:
        assert s.scalars(select(Assignment)).one().status == "offered"
    clock.advance(minutes=30)
    work(app, redis)
    with hotline.db.session() as s:
        offers = s.scalars(select(Assignment).order_by(Assignment.id)).all()
        assert [o.status for o in offers] == ["expired", "offered"]  # the next member is asked
        assert "expired" in [e.kind for e in s.scalars(select(CaseEvent))]
