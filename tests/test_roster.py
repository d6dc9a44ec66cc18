"""The members file, duty shifts and the roster queries: who is on duty, in the site's time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from sitefiles.members import (
    MembersFileError,
    ShiftSpec,
    format_shifts,
    parse_shift,
    read_members,
)
from sitefiles.sites import SitesFileError, read_sites
from storage.models import Area, Member, Site
from storage.roster import (
    backups,
    coordinators,
    covers,
    list_members,
    load_members,
    member_for_number,
    on_duty,
    set_active,
    site_time,
)

ROOT = Path(__file__).resolve().parent.parent
KNOWN = {s.prefix: [(a.name, a.aliases) for a in s.areas] for s in read_sites(ROOT / "sites.toml")}
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
H = 60  # minutes in an hour


def at(text: str) -> datetime:
    """A wall-clock time (no zone): what `covers` compares shifts with."""
    return datetime.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write(tmp_path: Path, text: str, name: str = "members.toml") -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    with pytest.raises(MembersFileError) as info:
        read_members(write(tmp_path, text), KNOWN)
    return info.value.errors


# --------------------------------------------------------------------------- shift text


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Sen 08:00-16:00", [MON]),
        ("senin 08:00-16:00", [MON]),
        ("MINGGU 08:00-16:00", [SUN]),
        ("Ahad 08:00-16:00", [SUN]),
        ("Jum'at 08:00-16:00", [FRI]),
        ("Tue 08:00-16:00", [TUE]),
        ("thursday 08:00-16:00", [THU]),
        ("Sen-Jum 08:00-16:00", [MON, TUE, WED, THU, FRI]),
        ("Mon - Fri 08:00-16:00", [MON, TUE, WED, THU, FRI]),
        ("Sab-Sen 08:00-16:00", [SAT, SUN, MON]),  # wraps past Sunday
        ("Sen,Rab,Jum 08:00-16:00", [MON, WED, FRI]),
        ("Sen, Rab-Kam, sat 08:00-16:00", [MON, WED, THU, SAT]),
        ("Sen,Sen 08:00-16:00", [MON]),
        ("setiap hari 08:00-16:00", [None]),
        ("Tiap  Hari 08:00-16:00", [None]),
        ("harian 08:00-16:00", [None]),
        ("daily 08:00-16:00", [None]),
        ("every day 08:00-16:00", [None]),
        ("* 08:00-16:00", [None]),
    ],
)
def test_day_parts(text: str, days: list[int | None]) -> None:
    assert [s.weekday for s in parse_shift(text)] == days
    assert {(s.start_minute, s.end_minute) for s in parse_shift(text)} == {(8 * H, 16 * H)}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Sen 08:00-16:00", 8 * H, 16 * H),
        ("Sen 8:30 - 16:45", 8 * H + 30, 16 * H + 45),
        ("Sen 08.00–16.00", 8 * H, 16 * H),  # Indonesian dots and an editor's en dash
        ("Sen 00:00-24:00", 0, 24 * H),
        ("Sen 20:00-24:00", 20 * H, 24 * H),
        ("Sab 20:00-08:00", 20 * H, 8 * H),  # overnight
        ("Sen 00:00-00:00", 0, 0),
    ],
)
def test_hours(text: str, start: int, end: int) -> None:
    (shift,) = parse_shift(text)
    assert (shift.start_minute, shift.end_minute) == (start, end)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("08:00-16:00", "has no day"),
        ("Sen 08:00", "is not understood: write the days then the hours"),
        ("Snin 08:00-16:00", "'Snin' is not a day (did you mean 'Senin'?)"),
        ("Sen-Foo 08:00-16:00", "'Foo' is not a day"),
        ("Sen-Rab-Jum 08:00-16:00", "is not a day or a range of days"),
        ("Sen 25:00-26:00", "'25:00' is not a time"),
        ("Sen 08:60-09:00", "'08:60' is not a time"),
        ("Sen 24:00-08:00", "cannot start at 24:00"),
        ("Sen 24:30-08:00", "'24:30' is not a time"),
    ],
)
def test_bad_shift_text(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="shift") as info:
        parse_shift(text)
    assert reason in str(info.value)


def test_shifts_render_back_as_text_that_reads_the_same() -> None:
    texts = ["Sen-Jum 08:00-16:00", "Sab-Sen 20:00-08:00", "Sen,Rab 01:00-02:00", "setiap hari 00:00-24:00"]
    shifts = [s for t in texts for s in parse_shift(t)]
    rendered = format_shifts((s.weekday, s.start_minute, s.end_minute) for s in shifts)
    assert rendered == [
        "setiap hari 00:00-24:00",
        "Sen-Jum 08:00-16:00",
        "Sab-Sen 20:00-08:00",
        "Sen,Rab 01:00-02:00",
    ]
    assert sorted((s for t in rendered for s in parse_shift(t)), key=_key) == sorted(shifts, key=_key)
    assert format_shifts([(SAT, 20 * H, 8 * H)]) == ["Sab 20:00-08:00"]


def _key(s: ShiftSpec) -> tuple[int, int, int]:
    return (-1 if s.weekday is None else s.weekday, s.start_minute, s.end_minute)


# --------------------------------------------------------------------------- covers


def test_covers_start_inclusive_end_exclusive() -> None:
    # 2026-11-23 is a Monday.
    assert covers(MON, 8 * H, 16 * H, at("2026-11-23 08:00"))
    assert covers(MON, 8 * H, 16 * H, at("2026-11-23 15:59:59"))
    assert not covers(MON, 8 * H, 16 * H, at("2026-11-23 07:59"))
    assert not covers(MON, 8 * H, 16 * H, at("2026-11-23 16:00"))
    assert not covers(TUE, 8 * H, 16 * H, at("2026-11-23 12:00"))
    assert covers(None, 8 * H, 16 * H, at("2026-11-26 12:00"))


def test_overnight_belongs_to_the_day_it_starts() -> None:
    sat_night = (SAT, 20 * H, 8 * H)
    assert covers(*sat_night, at("2026-11-28 20:00"))  # Saturday evening
    assert covers(*sat_night, at("2026-11-29 07:59"))  # Sunday morning
    assert not covers(*sat_night, at("2026-11-29 08:00"))
    assert not covers(*sat_night, at("2026-11-28 07:00"))  # Saturday morning is Friday's night
    assert not covers(*sat_night, at("2026-11-29 21:00"))  # Sunday evening


def test_overnight_from_sunday_into_monday() -> None:
    sun_night = (SUN, 20 * H, 8 * H)
    assert covers(*sun_night, at("2026-11-22 23:59"))  # Sunday
    assert covers(*sun_night, at("2026-11-23 00:00"))  # Monday
    assert covers(*sun_night, at("2026-11-23 07:59"))
    assert not covers(*sun_night, at("2026-11-23 08:00"))
    assert not covers(*sun_night, at("2026-11-22 07:59"))  # Sunday morning is Saturday's night
    assert covers(*sun_night, at("2026-11-30 00:30"))  # weekly: every Sunday night


def test_whole_days() -> None:
    for minute in ("00:00", "12:00", "23:59"):
        assert covers(MON, 0, 24 * H, at(f"2026-11-23 {minute}"))
        assert covers(MON, 0, 0, at(f"2026-11-23 {minute}"))  # start == end: 24 hours
        assert covers(None, 0, 24 * H, at(f"2026-11-25 {minute}"))
    assert not covers(MON, 0, 24 * H, at("2026-11-24 00:00"))
    assert covers(MON, 8 * H, 8 * H, at("2026-11-24 07:59"))  # 24 hours from Monday 08:00
    assert not covers(MON, 8 * H, 8 * H, at("2026-11-24 08:00"))
    assert covers(None, 22 * H, 6 * H, at("2026-11-25 03:00"))  # every night


def test_site_time_is_wita_for_a_utc_clock() -> None:
    site = Site(prefix="PRE", name="x", timezone="Asia/Makassar")
    local = site_time(site, utc("2026-11-22 16:30"))  # Sunday in UTC
    assert (local.weekday(), local.hour, local.minute) == (MON, 0, 30)
    with pytest.raises(ValueError, match="naive"):
        site_time(site, at("2026-11-22 16:30"))


# --------------------------------------------------------------------------- the file

GOOD = """
[[member]]
site = "pre"
name = "  Ibu Contoh  "
phone = "0811-0000-1001"
role = "Pendamping"
area = "lompoe"
shifts = ["Sen-Jum 08:00-16:00", "Sab 20:00-08:00", "Sen 10:00-12:00", "Sen 08:00-16:00"]

