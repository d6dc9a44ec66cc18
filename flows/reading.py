"""Reading answers the way residents type them: informal Bahasa Indonesia, abbreviations,
numbers as digits or words, typos. Pure functions, no I/O; every reader returns None for
"not understood" so the caller can hint and ask again instead of guessing.

Every regex here is linear (no nested or overlapping quantifiers that can backtrack), because
any inbound message, up to 10,000 characters of anything, reaches these functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from flows import words as local

# Whole-word expansions. "kk" is deliberately absent: it means both "kakak" and Kartu Keluarga.
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
    "belom": "belum",
    "blum": "belum",
    "skrg": "sekarang",
    "skg": "sekarang",
    "rmh": "rumah",
    "ortu": "orang tua",
    "tdk": "tidak",
    "tak": "tidak",
    "gpp": "tidak apa apa",
    "bgt": "banget",
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
    "hr": "hari",
    "kmrn": "kemarin",
    "bsk": "besok",
    "td": "tadi",
    "msh": "masih",
    "jd": "jadi",
    "dpt": "dapat",
    "bkn": "bukan",
    "jgn": "jangan",
    "bpk": "bapak",
    "nmr": "nomor",
    "nomer": "nomor",
    "tau": "tahu",
    "klo": "kalau",
    "kalo": "kalau",
    "mw": "mau",
    "sblm": "sebelum",
    "pny": "punya",
}

GLOBAL_WORDS = {
    "DARURAT": ("darurat", "emergency", "sos"),
    "BATAL": ("batal", "batalkan", "cancel"),
    "MENU": ("menu", "ulang", "mulai", "mulai lagi", "mulai baru", "restart", "start"),
    "STATUS": ("status", "cek status", "cek"),
    "HAPUS": ("hapus", "hapus data", "hapus data saya", "delete"),
    "BANTUAN": ("bantuan", "help", "info", "tolong", "minta tolong"),
    "TELEPON": ("telepon", "telpon", "telfon", "tlp", "telp", "minta ditelepon", "telepon saya", "call me"),
    "EN": ("en", "english", "inggris"),
    "ID": ("id", "indonesia", "bahasa indonesia", "bahasa"),
    "BERHENTI": ("berhenti", "stop", "unsubscribe"),
    "LEWATI": ("lewati", "lewat", "skip", "lanjut"),
}

NUMBER_WORDS = {
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
    "sepuluh": 10,
    "pertama": 1,
    "kesatu": 1,
    "kedua": 2,
    "ketiga": 3,
    "keempat": 4,
    "kelima": 5,
    "keenam": 6,
    "ketujuh": 7,
    "kedelapan": 8,
    "kesembilan": 9,
    "kesepuluh": 10,
}
# "pilih 2", "no 2": a number after these is a choice even inside a sentence.
CHOICE_PREFIXES = frozenset({"no", "nomor", "pilih", "pilihan", "angka", "opsi"})
# Words around a number that do not change it ("saya mau yang ke 2 kak").
FILLERS = CHOICE_PREFIXES | {
    "yang",
    "ke",
    "saya",
    "aku",
    "mau",
    "saja",
    "ya",
    "yah",
    "kak",
    "kakak",
    "mbak",
    "mba",
    "bu",
    "pak",
    "mas",
    "bang",
    "min",
    "admin",
    "dong",
    "deh",
    "sih",
    "nih",
    "lah",
    "itu",
    "jawaban",
    "jawabannya",
    "pilihannya",
}
# A pronoun after a noun is possessive: "ibu saya" is my mother, not me.
PRONOUNS = frozenset({"saya", "aku", "kami"})
JOINERS = frozenset({"dan", "serta", "sama", "juga", "atau", "plus", "dengan"})
ALL_WORDS = frozenset({"semua", "semuanya", "seluruhnya", "all"})

YES = (
    "ya",
    "iya",
    "iyah",
    "y",
    "yes",
    "yep",
    "yup",
    "yoi",
    "yeah",
    "ok",
    "oke",
    "okey",
    "okay",
    "okeh",
    "sip",
    "siap",
    "betul",
    "benar",
    "bener",
    "bnr",
    "setuju",
    "boleh",
    "aman",
    "sudah",
    "mau",
    "bisa",
    "baik",
    "yaudah",
    "yasudah",
    "silakan",
    "silahkan",
    "tentu",
)
NO = (
    "tidak",
    "tdk",
    "tak",
    "ogah",
    "bukan",
    "belum",
    "blm",
    "jangan",
    "jgn",
    "no",
    "nope",
    "n",
)
# Before an option's word they deny it: "blm nikah" is not the option "sudah menikah".
DENIALS = ("tidak", "bukan", "belum", "jangan")
NEGATORS = (*DENIALS, "kurang")  # + a yes word: "tidak aman" is no
# Between a denial and the words it denies: "belum pernah menikah", "tidak jadi dinikahkan".
DENIAL_GAP = frozenset({"pernah", "jadi", "sempat"})
# Words of an option that say when, not what: "sudah" in "sudah menikah" is not denied by "belum".
ASPECT = frozenset({"sudah", "telah", "akan", "mau", "ingin", "sedang", "masih", "pernah"})
# Verb prefixes people drop: "nikah" is "menikah", "cerai" is "bercerai".
VERB_PREFIXES = ("me", "men", "mem", "meng", "ber")
OK_PHRASES = ("tidak apa apa", "tidak papa", "tidak masalah")  # "it's fine" means yes
UNSURE = (
    "tidak tahu",
    "belum tahu",
    "kurang tahu",
    "tidak yakin",
    "belum yakin",
    "kurang yakin",
    "tidak pasti",
    "belum pasti",
    "entah",
    "entahlah",
    "mungkin",
    "ragu",
    "bingung",
    "maybe",
)
BUT = ("tapi", "tetapi", "namun", "cuma", "cuman", "kecuali", "but")  # "ya tapi ..." is unclear
LEADING = (
    "saya",
    "aku",
    "kami",
    "sekarang",
    "kok",
    "sih",
    "dong",
    "deh",
    "kak",
    "kakak",
    "mbak",
    "mba",
    "bu",
    "pak",
    "mas",
    "bang",
    "min",
    "oh",
    "eh",
    "hm",
    "wah",
    "alhamdulillah",
)

AGE_UNITS = {"tahun": 1, "bulan": 12, "minggu": 52, "hari": 365}  # divisor to whole years
DIGIT_WORDS = {w: n for w, n in NUMBER_WORDS.items() if n < 10 and not w.startswith("ke")}
DIGIT_WORDS["nol"] = 0
WHOLE_WORDS = {"sepuluh": 10, "sebelas": 11, "seratus": 100}
SCALES = {"belas": 0, "puluh": 10, "ratus": 100}  # "belas" adds ten instead of multiplying

PROVINCES = frozenset(
    [
        *range(11, 20),
        21,
        *range(31, 37),
        *range(51, 54),
        *range(61, 66),
        *range(71, 77),
        81,
        82,
        *range(91, 98),
    ]
)

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")  # sent as ESC + char: two septets each

FUZZY_SCORE = 85  # rapidfuzz ratio: one dropped/extra letter in a 5-letter word, not a swap
FUZZY_MAX_TOKENS = 12  # choice answers are short; fuzzy-reading a story invents answers

# Line breaks and tabs become whitespace rather than vanishing and gluing words together.
_WHITESPACE = str.maketrans(
    {"\r": "\n", "\t": " ", "\v": "\n", "\f": "\n", "\x85": "\n", "\u2028": "\n", "\u2029": "\n"}
)
# C0/C1 controls except \n, lone surrogates (unencodable), zero-width spaces that split keywords.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200b\u2060\ufeff]")
_NON_WORD = re.compile(r"[\W_]+")
_REDUPLICATION = re.compile(r"([^\W\d_]{3,})2")  # "anak2" is "anak anak"
_DIGIT_EDGE = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")  # "17th", "no1"
_DASHES = re.compile(r"[-\u2010-\u2015\u2212\s]+")
_DIGIT_GROUP = re.compile(r"[0-9](?:[\s.\-]*[0-9])*")
_FRACTION = re.compile(r"(?<=[0-9])[.,][0-9]+")  # "1,5 tahun": whole years only
_REPEATS = re.compile(r"(.)\1+")
_EMOJI_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f\\s]")


def _squeeze(word: str) -> str:
    return _REPEATS.sub(r"\1", word)  # "iyaaa", "gakkk", "okee"


def _squeezed(words: Iterable[str]) -> frozenset[str]:
    return frozenset(_squeeze(w) for w in words)


_LOCAL = {_squeeze(word): meaning for word, meaning in local.LOCAL.items()}  # "nggih", "ngih"
_LOCAL.update(local.LOCAL)


def clean(text: str) -> str:
    """NFKC, no control characters except newline, stripped. Never raises; emoji stay."""
    if not isinstance(text, str):  # a malformed form post may hand us None
        return ""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").translate(_WHITESPACE))
    return unicodedata.normalize("NFKC", text).strip()


def norm(text: str) -> str:
    """Lower case, abbreviations spelled out, punctuation and emoji gone, single spaces. Not
    cached: a resident's words (a name, a NIK, a code word) stay in no memory past the message."""
    out: list[str] = []
    for token in _NON_WORD.sub(" ", clean(text).casefold()).split():
        redup = _REDUPLICATION.fullmatch(token)
        if redup and redup[1] not in FILLERS:  # "pilih2" is "pilih 2", not "pilih pilih"
            parts = [redup[1], redup[1]]
        else:
            parts = _DIGIT_EDGE.sub(" ", token).split()
        out.extend(_spelled(p) for p in parts)
    return " ".join(out)


