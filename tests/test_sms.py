"""Cheap on SMS without losing a safety step: the report's segments, GSM-7 texts, two questions in
one message read forgivingly, and a place typed exactly taken without a confirmation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import segments
from bench.scripts import REPORTS
from bot.domain import i18n
from bot.domain.engine import ENGINE, Context, Conv, Inbound, Key, Say, Submit
from flows import CATEGORIES, FLOWS, sms
from flows.model import Choice
from flows.places import Place
from flows.reading import gsm7, sms_segments

PLACES = (
    Place(1, "Lompoe", "Bacukiki"),
    Place(2, "Lemoe", "Bacukiki"),
    Place(3, "Watang Bacukiki", "Bacukiki"),
)
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


class Chat:
    def __init__(self, channel: str = "sms") -> None:
        self.conv, self.ctx = Conv(), Context(NOW, PLACES, channel=channel)
        self.report: dict | None = None

    def says(self, *texts: str) -> str:
        for text in texts:
            out = ENGINE.step(self.conv, Inbound(text), self.ctx)
            self.report = next((e.report for e in out.effects if isinstance(e, Submit)), self.report)
        return i18n.render(out.replies, self.conv.locale)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_a_complete_kekerasan_report_on_sms_is_at_most_13_segments(locale: str) -> None:
    walk = segments.walk("kekerasan", "sms", locale)
    assert walk.segments <= segments.TARGET, walk.replies
    assert walk.not_gsm7 == []
    assert [r for r in segments.run() if r["met"] is False] == []


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_sms_text_is_gsm7_and_every_sms_question_fits_one_segment(locale: str) -> None:
    for key in sms.SHORT:
        assert gsm7(i18n.text(sms.key(key), locale)), key
    for flow in FLOWS.values():
        for step in flow.steps:
            prompt = step.sms_with.prompt if step.sms_with else sms.key(step.prompt)
            asked = flow.step(step.sms_with.step) if step.sms_with else step
            options = asked.answer.options if isinstance(asked.answer, Choice) else ()
            say = Say(prompt, options=tuple(Key(sms.key(o.label)) for o in options))
            text = i18n.render([say], locale)
            assert gsm7(text) and sms_segments(text) == 1, (flow.name, step.name, text)


def test_every_flow_has_a_complete_report_on_both_channels() -> None:
    assert set(REPORTS) == {f.name for f in CATEGORIES}
    for walk in segments.walks():
        assert walk.not_gsm7 == [], (walk.flow, walk.channel)


def test_a_place_typed_exactly_is_taken_and_a_near_one_confirmed() -> None:
    for channel in ("sms", "whatsapp"):
        chat = Chat(channel)
        chat.says("halo", "ya", "ya", "1", "ya")  # in danger: straight to where
        assert "menghubungi" in chat.says("Kel. LOMPOE")
        assert chat.conv.data["area_name"] == "Lompoe" and "candidates" not in chat.conv.data
        chat = Chat(channel)
        chat.says("halo", "ya", "ya", "1", "ya")
        assert "1. Lompoe" in chat.says("lompo")  # a typo: confirmed
        assert "menghubungi" in chat.says("1")
        chat = Chat(channel)
        chat.says("halo", "ya", "ya", "1", "ya", "lompo")
        assert "menghubungi" in chat.says("watang bacukiki")  # another name, typed exactly
        assert chat.conv.data["area_name"] == "Watang Bacukiki"


def _at_who() -> Chat:
    chat = Chat()
    chat.says("halo", "ya", "ya", "1", "tidak")
    return chat


@pytest.mark.parametrize(
    ("answer", "who", "age"),
    [("1 34", "self", 34), ("anak 5 thn", "child", 5), ("2", "child", None), ("sy sendiri", "self", None),
     ("3 LEWATI", "woman", None), ("ibu saya, umur 70", "woman", 70)],
)  # fmt: skip
def test_who_and_the_age_in_one_answer(answer: str, who: str, age: int | None) -> None:
    chat = _at_who()
    chat.says(answer)
    assert chat.conv.data["answers"]["who"] == who and chat.conv.data["answers"]["age"] == age
    assert chat.conv.state == "disability"  # on its own: who already carries the age


def test_an_age_under_18_in_a_paired_answer_still_flags_a_child() -> None:
    chat = _at_who()
    told = chat.says("1 16")
    assert "UPTD PPA" in told and "child_victim" in chat.conv.data["flags"] and chat.conv.data["urgent"]


def test_an_unreadable_paired_answer_asks_both_again_and_lewati_is_refused_for_the_required_one() -> None:
    chat = _at_who()
    assert "umur berapa" in chat.says("34")  # no such option
    assert chat.conv.state == "who"
    chat.says("LEWATI")
    assert chat.conv.state == "who" and "who" not in chat.conv.data["answers"]


def test_kind_and_story_then_who_did_it_and_when() -> None:
    chat = _at_who()
    chat.says("1 34", "tidak")
    chat.says("3, sy diperkosa")
    answers = chat.conv.data["answers"]
    assert answers["kind"] == ["sexual"] and answers["story"] == "sy diperkosa"
    advice = chat.says("pacar, kemarin")  # words, no number: both read from the whole answer
    assert answers["perpetrator"] == "partner" and answers["when"] == "days"
    assert "PEP" in advice and "tpks_72h" in chat.conv.data["flags"]  # the TPKS advice stays


def test_a_when_not_said_is_no_answer_rather_than_the_perpetrator_as_free_text() -> None:
    chat = _at_who()
    chat.says("1 34", "LEWATI", "1")
    assert chat.conv.data["answers"]["story"] is None
    chat.says("suami")
    assert chat.conv.data["answers"]["when"] is None and chat.conv.state == "area"
    chat = _at_who()
    chat.says("1 34", "tidak", "1", "1 3 minggu lalu")  # after a number: the rest in their own words
    assert chat.conv.data["answers"]["when"] == "3 minggu lalu"


def test_contact_with_safe_time_and_send_with_a_name() -> None:
    chat = _at_who()
    chat.says("1 34", "tidak", "1", "1", "lompoe")
    chat.says("sms malam")
    assert chat.conv.data["answers"]["contact"] == "message"
    assert chat.conv.data["answers"]["contact_time"] == "evening"
    assert chat.conv.state == "codeword"
    chat.says("melati")
    assert chat.conv.state == "name"
    chat.says("1 Rina Wati")
    assert chat.report is not None and chat.report["name"] == "Rina Wati"
    assert chat.report["answers"]["codeword"] == "melati"


def test_send_alone_is_anonymous_and_lewati_at_send_shows_the_summary_again() -> None:
    chat = _at_who()
    chat.says("1 34", "tidak", "1", "1", "lompoe", "2", "LEWATI")
    assert "Laporan: Kekerasan" in chat.says("LEWATI") and chat.conv.state == "confirm"
    chat.says("kirim")
    assert chat.report is not None and chat.report["name"] is None


def test_dont_contact_me_on_sms_skips_the_safe_time_and_is_asked_again_after_danger() -> None:
    chat = Chat()
    chat.says("halo", "ya", "ya", "1", "ya", "lompoe")
    assert "tak bisa menindaklanjuti" in chat.says("3 pagi")
    assert "contact_time" not in chat.conv.data["answers"]
    chat.says("3")
    assert chat.conv.state == "name" and chat.conv.data["answers"]["contact"] == "none"


def test_an_option_word_alone_is_no_story() -> None:
    chat = Chat()
    chat.says("halo", "ya", "ya", "5", "anak")  # for whom: the disability is not said
    chat.says("akta")
    answers = chat.conv.data["answers"]
    assert answers["for_whom"] == "household" and answers["disability"] is None
    assert answers["document"] == ["birth"] and answers["story"] is None
    chat = Chat()
    chat.says("halo", "ya", "ya", "5", "2 tidak")
    chat.says("akta anak saya hilang waktu banjir")
    assert chat.conv.data["answers"]["story"] == "akta anak saya hilang waktu banjir"
