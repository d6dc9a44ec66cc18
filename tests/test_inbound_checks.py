"""Strict inbound checks ("Nothing lost, nobody let in"): every field of a signed Twilio post
that the hotline reads or stores is checked or cleaned, every bad one is a 400 and never a 500;
every command-line date or number out of range is a clear message, never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.cli import main
from storage.models import Contact, Conversation, Message
from tests.conftest import PRE_NUMBER, PUBLIC_URL, TOKEN, new_sid, post_signed, replies, twilio_form

SENDER = "+6281234567890"
MESSAGES = PUBLIC_URL + "/twilio/messages"
ACCOUNT = "AC" + "0" * 32
MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages/MM{'1' * 32}/Media/ME{'2' * 32}"


def count(hotline, model) -> int:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def turn(hotline) -> int:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.scalars(select(Conversation)).one().turn


def inbound(hotline) -> Message:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        return s.scalars(select(Message).where(Message.direction == "in").order_by(Message.id.desc())).first()


# -- 1. a moved field boundary ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("absorbing", "dropped"),
    [
        ("MessageSid", "NumMedia"),  # MessageSid=<sid>NumMedia0: a new dedupe key, the step again
        ("SmsMessageSid", "SmsStatus"),  # SmsMessageSid=<sid>SmsStatusreceived
    ],
)
def test_a_replay_with_a_moved_field_boundary_is_refused(client, hotline, absorbing, dropped) -> None:
    form = twilio_form(SENDER, "Halo")
    assert replies(post_signed(client, form))
    before, messages = turn(hotline), count(hotline, Message)

    # Twilio signs the URL and the sorted names and values glued together: moving the boundary
    # between one field and the next keeps the signature the original post carried.
    forged = {k: v for k, v in form.items() if k != dropped}
    forged[absorbing] = form[absorbing] + dropped + form[dropped]
    validator = RequestValidator(TOKEN)
    signature = validator.compute_signature(MESSAGES, form)
    assert validator.compute_signature(MESSAGES, forged) == signature
    assert validator.validate(MESSAGES, forged, signature)

    response = client.post("/twilio/messages", data=forged, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 400, response.data
    assert (turn(hotline), count(hotline, Message)) == (before, messages)


def both(sid: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsMessageSid": sid}


@pytest.mark.parametrize(
    "fields",
    [
        both("SM" + "a" * 31),  # one short
        both("SM" + "a" * 33),  # one long
        both("SM" + "g" * 32),  # not hex
        both("SM" + "A" * 32),  # Twilio's hex is lower case
        both("AC" + "a" * 32),  # an account, not a message
        both("XX" + "a" * 32),
        both("SM" + "a" * 32 + "\x00"),
        both(""),
        {"MessageSid": "SM" + "a" * 32, "SmsMessageSid": "SM" + "b" * 32},  # one message, two SIDs
        {"AccountSid": "AC" + "0" * 31},
        {"AccountSid": "SM" + "0" * 32},
    ],
)
def test_sids_must_have_twilio_s_format(client, hotline, fields: dict[str, str]) -> None:
    form = twilio_form(SENDER, "Halo") | fields
    assert post_signed(client, form).status_code == 400
    assert count(hotline, Message) == 0


@pytest.mark.parametrize("prefix", ["SM", "MM"])
def test_real_sids_still_pass(client, hotline, prefix: str) -> None:
    sid = prefix + "0123456789abcdef" * 2
    assert replies(post_signed(client, twilio_form(SENDER, "Halo", sid=sid)))
    assert inbound(hotline).sid == sid
    only_sms_name = {k: v for k, v in twilio_form(SENDER, "Halo").items() if k != "MessageSid"}
    assert replies(post_signed(client, only_sms_name))  # the older name alone is enough


def test_conftest_sids_have_twilio_s_format() -> None:
    import re

    assert re.fullmatch(r"(SM|MM)[0-9a-f]{32}", new_sid())


# -- 2. media ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"NumMedia": "-1"},
        {"NumMedia": "11"},
        {"NumMedia": "1.0"},
        {"NumMedia": "99999999999999999999"},
        {"NumMedia": "0NumSegments1"},
        {"NumMedia": ""},
        {"NumMedia": "1"},  # no MediaUrl0
        {"NumMedia": "2", "MediaUrl0": MEDIA, "MediaContentType0": "image/jpeg"},  # no MediaUrl1
        {"NumMedia": "1", "MediaUrl0": "http://api.twilio.com/m/1"},
        {"NumMedia": "1", "MediaUrl0": "https://evil.example/m/1"},
        {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com.evil.example/m/1"},
        {"NumMedia": "1", "MediaUrl0": "https://user@api.twilio.com/m/1"},
        {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com:8443/m/1"},
        {"NumMedia": "1", "MediaUrl0": "javascript:alert(1)"},
        {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/1 x"},
        {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/" + "m" * 3000},
        {"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": "image"},
        {"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": "text/html<script>"},
        {"NumMedia": "1", "MediaUrl0": MEDIA, "MediaContentType0": "image/" + "x" * 300},
    ],
)
def test_bad_media_fields_are_a_400(client, hotline, fields: dict[str, str]) -> None:
    assert post_signed(client, twilio_form(SENDER, "", **fields)).status_code == 400
    assert count(hotline, Message) == 0


def test_good_media_is_stored_clean(client, hotline) -> None:
    second = MEDIA.replace("ME" + "2" * 32, "ME" + "3" * 32)
    form = twilio_form(
        SENDER,
        "foto",
        whatsapp=True,
        NumMedia="2",
        MediaUrl0=MEDIA,
        MediaContentType0="image/jpeg\x00",  # cleaned, not refused
        MediaUrl1=second,
        MediaContentType1="audio/ogg; codecs=opus",
    )
    assert replies(post_signed(client, form))
    row = inbound(hotline)
    assert row.num_media == 2
    assert row.media == [
        {"url": MEDIA, "type": "image/jpeg"},
        {"url": second, "type": "audio/ogg; codecs=opus"},
    ]


def test_media_without_a_type_is_octet_stream(client, hotline) -> None:
    assert replies(post_signed(client, twilio_form(SENDER, "", NumMedia="1", MediaUrl0=MEDIA)))
    assert inbound(hotline).media == [{"url": MEDIA, "type": "application/octet-stream"}]


# -- 3. control characters in stored fields -------------------------------------------------


def test_a_profile_name_with_nul_is_handled_and_stored_clean(client, hotline) -> None:
    form = twilio_form(SENDER, "Halo", whatsapp=True, ProfileName="Wa\x00rga\x1b\n\x7f")
    assert replies(post_signed(client, form))
    assert replies(post_signed(client, twilio_form(SENDER, "ya", whatsapp=True, ProfileName="Wa\x00rga")))
    with hotline.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        assert contact.profile_name == "Warga"


def test_a_long_profile_name_is_capped_and_a_blank_one_is_none(client, hotline) -> None:
    assert replies(post_signed(client, twilio_form(SENDER, "Halo", whatsapp=True, ProfileName="\x00 \t")))
    with hotline.db.session() as s:
        assert s.scalars(select(Contact)).one().profile_name is None
    other = "+6281234567891"
    assert replies(post_signed(client, twilio_form(other, "Halo", whatsapp=True, ProfileName="🙏" * 1000)))
    with hotline.db.session() as s:
        name = s.scalars(select(Contact).where(Contact.phone == other)).one().profile_name
        assert name and len(name) <= 200 and set(name) == {"🙏"}


def test_every_stored_text_field_is_clean(client, hotline) -> None:
    form = twilio_form(SENDER, "ha\x00lo\x08", whatsapp=True, ProfileName="\x00W")
    assert replies(post_signed(client, form))
    row = inbound(hotline)
    stored: list[Any] = [row.sid, row.body, row.channel, *(v for m in row.media for v in m.values())]
    with hotline.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        stored += [contact.phone, contact.profile_name, contact.channel]
    assert not any(ch in str(value) for value in stored for ch in "\x00\x08")


# -- 4. numbers within the columns' range -------------------------------------------------------


def status_form(**fields: str) -> dict[str, str]:
    sid = "SM" + "f" * 32
    form = {"AccountSid": ACCOUNT, "MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered"}
    return form | fields


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("?m=" + "9" * 18, {}),
        ("?m=2147483648", {}),
        ("?m=0", {}),
        ("?m=-1", {}),
        ("?m=01", {}),
        ("?m=1e3", {}),
        ("?m=", {}),
        ("", {"ErrorCode": "2147483648"}),
        ("", {"ErrorCode": "9" * 18}),
        ("", {"ErrorCode": "-30003"}),
        ("", {"ErrorCode": "0"}),
        ("", {"MessageSid": "SM" + "f" * 32 + "MessageStatusdelivered"}),
        ("", {"MessageSid": "SM" + "f" * 31, "SmsSid": "SM" + "f" * 31}),
        ("", {"SmsSid": "SM" + "e" * 32}),  # the two names of one message disagree
        ("", {"AccountSid": "AC123"}),
    ],
)
def test_bad_status_callbacks_are_a_400(client, query: str, fields: dict[str, str]) -> None:
    response = post_signed(client, status_form(**fields), path="/twilio/status" + query)
    assert response.status_code == 400, response.data


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("?m=2147483647", {}),
        ("?m=1", {"MessageStatus": "failed", "ErrorCode": "30003"}),
        ("", {"MessageSid": "MM" + "f" * 32, "SmsSid": "MM" + "f" * 32, "ErrorCode": "2147483647"}),
    ],
)
def test_good_status_callbacks_still_pass(client, query: str, fields: dict[str, str]) -> None:
    response = post_signed(client, status_form(**fields), path="/twilio/status" + query)
    assert response.status_code == 204, response.data


# -- 5. the command line ----------------------------------------------------------------------


def cli(app, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(main, list(args))


def refused(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    """Exited non-zero with a reason naming `words`, and no exception escaped (no traceback)."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    reason = [line for line in result.output.splitlines() if line.strip()][-1]
    assert all(word in reason for word in words), result.output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "0001-01-01"], ["--from", "2000"]),
        (["--to", "9999-12-31"], ["--to", "2100"]),
        (["--from", "1999-12-31"], ["--from"]),
        (["--to", "2101-01-01"], ["--to"]),
        (["--from", "2026-13-01"], ["--from"]),
        (["--from", "2026-03-01", "--to", "2026-02-01"], ["starts after it ends"]),
    ],
)
def test_export_dates_out_of_range_are_a_clear_message(app, tmp_path, args, words) -> None:
    refused(cli(app, "export", "--out", str(tmp_path / "x.csv"), *args), *words)
    assert not (tmp_path / "x.csv").exists()