def _spelled(word: str) -> str:
    """An abbreviation or local word spelled out ("sdh" -> "sudah", "aokk" -> "iya")."""
    return ABBREVIATIONS.get(word) or _LOCAL.get(_squeeze(word), word)


@lru_cache(maxsize=4096)
def _words(phrase: str) -> tuple[str, ...]:
    return tuple(norm(phrase).split())


_GLOBAL = {" ".join(_words(v)): word for word, vs in GLOBAL_WORDS.items() for v in vs}


def global_word(text: str) -> str | None:
    """The command a message is, if the whole message is one; "tolong bantu saya" is not."""
    normed = norm(text)
    if not normed:
        return "LEWATI" if _DASHES.fullmatch(clean(text)) else None
    return _GLOBAL.get(normed)


_YES, _NO, _NEGATORS, _BUT, _LEADING = map(_squeezed, (YES, NO, NEGATORS, BUT, LEADING))
_HAVE = _YES | _squeezed(local.HAVE)
_DENIALS = frozenset(DENIALS)
_OK_PHRASES = {tuple(_squeeze(w) for w in p.split()) for p in OK_PHRASES}
_UNSURE = [f" {_squeeze(p)} " for p in UNSURE]


def read_yes_no(text: str, have: bool = False) -> bool | None:
    """True/False when the answer starts with a clear yes or no and says nothing contrary.

    `have`: the question asks whether the resident has something, so "ada"/"punya" are yes
    (and "belum ada", "gak punya" no); elsewhere "ada" is no answer."""
    yes = _HAVE if have else _YES
    tokens = [_squeeze(t) for t in norm(text).split()]
    if not tokens:
        mark = _EMOJI_MODIFIERS.sub("", clean(text))  # a thumbs-up is a common reply
        return True if mark and set(mark) <= {"👍", "👌"} else False if mark == "👎" else None
    joined = f" {' '.join(tokens)} "
    if any(p in joined for p in _UNSURE) or _BUT.intersection(tokens):
        return None
    first = next((i for i, t in enumerate(tokens) if t not in _LEADING), len(tokens))
    votes: list[tuple[int, bool]] = []
    i = first
    if i < len(tokens) and tokens[i] in ("1", "2"):  # "1 Ya / 2 Tidak" menus
        votes.append((i, tokens[i] == "1"))
        i += 1
    while i < len(tokens):
        ok = next((p for p in _OK_PHRASES if tuple(tokens[i : i + len(p)]) == p), None)
        if ok:
            votes.append((i, True))
            i += len(ok)
        elif tokens[i] in _NEGATORS and i + 1 < len(tokens) and tokens[i + 1] in yes:
            votes.append((i, False))  # "tidak aman", "belum setuju", "gak mau", "belum ada"
            i += 2
        else:
            if tokens[i] in yes or tokens[i] in _NO:
                votes.append((i, tokens[i] in yes))
            i += 1
    answers = {v for _, v in votes}
    # The answer must come first: "dia tidak pulang" is a story, not a "no".
    if not votes or votes[0][0] != first or len(answers) != 1:
        return None
    return answers.pop()


