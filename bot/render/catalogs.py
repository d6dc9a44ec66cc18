"""Every message key the hotline can say or show, and the catalog files built from them:
`hotline translate extract|update|compile` and the translation check of `hotline flows check`."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.domain import followup
from bot.domain.i18n import DOMAIN, LOCALES, LOCALES_DIR, po_path
from bot.render import mechanism  # a module: mechanism draws flows with flowdoc, which imports this
from bot.render.report import LABEL_KEYS
from flows import FLOWS
from flows.common import SYSTEM_KEYS
from flows.guidance import KEYS as GUIDANCE_KEYS
from flows.members import KEYS as MEMBER_KEYS
from storage import casestate
from storage.casestate import LABELS as STATUS_LABELS

WEB = Path(__file__).resolve().parents[1] / "web"
# The console's texts: t("console....") in its templates and views, and one per timeline event.
CONSOLE_SOURCES = (WEB / "console.py", *sorted((WEB / "templates").rglob("*.html")))
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
    "cancelled",
    "unanswered",
    "erased",
    "urgent_alert",
    "codeword",
    "reassigned",
)


def console_keys() -> set[str]:
    """Texts coordinators read: the console, the monthly figures and the mechanism document."""
    kinds = (*EVENT_KINDS, *followup.EVENT_KINDS, *casestate.EVENTS.values())
    keys = {f"console.event.{kind}" for kind in kinds}
    keys |= {f"console.step.{step}" for step in casestate.STEPS} | {f"report.{k}" for k in LABEL_KEYS}
    keys |= {f"mechanism.{k}" for k in mechanism.LABEL_KEYS}
    for path in CONSOLE_SOURCES:
        keys.update(_T_CALL.findall(path.read_text(encoding="utf-8")))
    return keys


def all_keys() -> list[str]:
    keys: set[str] = set(SYSTEM_KEYS) | set(MEMBER_KEYS) | set(GUIDANCE_KEYS) | set(STATUS_LABELS.values())
    keys |= set(followup.KEYS)
    keys |= set(casestate.RESULT_LABELS.values()) | set(casestate.OUTCOME_LABELS.values())
    keys |= console_keys()
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