[[member]]
site = "MSB"
name = "Koordinator"
phone = "+62 811 0000 2009"
role = "koordinator"
channel = "SMS"
backup = true
active = false

[[member]]
site = "MSB"
name = "Warga Paok"
phone = "081100002001"
area = "Paok Motong"
"""


def test_read_members(tmp_path: Path) -> None:
    one, two, three = read_members(write(tmp_path, GOOD), KNOWN)
    assert (one.site, one.name, one.phone, one.role, one.area) == (
        "PRE",
        "Ibu Contoh",
        "+6281100001001",
        "pendamping",
        "Lompoe",
    )
    assert (one.backup, one.channel, one.active, one.line) == (False, "whatsapp", True, 1)
    assert [(s.weekday, s.start_minute, s.end_minute) for s in one.shifts] == [
        *[(d, 8 * H, 16 * H) for d in (MON, TUE, WED, THU, FRI)],
        (SAT, 20 * H, 8 * H),
        (MON, 10 * H, 12 * H),  # an exact repeat is dropped, an overlap is kept
    ]
    assert (two.role, two.area, two.channel, two.backup, two.active, two.shifts) == (
        "koordinator",
        None,
        "sms",
        True,
        False,
        (),
    )
    assert (three.role, three.area, three.line) == ("pendamping", "Paokmotong", 18)  # by its alias


BAD = """
[[member]]
site = "PRE"
nama = "X"
phone = "0812"
role = "pendamping"
area = "Lompo"
shifts = ["Sen-Jum 08:00-16:00",
  "Snin 08:00-12:00"]

