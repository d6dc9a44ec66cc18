"""HAPUS and the purge delete the resident's messages and media at Twilio too: through the
signed webhook, a real rq worker and the real twilio client (TwilioTransport) against the local
fake of Twilio's API, which holds the messages as Twilio would (inbound ones with their media,
TwiML replies, what the jobs sent). A message still being sent (20009) is retried; the number
lives only in the job's outbox row, and only until the job is done."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs.transport import ConsoleTransport
from storage.cases import purge
from storage.models import AuditLog, Case, Message, Outbox
from tests.conftest import MSB_NUMBER, PRE_NUMBER, Resident, new_sid, post_signed, replies, twilio_form, work
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)
from tests.test_duty import REPORT, RESIDENT, TAIL_MESSAGE, A, roster  # noqa: F401  (roster: a fixture)
from tests.test_sending import later, twilio  # noqa: F401  (twilio: a fixture)

NEIGHBOUR = "+6281299998888"
DIGITS = RESIDENT.removeprefix("+")


class Texting(Resident):
    """A person texting through the signed webhook, and what Twilio keeps of it: their message
    (under the webhook's MessageSid, with its media) and each TwiML reply."""

    def __init__(self, client, fake: FakeTwilio, number: str, *, whatsapp: bool = False) -> None:  # type: ignore[no-untyped-def]
        super().__init__(client, number, whatsapp=whatsapp)
        self.fake = fake
        self.sids: list[str] = []

    def says(self, body: str, media: int = 0, **extra: str) -> str:
        prefix = "whatsapp:" if self.whatsapp else ""
        me, hotline = prefix + self.number, prefix + self.to
        sid = self.fake.seed(to=hotline, sender=me, body=body, sid=new_sid(), media=media)
        self.sids.append(sid)
        if media:
            url = f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/{sid}/Media/ME1"
            extra |= {"NumMedia": str(media), "MediaUrl0": url, "MediaContentType0": "image/jpeg"}
        form = twilio_form(self.number, body, to=self.to, whatsapp=self.whatsapp, sid=sid, **extra)
        said = replies(post_signed(self.client, form))
        for text in said:
            self.fake.seed(to=me, sender=hotline, body=text, direction="outbound-reply")
        self.last = "\n".join(said)
        return self.last


def erasure_jobs(hotline) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return list(s.scalars(select(Outbox).where(Outbox.job == "erase_at_twilio").order_by(Outbox.id)))


def audits(hotline) -> list[AuditLog]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == "erase_at_twilio")))


def deletes(fake: FakeTwilio) -> list[str]:
    return [r.path for r in fake.requests if r.method == "DELETE"]


def reported(client, fake: FakeTwilio) -> tuple[Texting, str]:  # type: ignore[no-untyped-def]
    """A Kekerasan report by SMS, a photo as the story."""
    warga = Texting(client, fake, RESIDENT)
    for body in REPORT:
        if body == "1 sy dipukul":  # on SMS the kind, and a photo as the story
            assert "kami simpan" in warga.says("1", media=1)
        else:
            warga.says(body)
    for body in TAIL_MESSAGE:
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.last)
    assert code, warga.last
    return warga, code.group(1)


