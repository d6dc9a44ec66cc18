"""Babel catalogs: every text a person reads, rendered in the conversation's own locale.

Message ids are keys ("ask.k.danger"); `id` and `en` are both complete catalogs. The `.po`
files are the source of truth and are compiled in memory at start-up, so a fresh clone works
without a build step. Which keys exist, and the catalog files, are `bot.render.catalogs`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.domain.engine import Key, Say
from storage import sitetime

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
DOMAIN = "messages"


def po_path(locale: str, root: Path = LOCALES_DIR) -> Path:
    return root / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> Translations:
    with po_path(locale).open("rb") as f:
        catalog = read_po(f, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def text(key: str, locale: str, **params: object) -> str:
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    template = translations(locale).gettext(key)
    if template == key and locale != DEFAULT_LOCALE:  # untranslated: fall back to Indonesian
        template = translations(DEFAULT_LOCALE).gettext(key)
    values = {k: text(v.key, locale) if isinstance(v, Key) else v for k, v in params.items()}
    return template.format_map(values) if values else template


def render(says: Iterable[Say], locale: str) -> str:
    parts = []
    for say in says:
        line = text(say.key, locale, **say.params)
        if say.options:
            labels = (text(o.key, locale) if isinstance(o, Key) else o for o in say.options)
            line += "".join(f"\n{i}. {label}" for i, label in enumerate(labels, 1))
        parts.append(line)
    return "\n".join(parts)


def local_date(moment: datetime, tz: str, locale: str) -> str:
    return format_date(sitetime.local(moment, tz), "d MMM yyyy", locale=locale)


def local_time(moment: datetime, tz: str, locale: str) -> str:
    return format_time(sitetime.local(moment, tz), "HH:mm", locale=locale)


def local_datetime(moment: datetime, tz: str, locale: str) -> str:
    return format_datetime(sitetime.local(moment, tz), "d MMM yyyy HH:mm", locale=locale)