[[member]]
site = "PRX"
name = "Y"
phone = "081100001001"
role = "ketoa"

[[member]]
site = "PRE"
name = "Z"
phone = "0811 0000 1001"
role = "pendamping"
backup = "ya"

[[member]]
site = "PRE"
name = "W"
phone = "+62 811-0000-1001"
area = "Lompoe"
shift = ["Sen 08:00-09:00"]
channel = "telegram"

[[member]]
site = "MSB"
name = "V"
phone = "whatsapp:+6281100001001"
role = "ketua"
shifts = "Sen 08:00-09:00"
"""


def test_every_error_with_its_line(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, BAD)
    expected = [
        (1, "missing field 'name'"),
        (3, "unknown field 'nama' in [[member]] (did you mean 'name'?)"),
        (4, "phone '0812' is not a valid phone number"),
        (6, "area 'Lompo' is not a kelurahan/desa of site PRE (did you mean 'Lompoe'?)"),
        (8, "shift 'Snin 08:00-12:00': 'Snin' is not a day (did you mean 'Senin'?)"),
        (11, "site 'PRX' is not a loaded site (did you mean 'PRE'?); known sites: PRE, MSB"),
        (14, "role 'ketoa' is not one of pendamping, ketua, koordinator (did you mean 'ketua'?)"),
        (20, "a pendamping needs an area"),
        (21, "'backup' must be true or false, without quotes"),
        (26, "phone '+62 811-0000-1001' is already used by 'Z' (line 19) in site PRE"),
        (28, "unknown field 'shift' in [[member]] (did you mean 'shifts'?)"),
        (29, "channel 'telegram' is not one of whatsapp, sms"),
        (34, 'write the phone without "whatsapp:"'),
        (35, "a ketua needs an area"),
        (36, "'shifts' must be a list of texts in double quotes"),
    ]
    assert len(errors) == len(expected), errors
    for (line, reason), (want_line, want) in zip(errors, expected, strict=True):
        assert (line, want) == (want_line, want) and want in reason, (line, reason)


def test_error_message_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[[member]]\nsite = "PRE"\nname = "X"\nphone = "0811-0000-1001"\n')
    with pytest.raises(MembersFileError) as info:
        read_members(path, KNOWN)
    assert str(info.value) == (
        f'{path}:1: a pendamping needs an area: add area = "..." (the kelurahan/desa of their '
        "KK group); only a koordinator may cover the whole site"
    )
    assert isinstance(info.value, SitesFileError)  # one shape for both files


def test_toml_and_top_level_mistakes(tmp_path: Path) -> None:
    (err,) = errors_of(tmp_path, '[[member]]\nsite = "PRE"\nname = Ibu\n')
    assert err[0] == 3 and "TOML syntax error" in err[1] and "double quotes" in err[1]
    (err,) = errors_of(tmp_path, '[member]\nsite = "PRE"\n[member]\nname = "x"\n')
    assert err[0] == 3 and "[[member]] for every member" in err[1]
    assert errors_of(tmp_path, '[[members]]\nsite = "PRE"\n') == [
        (
            1,
            "unknown top-level entry 'members' (did you mean 'member'?); every member starts with [[member]]",
        ),
        (1, "no members: add a [[member]] table for each member"),
    ]
    assert errors_of(tmp_path, "# nobody yet\n") == [
        (1, "no members: add a [[member]] table for each member")
    ]
    with pytest.raises(MembersFileError, match="site 'MSB' is not a loaded site; known sites: none"):
        read_members(write(tmp_path, GOOD), {})


def test_shipped_members_file_reads_against_the_shipped_sites() -> None:
    specs = read_members(ROOT / "members.toml", KNOWN)
    by_name = {s.name: s for s in specs}
    assert {(s.site, s.area, s.role) for s in specs} == {
        ("PRE", "Lompoe", "pendamping"),
        ("PRE", "Lompoe", "ketua"),
        ("PRE", None, "koordinator"),
        ("MSB", "Kesik", "pendamping"),
        ("MSB", None, "koordinator"),
    }
    assert all(s.phone.startswith("+62811000") for s in specs)
    assert by_name["Ketua Contoh Lompoe"].backup and by_name["Pendamping Cadangan Kesik"].backup
    assert any(s.end_minute <= s.start_minute for s in by_name["Pendamping Contoh 2"].shifts)


# --------------------------------------------------------------------------- database


def _site(session, prefix: str) -> Site:  # type: ignore[no-untyped-def]
    return session.scalars(select(Site).where(Site.prefix == prefix)).one()


def _area(session, site: Site, name: str) -> Area:  # type: ignore[no-untyped-def]
    return session.scalars(select(Area).where(Area.site_id == site.id, Area.name == name)).one()


def _names(members: list[Member]) -> list[str]:
    return [m.name for m in members]


def test_shipped_roster_in_the_database(hotline) -> None:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        counts = load_members(s, read_members(ROOT / "members.toml", KNOWN))
    assert counts == {"members": 7, "added": 7, "shifts": 15, "deactivated": 0}
    with hotline.db.session() as s:
        pre, msb = _site(s, "PRE"), _site(s, "MSB")
        lompoe, kesik = _area(s, pre, "Lompoe").id, _area(s, msb, "Kesik").id
        # Monday 21:00 WITA is 13:00 UTC: the night pendamping.
        assert _names(on_duty(s, pre, utc("2026-11-23 13:00"), lompoe)) == ["Pendamping Contoh 2"]
        assert _names(on_duty(s, pre.id, utc("2026-11-23 02:00"), lompoe)) == ["Pendamping Contoh 1"]
        # Saturday 19:00 to Sunday 19:00 WITA nobody is on duty: the ketua is the backup.
        assert on_duty(s, pre, utc("2026-11-29 02:00"), lompoe) == []
        assert _names(backups(s, pre.id, lompoe)) == ["Ketua Contoh Lompoe"]
        assert _names(coordinators(s, pre.id)) == ["Koordinator Contoh Parepare"]
        assert _names(on_duty(s, msb, utc("2026-11-23 13:00"), kesik)) == ["Pendamping Contoh Kesik"]
        assert on_duty(s, msb, utc("2026-11-23 15:00"), kesik) == []  # 23:00 WITA
        # The whole site: the koordinator's all-day shift counts there.
        assert _names(on_duty(s, msb, utc("2026-11-23 15:00"))) == ["Koordinator Contoh Masbagik"]
        ketua = member_for_number(s, pre.id, "whatsapp:+6281100001003")
        assert ketua is not None and (ketua.channel, ketua.area_id, ketua.backup) == ("sms", lompoe, True)
        assert member_for_number(s, msb.id, "+6281100001003") is None
        assert _names(list_members(s, "msb", "kesik")) == [
            "Pendamping Cadangan Kesik",
            "Pendamping Contoh Kesik",
        ]
        assert _names(list_members(s, area="Paok Motong")) == []
        assert _names(list_members(s))[:2] == ["Koordinator Contoh Parepare", "Ketua Contoh Lompoe"]


def test_backups_on_duty_first_and_without_shifts(hotline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = """
[[member]]
site = "PRE"
name = "Cadangan Tanpa Jadwal"
phone = "0811-0000-3001"
area = "Lompoe"
backup = true

