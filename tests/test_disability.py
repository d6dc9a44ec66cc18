"""The disability question the monev figures count: once in every category flow, optional, about
the person the report is for; kept as "yes"/"no" (None after LEWATI); on SMS asked with the
"for whom" (or "forced?") question where that one is free; through the signed webhook to the
case, LIHAT and the monthly figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain import i18n
from bot.domain.engine import ENGINE, Context, Conv, Inbound
from flows import CATEGORIES, sms
from flows.disability import NAME, Disability
from flows.places import Place
from storage.figures import monthly
from storage.models import Case
from tests.conftest import Resident, work
from tests.test_duty import KETUA, A, B, roster, to  # noqa: F401  (roster: a fixture)

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
PLACES = (Place(1, "Lompoe", "Bacukiki"),)
START = ("halo", "ya", "ya")


def test_every_category_asks_it_once_optionally_with_its_own_subject() -> None:
    for flow in CATEGORIES:
        steps = [s for s in flow.steps if s.name == NAME]
        assert len(steps) == 1, flow.name
        step = steps[0]
        assert step.skip and isinstance(step.answer, Disability) and step.ask_if is None, flow.name
        assert step.sms_with is None or not step.sms_with.whole  # a whole "tidak" is the other's
        asked = i18n.text(step.prompt, "id")
        assert "penyandang disabilitas (sulit melihat, mendengar, berjalan, mengingat" in asked
        assert "LEWATI" in asked and "Does" in i18n.text(step.prompt, "en")
    prompts = {f.name: f.step(NAME).prompt for f in CATEGORIES}
    assert "orang yang mengalami ini" in i18n.text(prompts["kekerasan"], "id")  # the victim
    assert "anak itu" in i18n.text(prompts["perkawinan_anak"], "id")  # the child, not the reporter
    assert "perlu dibantu" in i18n.text(prompts["bansos"], "id")
    assert sms.key("ask.k.disability") == "ask.k.disability.sms"  # on its own on SMS: shorter


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ya", "yes"),
        ("1", "yes"),
        ("iya, tdk bisa bicara", "yes"),
        ("gak bisa jalan", "yes"),  # "tidak bisa ..." alone would read as a no
        ("sulit melihat", "yes"),
        ("anak saya autis", "yes"),
        ("Tuna Netra", "yes"),
        ("tidak", "no"),
        ("2", "no"),
        ("nggak", "no"),
        ("bukan penyandang disabilitas", "no"),
        ("tidak sulit berjalan", "no"),
        ("bkn difabel", "no"),
        ("tidak tahu", None),  # not sure: asked again (LEWATI is there)
        ("bisa jalan", None),  # "bisa" alone is a yes; being able to walk is not
        ("kakinya sakit", None),
    ],
)
def test_the_answer_is_read_the_way_people_say_it(text: str, value: str | None) -> None:
    read = Disability().read(text)
    assert (getattr(read, "value", None), getattr(read, "hint", None)) == (
        (value, None) if value else (None, "hint.yes_no")
    )


def _walk(channel: str, *texts: str) -> tuple[Conv, str]:
    """The conversation after these texts, and what it said last."""
    conv, ctx = Conv(), Context(NOW, PLACES, channel=channel)
    for text in (*START, *texts):
        said = ENGINE.step(conv, Inbound(text), ctx).replies
    return conv, i18n.render(said, "id")


def test_on_sms_kekerasan_asks_it_on_its_own_and_the_danger_path_never() -> None:
    conv, said = _walk("sms", "1", "gak", "2 9")
    assert conv.state == NAME and conv.data["answers"]["age"] == 9
    assert said.startswith("Korban anak") and "Apakah yg mengalami penyandang disabilitas" in said
    conv, said = _walk("sms", "1", "gak", "2 9", "LEWATI")
    assert conv.data["answers"][NAME] is None and "Jenis kekerasan" in said
    conv, _ = _walk("sms", "1", "ya")
    assert conv.state == "area" and NAME not in conv.data["answers"]


@pytest.mark.parametrize(
    ("menu", "before", "answer", "expected"),
    [
        ("2", ("1",), "1 tidak", {"for_whom": "self", NAME: "no"}),
        ("2", ("1",), "3 ya", {"for_whom": "other", NAME: "yes"}),
        ("2", ("1",), "2 tdk bisa melihat", {"for_whom": "household", NAME: "yes"}),
        ("2", ("1",), "2", {"for_whom": "household", NAME: None}),  # nothing said for it
        ("2", ("1",), "3 LEWATI", {"for_whom": "other", NAME: None}),
        ("2", ("1",), "keluarga", {"for_whom": "household", NAME: None}),  # no number: the choice
        ("3", ("1",), "1 ya", {"for_whom": "self", NAME: "yes"}),
        ("5", (), "2 tidak", {"for_whom": "household", NAME: "no"}),
        ("6", ("1",), "1 ya", {"for_whom": "self", NAME: "yes"}),
        ("4", ("1", "2 16"), "3 ya", {"forced": "unknown", NAME: "yes"}),
        ("4", ("1", "2 16"), "tidak", {"forced": "no", NAME: None}),  # "not forced", said whole
    ],
)
def test_on_sms_it_comes_with_the_question_before_or_after_it(
    menu: str, before: tuple[str, ...], answer: str, expected: dict
) -> None:
    conv, said = _walk("sms", menu, *before)
    assert "Penyandang disabilitas? Misal: " in said  # both questions in one message
    ENGINE.step(conv, Inbound(answer), Context(NOW, PLACES, channel="sms"))
    assert {k: conv.data["answers"].get(k, "-") for k in expected} == expected


@pytest.mark.usefixtures("roster")
def test_stored_with_the_case_shown_as_a_word_and_counted(
    app, client, hotline, redis, console, clock
) -> None:
    """Through the signed webhook: a bansos report by SMS for a household member who cannot see,
    one by WhatsApp skipping the question; LIHAT shows the answer as a word, the month's figures
    count one yes and one unknown."""
    clock.now = NOW
    warga = Resident(client, "+6281234567890")
    for body in (*START, "2", "1", "2 tdk bisa melihat", "1", "1", "LEWATI", "LEWATI", "lompoe", "2 pagi"):
        warga.says(body)
    code = re.search(r"Kode: (PRE-\w{5})", warga.says("1")).group(1)
    other = Resident(client, "+6281234567891", whatsapp=True)
    for body in (*START, "2", "1", "1", "LEWATI", "1", "1", "LEWATI", "LEWATI", "lompoe", "3", "LEWATI"):
        other.says(body)
    skipped = re.search(r"Kode: (PRE-\w{5})", other.says("1")).group(1)
    with hotline.db.session() as s:
        answers = {c.code: c.answers for c in s.scalars(select(Case))}
    assert answers[code][NAME] == "yes" and answers[code]["for_whom"] == "household"
    assert answers[skipped][NAME] is None  # LEWATI keeps nothing

    work(app, redis)
    holder = next(n for n in (A, B, KETUA) if any(code in m for m in to(console, n)))
    assert "Disabilitas: ya" in Resident(client, holder).says(f"LIHAT {code}")
    with hotline.db.session() as s:
        fig = monthly(s, "PRE", NOW.date(), now=clock())
    assert fig.monev.splits["by_disability"] == {"yes": {"bansos": 1}, "no": {}, "unknown": {"bansos": 1}}
