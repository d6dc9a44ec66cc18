"""Transcript export: one implementation behind `hotline export` and the web console.

Formats (every time is the site's local time, ISO 8601 with its offset: 2026-11-23T21:05:09+08:00):

- ``csv``: one row per message, UTF-8 with a BOM (Excel then shows Indonesian text right), the
  message columns then the case's columns repeated on each row (`CSV_COLUMNS`); a case without
  messages still gets one row, with empty message columns. Cells starting with ``= + - @``, a
  tab or a carriage return get a leading ``'`` (OWASP CSV injection): Excel shows them as text.
- ``jsonl``: one JSON object per line: ``{"type": "case", ...}`` for every case first, then
  ``{"type": "message", ...}`` for every message; booleans, numbers, lists and nulls as such.
- ``xlsx``: sheets ``cases`` (`CASE_COLUMNS`) and ``messages`` (`MESSAGE_COLUMNS`), written by
  XlsxWriter in constant-memory mode (rows go straight to disk); text always stored as text, never
  as a formula; characters a worksheet cannot hold (control characters) dropped.

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

from bot.render.redact import pseudonym, redact
from storage import audit, sitetime
from storage.db import Database
from storage.models import User
from storage.transcripts import CaseRow, Filters, MessageRow, Session, cases, messages, snapshot

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
    "came_by",  # the case's channel (MESSAGE_COLUMNS' "channel" is each message's)
    "taken_by",
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
_XLSX_CELL = 32_767  # UTF-16 units in one cell
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
# The loops below run once per message (a million in a year's export): they avoid a Python call
# per value where one per row will do.


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
            c.came_by,
            redact(c.taken_by, ()) if c.taken_by else None,  # a name, never a number
        )

    def message(self, m: MessageRow) -> tuple[Any, ...]:
        resident = self.resident(m.contact_id, m.phone, m.names)
        member = m.member or "member"
        party = resident if m.party == "resident" else member if m.party == "member" else m.party
        to = "hotline" if m.direction == "in" else resident if m.to_resident else member
        return (
            m.case_code,
            sitetime.local(m.created_at, m.timezone).isoformat(timespec="seconds"),  # never NULL
            m.direction,
            party,
            to,
            m.channel,
            m.body if self.include_contacts else redact(m.body, m.names),
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
    if type(value) is str:  # most values: one test, then the string checks
        if "\x00" in value:
            value = value.replace("\x00", "")
        return "'" + value if value.startswith(_FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return _csv_value("; ".join(value))
    return value


def _json_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class _Buffer(io.StringIO):
    def take(self) -> bytes:
        data = self.getvalue().encode("utf-8", "replace")
        self.seek(0)
        self.truncate()
        return data


def _csv_chunks(session: Session, filters: Filters, present: _Present, counts: Counts) -> Iterator[bytes]:
    """One row per message with its case's columns, which are the same on each of the case's rows:
    they are written once per case (`tail`) and appended to each message's own columns."""
    buffer = _Buffer()
    writer = csv.writer(buffer)
    yield BOM
    writer.writerow(CSV_COLUMNS)
    contacts = present.include_contacts
    pairs = _paired(cases(session, filters, contacts=contacts), messages(session, filters, contacts=contacts))
    blank = ("",) * (len(MESSAGE_COLUMNS) - 1)
    last: CaseRow | None = None
    tail = empty = _csv_tail(None, present)
    csv_message, write = present.message, writer.writerow
    for case, message in pairs:
        if case is not last:  # a new case, or None: a message without its case
            last = case
            counts.cases += case is not None
            tail = _csv_tail(case, present) if case else empty
        if message is None:
            assert case is not None
            write((_csv_value(case.code), *blank))
        else:
            counts.messages += 1
            # _csv_value only where it changes something: most values are plain, harmless text.
            write([v if v.__class__ is str and not v.startswith(_FORMULA_START) and "\x00" not in v
                   else _csv_value(v) for v in csv_message(message)])  # fmt: skip
        # The writer ended the row with its "\r\n": the case's columns go in its place.
        buffer.seek(buffer.tell() - 2)
        buffer.write(tail)
        if buffer.tell() >= CHUNK:
            yield buffer.take()
    yield buffer.take()


