"""Answers read the way people type them (DESIGN.md section 4)."""

from __future__ import annotations

import pytest

from flows import FLOWS
from flows import reading as r
from flows.model import Choice, Miss, Option, Read, YesNo
from flows.words import LOCAL

KIND = [("fisik", "pukul"), ("psikis", "ancaman", "diancam"), ("seksual",), ("penelantaran",), ("online",)]
FAMILY = [("saya", "saya sendiri"), ("orang tua", "ayah"), ("tua",)]


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("BATAL", "BATAL"),
        ("batal.", "BATAL"),
        ("  Menu ", "MENU"),
        ("ulang", "MENU"),
        ("STATUS?", "STATUS"),
        ("hapus data saya", "HAPUS"),
        ("Darurat!!", "DARURAT"),
        ("bantuan", "BANTUAN"),
        ("EN", "EN"),
        ("id", "ID"),
        ("Berhenti", "BERHENTI"),
        ("stop", "BERHENTI"),
        ("lewati", "LEWATI"),
        ("-", "LEWATI"),
        ("tolong bantu saya", None),
        ("saya mau batal nikah", None),
        ("status anak saya", None),
        ("", None),
        ("🙏", None),
        ("x" * 10_000, None),
    ],
)
def test_global_words_count_only_as_the_whole_message(text: str, word: str | None) -> None:
    assert r.global_word(text) == word


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("1", True),
        ("ya", True),
        ("iya", True),
        ("Y", True),
        ("yaa", True),
        ("ok", True),
        ("oke", True),
        ("betul", True),
        ("ya saya setuju", True),
        ("2", False),
        ("tidak", False),
        ("tdk", False),
        ("gak", False),
        ("ga", False),
        ("nggak", False),
        ("enggak", False),
        ("bukan", False),
        ("gak mau", False),
        ("tidak, belum aman", False),
        ("hmm", None),
        ("", None),
        ("🙂", None),
    ],
)
def test_yes_and_no(text: str, answer: bool | None) -> None:
    assert r.read_yes_no(text) is answer if answer is None else r.read_yes_no(text) == answer


@pytest.mark.parametrize(
    ("text", "index"),
    [
        ("1", 0),
        ("1.", 0),
        ("(2)", 1),
        ("satu", 0),
        ("no 3", 2),
        ("no. 3", 2),
        ("pilih 2", 1),
        ("nomor 5", 4),
        ("fisik", 0),
        ("sy diancam", 1),
        ("seksuall", 2),
        ("6", None),
        ("0", None),
        ("1 dan 2", None),
        ("fisik dan seksual", None),
        ("apa ya", None),
        ("", None),
    ],
)
def test_one_choice(text: str, index: int | None) -> None:
    assert r.read_choice(text, KIND) == index


def test_the_longest_phrase_wins() -> None:
    assert r.read_choice("orang tua saya", FAMILY) == 1


@pytest.mark.parametrize(
    ("text", "indices"),
    [
        ("1,3", [0, 2]),
        ("1, 3", [0, 2]),
        ("1 dan 3", [0, 2]),
        ("1 3", [0, 2]),
        ("13", [0, 2]),
        ("3,1,3", [0, 2]),
        ("satu dan tiga", [0, 2]),
        ("fisik dan seksual", [0, 2]),
        ("semua", [0, 1, 2, 3, 4]),
        ("1,9", None),
        ("", None),
    ],
)
def test_several_choices(text: str, indices: list[int] | None) -> None:
    assert r.read_choices(text, KIND) == indices


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("15", 15),
        ("15 thn", 15),
        ("umur 15 tahun", 15),
        ("17th", 17),
        ("lima belas", 15),
        ("dua puluh satu", 21),
        ("6 bln", 0),
        ("200", None),
        ("tidak tahu", None),
    ],
)
def test_age(text: str, age: int | None) -> None:
    assert r.read_age(text) == age


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("7372014505800001", ("7372014505800001", None)),
        ("7372 0145 0580 0001", ("7372014505800001", None)),
        ("7372010101800001", ("7372010101800001", None)),
        ("12345", (None, "length")),
        ("9972014505800001", (None, "region")),
        ("7372013505800001", (None, "date")),
        ("7372014513800001", (None, "date")),
    ],
)
def test_nik(text: str, result: tuple[str | None, str | None]) -> None:
    assert r.check_nik(text) == result


