"""The monthly figures as CSV, XLSX and HTML, in Bahasa Indonesia or English.

`to_html` is a fragment for the console page (tables and inline SVG charts, no external asset);
`to_html_document` wraps it into a page that opens offline. Every label that comes from data
(area names, institutions) is escaped in HTML and SVG, neutralised in CSV (a cell starting
with = + - @ cannot become a formula) and stored as text in XLSX.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, BinaryIO, TextIO

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from bot.domain import i18n
from bot.render.charts import bar_chart
from storage import casestate, monev
from storage.figures import UNKNOWN_AREA, Figures

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

# Headings and labels are catalog keys "report.<key>" (locales/), Bahasa Indonesia first.
SUMMARY = (
    "total",
    "accepted",
    "acceptance_median_minutes",
    "acceptance_p90_minutes",
    "closed",
    "share_closed",
    "offers",
    "offers_expired",
    "cases_unanswered",
    *(f"days_to_{step}_{q}" for step in monev.DURATIONS for q in ("median", "p90")),
    "followups_overdue",
)
BREAKDOWNS = ("by_category", "by_area", "by_urgency", "by_status", "referrals")
# Monev (storage.monev): each row split by category, the total charted; then overdue follow-ups.
MONEV = (*monev.SPLITS, "followups_overdue")
# Value labels of the monev breakdowns ("report.<breakdown>.<value>"); checks and referral
# outcomes use the case's own labels (verify.*, outcome.*).
VALUE_KEYS = (
    *(f"by_sex.{v}" for v in monev.SEX),
    *(f"by_age_group.{v}" for v in monev.AGE_GROUPS),
    *(f"by_disability.{v}" for v in monev.DISABILITY),
    *(f"by_channel.{v}" for v in monev.CHANNELS),
    "verification.not_yet",
)
# Every label this module asks the catalogs for (`hotline translate extract` and `flows check`).
LABEL_KEYS = (
    *("title", "summary", "site", "month", "timezone", "cases", "urgent", "normal", "unknown_area"),
    *("none", "minutes", "metric", "key", "value", "scope", "sheet.summary"),
    *SUMMARY,
    *BREAKDOWNS,
    *(f"col.{b}" for b in BREAKDOWNS),
    *(f"sheet.{b}" for b in BREAKDOWNS),
    *MONEV,
    *(f"col.{b}" for b in MONEV),
    *(f"sheet.{b}" for b in MONEV),
    *VALUE_KEYS,
    "all",
)
_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _locale(locale: str) -> str:
    return locale if locale in i18n.LOCALES else i18n.DEFAULT_LOCALE


def label(key: str, locale: str) -> str:
    return i18n.text(f"report.{key}", locale)


def _catalog(key: str, fallback: str, locale: str) -> str:
    found = i18n.text(key, locale)
    return fallback if found == key else found


@dataclass(frozen=True)
class Breakdown:
    name: str  # "by_category", ...
    heading: str
    column: str
    rows: list[tuple[str, int]]  # (label, cases)
    split: tuple[str, ...] = ()  # category labels, when each row is split by category
    cells: tuple[tuple[int, ...], ...] = ()  # per row, the cases of each category in `split`


def breakdowns(fig: Figures, locale: str) -> list[Breakdown]:
    names: dict[str, Callable[[str], str]] = {
        "by_category": lambda c: _catalog(f"cat.{c}", c, locale),
        "by_area": lambda a: label("unknown_area", locale) if a == UNKNOWN_AREA else a,
        "by_urgency": lambda u: label(u, locale),
        "by_status": lambda s: _catalog(f"status.{s}", s, locale),
        "referrals": lambda r: r,
    }
    return [
        Breakdown(
            name,
            label(name, locale),
            label(f"col.{name}", locale),
            [(names[name](key), n) for key, n in getattr(fig, name).items()],
        )
        for name in BREAKDOWNS
    ] + _monev_breakdowns(fig, locale)


def _value_label(name: str, value: str, locale: str) -> str:
    if name == "verification" and value in casestate.RESULT_LABELS:
        return _catalog(casestate.RESULT_LABELS[value], value, locale)
    if name == "referral_outcomes":
        to, _, outcome = value.rpartition("|")
        key = casestate.OUTCOME_LABELS.get(outcome, "outcome.none")  # waiting: nobody has said
        return f"{to}: {_catalog(key, outcome, locale)}"
    return _catalog(f"report.{name}.{value}", value, locale)


def _monev_breakdowns(fig: Figures, locale: str) -> list[Breakdown]:
    """The monev breakdowns: each value's total (charted) and its cases in each category."""
    categories = list(fig.by_category)
    split = tuple(_catalog(f"cat.{c}", c, locale) for c in categories)
    parts = []
    for name in monev.SPLITS:
        values = fig.monev.splits.get(name, {})
        parts.append(
            Breakdown(
                name,
                label(name, locale),
                label(f"col.{name}", locale),
                [(_value_label(name, v, locale), sum(per.values())) for v, per in values.items()],
                split,
                tuple(tuple(per.get(c, 0) for c in categories) for per in values.values()),
            )
        )
    overdue = [(_catalog(f"cat.{c}", c, locale), n) for c, n in fig.monev.overdue.items()]
    parts.append(
        Breakdown(
            "followups_overdue",
            label("followups_overdue", locale),
            label("col.followups_overdue", locale),
            overdue,
        )
    )
    return parts


