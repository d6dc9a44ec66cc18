"""A database outage loses no resident's message: the webhook spools what it cannot store and
answers 200; the replayer runs the spooled messages in arrival order once the database is back,
and the replies go out as messages. Redis first, the instance folder when Redis is down too."""

from __future__ import annotations

import time

from sqlalchemy import select

from bot.jobs.runner import replay_spool
from storage.db import Database
from storage.models import Contact, Conversation, Message
from storage.spool import Spool
from tests.conftest import PRE_NUMBER, post_signed, replies, twilio_form, work

RESIDENT = "+6281234567890"
DOWN = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1: refused at once


class Broken:
    """A Redis that is down too."""

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        def fail(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise ConnectionError("redis down")

        return fail


def drain(app, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    spool = app.extensions["hotline_spool"]
    for _ in range(rounds):
        replay_spool(app)
        if spool.size() == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the spool did not drain")


def post(client, body: str, sid: str | None = None):  # type: ignore[no-untyped-def]
    form = twilio_form(RESIDENT, body, **({"sid": sid} if sid else {}))
    return form["MessageSid"], post_signed(client, form)


def test_messages_during_an_outage_are_spooled_and_replayed_in_order(app, client, hotline, redis, console):
    good = hotline.db
    hotline.db = Database(DOWN)
    try:
        first_sid, first = post(client, "halo")
        _, second = post(client, "iya")
        assert first.status_code == 200 and replies(first) == [] and replies(second) == []
        spool = app.extensions["hotline_spool"]
        assert spool.size() == 2
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json["spool"] == 2
    finally:
        hotline.db = good
    assert client.get("/healthz").json == {"status": "replaying", "spool": 2}
    drain(app)  # the sweeper's round (a background replay may have begun it already)
    with hotline.db.session() as s:
        stmt = select(Message).where(Message.direction == "in").order_by(Message.id)
        inbound = [m.body for m in s.scalars(stmt)]
        assert inbound == ["halo", "iya"]  # in arrival order
        conv = s.scalars(select(Conversation)).one()
        assert conv.state == "consent"  # both steps ran, once each
    work(app, redis)  # the replies go out as messages of their own
    sent = [m.body for m in console.sent if m.to == RESIDENT]
    assert len(sent) == 2 and "aman membalas" in sent[0] and "Setuju" in sent[1]
    # the same message spooled twice (a crash between handling and removal) runs once
    spool.put({"sid": first_sid, "sender": RESIDENT, "to": PRE_NUMBER, "channel": "sms", "body": "halo",
               "media": [], "profile_name": None})  # fmt: skip
    assert replay_spool(app) == 1
    with hotline.db.session() as s:
        assert s.scalars(select(Conversation)).one().state == "consent"


def test_with_redis_down_too_the_disk_keeps_them(app, client, hotline, tmp_path):
    spool = Spool(tmp_path / "spool", Broken())
    app.extensions["hotline_spool"] = spool
    good = hotline.db
    hotline.db = Database(DOWN)
    try:
        _, response = post(client, "halo")
    finally:
        hotline.db = good
    assert response.status_code == 200 and spool.waiting_on_disk() and spool.size() == 1
    post(client, "iya")  # the next message, with the database back, replays the disk in passing
    for _ in range(100):
        if not spool.waiting_on_disk():
            break
        time.sleep(0.05)
    assert spool.size() == 0
    with hotline.db.session() as s:
        contact = s.scalars(select(Contact).where(Contact.phone == RESIDENT)).one()
        bodies = {m.body for m in s.scalars(select(Message).where(Message.contact_id == contact.id))}
        assert {"halo", "iya"} <= bodies


def test_a_replay_stops_while_the_database_is_still_away(app, hotline, tmp_path):
    spool = Spool(tmp_path / "spool")
    app.extensions["hotline_spool"] = spool
    spool.put({"sid": "SM" + "a" * 32, "sender": RESIDENT, "to": PRE_NUMBER, "channel": "sms", "body": "halo",
               "media": [], "profile_name": None})  # fmt: skip
    good = hotline.db
    hotline.db = Database(DOWN)
    try:
        assert replay_spool(app) == 0
    finally:
        hotline.db = good
    assert spool.size() == 1  # kept for the next round
    assert replay_spool(app) == 1 and spool.size() == 0
