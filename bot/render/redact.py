"""Redaction for exports: phone numbers, NIK and long identity numbers masked, residents as
stable pseudonyms, their names removed. Pure functions, no I/O.

What the output looks like (documented for coordinators reading an export):

- Phone numbers in free text (``+62 812-3456-7890``, ``62812...``, ``0812 3456 7890``,
  landlines such as ``(0421) 21234``): ``****890``, the last three digits kept so two numbers can
  still be told apart.
- NIK (16 digits, possibly spaced ``7372 0145 0890 0001``): ``737201**********``, the first six
  digits kept (province, regency, district: the region, not the person), the rest masked.
- Any other run of 10 or more digits (BPJS card, bank account, a number typed without its
  prefix): ``****890``.
- A resident: ``Warga-XXXXXXXX``, eight Crockford base-32 characters of an HMAC-SHA256 of their
  contact id under a secret key: the same resident gets the same pseudonym in every export made
  with that key, and nobody without the key can work out who it is (or which contact id).
- The resident's own name (the name they gave in the report, their WhatsApp profile name):
  ``[nama]``, as a whole phrase and word by word (words under three letters and honorifics such
  as "Ibu" or "Pak" are left alone).

Every pattern is linear: bounded repetitions whose pieces cannot overlap, so a 10,000-character
message costs a few passes over it, never backtracking blow-ups. An export redacts every message, and
most have no number and no name in them: two cheap checks that cannot miss skip the patterns for those
(`_may_hold_number`, `_Names.may_occur`); tests/test_redact.py holds them to the patterns themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
UNKNOWN = "Warga-?"
NAME = "[nama]"
STARS = "****"

_SEP = r"[\s.\-]{0,3}"  # what people put between digits: spaces, dots, dashes (" - ")
# NIK: 16 digits; the first is a province code digit (11..94), never 0.
_NIK = rf"[1-9](?:{_SEP}\d){{15}}"
_PHONE = (
    # Mobile: +62 / 62 / 0, then 8 and 7 to 12 more digits.
    rf"(?:\+{_SEP}62|62|0){_SEP}8(?:{_SEP}\d){{7,12}}"
    # Landline: +62 or 0 (or "(0"), an area code not starting with 8, then 5 to 8 digits.
    rf"|(?:\+{_SEP}62{_SEP}\(?|\(?0)[2-79]\d{{1,2}}\)?{_SEP}\d(?:{_SEP}\d){{4,7}}"
)
_LONG = r"\d{10,}"


def _whole(body: str) -> re.Pattern[str]:
    """Not inside a longer number. The leading lookahead lets the engine skip to candidates."""
    return re.compile(rf"(?=[\d+(])(?<![\d+])(?:{body})(?!\d)")


# All three kinds of number in one pass, NIK first where several could match.
_NUMBERS_RE = _whole(f"(?P<nik>{_NIK})|(?P<phone>{_PHONE})|{_LONG}")
# Whatever _NUMBERS_RE masks has at least 8 digits (a landline "(0421) 2123" plus one), each at most
# 4 characters from the next (3 of _SEP and a bracket): text without such a run cannot match, and
# a scan for that run is cheaper than _NUMBERS_RE, which is tried at every +, ( and digit.
_EIGHT_DIGITS = re.compile(r"\d(?:\D{0,4}\d){7}")
_ASCII_DIGITS = b"0123456789"


def _may_hold_number(text: str) -> bool:
    """False only when _NUMBERS_RE cannot match. ASCII text (most) is counted in C first: fewer
    than 8 digits, no number; \\d also matches other scripts' digits, so other text goes straight
    to the scan."""
    if text.isascii():
        raw = text.encode("ascii")
        if len(raw) - len(raw.translate(None, _ASCII_DIGITS)) < 8:
            return False
    return _EIGHT_DIGITS.search(text) is not None


_NOT_DIGIT = re.compile(r"\D")
_WORD = re.compile(r"[^\W\d_]{3,}")  # name words: letters only, at least three
# Words that appear in names but also everywhere else in a conversation.
_KEEP = frozenset(
    {
        *("ibu", "bapak", "pak", "bu", "mbak", "mas", "kak", "kakak", "adik", "dik", "nenek", "kakek"),
        *("om", "tante", "bang", "abang", "daeng", "puang", "haji", "hajjah", "hj", "warga", "saya"),
        *("aku", "nama", "anonim", "lewati", "tidak", "ada"),
    }
)


def _tail(digits: str) -> str:
    return STARS + digits[-3:]


def _mask_nik(m: re.Match[str]) -> str:
    return _NOT_DIGIT.sub("", m.group())[:6] + "*" * 10


def _mask_tail(m: re.Match[str]) -> str:
    return _tail(_NOT_DIGIT.sub("", m.group()))


def _mask_any(m: re.Match[str]) -> str:
    return _mask_nik(m) if m.lastgroup == "nik" else _mask_tail(m)


def redact(text: str, names: Iterable[str | None] = ()) -> str:
    """NIK, phone numbers and long numbers masked; the given names (the resident's) removed."""
    if not text:
        return ""
    if _may_hold_number(text):
        text = _NUMBERS_RE.sub(_mask_any, text)
    if names:
        found = _names_pattern(tuple(names))  # a tuple already: no copy, one cache lookup
        if found is not None and found.may_occur(text):
            text = found.pattern.sub(NAME, text)
    return text


# Characters outside ASCII that re.IGNORECASE matches to an ASCII letter, other than by lower():
# the dotted capital I (lower() makes it two characters), the dotless i, the long s. (The Kelvin
# sign lowers to k by itself.) tests/test_redact.py checks this list against the re module.
_ASCII_LOOKALIKES = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


class _Names(NamedTuple):
    pattern: re.Pattern[str]
    # Each phrase's first word, lowercased, when all are ASCII; None: no pre-check possible.
    first_words: tuple[str, ...] | None

    def may_occur(self, text: str) -> bool:
        """False only when no phrase can match: the pattern matches a phrase's first word in any
        case, so the lowered text holds that word lowered (lookalikes folded first)."""
        if self.first_words is None:
            return True
        folded = text.lower() if text.isascii() else text.translate(_ASCII_LOOKALIKES).lower()
        for word in self.first_words:  # noqa: SIM110 (one or two words: cheaper than any() over a generator)
            if word in folded:
                return True
        return False


@lru_cache(maxsize=4096)
def _names_pattern(names: tuple[str | None, ...]) -> _Names | None:
    """Whole names first (longest first), then their words; whole words only, any case."""
    phrases: set[str] = set()
    for raw in names:
        name = " ".join((raw or "").split())[:200]
        if len(name) >= 3 and name.casefold() not in _KEEP:
            phrases.add(name)
        for word in _WORD.findall(name)[:8]:
            if word.casefold() not in _KEEP:
                phrases.add(word)
    if not phrases:
        return None
    # Spaces inside a name match any run of whitespace ("Siti  Aminah", "Siti\nAminah").
    alternatives = (r"\s+".join(map(re.escape, p.split())) for p in sorted(phrases, key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)
    first = tuple({p.split()[0].lower() for p in phrases})
    return _Names(pattern, first if all(w.isascii() for w in first) else None)


def pseudonym(contact_id: int | None, secret: str | bytes) -> str:
    """``Warga-XXXXXXXX``: stable for one contact and one secret, unguessable without the secret.

    40 bits: two residents share a pseudonym with odds of about 1 in 20 million per pair."""
    if contact_id is None:
        return UNKNOWN
    key = secret.encode() if isinstance(secret, str) else secret
    digest = hmac.new(key, f"hotline-kk:contact:{contact_id}".encode(), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:5], "big")
    return "Warga-" + "".join(CROCKFORD[(bits >> shift) & 31] for shift in range(35, -1, -5))


def mask_number(number: str | None) -> str:
    """A whole number field: ``+6281234567890`` -> ``+62****890``; ``whatsapp:`` stays."""
    if not number:
        return ""
    channel, _, bare = number.rpartition(":")
    digits = _NOT_DIGIT.sub("", bare)
    head = f"+{digits[:2]}" if bare.startswith("+") and len(digits) > 8 else ""
    masked = head + (_tail(digits) if len(digits) >= 6 else STARS)
    return f"{channel}:{masked}" if channel else masked
