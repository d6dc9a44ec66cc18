"""Fuzzing with hypothesis (nothing lost, nobody let in): whatever a resident, a member, Twilio or
a coordinator sends, the hotline answers without a 5xx, and no reader of answers or commands
raises. Derandomized and bounded, so CI sees the same examples every run in well under a minute.

Forms come from valid numbers mostly and junk sometimes, with texts that carry NUL and other
control characters, emoji, combining marks, XML noncharacters and 10,000 characters (form data
cannot carry lone surrogates, so category Cs is left out)."""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, Text, select

from bot.domain import members
from bot.jobs.transport import TwilioTransport
from bot.render.export import FORMATS
from flows import FLOWS, reading
from flows.members import INSTITUTIONS, VERBS
from flows.model import Choice, Miss, Read
from storage import assignments
from storage import users as accounts
from storage.casestate import STATES
from storage.models import Base, Message
from tests.conftest import MSB_NUMBER, PRE_NUMBER, PUBLIC_URL, Resident, new_sid, post_signed, work
from tests.conftest import sign as twilio_signature
from tests.fake_twilio import FakeTwilio, fake_twilio_fixture  # noqa: F401  (the fixture)
from tests.test_duty import KETUA, KOORD, A, B, roster  # noqa: F401 (roster: the fixture)

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,  # nothing written into the shared working tree (.hypothesis/)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = settings(FUZZ, max_examples=150)
ACCOUNT_SID = "AC" + "0" * 32
PASSWORD = "kata-sandi-rahasia"

# -- texts ---------------------------------------------------------------------------------------

