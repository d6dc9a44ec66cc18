"""Forgiving match of what a resident typed against the site's kelurahan/desa.

Residents write "kel lompoe", "di kesik rt 3", "desa paok motong", "bkt indah" or
misspell the name. This module turns that into ranked candidates; deciding what to
do with them (confirm, show a numbered list, accept "3") belongs to the flow.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

__all__ = ["EXACT", "Place", "match_places", "normalize"]


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    kecamatan: str
    aliases: tuple[str, ...] = ()


EXACT = 100.0  # the score of a text that is a place's name or alias as written (less filler words)
THRESHOLD = 80.0  # below this a typo is more likely another word than a place name
MARGIN = 10.0  # candidates this far behind the best are noise, not alternatives
# A kecamatan named in the text ("lompoi bacukiki") pulls its places this share of the
# way towards 100: a monotonic lift, so it reorders but never ties two candidates.
KECAMATAN_PULL = 0.3
MAX_PENALTY = 5.0  # cap on the penalty for extra words around the name
MAX_TOKENS = 12  # a place answer is short; bounds the work on a 10,000-character message

# Words residents put around a place name that say nothing about which place.
# fmt: off
FILLER = frozenset((
    "kel", "kelurahan", "lurah", "desa", "ds", "dsn", "di", "dari", "daerah", "wilayah",
    "kec", "kecamatan", "kab", "kabupaten", "kota", "ke", "yg", "yang", "saya", "sy", "aku",
    "kami", "tinggal", "alamat", "alamatnya", "rumah", "dekat", "sekitar", "jl", "jln",
    "jalan", "no", "nomor", "lingkungan", "lingk", "ya", "iya", "ok", "oke", "pak", "bu",
    "ibu", "kak", "bang", "mas", "mbak",
    "parepare", "pare", "lotim", "lombok", "sulsel", "ntb", "sulawesi",
))
# fmt: on
# Region phrases removed before single filler words, so "lombok timur" does not
# leave "timur" behind to match Masbagik Timur.
REGION_PHRASES = ("lombok timur", "sulawesi selatan", "nusa tenggara barat", "pare pare")
ABBREVIATIONS = {
    "kp": "kampung",
    "kpg": "kampung",
    "kpng": "kampung",
    "kamp": "kampung",
    "kampong": "kampung",
    "bkt": "bukit",
    "ujg": "ujung",
    "wt": "watang",
    "wtg": "watang",
    "utr": "utara",
    "sel": "selatan",
    "sltn": "selatan",
    "tim": "timur",
    "tmr": "timur",
    "brt": "barat",
    "brat": "barat",
}
GLUED_PREFIXES = ("kelurahan", "desa", "kel")  # "desakesik", "kel.lompoe" typed together

_APOSTROPHES = re.compile(r"[’'`´‘]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_RT_RW = re.compile(r"\b(?:rt|rw)(?=\d|\b)\s*\d*")  # "rt03", "rw 2", not "rwanda"


def normalize(text: str) -> str:
    """Lowercase ASCII words: accents and apostrophes dropped ("Lompo'e" -> "lompoe")."""
    text = unicodedata.normalize("NFKD", text[:500]).casefold()
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _query_tokens(text: str) -> list[str]:
    text = normalize(text)
    for phrase in REGION_PHRASES:
        text = text.replace(phrase, " ")
    text = _RT_RW.sub(" ", text)
    tokens = [ABBREVIATIONS.get(t, t) for t in text.split()]
    return [t for t in tokens if t not in FILLER and not t.isdigit()][:MAX_TOKENS]


@dataclass(frozen=True)
class _Prepared:
    # per place: (joined name/alias without spaces, its number of words)
    forms: tuple[tuple[tuple[str, int], ...], ...]
    kecamatan: tuple[str, ...]  # per place, joined, "" if none
    kecamatan_forms: tuple[tuple[str, int], ...]  # distinct kecamatan names


def _form(name: str) -> tuple[str, int]:
    words = [ABBREVIATIONS.get(t, t) for t in normalize(name).split()]
    return "".join(words), len(words)


@lru_cache(maxsize=64)
def _prepare(places: tuple[Place, ...]) -> _Prepared:
    # Cached: the same site's places are matched on every message.
    forms = []
    for place in places:
        seen: dict[str, int] = {}
        for text in (place.name, *place.aliases):
            joined, n = _form(text)
            if joined:
                seen.setdefault(joined, n)
        forms.append(tuple(seen.items()))
    kecamatan = tuple(_form(p.kecamatan)[0] for p in places)
    kec_forms = tuple(dict.fromkeys(_form(p.kecamatan) for p in places if _form(p.kecamatan)[0]))
    return _Prepared(tuple(forms), kecamatan, kec_forms)


def _windows(tokens: list[str], sizes: range) -> list[str]:
    """Joined runs of consecutive tokens: "paok motong" meets "paokmotong"."""
    out = []
    for size in sizes:
        for start in range(len(tokens) - size + 1):
            out.append("".join(tokens[start : start + size]))
    return out


def _score(tokens: list[str], joined_query: str, form: str, words: int) -> float:
    """Best match of a run of the resident's words, less a little for extra words."""
    sizes = range(max(1, words - 1), min(len(tokens), words + 1) + 1)
    best = max((fuzz.ratio(w, form) for w in _windows(tokens, sizes)), default=0.0)
    if best < THRESHOLD:
        return best
    # Words outside the matched run cost a little, so "masbagik utara baru" prefers
    # Masbagik Utara Baru over Masbagik Utara, yet a sentence around a name still matches.
    whole = fuzz.ratio(joined_query, form)
    return best - min(MAX_PENALTY, 0.15 * (best - whole))