def summary(fig: Figures) -> list[tuple[str, float | int | None]]:
    """(key, value) of the headline figures; share_closed as 0..1; step times in days."""
    extra: dict[str, float | int | None] = {"followups_overdue": fig.monev.overdue_total}
    for step in monev.DURATIONS:
        median, p90 = fig.monev.durations.get(step, (None, None))
        extra[f"days_to_{step}_median"], extra[f"days_to_{step}_p90"] = median, p90
    return [(key, extra[key] if key in extra else getattr(fig, key)) for key in SUMMARY]


def _month(fig: Figures, locale: str) -> str:
    return format_date(fig.month, "MMMM yyyy", locale=locale)


def _title(fig: Figures, locale: str) -> str:
    return f"{label('title', locale)}: {fig.site_name} ({fig.site}), {_month(fig, locale)}"


# CSV ----------------------------------------------------------------------------------------


def _cell(value: object) -> object:
    if isinstance(value, str) and value != UNKNOWN_AREA and _FORMULA.match(value):
        return "'" + value
    return value


def to_csv(fig: Figures, out: TextIO, locale: str) -> None:
    """One row per figure: section, item, value. Numbers are plain (a dot for decimals);
    the share of closed cases is a percentage; a figure without data is an empty cell."""
    locale = _locale(locale)
    writer = csv.writer(out)
    head = label("summary", locale)
    writer.writerow([label("metric", locale), label("key", locale), label("value", locale)])
    writer.writerow([head, label("site", locale), _cell(f"{fig.site} {fig.site_name}")])
    writer.writerow([head, label("month", locale), fig.month_key])
    writer.writerow([head, label("timezone", locale), fig.timezone])
    for key, value in summary(fig):
        if key == "share_closed":
            value = round(fig.share_closed * 100, 1)
        writer.writerow([head, label(key, locale), "" if value is None else value])
    for part in breakdowns(fig, locale):
        for name, n in part.rows:
            writer.writerow([_cell(part.heading), _cell(name), n])
        for (name, _), cells in zip(part.rows, part.cells, strict=False):
            for category, n in zip(part.split, cells, strict=True):
                if n:
                    writer.writerow([_cell(f"{part.heading} ({category})"), _cell(name), n])


# XLSX ---------------------------------------------------------------------------------------