@pytest.mark.usefixtures("roster", "twilio")
def test_hapus_deletes_every_message_and_its_media_at_twilio(
    app, client, hotline, redis, fake_twilio, clock
) -> None:
    warga, code = reported(client, fake_twilio)
    short = code.split("-")[1]
    work(app, redis)  # the offers go out through Twilio
    ani = Texting(client, fake_twilio, A)
    assert "Anda tangani" in ani.says(f"TERIMA {short}")
    ani.says(f"BALAS {short} Bu, besok kami datang")
    work(app, redis)  # the relay to the resident goes out through Twilio
    # Earlier, on WhatsApp, and to the other site: Twilio has those too, the database does not.
    fake_twilio.seed(to=f"whatsapp:{PRE_NUMBER}", sender=f"whatsapp:{RESIDENT}", body="halo", media=1)
    fake_twilio.seed(
        to=f"whatsapp:{RESIDENT}", sender=f"whatsapp:{PRE_NUMBER}", body="Aman?", direction="outbound-reply"
    )
    fake_twilio.seed(to=MSB_NUMBER, sender=RESIDENT, body="halo")
    neighbour = fake_twilio.seed(to=PRE_NUMBER, sender=NEIGHBOUR, body="halo")
    held = len(fake_twilio.on_route(RESIDENT))
    # What the hotline sent about the case through the API: the offers to the members.
    offers = [m["sid"] for m in fake_twilio.created if m["direction"] == "outbound-api" and code in m["body"]]
    assert held > 2 * len(REPORT + TAIL_MESSAGE) and offers

    warga.says("HAPUS")
    assert "Hapus juga chat ini" in warga.says("ya")
    [job] = erasure_jobs(hotline)
    assert job.args["phones"] == [RESIDENT] and job.done_at is None  # the only place it survives
    assert job.run_at >= clock() + timedelta(minutes=2)  # Twilio refuses a delete in the first minute
    work(app, redis)
    assert len(fake_twilio.on_route(RESIDENT)) == held + 4  # not yet: HAPUS, its reply, ya, its reply
    # Someone texts from that number after the erasure: their new conversation stays at Twilio.
    after = fake_twilio.seed(
        to=PRE_NUMBER, sender=RESIDENT, body="halo lagi", created=clock() + timedelta(minutes=2)
    )

    there = {m["sid"] for m in fake_twilio.created}
    work(app, redis, until=clock.advance(minutes=3))

    assert [m["sid"] for m in fake_twilio.on_route(RESIDENT)] == [after]
    still = {m["sid"] for m in fake_twilio.created}
    assert neighbour in still and not still & {*offers, *ani.sids}  # what was said about the case too
    assert not any(fake_twilio.media.values())
    assert any("/Media/ME" in path for path in deletes(fake_twilio))  # the photo, by name
    assert all(r.authorized for r in fake_twilio.requests)
    [job] = erasure_jobs(hotline)
    assert job.done_at is not None and job.error is None
    assert DIGITS not in json.dumps(job.args) and "SM" not in json.dumps(job.args)
    [row] = audits(hotline)
    assert row.actor == "resident" and row.details["left"] == 0
    assert row.details["messages"] == len(there - still) >= held + 4 + len(ani.sids)
    assert row.details["media"] == 2
    assert DIGITS not in json.dumps(row.details)
    with hotline.db.session() as s:  # the database: as before
        case = s.scalars(select(Case).where(Case.code == code)).one()
        assert set(s.scalars(select(Message.body).where(Message.case_id == case.id))) == {""}


@pytest.mark.usefixtures("twilio")
def test_a_message_still_being_sent_is_deleted_on_a_later_try(
    app, client, hotline, redis, fake_twilio, clock, caplog
) -> None:
    caplog.set_level(logging.INFO)  # the app's level: the jobs' lines and twilio's request log
    warga = Texting(client, fake_twilio, RESIDENT, whatsapp=True)
    warga.says("halo")
    warga.says("HAPUS")
    warga.says("ya")
    last_reply = fake_twilio.on_route(RESIDENT)[-1]["sid"]
    fake_twilio.in_flight(last_reply, times=3)  # Twilio is still delivering the last reply

    # The job, then rq's Retry 10 s and 60 s later: each time Twilio says 20009.
    work(app, redis, until=clock.advance(minutes=3))
    [job] = erasure_jobs(hotline)
    assert job.done_at is None and job.error == "in_flight 20009" and job.attempts == 3
    assert job.args["sids"] == [last_reply] and job.args["phones"] == [RESIDENT]
    assert job.args["tally"]["messages"] == 5
    assert [m["sid"] for m in fake_twilio.on_route(RESIDENT)] == [last_reply]
    assert audits(hotline) == []

    work(app, redis, until=later(301))  # rq's last Retry, 5 minutes on: Twilio has finished
    assert fake_twilio.on_route(RESIDENT) == []
    [job] = erasure_jobs(hotline)
    assert job.done_at is not None and job.error is None and DIGITS not in json.dumps(job.args)
    [row] = audits(hotline)
    assert (row.details["messages"], row.details["left"], row.details["attempts"]) == (6, 0, 4)
    path = f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages/{last_reply}.json"
    assert deletes(fake_twilio).count(path) == 4
    assert "gave up" not in caplog.text and "5 messages and 0 media deleted" in caplog.text
    assert DIGITS not in caplog.text  # twilio's client logs list queries: not the erasure's


