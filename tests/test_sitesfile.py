"""The sites file: the shipped defaults load, and every mistake names its line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitefiles.sites import SitesFileError, normalise_number, read_sites

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "sites.toml"

PAREPARE = {
    "Bacukiki": ["Lompoe", "Watang Bacukiki", "Lemoe", "Galung Maloang"],
    "Ujung": ["Labukkang", "Ujung Sabbang", "Ujung Bulu", "Lapadde", "Mallusetasi"],
    "Soreang": [
        "Lakessi",
        "Ujung Baru",
        "Watang Soreang",
        "Kampung Pisang",
        "Ujung Lare",
        "Bukit Indah",
        "Bukit Harapan",
    ],
    "Bacukiki Barat": [
        "Kampung Baru",
        "Cappa Galung",
        "Lumpue",
        "Tiro Sompe",
        "Sumpang Minangae",
        "Bumi Harapan",
    ],
}
MASBAGIK = [
    "Kesik",
    "Paokmotong",
    "Masbagik Selatan",
    "Masbagik Timur",
    "Masbagik Utara",
    "Danger",
    "Lendang Nangka",
    "Masbagik Utara Baru",
    "Lendang Nangka Utara",
    "Kumbang",
]


# --------------------------------------------------------------------------- shipped file


def test_shipped_file_loads_both_sites() -> None:
    pre, msb = read_sites(SHIPPED)
    assert (pre.prefix, pre.name, pre.province) == ("PRE", "Kota Parepare", "Sulawesi Selatan")
    assert (pre.region_code, pre.timezone, pre.numbers) == ("73.72", "Asia/Makassar", ())
    assert (msb.prefix, msb.region_code, msb.timezone) == ("MSB", "52.03.05", "Asia/Makassar")
    assert msb.name == "Kecamatan Masbagik, Lombok Timur"
    assert len(pre.areas) == 22
    assert len(msb.areas) == 10


def test_shipped_areas_match_the_design() -> None:
    pre, msb = read_sites(SHIPPED)
    by_kecamatan: dict[str, list[str]] = {}
    for area in pre.areas:
        by_kecamatan.setdefault(area.kecamatan, []).append(area.name)
    assert by_kecamatan == PAREPARE
    assert [a.name for a in msb.areas] == MASBAGIK
    assert {a.kecamatan for a in msb.areas} == {"Masbagik"}


def test_shipped_codes_are_kemendagri_codes() -> None:
    pre, msb = read_sites(SHIPPED)
    codes = {a.name: a.code for a in (*pre.areas, *msb.areas)}
    # Spot checks against Kepmendagri 300.2.2-2138/2025.
    assert codes["Lompoe"] == "73.72.01.1004"
    assert codes["Galung Maloang"] == "73.72.01.1010"
    assert codes["Mallusetasi"] == "73.72.02.1005"
    assert codes["Bukit Harapan"] == "73.72.03.1007"
    assert codes["Bumi Harapan"] == "73.72.04.1006"
    assert codes["Kesik"] == "52.03.05.2001"
    assert codes["Paokmotong"] == "52.03.05.2002"
    assert codes["Kumbang"] == "52.03.05.2010"
    for area in pre.areas:  # kelurahan are 1xxx
        assert area.code is not None and re.fullmatch(r"73\.72\.0[1-4]\.1\d{3}", area.code)
    for area in msb.areas:  # desa are 2xxx
        assert area.code is not None and re.fullmatch(r"52\.03\.05\.2\d{3}", area.code)
    assert len(set(codes.values())) == 32


def test_shipped_aliases_and_lines() -> None:
    pre, msb = read_sites(SHIPPED)
    areas = {a.name: a for a in (*pre.areas, *msb.areas)}
    assert "Paok Motong" in areas["Paokmotong"].aliases
    assert "Kp Pisang" in areas["Kampung Pisang"].aliases
    assert "Sumpang" in areas["Sumpang Minangae"].aliases
    assert "Bkt Indah" in areas["Bukit Indah"].aliases
    assert "Bkt Indah" not in areas["Bukit Harapan"].aliases
    lines = SHIPPED.read_text().splitlines()
    assert lines[pre.line - 1].strip() == "[[site]]"
    assert lines[areas["Kumbang"].line - 1].strip() == "[[site.area]]"
    assert lines[areas["Kumbang"].line].strip() == 'name = "Kumbang"'


# --------------------------------------------------------------------------- helpers

AREA = """
[[site.area]]
name = "{name}"
kecamatan = "K"
"""


def site(prefix: str = "TST", extra: str = "", areas: str = AREA.format(name="Satu")) -> str:
    return f"""