def _text(ws: Worksheet, row: int, col: int, value: str, bold: bool = False) -> None:
    """A text cell that stays text: openpyxl would take '=...' for a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    cell = ws.cell(row=row, column=col)
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)


def _sheet_name(name: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "-", name)[:31] or "sheet"
    base, i = name, 2
    while name.lower() in taken:
        name = f"{base[:28]}-{i}"
        i += 1
    taken.add(name.lower())
    return name


def to_xlsx(fig: Figures, out: BinaryIO, locale: str) -> None:
    """A summary sheet ("ringkasan"), then one sheet per breakdown with a native bar chart."""
    from openpyxl import Workbook  # here: a web worker that never writes XLSX never loads it
    from openpyxl.chart import BarChart, Reference
    from openpyxl.utils import get_column_letter

    locale = _locale(locale)
    wb = Workbook()
    taken: set[str] = set()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_name(label("sheet.summary", locale), taken)
    _text(ws, 1, 1, _title(fig, locale), bold=True)
    rows: list[tuple[str, object, str | None]] = [
        (label("site", locale), f"{fig.site} {fig.site_name}", None),
        (label("month", locale), fig.month_key, None),
        (label("timezone", locale), fig.timezone, None),
    ]
    formats = {"acceptance_median_minutes": "0.0", "acceptance_p90_minutes": "0.0", "share_closed": "0.0%"}
    formats |= {k: "0.0" for k in SUMMARY if k.startswith("days_to_")}
    rows += [(label(k, locale), v, formats.get(k)) for k, v in summary(fig)]
    for r, (name, value, number_format) in enumerate(rows, start=3):
        _text(ws, r, 1, name)
        if isinstance(value, str):
            _text(ws, r, 2, value)
        else:
            cell = ws.cell(row=r, column=2, value=value)
            if number_format:
                cell.number_format = number_format
    _text(ws, len(rows) + 4, 1, label("scope", locale).format(tz=fig.timezone))
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 28

    for part in breakdowns(fig, locale):
        sheet = wb.create_sheet(_sheet_name(label(f"sheet.{part.name}", locale), taken))
        _text(sheet, 1, 1, part.column, bold=True)
        _text(sheet, 1, 2, label("cases", locale), bold=True)
        for c, category in enumerate(part.split, start=3):
            _text(sheet, 1, c, category, bold=True)
        for r, (name, n) in enumerate(part.rows, start=2):
            _text(sheet, r, 1, name)
            sheet.cell(row=r, column=2, value=n)
            for c, cases in enumerate(part.cells[r - 2] if part.cells else (), start=3):
                sheet.cell(row=r, column=c, value=cases)
        sheet.column_dimensions["A"].width = 36
        if part.rows:
            chart = BarChart()
            chart.type = "bar"
            chart.title = part.heading
            chart.legend = None
            chart.y_axis.majorGridlines = None
            last = len(part.rows) + 1
            chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=last))
            chart.height = max(5.0, 1.0 + 0.7 * len(part.rows))
            sheet.add_chart(chart, f"{get_column_letter(len(part.split) + 4)}2")
    wb.save(out)


# HTML ---------------------------------------------------------------------------------------


def _show(key: str, value: float | int | None, locale: str) -> str:
    if value is None:
        return "–"
    if key == "share_closed":
        return format_percent(value, "#,##0.0%", locale=locale)
    return format_decimal(value, "#,##0.#", locale=locale)


def to_html(fig: Figures, locale: str) -> str:
    """A fragment for the console page: a summary table, then each breakdown as an SVG bar
    chart with its table. Class names only; no script, style sheet or image to fetch."""
    locale = _locale(locale)
    out = [
        f'<section class="figures" lang="{escape(locale)}">',
        f"<h2>{escape(_title(fig, locale))}</h2>",
        f'<table class="figures-summary"><caption>{escape(label("summary", locale))}</caption><tbody>',
    ]
    for key, value in summary(fig):
        out.append(
            f'<tr data-figure="{key}"><th scope="row">{escape(label(key, locale))}</th>'
            f'<td class="num">{escape(_show(key, value, locale))}</td></tr>'
        )
    out.append("</tbody></table>")
    for part in breakdowns(fig, locale):
        out.append(f'<section class="figures-part" id="figures-{part.name}">')
        out.append(f"<h3>{escape(part.heading)}</h3>")
        if not part.rows:
            out.append(f'<p class="figures-none">{escape(label("none", locale))}</p></section>')
            continue
        out.append(f'<figure class="chart">{bar_chart(part.rows, part.heading)}</figure>')
        out.append(_html_table(part, locale))
        out.append("</section>")
    out.append(f'<p class="figures-scope">{escape(label("scope", locale).format(tz=fig.timezone))}</p>')
    out.append("</section>")
    return "\n".join(out)


def _html_table(part: Breakdown, locale: str) -> str:
    """The breakdown's table: each row's cases, then (a monev breakdown) each category's."""
    total = label("all", locale) if part.split else label("cases", locale)
    heads = "".join(f'<th scope="col" class="num">{escape(h)}</th>' for h in (total, *part.split))
    out = [
        f'<table class="figures-table"><thead><tr><th scope="col">{escape(part.column)}</th>{heads}</tr>'
        "</thead><tbody>"
    ]
    for i, (name, n) in enumerate(part.rows):
        cells = (n, *(part.cells[i] if part.cells else ()))
        nums = "".join(f'<td class="num">{escape(_show("", c, locale))}</td>' for c in cells)
        out.append(f"<tr><td>{escape(name)}</td>{nums}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1rem;
  color: #222; max-width: 48rem; line-height: 1.4; }
h2 { font-size: 1.3rem; } h3 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; width: 100%; max-width: 36rem; }
th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: .5rem 0; }
figure svg { max-width: 36rem; height: auto; }
.figures-scope, .figures-none { color: #555; font-size: .9rem; }
"""


def to_html_document(fig: Figures, locale: str) -> str:
    """A whole page (for `hotline report --format html`): opens offline, prints cleanly."""
    locale = _locale(locale)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(locale)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(_title(fig, locale))}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{to_html(fig, locale)}\n</body>\n</html>\n"
    )
