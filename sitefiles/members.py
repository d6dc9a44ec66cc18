"""Read and validate the members file (members.toml): KK members and their weekly duty shifts.

Pure parsing, no database, like sitefiles/sites.py; both read through sitefiles/tomlfile.py:
`read_members` checks the file against the known sites and their areas (passed in) and
returns frozen specs, or raises one `MembersFileError` listing every problem with its line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitefiles.sites import WHATSAPP, SitesFileError, fold_name, normalise_number
from sitefiles.tomlfile import FieldChecker, TablePos, TomlFile, did_you_mean, read_toml

__all__ = [
    "DAY_ABBR",
    "DAY_NAMES",
    "ROLES",
    "KnownSites",
    "MemberSpec",
    "MembersFileError",
    "ShiftSpec",
    "format_shift",
    "format_shifts",
    "format_time",
    "parse_shift",
    "read_members",
]


@dataclass(frozen=True)
class ShiftSpec:
    """One weekly duty window in the site's local time; `end_minute <= start_minute` runs past
    midnight into the next day. Minutes count from 00:00; 1440 is 24:00."""

    weekday: int | None  # 0 Monday .. 6 Sunday; None every day
    start_minute: int
    end_minute: int


@dataclass(frozen=True)
class MemberSpec:
    site: str  # site prefix
    name: str
    phone: str  # E.164
    role: str
    area: str | None  # the area's official name, None for the whole site
    backup: bool
    channel: str
    active: bool
    shifts: tuple[ShiftSpec, ...]
    line: int


# A SitesFileError, so callers that catch the sites file's error catch this one too.
class MembersFileError(SitesFileError):
    """Every problem found in a members file, as (line, reason) pairs sorted by line."""


# Site prefix -> that site's areas as (official name, aliases).
KnownSites = Mapping[str, Iterable[tuple[str, Iterable[str]]]]

MEMBER_FIELDS = ("site", "name", "phone", "role", "area", "backup", "channel", "active", "shifts")
ROLES = ("pendamping", "ketua", "koordinator")
AREA_ROLES = ("pendamping", "ketua")  # they belong to one KK group; only a koordinator spans a site
CHANNELS = ("whatsapp", "sms")

# Field names a coordinator may write in Indonesian; difflib would not guess these.
_FIELD_SYNONYMS = {
    "nama": "name",
    "hp": "phone",
    "nohp": "phone",
    "no_hp": "phone",
    "telepon": "phone",
    "telp": "phone",
    "nomor": "phone",
    "wa": "phone",
    "peran": "role",
    "jabatan": "role",
    "wilayah": "area",
    "kelurahan": "area",
    "desa": "area",
    "cadangan": "backup",
    "saluran": "channel",
    "aktif": "active",
    "jadwal": "shifts",
    "piket": "shifts",
    "prefix": "site",
}

# --------------------------------------------------------------------------- shifts

DAY_ABBR = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")
DAY_NAMES: dict[str, int] = {
    name: day
    for day, names in enumerate(
        (
            ("sen", "senin", "mon", "monday"),
            ("sel", "selasa", "tue", "tues", "tuesday"),
            ("rab", "rabu", "wed", "weds", "wednesday"),
            ("kam", "kamis", "thu", "thur", "thurs", "thursday"),
            ("jum", "jumat", "fri", "friday"),
            ("sab", "sabtu", "sat", "saturday"),
            ("min", "minggu", "ahad", "sun", "sunday"),
        )
    )
    for name in names
}
EVERY_DAY = ("setiap hari", "tiap hari", "harian", "daily", "every day", "everyday", "*")
GOOD_SHIFT = (
    'write the days then the hours, e.g. "Sen-Jum 08:00-16:00", "Sab 20:00-08:00" '
    'or "setiap hari 07:00-22:00"'
)

# Indonesians often write 08.00 for 08:00, and editors turn "-" into an en dash.
_SHIFT_RE = re.compile(r"(?P<days>.*?)\s*(?P<start>\d{1,2}[:.]\d{2})\s*[-–]\s*(?P<end>\d{1,2}[:.]\d{2})")
_DAY_RANGE_RE = re.compile(r"\s*[-–]\s*")


def _minutes(text: str, shift: str) -> int:
    hours, minutes = (int(p) for p in re.split(r"[:.]", text))
    if (hours < 24 and minutes < 60) or (hours, minutes) == (24, 0):
        return hours * 60 + minutes
    raise ValueError(f"shift '{shift}': '{text}' is not a time; hours go from 00:00 to 24:00")


def _day(token: str, shift: str) -> int:
    word = token.strip().casefold().replace("'", "").replace("’", "").rstrip(".")
    if word in DAY_NAMES:
        return DAY_NAMES[word]
    close = difflib.get_close_matches(word, list(DAY_NAMES), n=1)
    hint = f" (did you mean '{close[0].capitalize()}'?)" if close else ""
    raise ValueError(
        f"shift '{shift}': '{token.strip()}' is not a day{hint}; days are Sen, Sel, Rab, Kam, "
        'Jum, Sab, Min (or Mon..Sun), or write "setiap hari" for every day'
    )


def _days(part: str, shift: str) -> list[int | None]:
    """'Sen-Jum' / 'Sab-Sen' (wraps) / 'Sen,Rab,Jum' / 'setiap hari' -> weekdays in order."""
    if " ".join(part.casefold().split()) in EVERY_DAY:
        return [None]
    days: list[int | None] = []
    # "Sen - Jum" is one range; after that, commas or spaces separate the items.
    for item in re.split(r"[,\s]+", _DAY_RANGE_RE.sub("-", part.strip())):
        if not item:
            continue
        ends = item.split("-")
        if len(ends) > 2 or not all(ends):
            raise ValueError(f"shift '{shift}': '{item}' is not a day or a range of days")
        first = _day(ends[0], shift)
        last = _day(ends[-1], shift)
        span = (last - first) % 7  # a range may wrap past Sunday: "Sab-Sen"
        days += [d for d in ((first + i) % 7 for i in range(span + 1)) if d not in days]
    return days


def parse_shift(text: str) -> tuple[ShiftSpec, ...]:
    """'Sen-Jum 08:00-16:00' -> one ShiftSpec per weekday. Raises ValueError with a reason."""
    m = _SHIFT_RE.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"shift '{text}' is not understood: {GOOD_SHIFT}")
    if not m["days"]:
        raise ValueError(f"shift '{text}' has no day: {GOOD_SHIFT}")
    start, end = _minutes(m["start"], text), _minutes(m["end"], text)
    if start == 24 * 60:
        raise ValueError(f"shift '{text}' cannot start at 24:00; write 00:00")
    return tuple(ShiftSpec(day, start, end) for day in _days(m["days"], text))


def format_time(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def format_shift(weekday: int | None, start: int, end: int) -> str:
    """The inverse of parse_shift for one window: 'Sen 08:00-16:00', 'setiap hari 00:00-24:00'."""
    days = "setiap hari" if weekday is None else DAY_ABBR[weekday]
    return f"{days} {format_time(start)}-{format_time(end)}"


def _day_runs(days: list[int]) -> list[str]:
    """Sorted weekdays -> 'Sen-Jum' style runs; a run through Sunday into Monday is kept whole."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        runs = [runs[-1] + runs[0], *runs[1:-1]]
    text = []
    for run in runs:
        if len(run) >= 3:
            text.append(f"{DAY_ABBR[run[0]]}-{DAY_ABBR[run[-1]]}")
        else:
            text += [DAY_ABBR[d] for d in run]
    return text


