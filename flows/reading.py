"""Reading answers the way people type them: numbers, number words, yes/no variants, option
words, several choices, common abbreviations. Pure functions; no I/O."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz

ABBREVIATIONS = {
    "sy": "saya",
    "sya": "saya",
    "aq": "aku",
    "yg": "yang",
    "dgn": "dengan",
    "dg": "dengan",
    "tlg": "tolong",
    "udh": "sudah",
    "udah": "sudah",
    "sdh": "sudah",
    "blm": "belum",
    "blom": "belum",
    "skrg": "sekarang",
    "skg": "sekarang",
    "rmh": "rumah",
    "ortu": "orang tua",
    "tdk": "tidak",
    "gak": "tidak",
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "ndak": "tidak",
    "kpd": "kepada",
    "utk": "untuk",
    "untk": "untuk",
    "krn": "karena",
    "jg": "juga",
    "aja": "saja",
    "lg": "lagi",
    "dr": "dari",
    "sm": "sama",
    "tp": "tapi",
    "org": "orang",
    "thn": "tahun",
    "th": "tahun",
    "bln": "bulan",
    "mgg": "minggu",
    "mingu": "minggu",
    "bgt": "banget",
    "anak2": "anak anak",
}
NUMBER_WORDS = {
    "satu": 1,
    "pertama": 1,
    "dua": 2,
    "kedua": 2,
    "tiga": 3,
    "ketiga": 3,
    "empat": 4,
    "keempat": 4,
    "lima": 5,
    "kelima": 5,
    "enam": 6,
    "keenam": 6,
    "tujuh": 7,
    "ketujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "one": 1,
    "two": 2,
    "three": 3,
}
LEADING = {"no", "nomor", "nmr", "pilih", "pilihan", "yang", "angka", "opsi", "jawab"}
YES = {
    "1",
    "ya",
    "iya",
    "y",
    "ok",
    "oke",
    "okey",
    "okay",
    "betul",
    "benar",
    "bener",
    "setuju",
    "boleh",
    "aman",
    "yes",
    "sudah",
    "yup",
    "yoi",
    "mau",
    "yaa",
    "iyaa",
    "iye",
    "sip",
}
NO = {"2", "tidak", "bukan", "belum", "jangan", "no", "n", "nope", "tak"}
WORDS = {
    "DARURAT": ("darurat", "emergency", "sos"),
    "BATAL": ("batal", "batalkan", "cancel"),
    "MENU": ("menu", "ulang", "mulai", "mulai lagi", "mulai baru", "restart", "start"),
    "STATUS": ("status", "cek status", "cek"),
    "HAPUS": ("hapus", "hapus data", "hapus data saya", "delete"),
    "BANTUAN": ("bantuan", "help", "info"),
    "EN": ("en", "english", "inggris"),
    "ID": ("id", "indonesia", "bahasa indonesia", "bahasa"),
    "BERHENTI": ("berhenti", "stop", "unsubscribe"),
    "LEWATI": ("lewati", "lewat", "skip", "lanjut", "-"),
}
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\ufeff]")
NON_WORD = re.compile(r"[^\w]+")
MAX_READ = 400  # answers are short; a long text is never read past this for choices

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXT = set("^{}\\[~]|€\f")


def clean(text: str) -> str:
    return CONTROL.sub("", unicodedata.normalize("NFKC", text or "")).strip()


def norm(text: str) -> str:
    words = NON_WORD.sub(" ", clean(text).casefold()).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


_WORD_INDEX = {norm(v) or v: k for k, vs in WORDS.items() for v in vs}


def global_word(text: str) -> str | None:
    raw = clean(text)
    if len(raw) > 40:
        return None
    if raw == "-":
        return "LEWATI"
    return _WORD_INDEX.get(norm(raw))


def _numbers(words: list[str]) -> list[int] | None:
    """Every word a number (digits or number words), ignoring 'dan', commas and leading words."""
    found = []
    for w in words:
        if w in ("dan", "and", "sama", "atau", "juga", "&"):
            continue
        if w.isdigit() and len(w) <= 3:
            found.append(int(w))
        elif w in NUMBER_WORDS:
            found.append(NUMBER_WORDS[w])
        elif w in LEADING:
            continue
        else:
            return None
    return found or None


def _longest_mention(text: str, phrases: Iterable[str]) -> int:
    """Length of the longest phrase found in the text as whole words (0: none)."""
    padded = f" {text} "
    return max((len(p) for p in map(norm, phrases) if p and f" {p} " in padded), default=0)


def _mentions(text: str, phrases: Iterable[str]) -> bool:
    return _longest_mention(text, phrases) > 0


def _fuzzy(words: list[str], phrases: Iterable[str]) -> bool:
    for phrase in phrases:
        p = norm(phrase)
        if len(p) >= 5 and " " not in p and any(len(w) >= 5 and fuzz.ratio(w, p) >= 85 for w in words):
            return True
    return False


def _matching(text: str, options: Sequence[Sequence[str]]) -> list[int]:
    lengths = [_longest_mention(text, words) for words in options]
    hits = [i for i, n in enumerate(lengths) if n]
    if not hits:
        ws = text.split()
        hits = [i for i, words in enumerate(options) if _fuzzy(ws, words)]
    return hits


def _best(text: str, options: Sequence[Sequence[str]], hits: list[int]) -> int | None:
    """Several options named: the one named by the longest phrase ("orang tua" over "tua")."""
    lengths = {i: _longest_mention(text, options[i]) for i in hits}
    top = max(lengths.values())
    best = [i for i, n in lengths.items() if n == top]
    return best[0] if len(best) == 1 else None


def read_choice(text: str, options: Sequence[Sequence[str]]) -> int | None:
    t = norm(text[:MAX_READ])
    if not t:
        return None
    nums = _numbers(t.split())
    if nums is not None:
        return nums[0] - 1 if len(set(nums)) == 1 and 1 <= nums[0] <= len(options) else None
    hits = _matching(t, options)
    if len(hits) > 1:
        return _best(t, options, hits)
    return hits[0] if hits else None


def read_choices(text: str, options: Sequence[Sequence[str]]) -> list[int] | None:
    t = norm(text[:MAX_READ])
    if not t:
        return None
    if t in ("semua", "semuanya", "all"):
        return list(range(len(options)))
    words = t.split()
    if len(options) < 10 and len(words) == 1 and words[0].isdigit() and len(words[0]) > 1:
        words = list(words[0])  # "13" means 1 and 3
    nums = _numbers(words)
    if nums is not None:
        if all(1 <= n <= len(options) for n in nums):
            return sorted({n - 1 for n in nums})
        return None
    hits = _matching(t, options)
    return hits or None


def read_yes_no(text: str) -> bool | None:
    t = norm(text[:MAX_READ])
    if not t:
        return None
    words = t.split()
    if words[0] in NO or words[0] == "tidak":
        return False
    if words[0] in YES:
        return True
    return None


def read_age(text: str) -> int | None:
    t = norm(text[:MAX_READ])
    months = "bulan" in t.split()
    m = re.search(r"\d+", t)
    if m:
        age = int(m.group())
    else:
        age = _number_words(t.split())
        if age is None:
            return None
    if months:
        age //= 12
    return age if 0 <= age <= 120 else None


def _number_words(words: list[str]) -> int | None:
    units = {k: v for k, v in NUMBER_WORDS.items() if not k.startswith("ke") and v < 10}
    units["sebelas"] = 11
    total, seen = 0, False
    i = 0
    while i < len(words):
        w = words[i]
        if w in units:
            value = units[w]
            if i + 1 < len(words) and words[i + 1] == "puluh":
                total += value * 10
                i += 1
            elif i + 1 < len(words) and words[i + 1] == "belas":
                total += value + 10
                i += 1
            else:
                total += value
            seen = True
        elif w == "sepuluh":
            total, seen = total + 10, True
        elif w == "sebelas" or (w.startswith("se") and w[2:] in ("belas",)):
            total, seen = total + 11, True
        elif seen:
            break
        i += 1
    return total if seen else None


def read_digits(text: str, length: int) -> str | None:
    digits = re.sub(r"[\s.\-]", "", clean(text))
    return digits if digits.isdigit() and len(digits) == length else None


PROVINCES = {
    11,
    12,
    13,
    14,
    15,
    16,
    17,
    18,
    19,
    21,
    *range(31, 37),
    51,
    52,
    53,
    *range(61, 66),
    *range(71, 77),
    81,
    82,
    *range(91, 98),
}


def check_nik(text: str) -> tuple[str | None, str | None]:
    nik = read_digits(text, 16)
    if nik is None:
        return None, "length"
    if int(nik[:2]) not in PROVINCES:
        return None, "region"
    day, month = int(nik[6:8]), int(nik[8:10])
    if not (1 <= day <= 31 or 41 <= day <= 71) or not 1 <= month <= 12:
        return None, "date"
    return nik, None


def gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXT for c in text)


def sms_segments(text: str) -> int:
    if gsm7(text):
        units = sum(2 if c in GSM7_EXT else 1 for c in text)
        return 1 if units <= 160 else -(-units // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)


def contains_phrase(text: str, phrases: Iterable[str]) -> bool:
    return _mentions(norm(text[:2000]), phrases)