@pytest.mark.usefixtures("roster", "twilio")
def test_the_purge_deletes_at_twilio_too(app, client, hotline, redis, fake_twilio, clock) -> None:
    _, code = reported(client, fake_twilio)
    short = code.split("-")[1]
    work(app, redis)
    ani = Texting(client, fake_twilio, A)
    ani.says(f"TERIMA {short}")
    ani.says(f"SELESAI {short} sudah aman")
    work(app, redis)
    assert fake_twilio.on_route(RESIDENT)

    clock.advance(days=400)
    with hotline.work() as s:
        counts = purge(s, older_than=timedelta(days=365), now=clock(), dry_run=False)
    assert (counts["cases"], counts["contacts"]) == (1, 1)
    work(app, redis, until=clock())

    assert fake_twilio.on_route(RESIDENT) == []
    # What was sent about the case (offers) and the member's texts; their TwiML replies stay.
    assert [m["direction"] for m in fake_twilio.created if code in m["body"]] == ["outbound-reply"] * 2
    assert not {m["sid"] for m in fake_twilio.created} & set(ani.sids)
    [job] = erasure_jobs(hotline)  # the case is the resident's: in their own job
    assert job.done_at is not None and DIGITS not in json.dumps(job.args)
    [row] = audits(hotline)
    assert row.actor == "purge" and row.details["left"] == 0 and row.details["media"] == 1


@pytest.mark.usefixtures("roster", "twilio")
def test_a_purged_case_of_someone_still_writing_goes_by_its_known_messages(
    app, client, hotline, redis, fake_twilio, clock
) -> None:
    warga, code = reported(client, fake_twilio)
    work(app, redis)
    ani = Texting(client, fake_twilio, A)
    ani.says(f"TERIMA {code}")
    ani.says(f"SELESAI {code}")
    work(app, redis)
    old = list(warga.sids)
    clock.advance(days=400)
    warga.says("halo")  # they write again: their number and this conversation stay
    new = warga.sids[-1]

    with hotline.work() as s:
        counts = purge(s, older_than=timedelta(days=365), now=clock(), dry_run=False)
    assert (counts["cases"], counts["contacts"], counts["contacts_kept"]) == (1, 0, 1)
    [job] = erasure_jobs(hotline)
    assert job.args["phones"] == [] and set(old) <= set(job.args["sids"])
    work(app, redis, until=clock())

    still = {m["sid"] for m in fake_twilio.created}
    assert not still & set(old) and new in still  # their report's messages, with the photo
    assert not [m for m in fake_twilio.created if code in m["body"] and m["direction"] != "outbound-reply"]
    [row] = audits(hotline)
    assert row.actor == "purge" and row.details["contact_id"] is None and row.details["media"] == 1


def test_on_a_laptop_the_console_records_the_deletions(app, client, hotline, redis, console, clock) -> None:
    warga = Resident(client, RESIDENT)
    sids = [new_sid() for _ in range(3)]
    for body, sid in zip(("halo", "HAPUS", "ya"), sids, strict=True):
        warga.says(body, sid=sid)
    work(app, redis, until=clock.advance(minutes=3))
    assert isinstance(hotline.transport, ConsoleTransport) and sorted(console.deleted) == sorted(sids)
    [row] = audits(hotline)
    assert (row.details["messages"], row.details["left"]) == (3, 0)
    assert DIGITS not in json.dumps(erasure_jobs(hotline)[0].args)
