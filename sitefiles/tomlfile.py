"""Reading a sites or members file: its TOML data, the line of every table and key, and the
field checks both files share.

tomllib gives values but no positions, so a light scan of the text finds the line of each
[[table]] and key; every problem is then reported at a line an operator can find, and all
of them are collected so the whole file can be fixed in one pass.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FieldChecker",
    "TablePos",
    "TomlFile",
    "TomlFileError",
    "did_you_mean",
    "read_toml",
    "scan_tables",
]


class TomlFileError(ValueError):
    """Every problem found in a file, as (line, reason) pairs sorted by line; line 0 is the file."""

    def __init__(self, path: str | Path, errors: list[tuple[int, str]]) -> None:
        self.path = str(path)
        self.errors = sorted(errors, key=lambda e: e[0])
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}:{line}: {reason}" if line else f"{self.path}: {reason}"
            for line, reason in self.errors
        )


def did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --------------------------------------------------------------------------- reading


_TOML_POS_RE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")

# tomllib's messages are terse; add what a non-programmer usually did wrong. `{table}` is the
# file's table name, so the hint shows [[site]] or [[member]].
_TOML_HINTS = (
    ("Invalid value", 'text must be in double quotes, e.g. name = "Lompoe", lists in [ ]'),
    ("Cannot overwrite a value", "this field is already set earlier in the same table"),
    ("Cannot declare", "this table is declared twice; use [[{table}]] for every {table}"),
    ("Expected '=' after a key", 'each line must look like key = value, e.g. name = "Lompoe"'),
    ("Illegal character", "a quote may be missing at the end of the text"),
    ("Unclosed array", "a list is missing its closing ]"),
)


@dataclass
class TablePos:
    """Where one TOML table sits in the text: header line, key lines, end line."""

    line: int
    end: int = 0  # first line after the table; 0 when unknown (a stand-in table)
    keys: dict[str, int] = field(default_factory=dict)
    children: list[TablePos] = field(default_factory=list)  # e.g. the [[site.area]] of a [[site]]


@dataclass
class TomlFile:
    """A parsed file with the positions its checks report problems at."""

    lines: list[str]
    data: dict[str, Any]
    tables: list[TablePos]  # the n-th [[table]] of the file, in order
    top: dict[str, int]  # top-level key or other table -> its first line


def _syntax_error(exc: tomllib.TOMLDecodeError, n_lines: int, table: str) -> tuple[int, str]:
    """tomllib's error as (line, reason): position moved out of the text, a hint added."""
    message = str(exc)
    line, column = n_lines or 1, None
    if m := _TOML_POS_RE.search(message):
        message = message[: m.start()]
        if m.group(1):
            line, column = int(m.group(1)), int(m.group(2))
    hint = next((h.format(table=table) for key, h in _TOML_HINTS if message.startswith(key)), "")
    where = f" at column {column}" if column else " at the end of the file"
    return line, f"TOML syntax error{where}: {message}" + (f" ({hint})" if hint else "")


