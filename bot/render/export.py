"""Transcript export: one implementation behind `hotline export` and the web console.

Formats (every time is the site's local time, ISO 8601 with its offset: 2026-11-23T21:05:09+08:00):

- ``csv``: one row per message, UTF-8 with a BOM (Excel then shows Indonesian text right), the
  message columns then the case's columns repeated on each row (`CSV_COLUMNS`); a case without
  messages still gets one row, with empty message columns. Cells starting with ``= + - @``, a
  tab or a carriage return get a leading ``'`` (OWASP CSV injection): Excel shows them as text.
- ``jsonl``: one JSON object per line: ``{"type": "case", ...}`` for every case first, then
  ``{"type": "message", ...}`` for every message; booleans, numbers, lists and nulls as such.
- ``xlsx``: sheets ``cases`` (`CASE_COLUMNS`) and ``messages`` (`MESSAGE_COLUMNS`), written by
  openpyxl in write-only mode (rows go straight to disk); text always stored as text, never as a
  formula; characters a worksheet cannot hold (control characters) dropped.

Redacted unless `include_contacts`: residents appear as `Warga-XXXXXXXX` pseudonyms, NIK, phone
and other long numbers are masked and the resident's own name removed from every text (see
bot.render.redact). KK members appear by name. With `include_contacts` a resident appears as their name
and number and texts are as written.

Streaming: both queries come in batches and rows are written as they come, so memory stays flat
however many messages there are. Every export is in the audit log: the row is written before the
first byte (so an export that dies halfway still shows), then completed with the row counts.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import IO, Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils import get_column_letter

from bot.render.redact import pseudonym, redact
from storage import audit, sitetime
from storage.db import Database
from storage.models import User
from storage.transcripts import CaseRow, Filters, MessageRow, cases, messages, snapshot

FORMATS = ("csv", "jsonl", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MESSAGE_COLUMNS = ("case", "time", "direction", "party", "to", "channel", "text", "media")
CASE_COLUMNS = (
    "case",
    "site",
    "area",
    "category",
    "urgent",
    "status",
    "created",
    "accepted",
    "closed",
    "holder",
    "referrals",
    "resident",
)
CSV_COLUMNS = MESSAGE_COLUMNS + CASE_COLUMNS[1:]
CASE_KEYS, MESSAGE_KEYS = ("type", *CASE_COLUMNS), ("type", *MESSAGE_COLUMNS)  # JSON Lines
# Without SECRET_KEY pseudonyms use this public value: stable, but anyone with the code can
# compute which contact id hides behind one. `pseudonym_secret` says so; the CLI warns.
FALLBACK_SECRET = "hotline-kk-export-no-secret-key"
CHUNK = 64 * 1024  # bytes handed to the caller at a time
BOM = "\ufeff".encode()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XLSX_WIDTHS = {"text": 80, "referrals": 30, "party": 24, "to": 24, "resident": 24, "holder": 20}


class ExportRefused(Exception):
    """The account may not export this (another site, residents' contacts, disabled)."""


@dataclasses.dataclass
class Counts:
    messages: int = 0
    cases: int = 0


def pseudonym_secret(config: Mapping[str, Any]) -> tuple[str, bool]:
    """(secret, configured): SECRET_KEY, or the public fallback when it is not set."""
    secret = config.get("SECRET_KEY")
    return (str(secret), True) if secret else (FALLBACK_SECRET, False)


def authorize(user: User | None, filters: Filters, include_contacts: bool) -> Filters:
    """The filters this account may export with, narrowed to its sites; ExportRefused otherwise.

    None is the operator at the shell with database access: everything. An admin sees every site
    and residents' contacts; a coordinator only their own sites, contacts only when granted."""
    if user is None:
        return filters
    if not user.active:
        raise ExportRefused(f"account {user.username!r} is disabled")
    if user.role == "admin":
        return filters
    if user.role != "coordinator":
        raise ExportRefused(f"account {user.username!r} (role {user.role!r}) may not export")
    mine = tuple(dict.fromkeys(str(s).upper() for s in user.sites or ()))
    if not mine:
        raise ExportRefused(f"account {user.username!r} has no sites to export")
    if include_contacts and not user.contacts:
        raise ExportRefused(f"account {user.username!r} may not see residents' contacts")
    others = [s for s in filters.sites if s not in mine]
    if others:
        raise ExportRefused(
            f"account {user.username!r} may not export site {', '.join(others)} "
            f"(its sites: {', '.join(mine)})"
        )
    return filters if filters.sites else dataclasses.replace(filters, sites=mine)


# --------------------------------------------------------------------------- rows


def _local(moment: datetime | None, tz: str) -> str | None:
    return sitetime.local(moment, tz).isoformat(timespec="seconds") if moment else None


class _Present:
    """Database rows -> output values, in column order, redacted unless contacts are allowed."""

    def __init__(self, include_contacts: bool, secret: str) -> None:
        self.include_contacts = include_contacts
        self.pseudonym: Callable[[int | None], str] = lru_cache(maxsize=4096)(
            lambda contact_id: pseudonym(contact_id, secret)
        )

    def resident(self, contact_id: int | None, phone: str | None, names: tuple[str, ...]) -> str:
        if self.include_contacts and phone:
            return f"{names[0]} ({phone})" if names else phone
        return self.pseudonym(contact_id)

    def text(self, body: str, names: tuple[str, ...]) -> str:
        return body if self.include_contacts else redact(body, names)

    def case(self, c: CaseRow) -> tuple[Any, ...]:
        return (
            c.code,
            c.site,
            c.area,
            c.category,
            c.urgent,
            c.status,
            _local(c.created_at, c.timezone),
            _local(c.accepted_at, c.timezone),
            _local(c.closed_at, c.timezone),
            c.holder,
            c.referrals,
            self.resident(c.contact_id, c.phone, c.names),
        )

    def message(self, m: MessageRow) -> tuple[Any, ...]:
        resident = self.resident(m.contact_id, m.phone, m.names)
        member = m.member or "member"
        party = resident if m.party == "resident" else member if m.party == "member" else m.party
        to = "hotline" if m.direction == "in" else resident if m.to_resident else member
        return (
            m.case_code,
            _local(m.created_at, m.timezone),
            m.direction,
            party,
            to,
            m.channel,
            self.text(m.body, m.names),
            m.num_media,
        )


def _paired(
    case_rows: Iterable[CaseRow], message_rows: Iterable[MessageRow]
) -> Iterator[tuple[CaseRow | None, MessageRow | None]]:
    """Walk cases and messages (both by case id) side by side: (case, message) for every
    message, (case, None) for a case without messages. (None, message) cannot happen in one
    snapshot; it would mean a message of a case the case query did not return."""
    found = iter(case_rows)
    case, seen = next(found, None), False
    for message in message_rows:
        while case is not None and case.id < message.case_id:
            if not seen:
                yield case, None
            case, seen = next(found, None), False
        if case is not None and case.id == message.case_id:
            seen = True
            yield case, message
        else:
            yield None, message
    while case is not None:
        if not seen:
            yield case, None
        case, seen = next(found, None), False


# --------------------------------------------------------------------------- formats


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        value = "; ".join(value)
    if isinstance(value, str):
        value = value.replace("\x00", "")
        return "'" + value if value.startswith(_FORMULA_START) else value
    return value


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _text_chunks(
    db: Database, filters: Filters, fmt: str, present: _Present, counts: Counts
) -> Iterator[bytes]:
    """CSV or JSON Lines, `CHUNK` bytes at a time, read from one snapshot."""
    buffer = io.StringIO()

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8", "replace")
        buffer.seek(0)
        buffer.truncate()
        return data

    contacts = present.include_contacts
    with snapshot(db) as session:
        if fmt == "csv":
            yield BOM
            writer = csv.writer(buffer)
            writer.writerow(CSV_COLUMNS)
            blank = ("",) * (len(MESSAGE_COLUMNS) - 1)
            last: CaseRow | None = None
            none = case_values = [""] * (len(CASE_COLUMNS) - 1)
            pairs = _paired(
                cases(session, filters, contacts=contacts), messages(session, filters, contacts=contacts)
            )
            for case, message in pairs:
                if case is not last:  # a new case, or None: a message without its case
                    last = case
                    counts.cases += case is not None
                    case_values = [_csv_value(v) for v in present.case(case)[1:]] if case else none
                if message is None:
                    assert case is not None
                    writer.writerow((case.code, *blank, *case_values))
                else:
                    counts.messages += 1
                    writer.writerow([*map(_csv_value, present.message(message)), *case_values])
                if buffer.tell() >= CHUNK:
                    yield flush()
        else:
            encode = json.JSONEncoder(ensure_ascii=False).encode
            for case in cases(session, filters, contacts=contacts):
                counts.cases += 1
                values = ("case", *map(_json_value, present.case(case)))
                buffer.write(encode(dict(zip(CASE_KEYS, values, strict=True))))
                buffer.write("\n")
                if buffer.tell() >= CHUNK:
                    yield flush()
            for message in messages(session, filters, contacts=contacts):
                counts.messages += 1
                values = ("message", *present.message(message))
                buffer.write(encode(dict(zip(MESSAGE_KEYS, values, strict=True))))
                buffer.write("\n")
                if buffer.tell() >= CHUNK:
                    yield flush()
    if buffer.tell():
        yield flush()


def _xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    row: list[Any] = []
    for value in values:
        if isinstance(value, tuple):
            value = "; ".join(value)
        if isinstance(value, str):
            value = _ILLEGAL_XML.sub("", value)[:32767]
            if value.startswith("=") or value in ERROR_CODES:  # text, never a formula or an error
                cell = WriteOnlyCell(sheet, value)
                cell.data_type = "s"
                value = cell
        row.append(value)
    return row


def _sheet(workbook: Workbook, title: str, columns: tuple[str, ...]) -> Any:
    sheet = workbook.create_sheet(title)
    for i, name in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(i)].width = _XLSX_WIDTHS.get(name, 14)
    sheet.freeze_panes = "A2"
    sheet.append(columns)
    return sheet


