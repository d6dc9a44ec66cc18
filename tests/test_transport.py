"""Sending through the real twilio client against a local fake of its API, and delivery status
callbacks through the signed webhook: failures become SendError kinds, statuses only move
forward, unreachable numbers are flagged, a closed WhatsApp window asks for a fallback."""

from __future__ import annotations

import io
import json
import socket
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from bot.jobs.transport import ConsoleTransport, Outgoing, SendError, TwilioTransport
from storage import delivery
from storage.models import Contact, Member, Message, Outbox, Site
from tests.conftest import PRE_NUMBER, PUBLIC_URL, post_signed, sign
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)

MEMBER = "+6281377770000"
RESIDENT = "+6281234567890"
CALLBACK = PUBLIC_URL + "/twilio/status"


def transport(fake: FakeTwilio, timeout: float = 5.0) -> TwilioTransport:
    return TwilioTransport(fake.account_sid, fake.auth_token, timeout=timeout, base_url=fake.url)


# -- sending --------------------------------------------------------------------------------


def test_sms_send_returns_the_sid_and_twilio_gets_the_fields(fake_twilio: FakeTwilio) -> None:
    sid = transport(fake_twilio).send(Outgoing(MEMBER, PRE_NUMBER, "TERIMA PRE-7K3Q", CALLBACK))
    assert sid.startswith("SM") and len(sid) == 34
    seen = fake_twilio.last
    assert seen.authorized and seen.path == f"/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    assert seen.form == {
        "To": MEMBER,
        "From": PRE_NUMBER,
        "Body": "TERIMA PRE-7K3Q",
        "StatusCallback": CALLBACK,
    }


def test_whatsapp_send_keeps_the_prefix_on_both_ends(fake_twilio: FakeTwilio) -> None:
    message = Outgoing(f"whatsapp:{MEMBER}", f"whatsapp:{PRE_NUMBER}", "Kasus baru", CALLBACK)
    transport(fake_twilio).send(message)
    assert fake_twilio.last.form["To"] == f"whatsapp:{MEMBER}"
    assert fake_twilio.last.form["From"] == f"whatsapp:{PRE_NUMBER}"


def test_template_send_has_content_sid_and_json_variables_and_no_body(fake_twilio: FakeTwilio) -> None:
    message = Outgoing(
        f"whatsapp:{MEMBER}",
        f"whatsapp:{PRE_NUMBER}",
        "Kasus baru PRE-7K3Q",  # what the transcript shows, not sent
        CALLBACK,
        content_sid="HX" + "a" * 32,
        content_variables={"1": "PRE-7K3Q", "2": "Kekerasan"},
    )
    transport(fake_twilio).send(message)
    form = fake_twilio.last.form
    assert "Body" not in form
    assert form["ContentSid"] == "HX" + "a" * 32
    assert json.loads(form["ContentVariables"]) == {"1": "PRE-7K3Q", "2": "Kekerasan"}


@pytest.mark.parametrize(
    ("http_status", "code", "kind", "retryable"),
    [
        (400, 63016, "window", False),
        (400, 21610, "opted_out", False),
        (400, 21211, "bad_number", False),
        (400, 21614, "bad_number", False),
        (400, 21408, "other", False),  # geo permissions: fix the account, not the number
        (429, 20429, "rate_limited", True),
        (429, None, "rate_limited", True),
        (500, None, "server", True),
        (503, None, "server", True),
        (400, 21617, "other", False),
    ],
)
def test_twilio_errors_become_send_errors(
    fake_twilio: FakeTwilio, http_status: int, code: int | None, kind: str, retryable: bool
) -> None:
    fake_twilio.fail(http_status, code)
    with pytest.raises(SendError) as caught:
        transport(fake_twilio).send(Outgoing(MEMBER, PRE_NUMBER, "halo"))
    error = caught.value
    assert (error.kind, error.code, error.http_status, error.retryable) == (
        kind,
        code,
        http_status,
        retryable,
    )
    assert MEMBER not in str(error) and error.__suppress_context__  # no number in logs or tracebacks


def test_a_slow_twilio_times_out_and_may_be_retried(fake_twilio: FakeTwilio) -> None:
    fake_twilio.stall(3.0)
    started = time.monotonic()
    with pytest.raises(SendError) as caught:
        transport(fake_twilio, timeout=0.5).send(Outgoing(MEMBER, PRE_NUMBER, "halo"))
    assert time.monotonic() - started < 2.5
    assert (caught.value.kind, caught.value.retryable, caught.value.code) == ("timeout", True, None)