def _kecamatan_mentions(tokens: list[str], prepared: _Prepared) -> tuple[set[str], set[int]]:
    """Kecamatan named in the text, and the token positions naming them."""
    named: set[str] = set()
    positions: set[int] = set()
    for form, words in prepared.kecamatan_forms:
        for start in range(len(tokens) - words + 1):
            if fuzz.ratio("".join(tokens[start : start + words]), form) >= 88:
                named.add(form)
                positions.update(range(start, start + words))
    return named, positions


def _variants(tokens: list[str], kec_positions: set[int]) -> list[list[str]]:
    variants = [tokens]
    if kec_positions:
        # "lompoi bacukiki": score the typo without the kecamatan diluting it.
        rest = [t for i, t in enumerate(tokens) if i not in kec_positions]
        if rest:
            variants.append(rest)
    unglued = []
    for t in tokens:
        for prefix in GLUED_PREFIXES:
            if t.startswith(prefix) and len(t) - len(prefix) >= 4:
                t = t[len(prefix) :]
                break
        unglued.append(t)
    if unglued != tokens:
        variants.append(unglued)
    return variants


def match_places(text: str, places: Sequence[Place], limit: int = 3) -> list[tuple[Place, float]]:
    """Places the text most likely names, best first, with scores 0..100.

    Empty when nothing is close enough. Only candidates within MARGIN of the best are
    returned, and when the text (less filler words and a named kecamatan) is exactly a
    name or alias, only that place with score 100: "bumi harapan" does not also offer
    Bukit Harapan, nor "lendang nangka utara" Lendang Nangka.
    A bare number ("3", a pick from a numbered list) is the caller's business.
    """
    tokens = _query_tokens(text)
    if not tokens or not places or limit <= 0:
        return []
    places = tuple(places)
    try:
        prepared = _prepare(places)
    except TypeError:  # unhashable (e.g. list aliases): skip the cache
        prepared = _prepare.__wrapped__(places)

    kec_named, kec_positions = _kecamatan_mentions(tokens, prepared)
    variants = [(v, "".join(v)) for v in _variants(tokens, kec_positions)]

    scored: list[tuple[float, int]] = []
    exact: set[int] = set()
    for index, forms in enumerate(prepared.forms):
        if any(joined == form for _, joined in variants for form, _ in forms):
            exact.add(index)
            scored.append((EXACT, index))
            continue
        score = max(
            (_score(v, joined, form, words) for v, joined in variants for form, words in forms),
            default=0.0,
        )
        if score < THRESHOLD:
            continue
        if prepared.kecamatan[index] in kec_named:
            score += (100.0 - score) * KECAMATAN_PULL
        scored.append((min(round(score, 1), EXACT - 0.1), index))  # 100 means exact, nothing less

    if exact:  # the text is a name or alias as written: offer nothing else
        scored = [s for s in scored if s[1] in exact]
    if not scored:
        return []
    scored.sort(key=lambda s: (-s[0], s[1]))  # ties keep the site's own order
    best = scored[0][0]
    return [(places[i], s) for s, i in scored[:limit] if s >= best - MARGIN]