def _write_xlsx(db: Database, filters: Filters, present: _Present, counts: Counts, out: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    contacts = present.include_contacts
    with snapshot(db) as session:
        sheet = _sheet(workbook, "cases", CASE_COLUMNS)
        for case in cases(session, filters, contacts=contacts):
            counts.cases += 1
            sheet.append(_xlsx_row(sheet, present.case(case)))
        sheet = _sheet(workbook, "messages", MESSAGE_COLUMNS)
        for message in messages(session, filters, contacts=contacts):
            counts.messages += 1
            sheet.append(_xlsx_row(sheet, present.message(message)))
    workbook.save(out)


# --------------------------------------------------------------------------- audit


def _audit_start(db: Database, actor: str, filters: Filters, fmt: str, include_contacts: bool) -> int:
    details = {
        "filters": filters.as_dict(),
        "format": fmt,
        "include_contacts": include_contacts,
        "rows": None,
        "cases": None,
        "complete": False,
    }
    return audit.start(db, actor, "export", **details)


def _audit_end(db: Database, audit_id: int, counts: Counts, complete: bool) -> None:
    audit.finish(db, audit_id, rows=counts.messages, cases=counts.cases, complete=complete)


# --------------------------------------------------------------------------- entry points


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def export_counts(
    db: Database,
    filters: Filters,
    fmt: str,
    out: BinaryIO | IO[bytes],
    *,
    actor: str,
    include_contacts: bool = False,
    secret: str,
) -> Counts:
    """Write the export to `out`; the number of message rows and cases written. Audited."""
    _check(fmt)
    present = _Present(include_contacts, secret)
    audit_id = _audit_start(db, actor, filters, fmt, include_contacts)
    counts, complete = Counts(), False
    try:
        if fmt == "xlsx":
            _write_xlsx(db, filters, present, counts, out)
        else:
            for chunk in _text_chunks(db, filters, fmt, present, counts):
                out.write(chunk)
        complete = True
    finally:
        _audit_end(db, audit_id, counts, complete)
    return counts


def export_response(
    db: Database,
    filters: Filters,
    fmt: str,
    *,
    actor: str,
    include_contacts: bool = False,
    secret: str,
) -> tuple[Iterator[bytes], str, str]:
    """(chunks, mimetype, filename) for a streamed download, e.g.
    ``Response(stream_with_context(chunks), mimetype=mimetype, headers={"Content-Disposition":
    f"attachment; filename={filename}"})``.

    CSV and JSON Lines are generated while the client reads (one read-only snapshot held open
    meanwhile); XLSX is written whole to a temporary file first (a zip is only valid once
    finished), then streamed from it. The audit row is written now and completed when the last
    chunk is produced, or marked incomplete if the client goes away before."""
    _check(fmt)
    filename = f"transkrip-{datetime.now(UTC):%Y%m%d-%H%M%S}.{fmt}"
    if fmt == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by _file_chunks, or below)
        try:
            export_counts(
                db, filters, fmt, spool, actor=actor, include_contacts=include_contacts, secret=secret
            )
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return _file_chunks(spool), MIMETYPES[fmt], filename
    present = _Present(include_contacts, secret)
    audit_id = _audit_start(db, actor, filters, fmt, include_contacts)
    return _streamed(db, filters, fmt, present, audit_id), MIMETYPES[fmt], filename


def _streamed(db: Database, filters: Filters, fmt: str, present: _Present, audit_id: int) -> Iterator[bytes]:
    counts, complete = Counts(), False
    try:
        yield from _text_chunks(db, filters, fmt, present, counts)
        complete = True
    finally:
        _audit_end(db, audit_id, counts, complete)


def _file_chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(CHUNK):
            yield chunk