def test_abbreviations_and_intents() -> None:
    assert r.norm("Sy udh lapor ke RT tp blm ada") == "saya sudah lapor ke rt tapi belum ada"
    assert r.norm("kk saya") == "kk saya"  # kakak or Kartu Keluarga: left alone
    assert r.contains_phrase("sy mau lapor KDRT", ["kdrt"])
    assert r.contains_phrase("anak sy mau dinikahkan", ["dinikahkan"])
    assert not r.contains_phrase("sy mau lapor", ["kdrt"])


def test_sms_segments_and_gsm7() -> None:
    assert r.gsm7("Halo, apa kabar? 1 Ya 2 Tidak") and not r.gsm7("Halo 🙏")
    assert not r.gsm7("\u201cquoted\u201d")
    assert r.sms_segments("x" * 160) == 1 and r.sms_segments("x" * 161) == 2
    assert r.sms_segments("{" * 80) == 1 and r.sms_segments("{" * 81) == 2
    assert r.sms_segments("é" * 160) == 1 and r.sms_segments("🙏" * 35) == 1
    assert r.sms_segments("🙏" * 36) == 2


@pytest.mark.parametrize(
    ("text", "yes_no"),
    [
        ("1" * 10_000, True),  # repeated letters are squeezed ("iyaaa"): "1", as in "1 Ya / 2 Tidak"
        ("ya " * 3_000, True),
        ("\x00\x1b🙏" * 2_000, None),
        ("'; DROP TABLE x; --", None),
    ],
    ids=["digits", "yes-repeated", "controls-emoji", "sql"],
)
def test_long_and_odd_input_is_read_without_error(text: str, yes_no: bool | None) -> None:
    # No option, age, command or phrase in any of them: each reader says "not understood".
    assert r.read_choice(text, KIND) is None
    assert r.read_choices(text, KIND) is None
    assert r.read_yes_no(text) is yes_no
    assert r.read_age(text) is None
    assert r.global_word(text) is None
    assert r.contains_phrase(text, ["kdrt"]) is False


def test_clean_drops_control_characters_but_keeps_newlines() -> None:
    assert r.clean("a\x00b\x07c\n d ") == "abc\n d"


# Local words (flows/words.py): Bugis/Makassar, Sasak, Javanese and colloquial forms.
@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("iye", True),  # Bugis/Makassar
        ("iyo", True),  # Bugis/Makassar
        ("iya", True),
        ("aok", True),  # Sasak
        ("nggih", True),  # Javanese
        ("enggih", True),  # Javanese
        ("inggih", True),  # Javanese
        ("ndak", False),  # Bugis/Makassar
        ("nda", False),
        ("ndek", False),  # Sasak
        ("endek", False),  # Sasak
        ("ndeq", False),  # Sasak
        ("endeq", False),  # Sasak
        ("ora", False),  # Javanese
        ("gak", False),
        ("ga", False),
        ("gk", False),
        ("nggak", False),
        ("ngga", False),
        ("enggak", False),
        ("engga", False),
        ("kagak", False),
    ],
)
def test_local_yes_and_no(text: str, answer: bool) -> None:
    assert r.read_yes_no(text) is answer
    assert r.read_yes_no(text.upper() + "!") is answer
    assert YesNo().read(text) == Read("yes" if answer else "no")


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("iyee", True),
        ("aokk kak", True),
        ("nggihh", True),
        ("iye, saya setuju", True),
        ("ndakk", False),
        ("ndek mau", False),
        ("ora aman", False),
        ("iye tapi takut", None),
        ("aok ndek", None),
    ],
)
def test_local_words_in_sentences(text: str, answer: bool | None) -> None:
    assert r.read_yes_no(text) is answer


def test_local_words_are_listed_once_and_spelled_out() -> None:
    for word, meaning in LOCAL.items():
        assert r.norm(word) == meaning
        assert word not in r.ABBREVIATIONS and word not in r.YES and word not in r.NO
    assert r.norm("Aok, ndek nikah") == "iya tidak nikah"


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("ada", True),
        ("Ada kak", True),
        ("punya", True),
        ("pny", True),
        ("sudah ada", True),
        ("belum ada", False),
        ("blm ada", False),
        ("tidak ada", False),
        ("gak punya", False),
        ("ga ada", False),
        ("ndak ada", False),
        ("ndek ada", False),
        ("blm pny", False),
        ("ada tapi hilang", None),
    ],
)
def test_have_words_are_yes_or_no_only_where_the_question_is_about_having(
    text: str, answer: bool | None
) -> None:
    assert r.read_yes_no(text, have=True) is answer
    expected = Miss("hint.yes_no") if answer is None else Read("yes" if answer else "no")
    assert YesNo(have=True).read(text) == expected


