"""Redaction (bot.render.redact) on its own: every kind of number and name it masks, and the cheap
checks that let an export skip the patterns: they may only skip text the patterns leave alone."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.render import redact as r
from bot.render.redact import NAME, mask_number, pseudonym, redact

NAMES = ("Siti Aminah", "Nurul")


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("hubungi +62 812-3456-7890 ya", "hubungi ****890 ya"),
        ("hubungi 6281234567890", "hubungi ****890"),
        ("no hp 0812 3456 7890.", "no hp ****890."),
        ("kantor (0421) 21234 pagi", "kantor ****234 pagi"),
        ("kantor 0421-21234", "kantor ****234"),
        ("NIK 7372 0145 0890 0001 ok", "NIK 737201********** ok"),
        ("NIK 7372014508900001", "NIK 737201**********"),
        ("BPJS 0001234567890", "BPJS ****890"),
        ("rekening 1234567890", "rekening ****890"),
        *((t, t) for t in ("anak 2, umur 34, jam 9, 1x24 jam, RT 003/RW 004", "tgl 12-11-2025 jam 10.30")),
        ("kode PRE-7K3QX tgl 12-11-2025", "kode PRE-7K3QX tgl 12-11-2025"),
        ("", ""),
    ],
)
def test_numbers(text: str, want: str) -> None:
    assert redact(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("saya Siti Aminah dari Lompoe", f"saya {NAME} dari Lompoe"),
        ("SITI  AMINAH\nmenulis", f"{NAME}\nmenulis"),
        ("Bu siti, dan nurul.", f"Bu {NAME}, dan {NAME}."),
        ("Sitinya pergi, Nuruldin datang", "Sitinya pergi, Nuruldin datang"),  # whole words only
        ("SİTİ dan sıtı dan Nuruł", f"{NAME} dan {NAME} dan Nuruł"),  # re's case rules: dotted/dotless i
        ("ſiti", NAME),  # the long s is an s to re.IGNORECASE
        ("café — Siti 😊", f"café — {NAME} 😊"),
        ("tidak ada yang tahu", "tidak ada yang tahu"),
    ],
)
def test_names(text: str, want: str) -> None:
    assert redact(text, NAMES) == want


def test_honorifics_and_short_words_stay() -> None:
    assert redact("Ibu Ani dan Pak Budi", ["Ibu Ani"]) == f"{NAME} dan Pak Budi"  # the whole name
    assert redact("ibu datang, ani juga", ["Ibu Ani"]) == f"ibu datang, {NAME} juga"  # "Ibu" alone stays
    assert redact("Al dan Ani", ["Al"]) == "Al dan Ani"  # under three letters
    assert redact("ibu ada di rumah", ["Ibu", "Ada"]) == "ibu ada di rumah"


def test_non_ascii_names_are_always_searched() -> None:
    assert redact("dari Ñoño Gómez", ["Ñoño Gómez"]) == f"dari {NAME}"
    assert redact("dari ÑOÑO", ["Ñoño"]) == f"dari {NAME}"


def test_pseudonyms_and_number_fields() -> None:
    one = pseudonym(1, "k")
    assert re.fullmatch(r"Warga-[0-9A-HJKMNP-TV-Z]{8}", one)
    assert one == pseudonym(1, b"k") != pseudonym(2, "k") and one != pseudonym(1, "other")
    assert pseudonym(None, "k") == "Warga-?"
    assert mask_number("whatsapp:+6281234567890") == "whatsapp:+62****890"
    assert mask_number("+62812") == "****" and mask_number(None) == ""  # too short to show any of it


# --------------------------------------------------------------------------- the cheap checks


def reference(text: str, names: tuple[str, ...]) -> str:
    """Redaction with the patterns alone, no pre-checks: what redact() did before them."""
    if not text:
        return ""
    text = r._NUMBERS_RE.sub(r._mask_any, text)
    found = r._names_pattern(names) if names else None
    return found.pattern.sub(NAME, text) if found else text


PIECES = st.sampled_from(
    [
        *"0123456789",
        *" .-+()\n\t",
        "٣",  # an Arabic-Indic digit: \d too
        *"SsIiKkAaNnUuRrLl",
        "\u0130",  # İ
        "\u0131",  # ı
        "\u017f",  # ſ
        "\u212a",  # Kelvin sign
        "é",
        "😊",
        "Siti",
        "AMINAH",
        "nurul",
        "Kiki",
        "62",
        "0812",
        "7372",
    ]
)
NAME_SETS = st.sampled_from([("Siti Aminah", "Nurul"), ("Kiki",), ("Iis Suryani",), ("sſiK",), ("Şule",), ()])


@settings(max_examples=1000, database=None, deadline=None)
@given(text=st.lists(PIECES, max_size=40).map("".join), names=NAME_SETS)
@example(text="(0421) 21234", names=())
@example(text="+ 62 ( 421 ) - 2 1 2 3 4", names=())
@example(text="SİTİ sıtı ſiti \u212aiki", names=("Siti Aminah", "Kiki"))
def test_the_checks_never_skip_what_the_patterns_mask(text: str, names: tuple[str, ...]) -> None:
    if r._NUMBERS_RE.search(text):
        assert r._may_hold_number(text), text
    assert redact(text, names) == reference(text, names)


def test_the_lookalikes_are_every_non_ascii_letter_re_folds_to_ascii() -> None:
    """re.IGNORECASE lets some characters outside ASCII match an ASCII letter (e.g. the dotted
    capital I matches i): the names check must fold all of those that lower() does not."""
    letters = re.compile("[a-z]", re.IGNORECASE)
    found = {c for c in map(chr, range(128, sys.maxunicode + 1)) if letters.fullmatch(c)}
    assert found == {"\u0130", "\u0131", "\u017f", "\u212a"}
    for c in found:
        folded = c.translate(r._ASCII_LOOKALIKES).lower()
        assert len(folded) == 1 and folded.isascii() and re.fullmatch(folded, c, re.IGNORECASE), c
