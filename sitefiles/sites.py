"""Read and validate the sites file (sites.toml): sites, their numbers and areas.

Pure parsing, no database: `read_sites` returns frozen specs or raises one
`SitesFileError` listing every problem with its line, so an operator can fix the
whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

__all__ = ["AreaSpec", "SiteSpec", "SitesFileError", "normalise_number", "read_sites"]


@dataclass(frozen=True)
class AreaSpec:
    name: str
    kecamatan: str
    code: str | None
    aliases: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class SiteSpec:
    prefix: str
    name: str
    region_code: str
    timezone: str
    numbers: tuple[str, ...]
    areas: tuple[AreaSpec, ...]
    line: int
    province: str = ""


class SitesFileError(ValueError):
    """Every problem found in a sites file, as (line, reason) pairs sorted by line."""

    def __init__(self, path: str | Path, errors: list[tuple[int, str]]) -> None:
        self.path = str(path)
        self.errors = sorted(errors, key=lambda e: e[0])
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(
            f"{self.path}:{line}: {reason}" if line else f"{self.path}: {reason}"
            for line, reason in self.errors
        )


SITE_FIELDS = ("prefix", "name", "province", "region_code", "timezone", "numbers", "area")
AREA_FIELDS = ("name", "kecamatan", "code", "aliases")
WHATSAPP = "whatsapp:"
DEFAULT_REGION = "ID"  # numbers written as 0812... are Indonesian

_PREFIX_RE = re.compile(r"[A-Z]{2,5}")
_REGION_RE = re.compile(r"\d{2}(\.\d{2}){0,2}")
_AREA_CODE_RE = re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}")
_TOML_POS_RE = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")

# tomllib's messages are terse; add what a non-programmer usually did wrong.
_TOML_HINTS = (
    ("Invalid value", 'text must be in double quotes, e.g. name = "Lompoe", lists in [ ]'),
    ("Cannot overwrite a value", "this field is already set earlier in the same table"),
    ("Cannot declare", "this table is declared twice; use [[site]] for every site"),
    ("Expected '=' after a key", 'each line must look like key = value, e.g. name = "Lompoe"'),
    ("Illegal character", "a quote may be missing at the end of the text"),
    ("Unclosed array", "a list is missing its closing ]"),
)


# --------------------------------------------------------------------------- line map


@dataclass
class _Table:
    """Where one TOML table sits in the text: header line, key lines, end line."""

    line: int
    end: int = 0  # first line after the table
    keys: dict[str, int] = field(default_factory=dict)
    areas: list[_Table] = field(default_factory=list)


_SITE_HDR = re.compile(r"\[\[\s*site\s*\]\]")
_AREA_HDR = re.compile(r"\[\[\s*site\s*\.\s*area\s*\]\]")
_SITE_SUB_HDR = re.compile(r"\[\[?\s*site\s*\.\s*([A-Za-z0-9_-]+)\s*\]\]?")
_ANY_HDR = re.compile(r"\[\[?\s*([A-Za-z0-9_-]+)")
_KEY = re.compile(r"\s*(?:\"([^\"]+)\"|'([^']+)'|([A-Za-z0-9_-]+))\s*=")


def _scan(lines: list[str]) -> tuple[list[_Table], dict[str, int]]:
    """Map the n-th [[site]] / [[site.area]] header to its line, and keys to theirs.

    tomllib gives no positions for parsed values, so semantic errors are placed by
    counting headers in the text; multi-line strings are skipped so a header-looking
    line inside one is not counted.
    """
    sites: list[_Table] = []
    top: dict[str, int] = {}
    current: _Table | None = None
    open_tables: list[_Table] = []
    in_string: str | None = None

    def close(lineno: int) -> None:
        for t in open_tables:
            t.end = lineno
        open_tables.clear()

    for lineno, raw in enumerate(lines, start=1):
        if in_string:
            if raw.count(in_string) % 2 == 1:
                in_string = None
            continue
        text = raw.strip()
        if text.startswith("["):
            close(lineno)
            if _AREA_HDR.match(text) and sites:
                current = _Table(lineno)
                sites[-1].areas.append(current)
                open_tables.append(current)
            elif _SITE_HDR.match(text):
                current = _Table(lineno)
                sites.append(current)
                open_tables.append(current)
            elif (m := _SITE_SUB_HDR.match(text)) and sites:
                sites[-1].keys.setdefault(m.group(1), lineno)
                current = None
            else:
                if m := _ANY_HDR.match(text):
                    top.setdefault(m.group(1), lineno)
                current = None
            continue
        if m := _KEY.match(raw):
            key = m.group(1) or m.group(2) or m.group(3)
            (current.keys if current is not None else top).setdefault(key, lineno)
        for quote in ('"""', "'''"):
            if raw.count(quote) % 2 == 1:
                in_string = quote
                break
    close(len(lines) + 1)
    return sites, top