def read_toml(
    path: Path,
    error: type[TomlFileError],
    table: str,
    *,
    child: str | None = None,
    subtable_keys: bool = False,
) -> TomlFile:
    """The file's data and positions of its [[table]]s (see `scan_tables`), or `error` naming
    the line when it cannot be read or is not TOML."""
    try:
        # utf-8-sig: Windows editors put a BOM in front, which TOML itself rejects.
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise error(path, [(0, f"cannot read the file: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise error(path, [(line, "the file is not UTF-8 text; save it as UTF-8")]) from exc
    lines = text.splitlines()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(path, [_syntax_error(exc, len(lines), table)]) from exc
    tables, top = scan_tables(lines, table, child=child, subtable_keys=subtable_keys)
    return TomlFile(lines, data, tables, top)


# --------------------------------------------------------------------------- line map


_ANY_HDR = re.compile(r"\[\[?\s*([A-Za-z0-9_-]+)")
_KEY = re.compile(r"\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_-]+))\s*=")


def _array_header(*names: str) -> re.Pattern[str]:
    """[[name]] or [[name.child]], spaces allowed around the names and dots."""
    dotted = r"\s*\.\s*".join(re.escape(n) for n in names)
    return re.compile(rf"\[\[\s*{dotted}\s*\]\]")


def _subtable_header(name: str) -> re.Pattern[str]:
    """[name.x] or [[name.x]], capturing x."""
    return re.compile(rf"\[\[?\s*{re.escape(name)}\s*\.\s*([A-Za-z0-9_-]+)\s*\]\]?")


@dataclass
class _Scan:
    """State of `scan_tables` while it walks the lines."""

    tables: list[TablePos] = field(default_factory=list)
    top: dict[str, int] = field(default_factory=dict)
    current: TablePos | None = None  # the table keys go to; None: the top level
    open_tables: list[TablePos] = field(default_factory=list)  # tables whose end is not known yet

    def close(self, lineno: int) -> None:
        for t in self.open_tables:
            t.end = lineno
        self.open_tables.clear()

    def start(self, table: TablePos, siblings: list[TablePos]) -> None:
        siblings.append(table)
        self.current = table
        self.open_tables.append(table)


def scan_tables(
    lines: list[str], table: str, *, child: str | None = None, subtable_keys: bool = False
) -> tuple[list[TablePos], dict[str, int]]:
    """The n-th [[table]] (and its [[table.child]]s) with its key lines, and the top-level lines.

    With `subtable_keys`, a [table.x] header inside a table stands for its key x. Other headers
    and their keys count as top level. Multi-line strings are skipped, so a header-looking line
    inside one is not counted.
    """
    table_hdr = _array_header(table)
    child_hdr = _array_header(table, child) if child else None
    sub_hdr = _subtable_header(table) if subtable_keys else None
    scan = _Scan()
    in_string: str | None = None
    for lineno, raw in enumerate(lines, start=1):
        if in_string:
            if raw.count(in_string) % 2 == 1:
                in_string = None
            continue
        text = raw.strip()
        if text.startswith("["):
            scan.close(lineno)
            if child_hdr and child_hdr.match(text) and scan.tables:
                scan.start(TablePos(lineno), scan.tables[-1].children)
            elif table_hdr.match(text):
                scan.start(TablePos(lineno), scan.tables)
            elif sub_hdr and (m := sub_hdr.match(text)) and scan.tables:
                scan.tables[-1].keys.setdefault(m.group(1), lineno)
                scan.current = None
            else:
                if m := _ANY_HDR.match(text):
                    scan.top.setdefault(m.group(1), lineno)
                scan.current = None
            continue
        if m := _KEY.match(raw):
            key = m.group(1) or m.group(2) or m.group(3)
            (scan.current.keys if scan.current is not None else scan.top).setdefault(key, lineno)
        for quote in ('"""', "'''"):
            if raw.count(quote) % 2 == 1:
                in_string = quote
                break
    scan.close(len(lines) + 1)
    return scan.tables, scan.top


def _value_lines(lines: list[str], table: TablePos, key: str, raw: str) -> list[int]:
    """Lines holding the literal "raw" inside `table`, one entry per occurrence."""
    start = table.keys.get(key, table.line)
    found: list[int] = []
    for lineno in range(start, table.end or len(lines) + 1):
        line = lines[lineno - 1]
        found += [lineno] * (line.count(f'"{raw}"') + line.count(f"'{raw}'"))
    return found


# --------------------------------------------------------------------------- field checks


class FieldChecker:
    """Collects (line, reason) errors while reading typed fields of a file's tables."""

    def __init__(self, doc: TomlFile) -> None:
        self.doc = doc
        self.errors: list[tuple[int, str]] = []
        self._looked_up: dict[tuple[int, str, str], int] = {}

    def err(self, line: int, reason: str) -> None:
        self.errors.append((line, reason))

    def line(self, where: TablePos, key: str) -> int:
        """Line of `key` in the table, else of the table's header (a missing key)."""
        return where.keys.get(key, where.line)

    def value_line(self, table: TablePos, key: str, raw: str) -> int:
        """Line of a list element (a number, an alias), else of its key.

        The k-th time the same text is looked up in a table it maps to its k-th
        occurrence, so a duplicate is reported where the repeat is, not the original.
        """
        occurrences = _value_lines(self.doc.lines, table, key, raw)
        seen = self._looked_up.setdefault((id(table), key, raw), 0)
        self._looked_up[(id(table), key, raw)] = seen + 1
        if occurrences:
            return occurrences[min(seen, len(occurrences) - 1)]
        return self.line(table, key)

    def text(self, table: dict[str, Any], key: str, where: TablePos, *, required: bool) -> str | None:
        """A string field, stripped; reports missing/mistyped and returns None then."""
        if key not in table:
            if required:
                self.err(where.line, f"missing field '{key}'")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.err(self.line(where, key), f"'{key}' must be text in double quotes, e.g. {key} = \"...\"")
            return None
        value = value.strip()
        if required and not value:
            self.err(self.line(where, key), f"'{key}' must not be empty")
            return None
        return value

    def text_list(self, table: dict[str, Any], key: str, where: TablePos) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.err(
                self.line(where, key),
                f"'{key}' must be a list of texts in double quotes, e.g. {key} = [\"...\"]",
            )
            return []
        return value

    def table_for(self, tables: list[TablePos], index: int, fallback: int) -> TablePos:
        """Position of the index-th parsed table; a stand-in at `fallback` if the scan missed it."""
        return tables[index] if index < len(tables) else TablePos(fallback)

    def tables(self, key: str, plural: str, empty: str) -> list[dict[str, Any]]:
        """The file's [[key]] tables, after reporting anything else at the top level; [] (and
        an error) when there are none or they are not written as tables."""
        data, top = self.doc.data, self.doc.top
        for other in data:
            if other != key:
                self.err(
                    top.get(other, 1),
                    f"unknown top-level entry '{other}'{did_you_mean(other, (key,))}; "
                    f"every {key} starts with [[{key}]]",
                )
        raw = data.get(key)
        if raw is None:
            self.err(1, f"no {plural}: {empty}")
            return []
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.err(top.get(key, 1), f"{plural} must be written as [[{key}]] tables")
            return []
        return raw