def test_an_unreachable_twilio_is_a_retryable_timeout() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    closed = TwilioTransport("AC" + "0" * 32, "t", timeout=0.5, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(SendError) as caught:
        closed.send(Outgoing(MEMBER, PRE_NUMBER, "halo"))
    assert (caught.value.kind, caught.value.retryable) == ("timeout", True)


def test_wrong_credentials_are_not_retried(fake_twilio: FakeTwilio) -> None:
    wrong = TwilioTransport(fake_twilio.account_sid, "not-the-token", base_url=fake_twilio.url)
    with pytest.raises(SendError) as caught:
        wrong.send(Outgoing(MEMBER, PRE_NUMBER, "halo"))
    assert (caught.value.kind, caught.value.code, caught.value.http_status) == ("other", 20003, 401)
    assert not caught.value.retryable and not fake_twilio.last.authorized


def test_console_prints_templates_by_their_sid() -> None:
    out = io.StringIO()
    console = ConsoleTransport(stream=out)
    console.send(
        Outgoing(MEMBER, PRE_NUMBER, "Kasus baru", content_sid="HX1", content_variables={"1": "PRE-7K3Q"})
    )
    console.send(Outgoing(MEMBER, PRE_NUMBER, "teks biasa"))
    assert "[template HX1] PRE-7K3Q" in out.getvalue() and "teks biasa" in out.getvalue()
    assert len(console.sent) == 2


# -- status callbacks -----------------------------------------------------------------------


def new_provider_sid() -> str:
    return "SM" + uuid.uuid4().hex


def outbound(
    hotline, provider_sid: str | None, *, channel: str = "sms", status: str = "queued", **links: Any
) -> int:  # type: ignore[no-untyped-def]
    """A message the send job handed to Twilio, straight into the database."""
    with hotline.db.session() as s:
        message = Message(
            sid=f"hk-{uuid.uuid4().hex}",
            direction="out",
            party="member" if links.get("member_id") else "bot",
            channel=channel,
            body="Kasus baru PRE-7K3Q",
            status=status,
            provider_sid=provider_sid,
            address=("whatsapp:" if channel == "whatsapp" else "") + MEMBER,
            **links,
        )
        s.add(message)
        s.flush()
        return message.id


def member(hotline, prefix: str = "PRE") -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """A KK member of a site the app fixture loaded: (member id, site id)."""
    with hotline.db.session() as s:
        site = s.scalars(select(Site).where(Site.prefix == prefix)).one()
        row = Member(site_id=site.id, name="Ibu Sari", phone=MEMBER, channel="whatsapp")
        s.add(row)
        s.flush()
        return row.id, site.id


def status_form(provider_sid: str, status: str, error_code: int | None = None) -> dict[str, str]:
    """Shaped like Twilio's status callback."""
    form = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": PRE_NUMBER,
        "To": MEMBER,
        "MessageSid": provider_sid,
        "SmsSid": provider_sid,
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form


def callback(
    client, provider_sid: str, status: str, error_code: int | None = None, path: str = "/twilio/status"
):  # type: ignore[no-untyped-def]
    response = post_signed(client, status_form(provider_sid, status, error_code), path=path)
    assert response.status_code == 204, response.data
    return response


def stored(hotline, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.get_one(Message, message_id)


def fallbacks(hotline) -> list[Outbox]:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return list(s.scalars(select(Outbox).where(Outbox.job == "send_fallback")))


def test_a_late_sent_does_not_overwrite_delivered(client, hotline) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    message_id = outbound(hotline, sid)
    callback(client, sid, "delivered")
    callback(client, sid, "sent")
    callback(client, sid, "queued")
    assert stored(hotline, message_id).status == "delivered"


def test_statuses_move_forward_up_to_read(client, hotline) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    message_id = outbound(hotline, sid, channel="whatsapp")
    for status in ("sent", "delivered", "read", "delivered"):
        callback(client, sid, status)
    message = stored(hotline, message_id)
    assert message.status == "read" and message.sent_at is not None


def test_a_failure_is_kept_once_recorded(client, hotline) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    message_id = outbound(hotline, sid)
    callback(client, sid, "undelivered", 30008)
    callback(client, sid, "delivered")
    callback(client, sid, "read")
    message = stored(hotline, message_id)
    assert (message.status, message.error_code) == ("undelivered", 30008)


def test_forged_or_missing_signatures_are_refused(client, hotline) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    message_id = outbound(hotline, sid)
    form = status_form(sid, "failed", 21610)
    assert client.post("/twilio/status", data=form).status_code == 403
    forged = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/status", {**form, "MessageStatus": "sent"})}
    assert client.post("/twilio/status", data=form, headers=forged).status_code == 403
    other = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/messages", form)}
    assert client.post("/twilio/status", data=form, headers=other).status_code == 403
    assert stored(hotline, message_id).status == "queued"


def test_an_unknown_sid_is_answered_and_changes_nothing(client, hotline) -> None:  # type: ignore[no-untyped-def]
    callback(client, new_provider_sid(), "delivered")
    with hotline.db.session() as s:
        assert s.scalars(select(Message)).all() == []


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"MessageSid": "SM" + "1" * 32},  # no MessageStatus
        {"MessageStatus": "delivered"},  # no MessageSid
        {"MessageSid": "../../etc", "MessageStatus": "sent"},
        {"MessageSid": "SM" + "1" * 32, "MessageStatus": "<script>"},
        {"MessageSid": "SM" + "1" * 32, "MessageStatus": "failed", "ErrorCode": "abc"},
    ],
)
def test_malformed_callbacks_get_a_400(client, form) -> None:  # type: ignore[no-untyped-def]
    response = post_signed(client, form, path="/twilio/status")
    assert response.status_code == 400 and response.mimetype == "text/plain"


