"""The Twilio webhook with real-shaped payloads: signatures, dedupe, odd input. Never a 5xx."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import ConfigError, create_app
from storage.models import Contact, Conversation, Message
from tests.conftest import (
    PRE_NUMBER,
    PUBLIC_URL,
    post_signed,
    replies,
    sign,
    twilio_form,
)

SENDER = "+6281234567890"


def count(hotline, model) -> int:
    with hotline.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("whatsapp", [False, True])
def test_signed_sms_and_whatsapp_get_a_twiml_reply(client, hotline, whatsapp) -> None:
    response = post_signed(client, twilio_form(SENDER, "Halo", whatsapp=whatsapp))
    assert response.mimetype == "application/xml"
    [reply] = replies(response)
    assert "112" in reply and "kekerasan" not in reply.lower()  # neutral on a shared phone
    with hotline.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        assert contact.phone == SENDER
        assert contact.channel == ("whatsapp" if whatsapp else "sms")
        assert contact.profile_name == ("Warga" if whatsapp else None)


def test_missing_and_forged_signatures_are_refused(client, hotline) -> None:
    form = twilio_form(SENDER, "Halo")
    assert client.post("/twilio/messages", data=form).status_code == 403
    forged = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/messages", {**form, "Body": "x"})}
    assert client.post("/twilio/messages", data=form, headers=forged).status_code == 403
    other_url = {"X-Twilio-Signature": sign("https://evil.example/twilio/messages", form)}
    assert client.post("/twilio/messages", data=form, headers=other_url).status_code == 403
    assert count(hotline, Message) == 0


def test_signature_is_checked_against_public_url_behind_a_tls_proxy(client) -> None:
    form = twilio_form(SENDER, "Halo")
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/twilio/messages", form)}
    response = client.post("http://internal:8000/twilio/messages", data=form, headers=headers)
    assert response.status_code == 200


def test_duplicate_message_sid_returns_the_stored_reply_and_changes_nothing(client, hotline) -> None:
    form = twilio_form(SENDER, "Halo")
    first = replies(post_signed(client, form))
    with hotline.db.session() as s:
        before = s.scalars(select(Conversation)).one().turn
    again = replies(post_signed(client, form))
    assert again == first
    with hotline.db.session() as s:
        assert s.scalars(select(Conversation)).one().turn == before
    assert count(hotline, Message) == 2


def test_media_is_recorded(client, hotline) -> None:
    form = twilio_form(
        SENDER,
        "",
        NumMedia="2",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM1/Media/ME2",
        MediaContentType1="application/x-unknown",
    )
    assert replies(post_signed(client, form))
    with hotline.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.num_media == 2 and inbound.media[1]["type"] == "application/x-unknown"


@pytest.mark.parametrize(
    "body",
    [
        "",
        "x" * 10_000,
        "halo\x00\x07\x1b dunia",
        "🙏🙏 tolong 😭",
        "'; DROP TABLE messages; --",
        "\u202e\u200b\ufeff",
        "1" * 500,
    ],
)
def test_odd_bodies_get_a_clear_reply(client, hotline, body) -> None:
    [reply] = replies(post_signed(client, twilio_form(SENDER, body)))
    assert reply
    [reply] = replies(post_signed(client, twilio_form(SENDER, body)))  # and again, mid-flow
    assert reply
    assert count(hotline, Message) == 4


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({}, 400),
        ({"From": SENDER, "To": PRE_NUMBER, "Body": "x"}, 400),  # no MessageSid
        ({"MessageSid": "SM" + "1" * 32, "To": PRE_NUMBER, "Body": "x"}, 400),  # no From
        ({"MessageSid": "SM" + "1" * 32, "From": "abc", "To": PRE_NUMBER}, 400),
        ({"MessageSid": "SM" + "1" * 32, "From": SENDER, "To": PRE_NUMBER, "NumMedia": "x"}, 400),
        ({"MessageSid": "../../etc", "From": SENDER, "To": PRE_NUMBER}, 400),
    ],
)
def test_malformed_forms_get_a_4xx(client, form, status) -> None:
    assert post_signed(client, form).status_code == status


def test_non_form_bodies_are_refused_not_crashed(client) -> None:
    assert client.post("/twilio/messages", json={"Body": "x"}).status_code == 403
    garbage = b"\xff\xfe" * 1000
    response = client.post("/twilio/messages", data=garbage, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 403
    huge = "Body=" + "x" * (300 * 1024)
    response = client.post(
        "/twilio/messages",
        data=huge,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 413


def test_unknown_number_goes_to_the_first_site(client, hotline) -> None:
    replies(post_signed(client, twilio_form(SENDER, "halo", to="+6289999999999")))
    with hotline.db.session() as s:
        assert s.scalars(select(Conversation)).one().site_id == 1


def test_healthz(client) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok", "spool": 0}  # nothing waiting


def test_unsigned_mode_is_explicit_and_refused_with_a_token(tmp_path) -> None:
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "HOTLINE_QUEUE": object()}
    with pytest.raises(ConfigError):
        create_app({**base, "HOTLINE_ALLOW_UNSIGNED": "1", "TWILIO_AUTH_TOKEN": "t"})
    app = create_app({**base, "TWILIO_AUTH_TOKEN": ""})
    form = twilio_form(SENDER, "halo")
    assert app.test_client().post("/twilio/messages", data=form).status_code == 403


def test_two_messages_from_one_sender_at_once_lose_no_step(app, hotline) -> None:
    """Both requests run concurrently; the conversation lock makes them take turns."""
    clients = [app.test_client() for _ in range(2)]
    post_signed(clients[0], twilio_form(SENDER, "halo"))
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def send(c, body: str) -> None:
        barrier.wait()
        codes.append(post_signed(c, twilio_form(SENDER, body)).status_code)

    threads = [threading.Thread(target=send, args=(c, "ya")) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200, 200]
    with hotline.db.session() as s:
        conv = s.scalars(select(Conversation)).one()
        # halo -> safe; ya -> consent; ya -> menu: both answers were applied, in turn
        assert (conv.turn, conv.state) == (3, "menu")


def test_redis_down_keeps_the_job_for_the_sweeper(client, hotline, monkeypatch) -> None:
    from bot.jobs import runner as jobs
    from storage.models import Outbox

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    resident_flow = ["halo", "ya", "ya", "6", "3", "1", "perlu kursi roda", "LEWATI", "3", "LEWATI"]
    for body in resident_flow:
        replies(post_signed(client, twilio_form(SENDER, body)))
    monkeypatch.setattr(hotline.queue, "push", down)
    [reply] = replies(post_signed(client, twilio_form(SENDER, "1")))
    assert "Kode: PRE-" in reply  # the resident is answered; the case is kept
    with hotline.db.session() as s:
        row = s.scalars(select(Outbox)).one()
        assert row.pushed_at is None
    monkeypatch.undo()
    assert jobs.sweep(hotline) == 0  # too fresh: the normal push may still be under way
    real = hotline.clock
    hotline.clock = lambda: real() + timedelta(minutes=5)
    assert jobs.sweep(hotline) == 1
    with hotline.db.session() as s:
        assert s.scalars(select(Outbox)).one().pushed_at is not None


def test_a_signature_header_that_is_not_ascii_is_refused_not_crashed(client) -> None:
    form = twilio_form("+6281234567890", "halo")
    response = client.post("/twilio/messages", data=form, headers={"X-Twilio-Signature": "sïgnatüre"})
    assert response.status_code == 403
