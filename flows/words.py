"""Local and colloquial words residents type, as data: the one place they are listed.

Each word is spelled out as the standard Indonesian word before anything is read (flows.reading),
so "aok" is read as "iya" everywhere, "ndek nikah" as "tidak nikah", "ora mau" as "tidak mau".
Repeated letters are forgiven by the reader ("iyee", "ndakk"), so list each word once.

Both sites: Parepare (Bugis, Makassar) and Masbagik, Lombok Timur (Sasak). Javanese words come
with migrants and television. A word listed here is read this way in every message, so a word
that is also common Indonesian with another meaning does not belong here.
"""

from __future__ import annotations

# local form -> the Indonesian word it means
LOCAL = {
    # yes
    "iye": "iya",  # Bugis/Makassar (polite)
    "iyo": "iya",  # Bugis/Makassar
    "aok": "iya",  # Sasak
    "nggih": "iya",  # Javanese (krama); also Sasak alus
    "enggih": "iya",  # Javanese (krama); also Sasak alus
    "inggih": "iya",  # Javanese (krama)
    # no
    "ndak": "tidak",  # Bugis/Makassar, Javanese
    "nda": "tidak",  # Bugis/Makassar
    "ndek": "tidak",  # Sasak
    "endek": "tidak",  # Sasak
    "ndeq": "tidak",  # Sasak
    "endeq": "tidak",  # Sasak
    "ora": "tidak",  # Javanese
    "gak": "tidak",  # colloquial, everywhere
    "ga": "tidak",
    "gk": "tidak",
    "nggak": "tidak",
    "ngga": "tidak",
    "enggak": "tidak",
    "engga": "tidak",
    "kagak": "tidak",  # Betawi
}

# Yes to a question about having something ("punya KTP?"), and only there: elsewhere "ada" is
# not an answer. Negated ("belum ada", "gak punya", "ndek ada") they are no.
HAVE = ("ada", "punya")