CHARS = st.characters(exclude_categories=("Cs",))  # no lone surrogates: form data cannot carry them
NASTY = (
    "",
    " ",
    "\x00",
    "\x00\x01\x02\x1b\x7f",
    "iya\x00",
    "\r\n\t\x0b\x0c\r",
    "\x85\u2028\u2029",
    "\u200b\u2060\ufeff",
    "\ufffe\uffff",
    "nama \uffff",
    "\U0010ffff",
    "👍",
    "👍🏽",
    "👎",
    "👌🏿👍",
    "🇮🇩",
    "👨\u200d👩\u200d👧",
    "\ufe0f",
    "١٢٣",
    "𝟏𝟐",
    "①②",
    "½",
    "Ⅻ",
    "ﬁ",
    "ǅ",
    "İ",
    "a\u0301\u0301\u0301",
    "\u0301",
    "-",
    "—",
    "-" * 50,
    "+62",
    "0812-3456-7890",
    "7372014505800001",
    "9" * 40,
    "%s %(x)s {0} {x!r}",
    "<Message>&amp;</Message>",
    "]]>",
    "\\",
    "'; DROP TABLE cases; --",
)
WORDS = (
    "halo",
    "iya",
    "ya",
    "tidak",
    "gak",
    "setuju",
    "ok",
    "1",
    "2",
    "3",
    "6",
    "satu",
    "dua puluh",
    "umur 34 thn",
    "lompoe",
    "kel lompoe",
    "LEWATI",
    "BATAL",
    "STATUS",
    "MENU",
    "HAPUS",
    "DARURAT",
    "TELEPON",
    "BANTUAN",
    "EN",
    "ID",
    "BERHENTI",
    "kirim",
    "sy",
    "udh",
    "blm",
    "1 dan 3",
    "pagi",
    "malam",
    "kapan saja",
    "suami",
    "kdrt",
    "mau lapor",
    "tolong",
    "TERIMA",
    "LIHAT",
    "CATAT",
    "BALAS",
    "RUJUK",
    "SELESAI",
    "TOLAK",
    "MEDIA",
    "KASUS",
    "LAPOR",
    "uptd ppa",
    "rs bhayangkara",
    "pre",
    "PRE-",
    "7K3QX",
)
LONG = st.text(CHARS, min_size=1, max_size=6).map(lambda s: (s * (10_000 // len(s) + 1))[:10_000])
TEXT = st.one_of(
    st.text(CHARS, max_size=30),
    st.sampled_from(NASTY),
    st.lists(
        st.one_of(st.sampled_from(WORDS), st.sampled_from(NASTY), st.text(CHARS, max_size=8)),
        min_size=1,
        max_size=5,
    ).map(" ".join),
    LONG,
)
MEDIA_URL = (
    "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Messages/MM" + "0" * 32 + "/Media/ME1"
)
EXAMPLES = ("x" * 10_000, "👍" * 10_000, "\x00" * 10_000, "1 " * 5_000, "\ufffe" + "a\u0301" * 4_999)


def mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """`good` four times in five: fuzz that still gets past the first check now and then."""
    return st.sampled_from((True, True, True, True, False)).flatmap(lambda ok: good if ok else bad)


# -- who texts -----------------------------------------------------------------------------------

RESIDENTS = ("+6281234567890", "+6281234500001", "+6285712345678")
MEMBERS = (A, B, KETUA, KOORD)
JUNK_NUMBERS = ("", "+", "0", "abc", "+62", "+999999999999999999999", "whatsapp:", "+1 (555) 010-9999")
# SMS: questions in pairs; the disability question on its own (not said)
REPORT = ("halo", "iya", "ok setuju", "1", "gak", "sy sendiri 34", "LEWATI", "1 sy dipukul", "suami")
REPORT_TAIL = ("lompoe", "2 kapan saja", "LEWATI", "1")


def _report(client, number: str, *, to: str = PRE_NUMBER, area: str = "lompoe") -> str:
    resident = Resident(client, number, to=to)
    for body in (*REPORT, area, *REPORT_TAIL[1:]):
        resident.says(body)
    found = re.search(r"Kode: ((PRE|MSB)-\w{5})", resident.last)
    assert found, resident.last
    return found.group(1)


@pytest.fixture
def world(app, client, hotline, redis, roster) -> dict[str, object]:
    """Members on duty, two PRE reports offered to them (one taken by Bu Ani) and one in MSB."""
    ids = roster
    codes = [_report(client, RESIDENTS[0]), _report(client, RESIDENTS[1])]
    work(app, redis)
    Resident(client, A).says(f"TERIMA {codes[0]}")
    codes.append(_report(client, RESIDENTS[2], to=MSB_NUMBER, area="kesik"))
    work(app, redis)
    return {"codes": codes, "members": ids}


def post(client, path: str, pairs, *, sign: bool = False, signature: str = ""):  # type: ignore[no-untyped-def]
    """POST a form as the browser or Twilio sends it; also whether it is over the app's size
    limits (MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE), where 413 is the right answer."""
    items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
    body = urlencode(items).encode()
    if sign:
        signature = twilio_signature(PUBLIC_URL + path, dict(items))
    headers = {"X-Twilio-Signature": signature} if signature else {}
    config = client.application.config
    limit = min(n for n in (config.get("MAX_CONTENT_LENGTH"), config.get("MAX_FORM_MEMORY_SIZE")) if n)
    response = client.post(path, data=body, content_type="application/x-www-form-urlencoded", headers=headers)
    return response, len(body) > limit


def twiml_safe(text: str) -> str:
    """Without U+FFFE and U+FFFF: a reply that echoes them is not XML (see the xfail below)."""
    return text.translate({0xFFFE: None, 0xFFFF: None})


def _twiml(response) -> list[str]:
    root = ET.fromstring(response.data)  # Twilio refuses a reply that is not well-formed XML
    return [m.text or "" for m in root.iter("Message")]


def assert_no_nul_stored(hotline) -> None:
    found = _no_nul_stored(hotline)
    assert not found, f"NUL stored in {found}"


def _no_nul_stored(hotline) -> list[str]:
    """Text columns holding NUL: PostgreSQL refuses them, so each is a 500 there."""
    found = []
    with hotline.db.session() as s:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                textual = isinstance(column.type, String | Text)  # read here: SQLite's LIKE stops at NUL
                if textual and any("\x00" in (value or "") for value in s.scalars(select(column))):
                    found.append(f"{table.name}.{column.name}")
    return found


# -- (a) the webhook ---------------------------------------------------------------------------------


@st.composite
def inbound(draw, codes: list[str]) -> dict[str, str]:
    """A Twilio message webhook form, WhatsApp or SMS, from a resident, a member or junk."""
    whatsapp = draw(st.booleans())
    prefix = "whatsapp:" if whatsapp else ""
    who = draw(st.sampled_from(("resident",) * 5 + ("member",) * 3 + ("junk",) * 2))
    if who == "junk":
        sender = draw(st.one_of(st.sampled_from(JUNK_NUMBERS), TEXT))
    else:
        number = draw(st.sampled_from(RESIDENTS if who == "resident" else MEMBERS))
        sender = draw(st.sampled_from((number, "0" + number[3:], number[1:])))  # +62..., 08..., 62...
    code = draw(st.sampled_from(codes)) if codes else "PRE-7K3QX"
    body = draw(
        st.one_of(
            TEXT,
            st.builds(
                "{} {} {}".format,
                st.sampled_from(sorted(VERBS)),
                st.sampled_from((code, code.lower(), code.split("-")[1], code.replace("-", " "))),
                TEXT,
            ),
        )
    )
    body = twiml_safe(body)
    sid = new_sid()
    form = {
        "ToCountry": "ID",
        "SmsMessageSid": sid,
        "MessageSid": sid,
        "From": prefix + sender,
        "To": prefix + draw(st.sampled_from((PRE_NUMBER, PRE_NUMBER, MSB_NUMBER))),
        "Body": body,
        "NumSegments": "1",
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "SmsStatus": "received",
    }
    optional = {
        "NumMedia": mostly(
            st.sampled_from(("0", "1", "1")),
            st.one_of(st.sampled_from(("2", "10", "11", "-1", "", " 1 ", "١", "1e3", "9" * 30)), TEXT),
        ),
        "MediaUrl0": mostly(st.just(MEDIA_URL), TEXT),
        "MediaContentType0": mostly(st.sampled_from(("image/jpeg", "audio/ogg; codecs=opus", "")), TEXT),
        "ProfileName": TEXT,
        "WaId": mostly(st.just(sender.lstrip("+").removeprefix("whatsapp:")), TEXT),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            form[name] = draw(values)
    if whatsapp and draw(st.booleans()):
        form["MessageType"] = draw(st.sampled_from(("text", "image", "audio")))
    return form


@FUZZ
@given(data=st.data())
def test_the_webhook_answers_twiml_or_400_never_500(client, hotline, world, data) -> None:
    form = data.draw(inbound(world["codes"]))
    response, too_big = post(client, "/twilio/messages", form, sign=True)
    assert response.status_code in ((413,) if too_big else (200, 400)), (
        response.status_code,
        response.data[:300],
    )
    event(f"webhook {response.status_code}")
    if response.status_code == 200:
        event(f"replies {min(len(_twiml(response)), 1)}")
    again, _ = post(client, "/twilio/messages", form, sign=True)  # Twilio retries: the same SID
    assert again.status_code == response.status_code
    assert_no_nul_stored(hotline)  # on PostgreSQL, a 500


@pytest.mark.parametrize("field", ["Body", "ProfileName", "MediaUrl0", "MediaContentType0", "WaId"])
@pytest.mark.parametrize("text", EXAMPLES, ids=["x", "thumbs", "nul", "digits", "nonchar"])
def test_the_webhook_takes_ten_thousand_characters_in_any_field(client, field: str, text: str) -> None:
    """A resident's long message or name is taken (200); a field only Twilio writes may be
    refused (400); never a 5xx."""
    for whatsapp in (False, True):
        prefix = "whatsapp:" if whatsapp else ""
        form = {
            "MessageSid": new_sid(),
            "From": prefix + RESIDENTS[0],
            "To": prefix + PRE_NUMBER,
            "Body": "halo",
        }
        if field.startswith("Media"):
            form |= {"NumMedia": "1", "MediaUrl0": MEDIA_URL}
        response = post_signed(client, form | {field: text})
        assert response.status_code in ((200,) if field in ("Body", "ProfileName") else (200, 400)), (
            response.status_code,
            response.data[:300],
        )
        if response.status_code == 200:
            _twiml(response)


# Each report, answered the way people answer; one answer on the way is replaced by fuzz, and the
# rest of the script still follows (each reply, whatever it asks, is well-formed TwiML).
SCRIPTS = {
    "kekerasan": (*REPORT, *REPORT_TAIL),
    "kekerasan_call": (
        *REPORT,
        "lompoe",
        "1",
        "1",
        "malam",
        "0813 9999 8888",
        "anggrekungu",
        "Bu Rina",
        "1",
    ),
    "bansos": (
        "halo",
        "iya",
        "setuju",
        "2",
        "pkh",
        "keluarga",
        "1 3",
        "blm punya",
        "7372014505800001",
        "ibu sy lansia tdk dapat pkh lg",
        "ujung bulu",
        "1",
        "pesan",
        "kapan saja",
        "Siti",
        "1",
    ),
    "darurat": (
        "tolong sy mau lapor kdrt",
        "ya",
        "ya",
        "iya",
        "watang bacukik",  # near, not exact: "ya" confirms it
        "ya",
        "3",
        "3",
        "Ani",
        "kirim",
    ),
}
_fresh = iter(range(10**6))


@settings(FUZZ, max_examples=40)
@given(
    script=st.sampled_from(sorted(SCRIPTS)),
    at=st.integers(0, 20),
    text=TEXT.map(twiml_safe),
    replace=st.booleans(),
)
def test_fuzz_at_any_step_of_a_report(client, script: str, at: int, text: str, replace: bool) -> None:
    turns = list(SCRIPTS[script])
    at = min(at, len(turns))
    turns[at : at + replace] = [text]  # in place of the answer, or before it
    number = f"+62812{9000000 + next(_fresh):07d}"
    for body in turns:
        form = {"MessageSid": new_sid(), "From": number, "To": PRE_NUMBER, "Body": body, "NumMedia": "0"}
        response = post_signed(client, form)
        assert response.status_code == 200, (turns, body, response.data[:300])
        _twiml(response)


def test_a_summary_echoing_a_noncharacter_is_still_twiml(client) -> None:
    """U+FFFF in a name would be echoed in the summary, and TwiML with it is not XML."""
    resident = Resident(client, RESIDENTS[0], whatsapp=True)  # on SMS the name is not read back
    for body in SCRIPTS["darurat"][:8]:
        resident.says(body)
    sender, to = f"whatsapp:{RESIDENTS[0]}", f"whatsapp:{PRE_NUMBER}"
    form = {"MessageSid": new_sid(), "From": sender, "To": to, "Body": "Ani \uffff"}
    response = post_signed(client, form)
    assert response.status_code == 200
    assert any("Ringkasan" in reply for reply in _twiml(response))


@FUZZ
@given(data=st.data())
def test_a_bad_signature_is_403_whatever_the_form(client, data) -> None:
    form = data.draw(inbound([]))
    response, too_big = post(client, "/twilio/messages", form, signature="bm9wZQ==")
    assert response.status_code == (413 if too_big else 403)


def test_nothing_the_webhook_stores_holds_a_nul(client, hotline) -> None:
    """On SQLite a NUL is stored; on PostgreSQL the same form is a 500 and the message is lost."""
    form = {
        "MessageSid": new_sid(),
        "From": "whatsapp:" + RESIDENTS[0],
        "To": "whatsapp:" + PRE_NUMBER,
        "Body": "ha\x00lo\x00",
        "WaId": RESIDENTS[0].lstrip("+"),
        "ProfileName": "Wa\x00rga",
        "NumMedia": "1",
        "MediaUrl0": MEDIA_URL,
        "MediaContentType0": "image/jpeg\x00",
    }
    assert post_signed(client, form).status_code == 200
    assert_no_nul_stored(hotline)


# -- (b) status callbacks ----------------------------------------------------------------------------

STATUSES = ("queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled")
STATUSES += ("accepted", "scheduled", "receiving", "received", "replied", "FAILED", " sent ", "")
ERRORS = ("", "0", "21211", "21610", "21614", "63016", "63024", "30003", "30005", "30008", "20429")
ERRORS += ("999999999", "1234567890", "-1", "1.5", " 30003 ")


@pytest.fixture
def through_twilio(hotline, fake_twilio: FakeTwilio) -> FakeTwilio:
    """Sends through the real twilio client to the local fake: Twilio's own SIDs on the sent."""
    hotline.transport = TwilioTransport(
        fake_twilio.account_sid, fake_twilio.auth_token, timeout=0.5, base_url=fake_twilio.url
    )
    hotline.config.pop("TWILIO_WA_TEMPLATE_SID", None)
    hotline.config.pop("HOTLINE_SMS_FALLBACK", None)
    return fake_twilio


@FAST
@given(data=st.data())
def test_status_callbacks_answer_204_or_400_never_500(client, hotline, through_twilio, world, data) -> None:
    with hotline.db.session() as s:
        sent = s.execute(select(Message.id, Message.provider_sid).where(Message.direction == "out")).all()
    ids = [str(i) for i, _ in sent]
    sids = [sid for _, sid in sent if sid]
    # Messages are added as callbacks fail: pick by position, so every run draws alike.
    ours = st.integers(0, 999).map(lambda i: sids[i % len(sids)])
    real_sid = st.text("0123456789abcdef", min_size=32, max_size=32).map("SM".__add__)
    sid = data.draw(mostly(ours, st.one_of(real_sid, TEXT)))  # mostly well-formed: 204s go deep
    form = {
        "MessageSid": sid,
        "MessageStatus": data.draw(mostly(st.sampled_from(STATUSES), TEXT)),
        "AccountSid": ACCOUNT_SID,
        "To": RESIDENTS[0],
        "From": PRE_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if data.draw(st.booleans()):
        form["ErrorCode"] = data.draw(mostly(st.sampled_from(ERRORS), TEXT))
    if data.draw(st.booleans()):  # the older names only
        form["SmsSid"] = form.pop("MessageSid")
        form["SmsStatus"] = form.pop("MessageStatus")
    m = data.draw(
        mostly(
            st.one_of(st.none(), st.integers(0, 999).map(lambda i: ids[i % len(ids)])),
            st.one_of(st.integers(0, 10**20).map(str), TEXT),
        )
    )
    path = "/twilio/status" if m is None else f"/twilio/status?m={quote(m, safe='')}"
    response, too_big = post(client, path, form, sign=True)
    assert response.status_code in ((413,) if too_big else (204, 400)), (
        response.status_code,
        response.data[:300],
    )
    event(f"status callback {response.status_code} {response.data[:40]!r}")


# -- (c) answer readers ------------------------------------------------------------------------------

ANSWERS = [(f"{flow.name}.{step.name}", step.answer) for flow in FLOWS.values() for step in flow.steps]
KINDS = sorted({type(answer).__name__ for _, answer in ANSWERS})
CHOICES = [answer for _, answer in ANSWERS if isinstance(answer, Choice)]


def test_every_answer_kind_of_the_flows_is_fuzzed() -> None:
    assert {"Choice", "YesNo", "Age", "Nik", "Digits", "Text", "Phone", "Codeword"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_answer_kind_reads_any_text(kind: str) -> None:
    answers = [answer for _, answer in ANSWERS if type(answer).__name__ == kind]

    @settings(FUZZ, max_examples=120)
    @given(answer=st.sampled_from(answers), text=TEXT)
    @example(answer=answers[0], text=EXAMPLES[0]).via("10,000 characters")
    @example(answer=answers[-1], text=EXAMPLES[3]).via("10,000 characters")
    def reads(answer, text: str) -> None:
        result = answer.read(text)
        assert isinstance(result, Read | Miss)
        if isinstance(result, Miss):
            assert result.hint.startswith("hint.")

    reads()


@FAST
@given(text=TEXT, choice=st.sampled_from(CHOICES), length=st.integers(1, 20), have=st.booleans())
@example(text=EXAMPLES[0], choice=CHOICES[0], length=16, have=True)
@example(text=EXAMPLES[1], choice=CHOICES[-1], length=16, have=False)
@example(text=EXAMPLES[2], choice=CHOICES[0], length=1, have=False)
@example(text=EXAMPLES[3], choice=CHOICES[0], length=2, have=True)
@example(text=EXAMPLES[4], choice=CHOICES[0], length=3, have=True)
def test_the_readers_never_raise(text: str, choice: Choice, length: int, have: bool) -> None:
    options = [(o.value.replace("_", " "), *o.words) for o in choice.options]
    cleaned = reading.clean(text)
    assert "\x00" not in cleaned
    assert all(c == "\n" or unicodedata.category(c) != "Cc" for c in cleaned)
    assert isinstance(reading.norm(text), str)
    assert reading.global_word(text) is None or isinstance(reading.global_word(text), str)
    assert reading.read_yes_no(text, have=have) in (True, False, None)
    picked = reading.read_choice(text, options)
    assert picked is None or 0 <= picked < len(options)
    several = reading.read_choices(text, options)
    assert several is None or (
        several == sorted(set(several)) and all(0 <= i < len(options) for i in several)
    )
    age = reading.read_age(text)
    assert age is None or 0 <= age <= 120
    digits = reading.read_digits(text, length)
    assert digits is None or (len(digits) == length and digits.isdigit())
    nik, reason = reading.check_nik(text)
    assert (nik is None) != (reason is None) and (nik is None or len(nik) == 16)
    assert isinstance(reading.gsm7(text), bool)
    assert reading.sms_segments(text) >= (1 if text else 0)
    assert isinstance(reading.contains_phrase(text, ("lapor kdrt", "tolong", "")), bool)
    phone = reading.read_phone(text)
    assert phone is None or phone.startswith("+")


# -- (d) member commands -------------------------------------------------------------------------


@FAST
@given(
    text=st.one_of(
        TEXT,
        st.builds(
            "{} {} {}".format,
            st.sampled_from([w for words in VERBS.values() for w in words]),
            st.one_of(st.sampled_from(("PRE-7K3QX", "pre 7k3qx", "7K3OX", "kode #7k3qx", "PRE", "")), TEXT),
            TEXT,
        ),
    )
)
@example(text=EXAMPLES[0])
@example(text="TERIMA " + EXAMPLES[1])
@example(text="CATAT pre " + EXAMPLES[3])
@example(text="RUJUK " + EXAMPLES[4])
def test_member_commands_read_any_text(text: str) -> None:
    command = members.read_command(text)
    assert command.verb == "" or command.verb in VERBS
    for prefix, code, rest in command.readings:
        assert (prefix is None or prefix) and len(code) == 5 and isinstance(rest, str)
    assert members.is_case_command(text) in (True, False)
    assert members.is_resident_word(text) in (True, False)
    assert members.institution(text) is None or members.institution(text) in INSTITUTIONS
    code = assignments.read_code(text)
    assert code is None or len(code[1]) == 5


# -- (e) the console ---------------------------------------------------------------------------------


def _csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1).decode()


def _login(client, username: str) -> str:
    token = _csrf(client.get("/console/login").data)
    response = client.post(
        "/console/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.data[:300]
    return _csrf(client.get("/console/export").data)


@pytest.fixture
def console_world(app, hotline, world) -> dict[str, object]:
    """An admin who sees contacts and a PRE coordinator who does not, each logged in."""
    with hotline.db.session() as s:
        now = hotline.clock()
        accounts.create(s, "admin", PASSWORD, "admin", [], True, now)
        accounts.create(s, "pare", PASSWORD, "coordinator", ["PRE"], False, now)
    clients = {}
    for name in ("admin", "pare"):
        browser = app.test_client()
        clients[name] = (browser, _login(browser, name))
    return {**world, "clients": clients}


CASE_KEYS = ("site", "area", "category", "status", "urgent", "code", "from", "to", "page")
DATES = ("2026-11-10", "0001-01-01", "9999-12-31", "2026-02-30", "kemarin", "2026-13-01", "20261110")


@FAST
@given(data=st.data())
def test_the_case_list_reads_any_query(hotline, console_world, data) -> None:
    client, _ = console_world["clients"][data.draw(st.sampled_from(("admin", "pare")))]
    values = st.one_of(
        TEXT,
        st.sampled_from(DATES),
        st.sampled_from(("PRE", "MSB", "1", "0", "2", "-1", "99999999999", "kekerasan", "new", "offered")),
    )
    query = data.draw(st.dictionaries(st.sampled_from(CASE_KEYS), values, max_size=len(CASE_KEYS)))
    response = client.get("/console/cases", query_string=query)
    assert response.status_code == 200, (query, response.status_code)
    month = data.draw(st.one_of(st.sampled_from(("2026-11", "0001-01", "9999-12", "2026-13", "")), TEXT))
    site = data.draw(st.sampled_from(("", "PRE", "MSB", "pre", "XYZ")))
    figures = client.get("/console/figures", query_string={"month": month, "site": site})
    assert figures.status_code in (200, 404), (month, site, figures.status_code)


ACTIONS = ("note", "refer", "close", "cancel", "reassign")


@FAST
@given(data=st.data())
def test_case_actions_take_any_form(hotline, console_world, data) -> None:
    name = data.draw(st.sampled_from(("admin", "pare")))
    client, token = console_world["clients"][name]
    codes = console_world["codes"]
    code = data.draw(
        st.one_of(
            st.sampled_from(codes),
            st.sampled_from([c.lower() for c in codes] + [c.split("-")[1] for c in codes]),
            TEXT,
        )
    )
    action = data.draw(st.sampled_from(ACTIONS))
    member_ids = [str(i) for i in console_world["members"].values()]
    form = {"csrf_token": token}
    for field, values in (
        ("note", TEXT),
        ("to", st.one_of(st.sampled_from(sorted(INSTITUTIONS)), st.sampled_from(("unit ppa", "rs")), TEXT)),
        ("member", st.one_of(st.sampled_from(member_ids), st.sampled_from(("0", "-1", "1" * 12)), TEXT)),
    ):
        if data.draw(st.booleans()):
            form[field] = data.draw(values)
    response, too_big = post(client, f"/console/cases/{quote(code, safe='')}/{action}", form)
    expected = (413,) if too_big else (302, 404, 405)
    assert response.status_code in expected, (action, code, response.status_code)
    if response.status_code == 302:  # the case page shows whatever was saved, and the flash
        page = client.get(response.location)
        assert page.status_code == 200, (action, code, page.status_code)
    assert_no_nul_stored(hotline)  # on PostgreSQL, a 500


@FAST
@given(data=st.data())
def test_export_takes_any_form(hotline, console_world, data) -> None:
    name = data.draw(st.sampled_from(("admin", "pare")))
    client, token = console_world["clients"][name]
    codes = console_world["codes"]
    pairs: list[tuple[str, str]] = [("csrf_token", token)]
    pairs.append(
        ("format", data.draw(st.one_of(st.sampled_from(FORMATS), st.sampled_from(("", "CSV", "pdf")), TEXT)))
    )
    fields = {
        "site": st.one_of(st.sampled_from(("PRE", "MSB", "pre", "")), TEXT),
        "area": st.one_of(st.sampled_from(("Lompoe", "Kesik", "lompoe", "")), TEXT),
        "category": st.one_of(st.sampled_from(("kekerasan", "bansos", "")), TEXT),
        "status": st.one_of(st.sampled_from(STATES), TEXT),
        "codes": st.one_of(
            st.sampled_from(codes), st.lists(st.sampled_from(codes), max_size=3).map(", ".join), TEXT
        ),
        "from": st.one_of(st.sampled_from(DATES), TEXT),
        "to": st.one_of(st.sampled_from(DATES), TEXT),
        "contacts": st.sampled_from(("1", "0", "")),
    }
    for field, values in fields.items():
        for value in data.draw(st.lists(values, max_size=2)):
            pairs.append((field, value))
    response, too_big = post(client, "/console/export", pairs)
    expected = (413,) if too_big else (200, 302, 400)
    assert response.status_code in expected, ([(k, v[:50]) for k, v in pairs], response.status_code)
    assert isinstance(response.data, bytes)  # the streamed body, read to its end


# -- reports taken for a resident: WARGA and the console's "Laporan baru" -----------------------

# Bu Ani, at the posko, for a child hit by her father yesterday who has no phone; BATAL first
# ends whatever draft an earlier example left.
WARGA = (
    *("BATAL", "WARGA", "1", "ya", "tidak ada", "1", "tidak", "2 9", "LEWATI", "1 dipukul", "2"),
    *("lompoe", "1"),
)


@settings(FUZZ, max_examples=40)
@given(at=st.integers(1, len(WARGA)), text=TEXT.map(twiml_safe), replace=st.booleans())
def test_fuzz_at_any_step_of_a_members_warga_report(client, hotline, roster, at, text, replace) -> None:
    turns = list(WARGA)
    turns[at : at + replace] = [text]
    for body in turns:
        form = {"MessageSid": new_sid(), "From": A, "To": PRE_NUMBER, "Body": body, "NumMedia": "0"}
        response = post_signed(client, form)
        assert response.status_code == 200, (turns, body, response.data[:300])
        _twiml(response)
    assert_no_nul_stored(hotline)


WALKIN_FIELDS = (
    *("came_by", "consent", "own_phone", "danger", "who", "age", "disability", "kind", "story"),
    *("perpetrator", "when", "area", "contact", "contact_time", "codeword", "name", "group", "for_whom"),
)
WALKIN_VALUES = (
    *("posko", "telepon", "yes", "no", "child", "physical", "family", "days", "Lompoe", "Lemoe"),
    *("message", "call", "none", "9", "081234567890", "+628110001001", "batal", "HAPUS", "telpon"),
)


# A whole valid form (a child hit by her father yesterday, at the posko, no phone), some of whose
# fields each example replaces.
WALKIN_CHILD = {
    **{"came_by": "posko", "consent": "yes", "danger": "no", "who": "child", "age": "9"},
    **{"kind": "physical", "story": "dipukul ayahnya", "perpetrator": "family", "area": "Lompoe"},
}


@FAST
@given(data=st.data())
def test_the_walkin_form_takes_any_form(hotline, console_world, data) -> None:
    client, token = console_world["clients"][data.draw(st.sampled_from(("admin", "pare")))]
    whole = data.draw(st.booleans())  # a valid form with a few fields changed, or anything
    names = st.sampled_from([f.name for f in FLOWS.values()])
    category = "kekerasan" if whole else data.draw(st.one_of(names, TEXT))
    page = client.get("/console/walkin", query_string={"category": category, "site": "PRE"})
    assert page.status_code in (200, 400), (category, page.status_code)
    once = re.search(rb'name="once" value="([^"]+)"', page.data)
    fresh = once is not None and (whole or data.draw(st.booleans()))
    form = {"csrf_token": token, "site": "PRE", "category": category, **(WALKIN_CHILD if whole else {})}
    form["once"] = once.group(1).decode() if fresh and once else data.draw(TEXT)
    values = st.one_of(st.sampled_from(WALKIN_VALUES), TEXT)
    for field in data.draw(st.lists(st.sampled_from(WALKIN_FIELDS), max_size=3 if whole else 12)):
        form[field] = data.draw(values)
    response, too_big = post(client, "/console/walkin", form)
    expected = (413,) if too_big else (302, 400)
    assert response.status_code in expected, (form, response.status_code)
    event(f"walk-in form: {response.status_code}")
    if response.status_code == 302:  # the case page shows what was saved
        assert client.get(response.location).status_code == 200
    assert_no_nul_stored(hotline)  # on PostgreSQL, a 500