def _number(token: str) -> int | None:
    if token.isascii() and token.isdigit():
        return int(token) if len(token) <= 4 else 0  # a long digit run is never a valid option
    return NUMBER_WORDS.get(token)


@lru_cache(maxsize=512)
def _phrase_sets(options: tuple[tuple[str, ...], ...]) -> tuple[frozenset[tuple[str, ...]], ...]:
    """Each option's phrases as normalised words: the flows' own texts, read once."""
    return tuple(frozenset(_words(p) for p in phrases) for phrases in options)


def _option_hits(tokens: list[str], options: Sequence[Sequence[str]]) -> tuple[set[int], set[int]]:
    """Options named by their words in tokens, and the token positions those words cover.

    A phrase inside a longer phrase of another option does not count ("anak saya" names the
    child, not "saya"); typos are forgiven only in short answers and words of 5+ letters.
    An option whose word is denied ("blm nikah" for "sudah menikah") does not count either."""
    where: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        where.setdefault(token, []).append(i)
    found: list[tuple[int, int, int]] = []  # (length, start, option)
    phrase_sets = _phrase_sets(tuple(tuple(phrases) for phrases in options))
    for option, phrase_words in enumerate(phrase_sets):
        for words in phrase_words:
            for i in where.get(words[0], ()) if words else ():
                if i and words[0] in PRONOUNS and len(words) == 1:
                    continue
                if tuple(tokens[i : i + len(words)]) == words:
                    found.append((len(words), i, option))
    owner: dict[int, tuple[int, int]] = {}  # position -> (length, option) of its longest hit
    hits: set[int] = set()
    for length, start, option in sorted(found, reverse=True):
        span = range(start, start + length)
        if all(p in owner and owner[p][0] > length and owner[p][1] != option for p in span):
            continue
        hits.add(option)
        for p in span:
            owner.setdefault(p, (length, option))
    covered = set(owner)
    if len(tokens) <= FUZZY_MAX_TOKENS:
        for option, phrase_words in enumerate(phrase_sets):
            for words in phrase_words:
                phrase = " ".join(words)
                for i in range(len(tokens) - len(words) + 1) if len(phrase) >= 5 else ():
                    span = range(i, i + len(words))
                    window = " ".join(tokens[i : i + len(words)])
                    if covered.isdisjoint(span) and fuzz.ratio(window, phrase) >= FUZZY_SCORE:
                        hits.add(option)
                        covered.update(span)
                        found.append((len(words), i, option))
    denials = _denials(tokens)
    if denials:
        hits = _not_denied(tokens, denials, options, hits, found)
    return hits, covered