@pytest.mark.parametrize("text", ["ada", "Ada kak", "punya", "pny"])
def test_have_words_stay_unreadable_elsewhere(text: str) -> None:
    assert r.read_yes_no(text) is None
    assert YesNo().read(text) == Miss("hint.yes_no")


MARRIAGE = Choice(
    (
        Option("married", "x.married", ("sudah menikah", "sudah nikah", "sudah")),
        Option("taken", "x.taken", ("dibawa lari", "merarik")),
        Option("planned", "x.planned", ("akan", "rencana", "dinikahkan")),
        Option("unknown", "x.unknown", ("tidak tahu",)),
    )
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("sdh dibawa lari tp blm nikah", "taken"),
        ("udah dibawa lari tapi belom nikah", "taken"),
        ("sudah dibawa lari tapi belum menikah", "taken"),
        ("udh dibawa lari, blum nikah", "taken"),
        ("sdh dibawa lari tdk nikah", "taken"),
        ("sdh dibawa lari tp gak nikah", "taken"),
        ("sdh dibawa lari tp ga menikah", "taken"),
        ("sdh merarik tp ndak nikah", "taken"),
        ("sdh merarik, ndek nikah", "taken"),  # Sasak "ndek" is no
        ("dibawa lari, belum pernah menikah", "taken"),
        ("sudah nikah, bukan dibawa lari", "married"),
        ("sudah nikah", "married"),
        ("sdh menikah", "married"),
        ("akan dinikahkan, blm nikah", "planned"),
        ("tidak tahu", "unknown"),  # the option's own words deny nothing
        ("gak tau", "unknown"),
        ("belum dinikahkan, tp rencana bulan depan", "planned"),  # named by another word
        ("bukan dibawa lari, sdh nikah", "married"),
        ("belum nikah", None),  # denies married, names nothing: asked again
        ("blm menikah", None),
        ("belum pernah menikah", None),
        ("ora dinikahkan", None),
    ],
)
def test_a_denied_word_does_not_name_its_option(text: str, value: str | None) -> None:
    assert MARRIAGE.read(text) == (Miss("hint.choice") if value is None else Read(value))


def test_denials_in_several_choices() -> None:
    assert r.read_choices("fisik, bukan seksual", KIND) == [0]
    assert r.read_choices("fisik dan seksual", KIND) == [0, 2]


def test_a_denial_is_about_the_words_right_after_it() -> None:
    menu = FLOWS["start"].step("menu").answer
    assert menu.read("tidak ada ktp") == Read("dokumen")  # lacking a KTP is the topic
    assert menu.read("bukan kekerasan, bansos") == Read("bansos")


def test_the_shipped_marriage_status_reads_negation() -> None:
    status = FLOWS["perkawinan_anak"].step("status").answer
    assert status.read("sudah menikah") == Read("married")
    for text in ("sdh dibawa lari tp blm nikah", "udah dibawa lari tapi gak nikah", "blm nikah"):
        assert status.read(text) != Read("married")
    forced = FLOWS["perkawinan_anak"].step("forced").answer
    assert forced.read("tidak dipaksa") == Read("no")  # the phrase itself is a word of "no"
    assert forced.read("gak terpaksa, mau sendiri") == Read("no")
    assert forced.read("tidak, tidak dipaksa") == Read("no")
    assert forced.read("aok") == Read("yes")
    assert forced.read("tidak tahu") == Read("unknown")


CONTACT = Choice(
    (
        Option("call", "x.call", ("telepon", "telpon")),
        Option("message", "x.message", ("pesan", "sms", "wa")),
        Option("none", "x.none", ("saya sendiri", "jangan")),
    )
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("jangan telepon, sms saja", "message"),
        ("jgn telpon, wa aja", "message"),
        ("jangan telepon", None),  # the "jangan" denies the call; it is not also the option "jangan"
        ("jangan", "none"),
        ("telepon", "call"),
    ],
)
def test_a_denial_spent_on_one_option_does_not_name_another(text: str, value: str | None) -> None:
    assert CONTACT.read(text) == (Miss("hint.choice") if value is None else Read(value))