[[member]]
site = "PRE"
name = "Cadangan Malam"
phone = "0811-0000-3002"
area = "Lompoe"
backup = true
shifts = ["setiap hari 20:00-06:00"]

[[member]]
site = "PRE"
name = "Cadangan Nonaktif"
phone = "0811-0000-3003"
area = "Lompoe"
backup = true
active = false
"""
    with hotline.db.session() as s:
        load_members(s, read_members(write(tmp_path, text), KNOWN))
    with hotline.db.session() as s:
        pre = _site(s, "PRE")
        lompoe = _area(s, pre, "Lompoe").id
        night, day = utc("2026-11-23 14:00"), utc("2026-11-23 02:00")  # 22:00 and 10:00 WITA
        assert _names(backups(s, pre.id, lompoe, at=night)) == ["Cadangan Malam", "Cadangan Tanpa Jadwal"]
        assert _names(backups(s, pre.id, lompoe, at=day)) == ["Cadangan Tanpa Jadwal", "Cadangan Malam"]
        assert _names(backups(s, pre.id, None, at=day)) == ["Cadangan Tanpa Jadwal", "Cadangan Malam"]
        assert _names(on_duty(s, pre, night, lompoe)) == ["Cadangan Malam"]
        assert coordinators(s, pre.id) == []


def test_weekday_boundary_is_the_sites_not_the_servers(hotline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = """
[[member]]
site = "PRE"
name = "Minggu"
phone = "0811-0000-4001"
area = "Lompoe"
shifts = ["Min 08:00-24:00"]

