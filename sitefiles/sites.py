"""Read and validate the sites file (sites.toml): sites, their numbers and areas.

Pure parsing, no database: `read_sites` returns frozen specs or raises one
`SitesFileError` listing every problem with its line, so an operator can fix the
whole file in one pass instead of one error per run.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers

from sitefiles.tomlfile import FieldChecker, TablePos, TomlFile, TomlFileError, did_you_mean, read_toml

__all__ = [
    "WHATSAPP",
    "AreaSpec",
    "SiteSpec",
    "SitesFileError",
    "fold_name",
    "normalise_number",
    "read_sites",
]


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
    practice: tuple[str, ...] = ()  # residents' numbers KK members text from in role-play


class SitesFileError(TomlFileError):
    """Every problem found in a sites file, as (line, reason) pairs sorted by line."""


SITE_FIELDS = ("prefix", "name", "province", "region_code", "timezone", "numbers", "practice", "area")
AREA_FIELDS = ("name", "kecamatan", "code", "aliases")
WHATSAPP = "whatsapp:"
DEFAULT_REGION = "ID"  # numbers written as 0812... are Indonesian

_PREFIX_RE = re.compile(r"[A-Z]{2,5}")
_REGION_RE = re.compile(r"\d{2}(\.\d{2}){0,2}")
_AREA_CODE_RE = re.compile(r"\d{2}\.\d{2}\.\d{2}\.\d{4}")


# --------------------------------------------------------------------------- validation


def fold_name(name: str) -> str:
    """Comparison key for names: case and spacing do not make two areas different."""
    return "".join(name.casefold().split())


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


class _SitesChecker(FieldChecker):
    """Checks every [[site]] and its [[site.area]]s; uniqueness across sites is kept on self."""

    def __init__(self, doc: TomlFile) -> None:
        super().__init__(doc)
        self.prefixes: dict[str, int] = {}  # prefix -> line of its site
        self.number_owner: dict[str, tuple[str, int]] = {}  # E.164 -> (site label, line)
        self.codes: dict[str, tuple[str, int]] = {}  # area code -> (area name, line)

    def check(self) -> list[SiteSpec]:
        specs: list[SiteSpec] = []
        for i, site in enumerate(self.tables("site", "sites", "add a [[site]] table")):
            spec = self.check_site(site, self.table_for(self.doc.tables, i, self.doc.top.get("site", 1)))
            if spec is not None:
                specs.append(spec)
        return specs

    def unknown(self, table: dict[str, Any], allowed: tuple[str, ...], where: TablePos, what: str) -> None:
        for key in table:
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                if key == "areas":
                    hint = " (areas are written as [[site.area]] tables)"
                self.err(self.line(where, key), f"unknown field '{key}' in {what}{hint}")

    # ------------------------------------------------------------------ one site

    def check_site(self, site: dict[str, Any], where: TablePos) -> SiteSpec | None:
        """The site's spec, or None when it has any problem (each one reported)."""
        errors_before = len(self.errors)
        self.unknown(site, SITE_FIELDS, where, "[[site]]")
        prefix = self.prefix(site, where)
        label = f"site {prefix}" if prefix else f"the site at line {where.line}"
        name = self.text(site, "name", where, required=True)
        province = self.text(site, "province", where, required=False) or ""
        region = self.region(site, where)
        tz = self.text(site, "timezone", where, required=True)
        if tz is not None and (problem := _timezone_error(tz)):
            self.err(self.line(where, "timezone"), problem)
        numbers = self.numbers(site, where, label)
        practice = self.practice(site, where, label, numbers)
        areas = self.check_areas(site, where, label, region)
        if len(self.errors) > errors_before or prefix is None or name is None or tz is None:
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
            practice=tuple(practice),
        )

    def prefix(self, site: dict[str, Any], where: TablePos) -> str | None:
        """The prefix as written (even when wrong, it names the site in later errors)."""
        prefix = self.text(site, "prefix", where, required=True)
        if prefix is None:
            return None
        line = self.line(where, "prefix")
        if not _PREFIX_RE.fullmatch(prefix):
            self.err(line, f"prefix '{prefix}' must be 2 to 5 capital letters A-Z, e.g. \"PRE\"")
        elif prefix in self.prefixes:
            self.err(line, f"prefix '{prefix}' is already used by the site at line {self.prefixes[prefix]}")
        else:
            self.prefixes[prefix] = where.line
        return prefix

    def region(self, site: dict[str, Any], where: TablePos) -> str:
        """The region code, or "" when absent or wrong (so area codes are not checked against it)."""
        region = self.text(site, "region_code", where, required=False) or ""
        if region and not _REGION_RE.fullmatch(region):
            self.err(
                self.line(where, "region_code"),
                f"region_code '{region}' must be a Kemendagri code like \"73.72\" "
                '(kota/kabupaten) or "52.03.05" (kecamatan)',
            )
            return ""
        return region

    def numbers(self, site: dict[str, Any], where: TablePos, label: str) -> list[str]:
        """The site's numbers in E.164; each may be listed once and belong to one site only."""
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
            # SMS and WhatsApp on one number are the same line, so ownership ignores the channel.
            bare = number.removeprefix(WHATSAPP)
            owner = self.number_owner.get(bare)
            if owner and owner[0] != label:
                self.err(
                    line,
                    f"number '{raw}' is already claimed by {owner[0]} "
                    f"(line {owner[1]}); a number can belong to one site only",
                )
            else:
                self.number_owner.setdefault(bare, (label, line))
        return numbers

    def practice(self, site: dict[str, Any], where: TablePos, label: str, numbers: list[str]) -> list[str]:
        """Practice numbers in E.164 without the channel (the sender's number, SMS or WhatsApp);
        never one of the hotline's own numbers, each listed once."""
        practice: list[str] = []
        own = {n.removeprefix(WHATSAPP) for n in numbers}
        for raw in self.text_list(site, "practice", where):
            line = self.value_line(where, "practice", raw)
            try:
                number = normalise_number(raw).removeprefix(WHATSAPP)
            except ValueError as exc:
                self.err(line, str(exc))
                continue
            if number in practice:
                self.err(line, f"practice number '{raw}' is listed twice in {label}")
            elif number in own:
                self.err(line, f"practice number '{raw}' is a hotline number of {label}")
            else:
                practice.append(number)
        return practice

    # ------------------------------------------------------------------ its areas

    def check_areas(self, site: dict[str, Any], where: TablePos, label: str, region: str) -> list[AreaSpec]:
        raw_areas = site.get("area", [])
        if not isinstance(raw_areas, list) or not all(isinstance(a, dict) for a in raw_areas):
            self.err(self.line(where, "area"), "areas must be written as [[site.area]] tables")
            return []
        if not raw_areas:
            self.err(where.line, f"{label} has no areas: add at least one [[site.area]] table below it")
            return []
        areas: list[AreaSpec] = []
        names: dict[str, tuple[str, int]] = {}  # folded name or alias -> (area name, line)
        for j, area in enumerate(raw_areas):
            at = self.table_for(where.children, j, where.line)
            spec = self.check_area(area, at, label, region, names)
            if spec is not None:
                areas.append(spec)
        return areas

    def check_area(
        self,
        area: dict[str, Any],
        at: TablePos,
        label: str,
        region: str,
        names: dict[str, tuple[str, int]],
    ) -> AreaSpec | None:
        """The area's spec; None only without a name (other problems are reported, not fatal here:
        the whole site is dropped by check_site anyway)."""
        self.unknown(area, AREA_FIELDS, at, "[[site.area]]")
        name = self.text(area, "name", at, required=True)
        kecamatan = self.text(area, "kecamatan", at, required=False) or ""
        code = self.text(area, "code", at, required=False) or None
        aliases = self.text_list(area, "aliases", at)
        if name is None:
            return None
        self.area_name(name, at, label, names)
        if code is not None:
            self.area_code(code, name, at, region)
        kept = self.aliases(name, aliases, at, names)
        return AreaSpec(name=name, kecamatan=kecamatan, code=code, aliases=tuple(kept), line=at.line)

    def area_name(self, name: str, at: TablePos, label: str, names: dict[str, tuple[str, int]]) -> None:
        name_line = self.line(at, "name")
        key = fold_name(name)
        if key in names:
            other, line = names[key]
            what = "area" if fold_name(other) == key else f"an alias of area '{other}'"
            self.err(
                name_line,
                f"area '{name}' is already listed in {label} as {what} "
                f"(line {line}); names are compared ignoring capitals and spaces",
            )
        else:
            names[key] = (name, name_line)

    def area_code(self, code: str, name: str, at: TablePos, region: str) -> None:
        code_line = self.line(at, "code")
        if not _AREA_CODE_RE.fullmatch(code):
            self.err(
                code_line,
                f"code '{code}' must be a Kemendagri code like "
                '"73.72.01.1004"; leave it out if you do not know it',
            )
        elif region and not code.startswith(region + "."):
            self.err(code_line, f"code '{code}' is outside the site's region_code '{region}'")
        elif code in self.codes:
            other, line = self.codes[code]
            self.err(code_line, f"code '{code}' is already used by area '{other}' (line {line})")
        else:
            self.codes[code] = (name, code_line)

    def aliases(
        self, name: str, aliases: list[str], at: TablePos, names: dict[str, tuple[str, int]]
    ) -> list[str]:
        """The aliases to keep; one that another area of the site also answers to is an error."""
        kept: list[str] = []
        spelled = {" ".join(name.casefold().split())}
        mine = {fold_name(name)}  # folded forms that belong to this area
        for raw_alias in aliases:
            alias = " ".join(raw_alias.split())
            line = self.value_line(at, "aliases", raw_alias)
            folded = fold_name(alias)
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
        return kept


# --------------------------------------------------------------------------- entry point


def read_sites(path: str | Path) -> list[SiteSpec]:
    """Parse and validate a sites file; raise SitesFileError listing every problem."""
    path = Path(path)
    # A [site.x] header stands for the site's key x, so e.g. a misplaced [site.areas] is placed.
    doc = read_toml(path, SitesFileError, "site", child="area", subtable_keys=True)
    checker = _SitesChecker(doc)
    specs = checker.check()
    if checker.errors:
        raise SitesFileError(path, checker.errors)
    return specs