def _denials(tokens: list[str]) -> list[tuple[int, int]]:
    """(where a denial is, where the words it denies start): "belum nikah", "tdk pernah kawin"."""
    out: list[tuple[int, int]] = []
    for i, token in enumerate(tokens):
        if token in _DENIALS:
            j = i + 1
            while j < len(tokens) and tokens[j] in DENIAL_GAP:
                j += 1
            out.append((i, j))
    return out


def _not_denied(
    tokens: list[str],
    denials: list[tuple[int, int]],
    options: Sequence[Sequence[str]],
    hits: set[int],
    found: list[tuple[int, int, int]],
) -> set[int]:
    """The options still named once denied words are taken out.

    A denial before an option's phrase, its aspect words left out, denies it ("blm nikah" is not
    "sudah menikah"), and that denial is spent: "jangan telepon" is not also the option "jangan".
    An option still counts if another of its words names it; "sudah" in "sdh dibawa lari tp blm
    nikah" says only when, so it does not. A phrase that is itself a denial ("tidak tahu") is
    never denied: it is what was said."""
    denied = [_denied(tokens, denials, phrases) for phrases in options]
    spent = {p for positions in denied for p in positions if tokens[p] in _DENIALS}
    kept: set[int] = set()
    for option in hits:
        named = {
            p
            for length, start, o in found
            if o == option
            for p in range(start, start + length)
            if tokens[p] not in ASPECT
        }
        if named - denied[option] - spent or not (named or denied[option]):
            kept.add(option)
    return kept


def _denied(tokens: list[str], denials: list[tuple[int, int]], phrases: Sequence[str]) -> set[int]:
    """Positions of the denials before the option's phrases and of the words they deny."""
    denied: set[int] = set()
    for words in map(_words, phrases):
        content = [w for w in words if w not in ASPECT]
        if not content or not _DENIALS.isdisjoint(words):
            continue
        for at, to in denials:
            said = tokens[to : to + len(content)]
            if len(said) == len(content) and all(map(_same_word, said, content)):
                denied.update(range(at, to + len(content)))
    return denied