def test_sms_sid_and_status_aliases_are_understood(client, hotline) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    message_id = outbound(hotline, sid)
    assert post_signed(client, {"SmsSid": sid, "SmsStatus": "sent"}, path="/twilio/status").status_code == 204
    assert stored(hotline, message_id).status == "sent"


def test_an_opt_out_marks_the_member_unreachable(client, hotline) -> None:  # type: ignore[no-untyped-def]
    member_id, site_id = member(hotline)
    sid = new_provider_sid()
    message_id = outbound(hotline, sid, member_id=member_id, site_id=site_id)
    callback(client, sid, "failed", 21610)
    with hotline.db.session() as s:
        assert s.get_one(Member, member_id).unreachable == "opted_out"
        problems = delivery.delivery_problems(s, site_id=site_id)
        assert [m.id for m in problems.messages] == [message_id]
        assert [m.id for m in problems.members] == [member_id]
        other_site = s.scalars(select(Site).where(Site.prefix == "MSB")).one().id
        empty = delivery.delivery_problems(s, site_id=other_site)
        assert empty.messages == [] and empty.members == []
    assert fallbacks(hotline) == []


def test_a_dead_number_marks_the_member_unreachable(client, hotline) -> None:  # type: ignore[no-untyped-def]
    member_id, site_id = member(hotline)
    sid = new_provider_sid()
    outbound(hotline, sid, member_id=member_id, site_id=site_id)
    callback(client, sid, "undelivered", 30005)
    with hotline.db.session() as s:
        assert s.get_one(Member, member_id).unreachable == "bad_number"


def test_a_resident_who_opted_out_is_stopped(client, hotline) -> None:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        contact = Contact(phone=RESIDENT)
        s.add(contact)
        s.flush()
        contact_id = contact.id
    sid = new_provider_sid()
    outbound(hotline, sid, contact_id=contact_id)
    callback(client, sid, "failed", 21610)
    with hotline.db.session() as s:
        assert s.get_one(Contact, contact_id).stopped is True


def test_whatsapp_outside_the_window_asks_for_one_fallback(client, hotline) -> None:  # type: ignore[no-untyped-def]
    member_id, site_id = member(hotline)
    sid = new_provider_sid()
    message_id = outbound(hotline, sid, channel="whatsapp", member_id=member_id, site_id=site_id)
    callback(client, sid, "failed", 63016)
    callback(client, sid, "failed", 63016)  # Twilio said it twice: still one fallback
    [job] = fallbacks(hotline)
    assert job.args == {"message_id": message_id}
    assert job.pushed_at is not None  # pushed to the queue after commit
    assert stored(hotline, message_id).error_code == 63016
    with hotline.db.session() as s:
        assert s.get_one(Member, member_id).unreachable is None


def test_sms_failure_with_63016_asks_for_no_fallback(client, hotline) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    outbound(hotline, sid, channel="sms")
    callback(client, sid, "failed", 63016)
    assert fallbacks(hotline) == []


def test_a_callback_before_the_send_job_stored_the_sid_finds_the_message(client, hotline) -> None:  # type: ignore[no-untyped-def]
    message_id = outbound(hotline, None, status="handing")
    sid = new_provider_sid()
    callback(client, sid, "sent", path=f"/twilio/status?m={message_id}")
    message = stored(hotline, message_id)
    assert (message.provider_sid, message.status) == (sid, "sent")
    other = outbound(hotline, new_provider_sid())  # already has a SID: another one is not adopted
    callback(client, new_provider_sid(), "sent", path=f"/twilio/status?m={other}")
    assert stored(hotline, other).status == "queued"


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        ("pending", "handing", "handing"),
        ("handing", "queued", "queued"),
        ("queued", "accepted", "queued"),
        ("sent", "sending", "sent"),
        ("delivered", "undelivered", "delivered"),
        ("failed", "delivered", "failed"),
        ("failed", "read", "failed"),
        ("delivered", "read", "read"),
        ("read", "delivered", "read"),
        ("queued", "partially_delivered", "queued"),  # unknown: ignored
        ("replied", "sent", "sent"),
    ],
)
def test_status_rank(hotline, current: str, new: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    sid = new_provider_sid()
    message_id = outbound(hotline, sid, status=current)
    with hotline.db.session() as s:
        change = delivery.apply_status(s, sid, new, None, hotline.clock())
        assert change is not None and change.message.id == message_id
    assert stored(hotline, message_id).status == expected