def _csv_tail(case: CaseRow | None, present: _Present) -> str:
    """The case's columns as CSV, from the comma that joins them to a message's to the line end."""
    line = io.StringIO()
    values = present.case(case)[1:] if case else ("",) * (len(CASE_COLUMNS) - 1)
    csv.writer(line).writerow(("", *map(_csv_value, values)))
    return line.getvalue()


def _jsonl_chunks(session: Session, filters: Filters, present: _Present, counts: Counts) -> Iterator[bytes]:
    buffer = _Buffer()
    encode = json.JSONEncoder(ensure_ascii=False).encode
    contacts = present.include_contacts
    for case in cases(session, filters, contacts=contacts):
        counts.cases += 1
        values = ("case", *map(_json_value, present.case(case)))
        buffer.write(encode(dict(zip(CASE_KEYS, values, strict=True))))
        buffer.write("\n")
        if buffer.tell() >= CHUNK:
            yield buffer.take()
    json_message, write = present.message, buffer.write
    for message in messages(session, filters, contacts=contacts):
        counts.messages += 1
        write(encode(dict(zip(MESSAGE_KEYS, ("message", *json_message(message)), strict=True))))
        write("\n")
        if buffer.tell() >= CHUNK:
            yield buffer.take()
    yield buffer.take()


def _text_chunks(
    db: Database, filters: Filters, fmt: str, present: _Present, counts: Counts
) -> Iterator[bytes]:
    """CSV or JSON Lines, `CHUNK` bytes at a time, read from one snapshot."""
    chunks = _csv_chunks if fmt == "csv" else _jsonl_chunks
    with snapshot(db) as session:
        for chunk in chunks(session, filters, present, counts):
            if chunk:
                yield chunk


def _xlsx_value(value: Any) -> Any:
    """Text as a worksheet can hold it: control characters dropped (no valid XML holds them), at
    most the 32,767 UTF-16 units a cell holds (XlsxWriter would cut it too, but then stop the row)."""
    if type(value) is str:
        if not value.isprintable():  # cheap, and true of any text without control characters
            value = _ILLEGAL_XML.sub("", value)
        if len(value) > _XLSX_CELL // 2 and len(value.encode("utf-16-le")) > 2 * _XLSX_CELL:
            value = value.encode("utf-16-le")[: 2 * _XLSX_CELL].decode("utf-16-le", "ignore")
        return value
    return "; ".join(value) if isinstance(value, tuple) else value


def _sheet(workbook: Any, title: str, columns: tuple[str, ...]) -> Callable[[Iterable[Any]], None]:
    """A worksheet's header written; the function that appends a row to it."""
    sheet = workbook.add_worksheet(title)
    for i, name in enumerate(columns):
        sheet.set_column(i, i, _XLSX_WIDTHS.get(name, 14))
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, columns)
    row = 0

    def append(values: Iterable[Any]) -> None:
        nonlocal row
        row += 1
        if sheet.write_row(row, 0, list(map(_xlsx_value, values))) == -1:
            raise ValueError(f"more rows than one worksheet holds ({row:,}): export CSV or JSON Lines")

    return append


def _write_xlsx(db: Database, filters: Filters, present: _Present, counts: Counts, out: IO[bytes]) -> None:
    """XlsxWriter in constant-memory mode: each row goes to a temporary file once the next begins.
    Strings are never taken for formulas, URLs or numbers: text stays text ('=...' included)."""
    import xlsxwriter  # here: only an XLSX export needs it

    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    workbook = xlsxwriter.Workbook(out, options)
    contacts = present.include_contacts
    try:
        with snapshot(db) as session:
            append = _sheet(workbook, "cases", CASE_COLUMNS)
            for case in cases(session, filters, contacts=contacts):
                counts.cases += 1
                append(present.case(case))
            append, xlsx_message = _sheet(workbook, "messages", MESSAGE_COLUMNS), present.message
            for message in messages(session, filters, contacts=contacts):
                counts.messages += 1
                append(xlsx_message(message))
    finally:
        workbook.close()


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