def _same_word(a: str, b: str) -> bool:
    """Equal, or one is the other with a dropped verb prefix ("nikah", "menikah")."""
    return a == b or a in _bare(b) or b in _bare(a)


@lru_cache(maxsize=4096)
def _bare(word: str) -> frozenset[str]:
    return frozenset(word[len(p) :] for p in VERB_PREFIXES if word.startswith(p) and len(word) - len(p) >= 4)


def read_choice(text: str, options: Sequence[Sequence[str]]) -> int | None:
    """0-based index of the one option picked by number ("1.", "no 1", "satu") or by its words."""
    tokens = norm(text).split()
    numbers = [(i, n) for i, t in enumerate(tokens) if (n := _number(t)) is not None]
    values = {n for _, n in numbers}
    explicit = {n for i, n in numbers if i and tokens[i - 1] in CHOICE_PREFIXES}

    def pick(n: int) -> int | None:
        return n - 1 if 1 <= n <= len(options) else None

    if len(values) == 1 and all(t in FILLERS or _number(t) is not None for t in tokens):
        return pick(values.pop())  # "1", "(1)", "no. 1", "saya pilih yang ke 2"
    if explicit:
        return pick(explicit.pop()) if len(explicit) == 1 else None  # "kalau gitu nomor 2"
    words = [t for t in tokens if _number(t) is None]
    hits, _ = _option_hits(words, options)
    if numbers and numbers[0][0] == 0:  # "1. Fisik" copied from the menu: number and word agree
        return pick(numbers[0][1]) if len(values) == 1 and hits == {numbers[0][1] - 1} else None
    return hits.pop() if len(hits) == 1 else None


def read_choices(text: str, options: Sequence[Sequence[str]]) -> list[int] | None:
    """Several options: "1,3", "1 dan 3", "13", "fisik dan seksual", "semua". Sorted, 0-based."""
    tokens = norm(text).split()
    content = [t for t in tokens if t not in FILLERS and t not in JOINERS]
    if content and all(t in ALL_WORDS for t in content):
        return list(range(len(options)))
    hits, covered = _option_hits(tokens, options)
    numbers: list[int] = []
    loose = False  # a word that is neither a number, an option nor glue: numbers may be counts
    for i, token in enumerate(tokens):
        if token.isascii() and token.isdigit() and len(token) > 1 and len(options) < 10:
            # "13" is 1 and 3 when there is no option 13; more digits than options is no list
            numbers.extend(map(int, token) if len(token) <= len(options) else [0])
        elif (n := _number(token)) is not None:
            numbers.append(n)
        elif i not in covered and token not in FILLERS and token not in JOINERS:
            loose = True
    if numbers and not loose:  # "dipukul 3 kali" names kind 1, not kind 3
        if not all(1 <= n <= len(options) for n in numbers):
            return None
        hits.update(n - 1 for n in numbers)
    return sorted(hits) or None


def _spelled_number(tokens: list[str], i: int) -> tuple[int, int]:
    """The number spelled from tokens[i] ("dua puluh satu") and the index after it."""
    total, current = 0, None
    while i < len(tokens):
        word = tokens[i]
        if word in DIGIT_WORDS and current is None:
            current = DIGIT_WORDS[word]
        elif word in WHOLE_WORDS and current is None and not total:
            total = WHOLE_WORDS[word]
        elif word in SCALES and current is not None:
            total += current + 10 if word == "belas" else current * SCALES[word]
            current = None
        else:
            break
        i += 1
    return total + (current or 0), i


def read_age(text: str) -> int | None:
    """Age in whole years: "15", "umur 15 thn", "lima belas", "17th"; "6 bln" is 0."""
    tokens = norm(_FRACTION.sub("", clean(text))).split()
    found: list[tuple[int, str | None]] = []  # (number, unit written after it)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.isascii() and token.isdigit():
            value, i = (int(token) if len(token) <= 3 else 999), i + 1
        elif token in DIGIT_WORDS or token in WHOLE_WORDS:
            value, i = _spelled_number(tokens, i)
        else:
            i += 1
            continue
        unit = tokens[i] if i < len(tokens) and tokens[i] in AGE_UNITS else None
        found.append((value, unit))
    if len(found) > 1:  # "15 tahun 6 bulan": the years; "15 atau 16": unclear
        found = [f for f in found if f[1] == "tahun"]
    if len(found) != 1:
        return None
    value, unit = found[0]
    age = value // AGE_UNITS[unit or "tahun"]
    return age if 0 <= age <= 120 else None