[[site]]
prefix = "{prefix}"
name = "Test site"
timezone = "Asia/Makassar"
{extra}
{areas}"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    with pytest.raises(SitesFileError) as info:
        read_sites(write(tmp_path, text))
    return info.value.errors


def line_of(path_text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing needle, in the text as written."""
    hits = [i for i, line in enumerate(path_text.lstrip("\n").splitlines(), 1) if needle in line]
    return hits[nth - 1]


# --------------------------------------------------------------------------- valid input


def test_minimal_site_and_number_normalisation(tmp_path: Path) -> None:
    text = site(
        extra='numbers = ["0812 3456 7890", "WhatsApp: +62 812-3456-7890", "+14155238886"]\n'
        'province = "NTB"\nregion_code = "52.03"',
        areas=AREA.format(name="Satu")
        + 'code = "52.03.05.2001"\naliases = [" Satoe ", "satoe", "SATU", "Sa Tu"]\n',
    )
    (spec,) = read_sites(write(tmp_path, text))
    assert spec.numbers == ("+6281234567890", "whatsapp:+6281234567890", "+14155238886")
    assert spec.province == "NTB"
    (area,) = spec.areas
    assert (area.name, area.kecamatan, area.code, area.aliases) == (
        "Satu",
        "K",
        "52.03.05.2001",
        ("Satoe", "Sa Tu"),  # exact repeats dropped, spacing variants kept
    )
    assert area.line == line_of(text, "[[site.area]]")
    assert spec.line == 1


def test_optional_fields_default(tmp_path: Path) -> None:
    text = '[[site]]\nprefix = "AB"\nname = "x"\ntimezone = "Asia/Jakarta"\n'
    text += '[[site.area]]\nname = "Satu"\n'
    (spec,) = read_sites(write(tmp_path, text))
    assert (spec.region_code, spec.province, spec.numbers) == ("", "", ())
    assert spec.areas[0].kecamatan == ""
    assert spec.areas[0].code is None
    assert spec.areas[0].aliases == ()


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_bytes(b"\xef\xbb\xbf" + site().lstrip("\n").encode())
    assert read_sites(path)[0].prefix == "TST"


def test_normalise_number() -> None:
    assert normalise_number("081234567890") == "+6281234567890"
    assert normalise_number("whatsapp:+6281234567890") == "whatsapp:+6281234567890"
    with pytest.raises(ValueError, match="not a valid phone number"):
        normalise_number("+62 812")


# --------------------------------------------------------------------------- errors


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    text = site(extra="province = Sulawesi")
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "province")
    assert "TOML syntax error at column 12" in err[1]
    assert "double quotes" in err[1]


def test_unterminated_string(tmp_path: Path) -> None:
    text = site(extra='province = "Sulawesi')
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "province")
    assert "TOML syntax error" in err[1]


def test_syntax_error_message_format(tmp_path: Path) -> None:
    path = write(tmp_path, "[[site]]\nprefix = PRE\n")
    with pytest.raises(SitesFileError) as info:
        read_sites(path)
    assert str(info.value).startswith(f"{path}:2: TOML syntax error")
    assert isinstance(info.value, ValueError)


def test_missing_field_points_at_site_header(tmp_path: Path) -> None:
    text = site() + site(prefix="TWO").replace('timezone = "Asia/Makassar"\n', "")
    (err,) = errors_of(tmp_path, text)
    assert err == (line_of(text, "[[site]]", 2), "missing field 'timezone'")


def test_missing_area_name(tmp_path: Path) -> None:
    text = site(areas=AREA.format(name="Satu") + '[[site.area]]\nkecamatan = "K"\n')
    (err,) = errors_of(tmp_path, text)
    assert err == (line_of(text, "[[site.area]]", 2), "missing field 'name'")


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    text = site(extra='timezon = "Asia/Makassar"')
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "timezon =")
    assert "unknown field 'timezon'" in err[1] and "did you mean 'timezone'" in err[1]


def test_unknown_area_field(tmp_path: Path) -> None:
    text = site(areas=AREA.format(name="Satu") + 'alias = ["x"]\n')
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "alias =")
    assert "unknown field 'alias' in [[site.area]]" in err[1]
    assert "did you mean 'aliases'" in err[1]


def test_areas_typo_in_table_header(tmp_path: Path) -> None:
    text = site(areas='[[site.areas]]\nname = "Satu"\n')
    errors = errors_of(tmp_path, text)
    assert (
        line_of(text, "[[site.areas]]"),
        "unknown field 'areas' in [[site]] (areas are written as [[site.area]] tables)",
    ) in errors
    assert any("has no areas" in reason for _, reason in errors)


def test_unknown_top_level_table(tmp_path: Path) -> None:
    text = site() + '\n[[sites]]\nprefix = "X"\n'
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "[[sites]]")
    assert "unknown top-level entry 'sites'" in err[1] and "did you mean 'site'" in err[1]


def test_empty_file(tmp_path: Path) -> None:
    assert errors_of(tmp_path, "# nothing yet\n") == [(1, "no sites: add a [[site]] table")]


def test_site_written_as_single_table(tmp_path: Path) -> None:
    text = '[site]\nprefix = "PRE"\n'
    assert errors_of(tmp_path, text) == [(1, "sites must be written as [[site]] tables")]


def test_mistyped_fields(tmp_path: Path) -> None:
    text = site(
        extra='numbers = "+6281234567890"\nregion_code = 7372',
        areas=AREA.format(name="Satu") + 'aliases = "Satoe"\ncode = 1\n',
    )
    errors = errors_of(tmp_path, text)
    assert errors == [
        (line_of(text, "numbers ="), errors[0][1]),
        (
            line_of(text, "region_code ="),
            "'region_code' must be text in double quotes, e.g. region_code = \"...\"",
        ),
        (line_of(text, "aliases ="), errors[2][1]),
        (line_of(text, "code = 1"), "'code' must be text in double quotes, e.g. code = \"...\""),
    ]
    assert "'numbers' must be a list of texts" in errors[0][1]
    assert "'aliases' must be a list of texts" in errors[2][1]


@pytest.mark.parametrize("prefix", ["pre", "P", "PAREPA", "PR1", "PRÉ", ""])
def test_bad_prefix(tmp_path: Path, prefix: str) -> None:
    text = site(prefix=prefix)
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "prefix =")
    assert "must be 2 to 5 capital letters" in err[1] or "must not be empty" in err[1]


def test_duplicate_prefix(tmp_path: Path) -> None:
    text = site() + site(areas=AREA.format(name="Dua"))
    (err,) = errors_of(tmp_path, text)
    assert err == (
        line_of(text, "prefix =", 2),
        "prefix 'TST' is already used by the site at line 1",
    )


def test_unknown_timezone(tmp_path: Path) -> None:
    text = site().replace("Asia/Makassar", "Asia/Makasar")
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "timezone =")
    assert "timezone 'Asia/Makasar' is not a known time zone" in err[1]
    assert "did you mean 'Asia/Makassar'" in err[1]


def test_malformed_timezone(tmp_path: Path) -> None:
    text = site().replace("Asia/Makassar", "../etc/passwd")
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "timezone =") and "not a known time zone" in err[1]


def test_bad_number_points_at_its_own_line(tmp_path: Path) -> None:
    text = site(extra='numbers = [\n  "+6281234567890",\n  "nomor kantor",\n  "+62 812",\n]')
    errors = errors_of(tmp_path, text)
    assert [line for line, _ in errors] == [
        line_of(text, "nomor kantor"),
        line_of(text, '"+62 812"'),
    ]
    assert "number 'nomor kantor' cannot be read as a phone number" in errors[0][1]
    assert "number '+62 812' is not a valid phone number" in errors[1][1]


def test_number_claimed_by_two_sites(tmp_path: Path) -> None:
    text = site(extra='numbers = ["+6281234567890"]') + site(
        prefix="TWO",
        extra='numbers = [\n  "+6281111111111",\n  "whatsapp:0812 3456 7890",\n]',
        areas=AREA.format(name="Dua"),
    )
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "whatsapp:0812")
    assert f"already claimed by site TST (line {line_of(text, '+6281234567890')})" in err[1]


def test_same_number_for_sms_and_whatsapp_in_one_site_is_fine(tmp_path: Path) -> None:
    text = site(extra='numbers = ["+6281234567890", "whatsapp:+6281234567890"]')
    assert read_sites(write(tmp_path, text))[0].numbers == (
        "+6281234567890",
        "whatsapp:+6281234567890",
    )


def test_number_listed_twice_points_at_the_repeat(tmp_path: Path) -> None:
    text = site(extra='numbers = [\n  "+6281234567890",\n  "+6281234567890",\n]')
    (err,) = errors_of(tmp_path, text)
    assert err == (
        line_of(text, "+6281234567890", 2),
        "number '+6281234567890' is listed twice in site TST",
    )


def test_empty_area_name(tmp_path: Path) -> None:
    text = site(areas=AREA.format(name="  "))
    errors = errors_of(tmp_path, text)
    assert (line_of(text, 'name = "  "'), "'name' must not be empty") in errors


def test_duplicate_area_name_ignores_case_and_spaces(tmp_path: Path) -> None:
    text = site(areas=AREA.format(name="Paok Motong") + AREA.format(name="paokmotong"))
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, 'name = "paokmotong"')
    first = line_of(text, 'name = "Paok Motong"')
    assert f"area 'paokmotong' is already listed in site TST as area (line {first})" in err[1]


def test_same_area_name_in_two_sites_is_fine(tmp_path: Path) -> None:
    text = site() + site(prefix="TWO")
    assert [s.areas[0].name for s in read_sites(write(tmp_path, text))] == ["Satu", "Satu"]


def test_alias_clashing_with_another_area(tmp_path: Path) -> None:
    areas = (
        AREA.format(name="Bukit Indah")
        + 'aliases = ["Bkt Indah"]\n'
        + AREA.format(name="Bukit Harapan")
        + 'aliases = ["Bkt Harapan", "bkt indah"]\n'
    )
    text = site(areas=areas)
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, '"bkt indah"')
    assert "alias 'bkt indah' of area 'Bukit Harapan' is also used for area 'Bukit Indah'" in err[1]


def test_duplicate_area_code_across_sites(tmp_path: Path) -> None:
    text = site(areas=AREA.format(name="Satu") + 'code = "73.72.01.1004"\n') + site(
        prefix="TWO", areas=AREA.format(name="Dua") + 'code = "73.72.01.1004"\n'
    )
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "code =", 2)
    assert "code '73.72.01.1004' is already used by area 'Satu'" in err[1]


def test_malformed_area_code(tmp_path: Path) -> None:
    text = site(areas=AREA.format(name="Satu") + 'code = "7372011004"\n')
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "code =")
    assert "must be a Kemendagri code" in err[1]


def test_area_code_outside_site_region(tmp_path: Path) -> None:
    text = site(
        extra='region_code = "73.72"',
        areas=AREA.format(name="Satu") + 'code = "52.03.05.2001"\n',
    )
    (err,) = errors_of(tmp_path, text)
    assert err == (
        line_of(text, 'code = "52'),
        "code '52.03.05.2001' is outside the site's region_code '73.72'",
    )


def test_malformed_region_code(tmp_path: Path) -> None:
    text = site(extra='region_code = "73-72"')
    (err,) = errors_of(tmp_path, text)
    assert err[0] == line_of(text, "region_code =") and "Kemendagri code" in err[1]


def test_site_without_areas(tmp_path: Path) -> None:
    text = site(areas="") + site(prefix="TWO")
    (err,) = errors_of(tmp_path, text)
    assert err == (
        1,
        "site TST has no areas: add at least one [[site.area]] table below it",
    )


def test_all_errors_are_collected_and_sorted(tmp_path: Path) -> None:
    text = site(prefix="bad", areas=AREA.format(name="Satu") + AREA.format(name="SATU")) + site(
        prefix="TWO", areas=""
    ).replace("Asia/Makassar", "Mars/Base")
    path = write(tmp_path, text)
    with pytest.raises(SitesFileError) as info:
        read_sites(path)
    lines = [line for line, _ in info.value.errors]
    assert lines == sorted(lines)
    assert len(lines) == 4  # prefix, duplicate area, timezone, no areas
    rendered = str(info.value).splitlines()
    assert len(rendered) == 4
    assert all(re.match(rf"{re.escape(str(path))}:\d+: \S", row) for row in rendered)


def test_header_inside_multiline_string_does_not_shift_lines(tmp_path: Path) -> None:
    # A header-looking line inside a string must not count as the next area.
    note = 'note = """\n[[site.area]]\n"""\n'
    text = site(areas=AREA.format(name="Satu") + note + AREA.format(name="satu"))
    errors = errors_of(tmp_path, text)
    assert errors[0][0] == line_of(text, "note =")
    assert "unknown field 'note'" in errors[0][1]
    assert errors[1][0] == line_of(text, 'name = "satu"')
    assert "already listed" in errors[1][1]


def test_missing_file() -> None:
    with pytest.raises(SitesFileError) as info:
        read_sites("/nonexistent/sites.toml")
    ((line, reason),) = info.value.errors
    assert line == 0 and reason.startswith("cannot read the file")
    assert str(info.value).startswith("/nonexistent/sites.toml: cannot read")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "sites.toml"
    path.write_bytes(site().lstrip("\n").encode() + b"\n# caf\xe9\n")
    with pytest.raises(SitesFileError) as info:
        read_sites(path)
    assert info.value.errors[0][1] == "the file is not UTF-8 text; save it as UTF-8"