def test_export_within_range_still_works(app, tmp_path) -> None:
    out = tmp_path / "x.csv"
    result = cli(app, "export", "--out", str(out), "--from", "2000-01-01", "--to", "2100-12-31")
    assert result.exit_code == 0, result.output
    assert out.exists()


@pytest.mark.parametrize(
    "period",
    ["99999999999999999999d", "999999999d", "3000000y", "2739726w", "101y", "36501", "-1d", "1e3d", "", "5m"],
)
def test_purge_periods_out_of_range_are_a_clear_message(app, period: str) -> None:
    refused(cli(app, "purge", "--older-than", period, "--dry-run"), "--older-than")


@pytest.mark.parametrize("period", ["30d", "365d", "52w", "100y"])
def test_purge_periods_within_range_still_work(app, period: str) -> None:
    result = cli(app, "purge", "--older-than", period, "--dry-run")
    assert result.exit_code == 0 and "dry run" in result.output, result.output


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2026-00", "2026-13", "99999999999999-01", "2026"])
def test_report_months_out_of_range_are_a_clear_message(app, month: str) -> None:
    refused(cli(app, "report", "--month", month, "--site", "PRE"), "--month")


def test_report_month_within_range_still_works(app) -> None:
    result = cli(app, "report", "--month", "2026-10", "--site", "PRE")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("at", ["0001-01-01", "9999-12-31 23:59", "2026-02-30", "tomorrow"])
def test_members_list_at_never_ends_in_a_traceback(app, at: str) -> None:
    result = cli(app, "members", "list", "--at", at)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


def test_a_good_message_after_all_of_this_still_gets_its_reply(client, hotline) -> None:
    [reply] = replies(post_signed(client, twilio_form(SENDER, "Halo", to=PRE_NUMBER, whatsapp=True)))
    assert "112" in reply
    assert inbound(hotline).body == "Halo"