def _digit_run(text: str) -> str | None:
    """The one group of digits in text, separators (spaces, dots, dashes) removed."""
    groups = _DIGIT_GROUP.findall(clean(text))
    return re.sub(r"[^0-9]", "", groups[0]) if len(groups) == 1 else None


def read_digits(text: str, length: int) -> str | None:
    """Exactly `length` digits, as in "0001 2345 67890" or "nik: 7372-0145-..."."""
    digits = _digit_run(text)
    return digits if digits is not None and len(digits) == length else None


def check_nik(text: str) -> tuple[str | None, str | None]:
    """(nik, None) if plausible, else (None, "length" | "region" | "date").

    Structure: province (2), regency (2), district (2), DDMMYY of birth (women: day + 40), serial.
    """
    nik = read_digits(text, 16)
    if nik is None:
        return None, "length"
    if int(nik[:2]) not in PROVINCES:
        return None, "region"
    day, month = int(nik[6:8]), int(nik[8:10])
    if not (1 <= day <= 31 or 41 <= day <= 71) or not 1 <= month <= 12:
        return None, "date"
    return nik, None


_LEAD_NUMBER = r"\d{1,2}(?!\d)(?!\s*(?:th|thn|tahun|bln|bulan|hr|hari|mgg|minggu|x|kali|jam|orang)\b)"
_LEAD_PREFIX = r"^\s*[(\[]?(?:(?:" + "|".join(sorted(CHOICE_PREFIXES)) + r")\.?\s*)?"
_LEAD_ONE = re.compile(_LEAD_PREFIX + _LEAD_NUMBER + r"[)\].]?", re.I)
_LEAD_SOME = re.compile(
    _LEAD_PREFIX + _LEAD_NUMBER + r"(?:(?:\s*[,&+/;]\s*|\s+dan\s+|\s+)" + _LEAD_NUMBER + r")*[)\].]?", re.I
)


def split_lead(text: str, several: bool = False) -> tuple[str, str] | None:
    """(the option number(s) an answer starts with, the rest) or None: "1 34" is (1, 34),
    "1,3 dia memukul" (1,3 / dia memukul) when `several`; "34 thn", a count, leads nothing."""
    text = clean(text)
    found = (_LEAD_SOME if several else _LEAD_ONE).match(text)
    if found is None:
        return None
    rest = text[found.end() :]
    if rest and rest[0].isalnum() and found.group(0)[-1] not in ").]":  # "1abc" is no number
        return None
    return found.group(0).strip(), rest.strip(" \t\n,.;:-")


def says_more(text: str, phrases: Iterable[str]) -> bool:
    """Whether text has a word beyond these phrases' words, fillers and numbers: "anak" only
    picks an option, "anak sy dipukul" also tells something."""
    known = {w for p in phrases for w in _words(p)} | FILLERS | JOINERS
    return any(t not in known and _number(t) is None for t in norm(text).split())


def gsm7(text: str) -> bool:
    """True if text can go as GSM-7 SMS; one other character makes every part UCS-2 (70 chars)."""
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """SMS parts text costs; 0 for empty text. A character's units never straddle two parts."""
    if not text:
        return 0
    if gsm7(text):
        units, single, part = [2 if c in GSM_EXTENSION else 1 for c in text], 160, 153
    else:  # UCS-2 counts UTF-16 code units: emoji outside the BMP take two
        units, single, part = [2 if ord(c) > 0xFFFF else 1 for c in text], 70, 67
    if sum(units) <= single:
        return 1
    parts, used = 1, 0
    for u in units:
        if used + u > part:
            parts, used = parts + 1, 0
        used += u
    return parts


def contains_phrase(text: str, phrases: Iterable[str]) -> bool:
    """True if any phrase occurs in text as whole words, both normalised ("lapor kdrt")."""
    haystack = f" {norm(text)} "
    return any(f" {p} " in haystack for p in map(" ".join, map(_words, phrases)) if p)


def read_phone(text: str, region: str = "ID") -> str | None:
    """An Indonesian phone number as people write it (0812-3456-7890, +62 812..., 62812...), as
    E.164; None if it is not a possible number."""
    import phonenumbers  # here: only this reader needs it

    digits = re.sub(r"[^\d+]", "", text)[:20]
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