def _value_lines(lines: list[str], table: _Table, key: str, raw: str) -> list[int]:
    """Lines holding the literal "raw" inside `table`, one entry per occurrence."""
    start = table.keys.get(key, table.line)
    found: list[int] = []
    for lineno in range(start, table.end or len(lines) + 1):
        line = lines[lineno - 1]
        found += [lineno] * (line.count(f'"{raw}"') + line.count(f"'{raw}'"))
    return found


# --------------------------------------------------------------------------- validation


def _fold(name: str) -> str:
    """Comparison key for names: case and spacing do not make two areas different."""
    return "".join(name.casefold().split())


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def normalise_number(raw: str) -> str:
    """'0812 3456 7890' -> '+6281234567890'; keeps a 'whatsapp:' prefix. Raises ValueError."""
    text = raw.strip()
    channel = ""
    if text.lower().startswith(WHATSAPP):
        channel, text = WHATSAPP, text[len(WHATSAPP) :].strip()
    how = 'write it as "+62..." (SMS) or "whatsapp:+62..." (WhatsApp)'
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(f"number '{raw}' cannot be read as a phone number; {how}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"number '{raw}' is not a valid phone number: check the digits; {how}")
    return channel + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _timezone_error(tz: str) -> str | None:
    try:
        zoneinfo.ZoneInfo(tz)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(tz, sorted(zoneinfo.available_timezones()), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"timezone '{tz}' is not a known time zone; {hint}Indonesia uses "
        "'Asia/Jakarta' (WIB), 'Asia/Makassar' (WITA) or 'Asia/Jayapura' (WIT)"
    )


class _Checker:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.errors: list[tuple[int, str]] = []
        self.sites_map, self.top_map = _scan(lines)
        self._looked_up: dict[tuple[int, str, str], int] = {}

    def err(self, line: int, reason: str) -> None:
        self.errors.append((line, reason))

    def value_line(self, table: _Table, key: str, raw: str) -> int:
        """Line of a list element (a number, an alias), else of its key.

        The k-th time the same text is looked up in a table it maps to its k-th
        occurrence, so a duplicate is reported where the repeat is, not the original.
        """
        occurrences = _value_lines(self.lines, table, key, raw)
        seen = self._looked_up.setdefault((id(table), key, raw), 0)
        self._looked_up[(id(table), key, raw)] = seen + 1
        if occurrences:
            return occurrences[min(seen, len(occurrences) - 1)]
        return table.keys.get(key, table.line)

    def text(self, table: dict[str, Any], key: str, where: _Table, *, required: bool) -> str | None:
        """A string field, stripped; reports missing/mistyped and returns None then."""
        if key not in table:
            if required:
                self.err(where.line, f"missing field '{key}'")
            return None
        value = table[key]
        if not isinstance(value, str):
            self.err(
                where.keys.get(key, where.line),
                f"'{key}' must be text in double quotes, e.g. {key} = \"...\"",
            )
            return None
        value = value.strip()
        if required and not value:
            self.err(where.keys.get(key, where.line), f"'{key}' must not be empty")
            return None
        return value

    def text_list(self, table: dict[str, Any], key: str, where: _Table) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.err(
                where.keys.get(key, where.line),
                f"'{key}' must be a list of texts in double quotes, e.g. {key} = [\"...\"]",
            )
            return []
        return value

    def unknown(self, table: dict[str, Any], allowed: tuple[str, ...], where: _Table, what: str) -> None:
        for key in table:
            if key not in allowed:
                hint = _suggest(key, allowed)
                if key == "areas":
                    hint = " (areas are written as [[site.area]] tables)"
                self.err(where.keys.get(key, where.line), f"unknown field '{key}' in {what}{hint}")

    def table_for(self, tables: list[_Table], index: int, fallback: int) -> _Table:
        return tables[index] if index < len(tables) else _Table(fallback)

    def tables(self, data: dict[str, Any], key: str, plural: str, empty: str) -> list[dict[str, Any]]:
        """The file's [[key]] tables, after reporting anything else at the top level; [] (and
        an error) when there are none or they are not written as tables."""
        for other in data:
            if other != key:
                self.err(
                    self.top_map.get(other, 1),
                    f"unknown top-level entry '{other}'{_suggest(other, (key,))}; "
                    f"every {key} starts with [[{key}]]",
                )
        raw = data.get(key)
        if raw is None:
            self.err(1, f"no {plural}: {empty}")
            return []
        if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
            self.err(self.top_map.get(key, 1), f"{plural} must be written as [[{key}]] tables")
            return []
        return raw

    def check(self, data: dict[str, Any]) -> list[SiteSpec]:
        raw_sites = self.tables(data, "site", "sites", "add a [[site]] table")

        specs: list[SiteSpec] = []
        prefixes: dict[str, int] = {}
        number_owner: dict[str, tuple[str, int]] = {}  # E.164 -> (site label, line)
        codes: dict[str, tuple[str, int]] = {}
        for i, site in enumerate(raw_sites):
            where = self.table_for(self.sites_map, i, self.top_map.get("site", 1))
            spec = self.check_site(site, where, prefixes, number_owner, codes)
            if spec is not None:
                specs.append(spec)
        return specs

    def check_site(
        self,
        site: dict[str, Any],
        where: _Table,
        prefixes: dict[str, int],
        number_owner: dict[str, tuple[str, int]],
        codes: dict[str, tuple[str, int]],
    ) -> SiteSpec | None:
        ok_before = len(self.errors)
        self.unknown(site, SITE_FIELDS, where, "[[site]]")

        prefix = self.text(site, "prefix", where, required=True)
        if prefix is not None:
            line = where.keys.get("prefix", where.line)
            if not _PREFIX_RE.fullmatch(prefix):
                self.err(line, f"prefix '{prefix}' must be 2 to 5 capital letters A-Z, e.g. \"PRE\"")
            elif prefix in prefixes:
                self.err(
                    line,
                    f"prefix '{prefix}' is already used by the site at line {prefixes[prefix]}",
                )
            else:
                prefixes[prefix] = where.line
        label = f"site {prefix}" if prefix else f"the site at line {where.line}"

        name = self.text(site, "name", where, required=True)
        province = self.text(site, "province", where, required=False) or ""
        region = self.text(site, "region_code", where, required=False) or ""
        if region and not _REGION_RE.fullmatch(region):
            self.err(
                where.keys.get("region_code", where.line),
                f"region_code '{region}' must be a Kemendagri code like \"73.72\" "
                '(kota/kabupaten) or "52.03.05" (kecamatan)',
            )
            region = ""
        tz = self.text(site, "timezone", where, required=True)
        if tz is not None and (problem := _timezone_error(tz)):
            self.err(where.keys.get("timezone", where.line), problem)

        numbers: list[str] = []
        for raw in self.text_list(site, "numbers", where):
            line = self.value_line(where, "numbers", raw)
            try:
                number = normalise_number(raw)
            except ValueError as exc:
                self.err(line, str(exc))
                continue
            if number in numbers:
                self.err(line, f"number '{raw}' is listed twice in {label}")
                continue
            numbers.append(number)
            bare = number.removeprefix(WHATSAPP)
            owner = number_owner.get(bare)
            if owner and owner[0] != label:
                self.err(
                    line,
                    f"number '{raw}' is already claimed by {owner[0]} "
                    f"(line {owner[1]}); a number can belong to one site only",
                )
            else:
                number_owner.setdefault(bare, (label, line))

        areas = self.check_areas(site, where, label, region, codes)
        if len(self.errors) > ok_before or prefix is None or name is None or tz is None:
            return None
        return SiteSpec(
            prefix=prefix,
            name=name,
            region_code=region,
            timezone=tz,
            numbers=tuple(numbers),
            areas=tuple(areas),
            line=where.line,
            province=province,
        )

    def check_areas(
        self,
        site: dict[str, Any],
        where: _Table,
        label: str,
        region: str,
        codes: dict[str, tuple[str, int]],
    ) -> list[AreaSpec]:
        raw_areas = site.get("area", [])
        if not isinstance(raw_areas, list) or not all(isinstance(a, dict) for a in raw_areas):
            self.err(where.keys.get("area", where.line), "areas must be written as [[site.area]] tables")
            return []
        if not raw_areas:
            self.err(where.line, f"{label} has no areas: add at least one [[site.area]] table below it")
            return []

        areas: list[AreaSpec] = []
        names: dict[str, tuple[str, int]] = {}  # folded name or alias -> (area name, line)
        for j, area in enumerate(raw_areas):
            at = self.table_for(where.areas, j, where.line)
            self.unknown(area, AREA_FIELDS, at, "[[site.area]]")
            name = self.text(area, "name", at, required=True)
            kecamatan = self.text(area, "kecamatan", at, required=False) or ""
            code = self.text(area, "code", at, required=False) or None
            aliases = self.text_list(area, "aliases", at)
            if name is None:
                continue
            name_line = at.keys.get("name", at.line)

            key = _fold(name)
            if key in names:
                other, line = names[key]
                what = "area" if _fold(other) == key else f"an alias of area '{other}'"
                self.err(
                    name_line,
                    f"area '{name}' is already listed in {label} as {what} "
                    f"(line {line}); names are compared ignoring capitals and spaces",
                )
            else:
                names[key] = (name, name_line)

            if code is not None:
                code_line = at.keys.get("code", at.line)
                if not _AREA_CODE_RE.fullmatch(code):
                    self.err(
                        code_line,
                        f"code '{code}' must be a Kemendagri code like "
                        '"73.72.01.1004"; leave it out if you do not know it',
                    )
                elif region and not code.startswith(region + "."):
                    self.err(code_line, f"code '{code}' is outside the site's region_code '{region}'")
                elif code in codes:
                    other, line = codes[code]
                    self.err(code_line, f"code '{code}' is already used by area '{other}' (line {line})")
                else:
                    codes[code] = (name, code_line)

            kept: list[str] = []
            spelled = {" ".join(name.casefold().split())}
            mine = {key}  # folded forms that belong to this area
            for raw_alias in aliases:
                alias = " ".join(raw_alias.split())
                line = self.value_line(at, "aliases", raw_alias)
                folded = _fold(alias)
                if not folded:
                    self.err(line, f"area '{name}' has an empty alias")
                    continue
                if folded not in mine and folded in names:
                    other, other_line = names[folded]
                    self.err(
                        line,
                        f"alias '{alias}' of area '{name}' is also used for area "
                        f"'{other}' (line {other_line}); residents typing it could "
                        "not be told apart",
                    )
                    continue
                mine.add(folded)
                names.setdefault(folded, (name, line))
                # "Paok Motong" for Paokmotong is kept (people write it so); a repeat of
                # the exact same spelling is dropped silently, it changes nothing.
                if alias.casefold() not in spelled:
                    spelled.add(alias.casefold())
                    kept.append(alias)
            areas.append(
                AreaSpec(name=name, kecamatan=kecamatan, code=code, aliases=tuple(kept), line=at.line)
            )
        return areas


# --------------------------------------------------------------------------- entry point


def _syntax_error(exc: tomllib.TOMLDecodeError, n_lines: int) -> tuple[int, str]:
    message = str(exc)
    line, column = n_lines or 1, None
    if m := _TOML_POS_RE.search(message):
        message = message[: m.start()]
        if m.group(1):
            line, column = int(m.group(1)), int(m.group(2))
    hint = next((h for key, h in _TOML_HINTS if message.startswith(key)), "")
    where = f" at column {column}" if column else " at the end of the file"
    return line, f"TOML syntax error{where}: {message}" + (f" ({hint})" if hint else "")


def read_toml(path: Path, error: type[SitesFileError], key: str) -> tuple[list[str], dict[str, Any]]:
    """The file's lines and TOML data, or `error` naming the line: shared by the sites and the
    members file, whose tables are [[key]]."""
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
        return lines, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, reason = _syntax_error(exc, len(lines))
        reason = reason.replace("[[site]] for every site", f"[[{key}]] for every {key}")
        raise error(path, [(line, reason)]) from exc


def read_sites(path: str | Path) -> list[SiteSpec]:
    """Parse and validate a sites file; raise SitesFileError listing every problem."""
    path = Path(path)
    lines, data = read_toml(path, SitesFileError, "site")
    checker = _Checker(lines)
    specs = checker.check(data)
    if checker.errors:
        raise SitesFileError(path, checker.errors)
    return specs
