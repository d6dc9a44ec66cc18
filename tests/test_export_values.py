"""The export's cell values without a database: CSV injection, XLSX text limits and a worksheet
written by XlsxWriter read back by openpyxl."""

from __future__ import annotations

import io

import pytest
import xlsxwriter
from openpyxl import load_workbook

from bot.render.export import _csv_value, _sheet, _xlsx_value


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("=1+1", "'=1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-2", "'-2"),
        ("\t=x", "'\t=x"),
        ("a\x00b", "ab"),
        ("\x00=x", "'=x"),  # NUL first: the formula check sees what is written
        (None, ""),
        (True, "yes"),
        (("UPTD PPA", "=x"), "UPTD PPA; =x"),
        (("=x", "UPTD PPA"), "'=x; UPTD PPA"),
        (3, 3),
        ("biasa", "biasa"),
    ],
)
def test_csv_values(value: object, want: object) -> None:
    assert _csv_value(value) == want


def test_xlsx_values() -> None:
    assert _xlsx_value("a\x01b\x1fc\nd") == "abc\nd"  # control characters out, line breaks stay
    long = "é" * 40_000
    assert _xlsx_value(long) == "é" * 32_767
    emoji = "😊" * 20_000  # two UTF-16 units each: a cell holds 16,383 of them
    assert _xlsx_value(emoji) == "😊" * 16_383
    assert _xlsx_value(("a", "b")) == "a; b" and _xlsx_value(None) is None and _xlsx_value(True) is True


def test_a_worksheet_keeps_text_as_text_and_every_column() -> None:
    out = io.BytesIO()
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(out, options)
    append = _sheet(book, "messages", ("case", "text", "media", "urgent"))
    append(("PRE-1", '=HYPERLINK("http://x","y")', 1, False))
    append(("PRE-2", "x" * 40_000 + "\x07", 2, True))  # too long: cut, and the row goes on
    append(("PRE-3", "#N/A", 0, None))
    book.close()
    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True)["messages"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("case", "text", "media", "urgent")
    assert rows[1] == ("PRE-1", '=HYPERLINK("http://x","y")', 1, False)
    assert rows[2] == ("PRE-2", "x" * 32_767, 2, True)
    assert rows[3][:3] == ("PRE-3", "#N/A", 0)