[[member]]
site = "PRE"
name = "Senin Pagi"
phone = "0811-0000-4002"
area = "Lompoe"
shifts = ["Sen 00:00-08:00"]

[[member]]
site = "PRE"
name = "Minggu Malam"
phone = "0811-0000-4003"
area = "Lompoe"
shifts = ["Min 20:00-08:00"]
"""
    with hotline.db.session() as s:
        load_members(s, read_members(write(tmp_path, text), KNOWN))
    with hotline.db.session() as s:
        pre = _site(s, "PRE")

        def duty(when: str) -> list[str]:
            return _names(on_duty(s, pre, utc(when)))

        assert duty("2026-11-22 00:30") == ["Minggu"]  # Sunday 08:30 WITA
        assert duty("2026-11-22 15:59") == ["Minggu", "Minggu Malam"]  # Sunday 23:59 WITA
        # Still Sunday in UTC, already Monday 00:30 in Parepare.
        assert duty("2026-11-22 16:30") == ["Senin Pagi", "Minggu Malam"]
        assert duty("2026-11-22 23:59") == ["Senin Pagi", "Minggu Malam"]  # Monday 07:59 WITA
        assert duty("2026-11-23 00:00") == []  # Monday 08:00 WITA
        with pytest.raises(ValueError, match="naive"):
            on_duty(s, pre, at("2026-11-22 16:30"))


def test_reload_updates_and_deactivates_removed_members(hotline, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shipped = (ROOT / "members.toml").read_text(encoding="utf-8")
    with hotline.db.session() as s:
        load_members(s, read_members(ROOT / "members.toml", KNOWN))
        ids = {m.phone: m.id for m in list_members(s)}
    # Pendamping Contoh 1 leaves; Contoh 2 now works Sunday nights only.
    start = shipped.index('[[member]]\nsite = "PRE"\nname = "Pendamping Contoh 1"')
    end = shipped.index("[[member]]", start + 1)
    changed = (shipped[:start] + shipped[end:]).replace(
        'shifts = ["Min-Jum 19:00-07:00", "Sab 12:00-19:00"]', 'shifts = ["Min 19:00-07:00"]'
    )
    with hotline.db.session() as s:
        counts = load_members(s, read_members(write(tmp_path, changed), KNOWN))
    assert counts == {"members": 6, "added": 0, "shifts": 3, "deactivated": 1}
    with hotline.db.session() as s:
        pre = _site(s, "PRE")
        gone = s.get_one(Member, ids["+6281100001001"])
        assert not gone.active and gone.shifts  # kept, with its shifts, for old cases
        assert member_for_number(s, pre.id, "+6281100001001") is None
        assert on_duty(s, pre, utc("2026-11-23 02:00")) == []  # was Contoh 1's Monday morning
        two = member_for_number(s, pre.id, "+6281100001002")
        assert two is not None and two.id == ids["+6281100001002"]
        assert [(x.weekday, x.start_minute, x.end_minute) for x in two.shifts] == [(SUN, 19 * H, 7 * H)]
        assert {m.phone: m.id for m in list_members(s)} == ids  # same rows, nothing deleted
    # Loading the shipped file again brings the member back.
    with hotline.db.session() as s:
        assert load_members(s, read_members(ROOT / "members.toml", KNOWN))["deactivated"] == 0
        assert member_for_number(s, _site(s, "PRE").id, "+6281100001001") is not None


def test_set_active(hotline) -> None:  # type: ignore[no-untyped-def]
    with hotline.db.session() as s:
        load_members(s, read_members(ROOT / "members.toml", KNOWN))
    with hotline.db.session() as s:
        assert set_active(s, "0811 0000 1002", False) == 1
        assert set_active(s, "0811 0000 1002", False, site_prefix="MSB") == 0
        assert set_active(s, "0811-0000-9999", False) == 0
        with pytest.raises(ValueError):
            set_active(s, "12", False)
    with hotline.db.session() as s:
        pre = _site(s, "PRE")
        assert member_for_number(s, pre.id, "+6281100001002") is None
        assert on_duty(s, pre, utc("2026-11-23 13:00")) == []
        assert set_active(s, "+6281100001002", True, site_prefix="pre") == 1
        assert _names(on_duty(s, pre, utc("2026-11-23 13:00"))) == ["Pendamping Contoh 2"]


# --------------------------------------------------------------------------- CLI


def run(database_url: str, *args: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": ""}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_cli_load_reports_lines_and_exits_1(database_url: str, tmp_path: Path) -> None:
    bad = write(
        tmp_path, '[[member]]\nsite = "PRE"\nname = "X"\nphone = "0811-0000-1001"\narea = "Nowhere"\n'
    )
    result = run(database_url, "members", "load", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:5: area 'Nowhere' is not a kelurahan/desa of site PRE" in result.output
    assert "loaded" not in result.output


def test_cli_load_and_list_on_duty(database_url: str) -> None:
    result = run(database_url, "members", "load", str(ROOT / "members.toml"))
    assert result.exit_code == 0, result.output
    assert "loaded 7 members (7 new), 15 shifts" in result.output

    result = run(database_url, "members", "list", "--on-duty", "--at", "2026-11-23 21:00")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "PRE  Kota Parepare  at Sen 2026-11-23 21:00 WITA" in lines
    night = next(line for line in lines if "Pendamping Contoh 2" in line)
    assert night.lstrip().startswith("*") and "Min-Jum 19:00-07:00, Sab 12:00-19:00" in night
    assert "Pendamping Contoh 1" not in result.output  # day shift over
    assert "Pendamping Contoh Kesik" in result.output and "Ketua Contoh Lompoe" not in result.output

    result = run(database_url, "members", "list", "--site", "PRE", "--at", "2026-11-29 10:00")
    listing = result.output
    assert "MSB" not in listing and "*" not in listing  # Sunday morning: nobody on duty
    assert "ketua, backup" in listing and "(whole site)" in listing and "(no shifts)" in listing

    assert "disabled 1 member" in run(database_url, "members", "disable", "0811-0000-1002").output
    result = run(database_url, "members", "list", "--on-duty", "--site", "PRE", "--at", "2026-11-23 21:00")
    assert "nobody on duty" in result.output
    result = run(database_url, "members", "enable", "0811-0000-9999")
    assert result.exit_code == 1 and "no member has the number" in result.output