def format_shifts(shifts: Iterable[tuple[int | None, int, int]]) -> list[str]:
    """Windows with the same hours grouped back into one text each: ['Sen-Jum 08:00-16:00']."""
    groups: dict[tuple[int, int], list[int]] = {}
    texts: list[str] = []
    for weekday, start, end in shifts:
        if weekday is None:
            texts.append(format_shift(None, start, end))
        else:
            groups.setdefault((start, end), []).append(weekday)
    for (start, end), days in groups.items():
        texts.append(f"{','.join(_day_runs(sorted(set(days))))} {format_time(start)}-{format_time(end)}")
    return texts


# --------------------------------------------------------------------------- validation


def _area_index(sites: KnownSites) -> dict[str, dict[str, str]]:
    """Prefix -> {folded name or alias: official name}."""
    return {
        prefix.upper(): {fold_name(text): name for name, aliases in areas for text in (*aliases, name)}
        for prefix, areas in sites.items()
    }


class _MembersChecker(FieldChecker):
    """Checks every [[member]] against the known sites; phones are unique per site."""

    def __init__(self, doc: TomlFile, sites: KnownSites) -> None:
        super().__init__(doc)
        self.areas = _area_index(sites)
        self.phones: dict[tuple[str, str], tuple[str, int]] = {}  # (site, phone) -> (name, line)

    def unknown_fields(self, member: dict[str, Any], where: TablePos) -> None:
        for key in member:
            if key not in MEMBER_FIELDS:
                synonym = _FIELD_SYNONYMS.get(key.casefold())
                hint = f" (did you mean '{synonym}'?)" if synonym else did_you_mean(key, MEMBER_FIELDS)
                self.err(self.line(where, key), f"unknown field '{key}' in [[member]]{hint}")

    def flag(self, member: dict[str, Any], key: str, where: TablePos, default: bool) -> bool:
        value = member.get(key, default)
        if not isinstance(value, bool):
            self.err(self.line(where, key), f"'{key}' must be true or false, without quotes")
            return default
        return value

    def choice(
        self, member: dict[str, Any], key: str, where: TablePos, choices: tuple[str, ...], default: str
    ) -> str | None:
        value = self.text(member, key, where, required=False)
        if value is None:
            return None if key in member else default
        if value.casefold() not in choices:
            hint = did_you_mean(value.casefold(), choices)
            self.err(self.line(where, key), f"{key} '{value}' is not one of {', '.join(choices)}{hint}")
            return None
        return value.casefold()

    def check(self) -> list[MemberSpec]:
        raw = self.tables("member", "members", "add a [[member]] table for each member")
        specs = []
        for i, member in enumerate(raw):
            spec = self.check_member(member, self.table_for(self.doc.tables, i, 1))
            if spec is not None:
                specs.append(spec)
        return specs

    def check_member(self, member: dict[str, Any], where: TablePos) -> MemberSpec | None:
        errors_before = len(self.errors)
        self.unknown_fields(member, where)
        site = self.site(member, where)
        name = self.text(member, "name", where, required=True)
        phone = self.phone(member, where, site, name)
        role = self.choice(member, "role", where, ROLES, "pendamping")
        area = self.area(member, where, site)
        if role in AREA_ROLES and "area" not in member:
            self.err(
                self.line(where, "role"),
                f'a {role} needs an area: add area = "..." (the kelurahan/desa of their KK '
                "group); only a koordinator may cover the whole site",
            )
        channel = self.choice(member, "channel", where, CHANNELS, "whatsapp")
        backup = self.flag(member, "backup", where, False)
        active = self.flag(member, "active", where, True)
        shifts = self.shifts(member, where)
        if len(self.errors) > errors_before:
            return None
        if site is None or name is None or phone is None or role is None or channel is None:
            return None  # each of these also reported an error; this narrows the types
        return MemberSpec(site, name, phone, role, area, backup, channel, active, shifts, where.line)

    def site(self, member: dict[str, Any], where: TablePos) -> str | None:
        prefix = self.text(member, "site", where, required=True)
        if prefix is None:
            return None
        if prefix.upper() not in self.areas:
            known = tuple(self.areas)
            self.err(
                self.line(where, "site"),
                f"site '{prefix}' is not a loaded site{did_you_mean(prefix.upper(), known)}; "
                f"known sites: {', '.join(known) or 'none (load the sites file first)'}",
            )
            return None
        return prefix.upper()

    def phone(
        self, member: dict[str, Any], where: TablePos, site: str | None, name: str | None
    ) -> str | None:
        raw = self.text(member, "phone", where, required=True)
        if raw is None:
            return None
        line = self.line(where, "phone")
        if raw.casefold().startswith(WHATSAPP):
            self.err(line, f'write the phone without "{WHATSAPP}"; set channel = "whatsapp" instead')
            return None
        try:
            phone = normalise_number(raw)
        except ValueError:
            self.err(
                line,
                f"phone '{raw}' is not a valid phone number: check the digits; "
                'write it as "0812 3456 7890" or "+62 812 3456 7890"',
            )
            return None
        if site is not None:
            if (site, phone) in self.phones:
                other, other_line = self.phones[(site, phone)]
                self.err(
                    line,
                    f"phone '{raw}' is already used by '{other}' (line {other_line}) in site "
                    f"{site}; each member needs their own number",
                )
                return None
            self.phones[(site, phone)] = (name or "another member", line)
        return phone

    def area(self, member: dict[str, Any], where: TablePos, site: str | None) -> str | None:
        typed = self.text(member, "area", where, required=False)
        if typed is None or site is None:
            return None
        areas = self.areas[site]
        if not typed:
            self.err(
                self.line(where, "area"), "'area' must not be empty; leave the line out for the whole site"
            )
            return None
        if (official := areas.get(fold_name(typed))) is not None:
            return official
        close = difflib.get_close_matches(fold_name(typed), list(areas), n=1)
        hint = f" (did you mean '{areas[close[0]]}'?)" if close else ""
        self.err(
            self.line(where, "area"),
            f"area '{typed}' is not a kelurahan/desa of site {site}{hint}; see the sites file",
        )
        return None

    def shifts(self, member: dict[str, Any], where: TablePos) -> tuple[ShiftSpec, ...]:
        value = member.get("shifts", [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.err(
                self.line(where, "shifts"),
                "'shifts' must be a list of texts in double quotes, e.g. "
                'shifts = ["Sen-Jum 08:00-16:00", "Sab 20:00-08:00"]',
            )
            return ()
        found: list[ShiftSpec] = []
        for text in value:
            try:
                found += [s for s in parse_shift(text) if s not in found]
            except ValueError as exc:
                self.err(self.value_line(where, "shifts", text), str(exc))
        return tuple(found)


# --------------------------------------------------------------------------- entry point


def read_members(path: str | Path, sites: KnownSites) -> list[MemberSpec]:
    """Parse and validate a members file against the known sites (prefix -> (area, aliases));
    raise MembersFileError listing every problem."""
    path = Path(path)
    checker = _MembersChecker(read_toml(path, MembersFileError, "member"), sites)
    specs = checker.check()
    if checker.errors:
        raise MembersFileError(path, checker.errors)
    return specs
