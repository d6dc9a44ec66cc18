"""Babel catalogs: every text a person reads, rendered in the conversation's own locale.

Message ids are keys ("ask.k.danger"); `id` and `en` are both complete catalogs. The `.po`
files are the source of truth and are compiled in memory at start-up, so a fresh clone works
without a build step; `hotline translate compile` writes `.mo` files for other tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

from bot.domain.engine import Key, Say
from flows import FLOWS
from flows.common import SYSTEM_KEYS
from flows.members import KEYS as MEMBER_KEYS

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
    return format_date(moment.astimezone(ZoneInfo(tz)), "d MMM yyyy", locale=locale)


def local_time(moment: datetime, tz: str, locale: str) -> str:
    return format_time(moment.astimezone(ZoneInfo(tz)), "HH:mm", locale=locale)


def local_datetime(moment: datetime, tz: str, locale: str) -> str:
    return format_datetime(moment.astimezone(ZoneInfo(tz)), "d MMM yyyy HH:mm", locale=locale)


# The console's texts: t("console....") in its templates and views, and one per timeline event.
CONSOLE_SOURCES = (
    Path(__file__).parents[1] / "web" / "console.py",
    *sorted((Path(__file__).parents[1] / "web" / "templates").rglob("*.html")),
)
_T_CALL = re.compile(r"""\bt\(\s*['"](console\.[a-z_.]+[a-z_])['"]""")
EVENT_KINDS = (
    "submitted",
    "urgent",
    "awaiting_member",
    "offered",
    "expired",
    "declined",
    "accepted",
    "note",
    "referred",
    "relayed",
    "closed",
    "unanswered",
    "erased",
    "urgent_alert",
    "reassigned",
)


def console_keys() -> set[str]:
    """Texts coordinators read: the console and the monthly figures."""
    from bot.render.report import LABEL_KEYS  # here: bot.render.report renders through this module

    keys = {f"console.event.{kind}" for kind in EVENT_KINDS} | {f"report.{k}" for k in LABEL_KEYS}
    for path in CONSOLE_SOURCES:
        keys.update(_T_CALL.findall(path.read_text(encoding="utf-8")))
    return keys


def all_keys() -> list[str]:
    keys: set[str] = set(SYSTEM_KEYS) | set(MEMBER_KEYS) | console_keys()
    for flow in FLOWS.values():
        keys |= flow.message_keys()
    return sorted(keys)


def extract(root: Path = LOCALES_DIR) -> Path:
    """Write the template from the flow definitions (keys are data, not source strings)."""
    template = Catalog(project="hotline-kk", domain=DOMAIN)
    for key in all_keys():
        template.add(key)
    path = root / f"{DOMAIN}.pot"
    with path.open("wb") as f:
        write_po(f, template, width=100)
    return path


def update(root: Path = LOCALES_DIR) -> list[Path]:
    with (root / f"{DOMAIN}.pot").open("rb") as f:
        template = read_po(f)
    paths = []
    for locale in LOCALES:
        path = po_path(locale, root)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, ignore_obsolete=True)
        paths.append(path)
    return paths


def compile_catalogs(root: Path = LOCALES_DIR) -> list[Path]:
    paths = []
    for locale in LOCALES:
        with po_path(locale, root).open("rb") as f:
            catalog = read_po(f, locale=locale)
        path = po_path(locale, root).with_suffix(".mo")
        with path.open("wb") as f:
            write_mo(f, catalog)
        paths.append(path)
    return paths


def missing(locale: str) -> list[str]:
    """Keys with no translation in the locale's catalog (the check behind `flows check`)."""
    with po_path(locale).open("rb") as f:
        catalog = read_po(f, locale=locale)
    return [k for k in all_keys() if not (catalog.get(k) and catalog.get(k).string)]
