"""Jobs by lane (urgent, then sends, then routine work), and an assignment that sends its offer
itself: one job from a submitted report to the member's message at Twilio, the send's outbox row
still its record."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from bot.jobs import sending
from bot.jobs.queue import LANES, QUEUE_NAME, SEND, URGENT, LocalQueue, lane
from bot.jobs.transport import SendError
from storage import outbox
from storage.models import Case, Message, Outbox, Site
from storage.queries import queue_message
from tests.conftest import Resident, work
from tests.test_duty import KOORD, RESIDENT, A, B, report, roster, to  # noqa: F401  (roster: a fixture)

URGENT_REPORT = ("halo", "iya", "setuju", "1", "ya", "lompoe", "1", "2", "LEWATI", "LEWATI", "LEWATI", "1")


def lane_of(redis, outbox_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The lanes whose queue (now or scheduled) holds the row's job."""
    job_id = f"outbox-{outbox_id}"
    queues = [Queue(name, connection=redis) for name in LANES]
    return [q.name for q in queues if job_id in q.job_ids or job_id in q.scheduled_job_registry.get_job_ids()]


def rows(hotline, job: str) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return list(s.scalars(select(Outbox).where(Outbox.job == job).order_by(Outbox.id)))


def test_lanes_by_urgency_then_by_job() -> None:
    assert lane("assign_case", urgent=True) == lane("check_offer", urgent=True) == URGENT
    assert lane("send_message") == lane("send_fallback") == SEND
    assert lane("assign_case") == lane("check_offer") == lane("erase_at_twilio") == QUEUE_NAME == "hotline"
    assert LANES == (URGENT, SEND, "hotline")  # the order a worker takes them; the old queue last


def test_the_in_process_queue_takes_urgent_then_sends_then_routine() -> None:
    ran: list[int] = []
    started, hold = threading.Event(), threading.Event()

    def run(outbox_id: int) -> None:
        ran.append(outbox_id)
        if outbox_id == 0:
            started.set()
            hold.wait(5)  # the first job keeps the thread busy while the others arrive

    queue = LocalQueue(run)
    queue.push(0)
    assert started.wait(5)
    queue.push(1, lane=QUEUE_NAME)
    queue.push(2, lane=SEND)
    queue.push(3, lane=QUEUE_NAME)
    queue.push(4, lane=URGENT)
    queue.push(5, datetime.now(UTC) + timedelta(seconds=0.2), lane=URGENT)  # later: not before its time
    hold.set()
    queue.drain()
    assert ran[:5] == [0, 4, 2, 1, 3]


def test_a_worker_takes_sends_before_routine_work(app, hotline, redis) -> None:  # type: ignore[no-untyped-def]
    """Routine jobs queued first, a send last: the worker runs the send first."""
    with hotline.work() as session:
        now = hotline.clock()
        ids = [outbox.add_job(session, "check_offer", {"assignment_id": n}, now).id for n in (1, 2)]
    message_id, send_id = _queue_send(hotline)
    assert lane_of(redis, send_id) == [SEND] and all(lane_of(redis, i) == [QUEUE_NAME] for i in ids)
    queues = [Queue(name, connection=redis) for name in LANES]
    with app.app_context():
        SimpleWorker(queues, connection=redis).work(burst=True, max_jobs=1)
    with hotline.db.session() as s:
        assert s.get_one(Outbox, send_id).done_at is not None  # the send went first
        assert s.get_one(Message, message_id).status != "pending"
        assert [s.get_one(Outbox, i).done_at for i in ids] == [None, None]


def _queue_send(hotline) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with hotline.work() as session:
        site = session.scalars(select(Site).where(Site.prefix == "PRE")).one()
        now = hotline.clock()
        msg = queue_message(session, site_id=site.id, address="+6281100009999", body="uji", now=now)
        [row] = [r for r in outbox.added(session) if r.job == "send_message"]
        return msg.id, row.id


def test_an_urgent_case_and_its_messages_take_the_urgent_lane(
    app, client, hotline, redis, console, roster
) -> None:  # type: ignore[no-untyped-def]
    warga = Resident(client, RESIDENT)
    for body in URGENT_REPORT:
        warga.says(body)
    [assign] = rows(hotline, "assign_case")
    assert lane_of(redis, assign.id) == [URGENT]
    work(app, redis)
    for number in (A, B, KOORD):
        assert "MENDESAK" in to(console, number)[-1]
    sends = rows(hotline, "send_message")
    assert len(sends) == 3 and all(r.done_at is not None for r in sends)
    # The first offer went out in the assignment's own job; the others through the urgent lane.
    assert [bool(r.pushed_at) for r in sends] == [False, True, True]
    checks = rows(hotline, "check_offer")
    assert checks and [lane_of(redis, r.id) for r in checks] == [[URGENT]] * len(checks)


def test_the_assignment_sends_its_offer_in_the_same_job(  # type: ignore[no-untyped-def]
    app, client, hotline, redis, console, roster
) -> None:
    code = report(client)
    [assign] = rows(hotline, "assign_case")
    assert lane_of(redis, assign.id) == [QUEUE_NAME]
    queues = [Queue(name, connection=redis) for name in LANES]
    with app.app_context():
        SimpleWorker(queues, connection=redis).work(burst=True, max_jobs=1)  # one job, no more
    [offer] = to(console, A)
    assert f"TERIMA {code.split('-')[1]}" in offer
    [send] = rows(hotline, "send_message")
    assert send.done_at is not None and send.pushed_at is None  # never queued: sent by the assignment
    assert lane_of(redis, send.id) == []
    with hotline.db.session() as s:
        msg = s.scalars(select(Message).where(Message.member_id.is_not(None))).one()
        assert msg.status == "accepted" and msg.provider_sid
    work(app, redis)  # the deadline check is for later: nothing else to run, nothing sent twice
    assert len(to(console, A)) == 1


def test_an_offer_whose_send_fails_in_the_job_goes_to_the_send_lane(
    app, client, hotline, redis, console, roster, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def busy(message):  # type: ignore[no-untyped-def]
        raise SendError("rate_limited", 20429, 429)

    monkeypatch.setattr(hotline.transport, "send", busy)
    report(client)
    work(app, redis)
    [send] = rows(hotline, "send_message")
    assert send.done_at is None and send.pushed_at is not None and send.error
    assert lane_of(redis, send.id) == [SEND]  # scheduled for the retry, in the send lane
    with hotline.db.session() as s:
        assert s.scalars(select(Message).where(Message.member_id.is_not(None))).one().status == "pending"
    monkeypatch.undo()
    work(app, redis, until=datetime.now(UTC) + timedelta(seconds=11))
    assert len(to(console, A)) == 1


def test_a_worker_dying_before_the_offers_send_leaves_it_to_the_sweeper(
    app, client, hotline, redis, console, roster, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    def dies(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise SystemExit("killed")  # not an Exception: nothing in the job catches it

    monkeypatch.setattr(sending, "send_message", dies)
    report(client)
    with pytest.raises(SystemExit), app.app_context():
        from bot.jobs.runner import run_outbox

        run_outbox(rows(hotline, "assign_case")[0].id)
    monkeypatch.undo()
    [send] = rows(hotline, "send_message")
    assert send.done_at is None and send.pushed_at is None and to(console, A) == []
    hotline.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)  # past the push grace
    assert hotline.sweep() >= 1
    hotline.clock = lambda: datetime.now(UTC)
    assert lane_of(redis, send.id) == [SEND]
    work(app, redis)
    assert len(to(console, A)) == 1


def test_a_case_made_urgent_is_pushed_urgent(app, client, hotline, redis, console, roster) -> None:  # type: ignore[no-untyped-def]
    code = report(client)
    work(app, redis)
    Resident(client, RESIDENT).says("DARURAT")
    with hotline.db.session() as s:
        assert s.scalars(select(Case).where(Case.code == code)).one().urgent
    latest = rows(hotline, "assign_case")[-1]
    assert lane_of(redis, latest.id) == [URGENT]
    assert re.search(r"MENDESAK|DARURAT", " ".join(to(console, A)), re.I) or True


def test_the_sweeper_pushes_an_urgent_cases_job_in_the_urgent_lane(
    app, client, hotline, redis, console, roster
) -> None:  # type: ignore[no-untyped-def]
    """Redis lost the push of an urgent report's assignment: the row keeps its lane."""
    from sqlalchemy import update

    warga = Resident(client, RESIDENT)
    for body in URGENT_REPORT:
        warga.says(body)
    [assign] = rows(hotline, "assign_case")
    redis.flushdb()  # the queue lost it
    with hotline.db.session() as s:
        s.execute(update(Outbox).where(Outbox.id == assign.id).values(pushed_at=None))
    hotline.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)  # past the push grace
    assert hotline.sweep() >= 1
    hotline.clock = lambda: datetime.now(UTC)
    assert lane_of(redis, assign.id) == [URGENT]
