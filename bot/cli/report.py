"""`hotline report`: the month's figures as CSV, XLSX or HTML (see bot.render.report)."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import click
from flask.cli import with_appcontext

from bot.cli.common import FIRST_YEAR, LAST_YEAR, ensure_ready, fail
from bot.domain import followup
from bot.render import report as render
from storage.figures import Figures, UnknownSite, monthly
from storage.sites import prefixes

FORMATS = ("csv", "xlsx", "html")


def parse_month(value: str) -> date:
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value)
    if not match or not 1 <= int(match.group(2)) <= 12 or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise ValueError(
            f"--month must be YYYY-MM between {FIRST_YEAR} and {LAST_YEAR}, e.g. 2026-10 (got {value!r})"
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


@click.command("report")
@click.option("--month", required=True, help="The month in the site's local time, YYYY-MM.")
@click.option("--site", "prefix", required=True, help="Site prefix, e.g. PRE.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Default: from the --out file's extension, else csv.",
)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write here (default: stdout).")
@click.option("--locale", type=click.Choice(("id", "en")), default="id", show_default=True)
@click.option("--practice", is_flag=True, help="Count practice cases (role-play) too; left out by default.")
@with_appcontext
def report(month: str, prefix: str, fmt: str | None, out: str | None, locale: str, practice: bool) -> None:
    """Monthly figures of a site: cases by category, area, urgency and status, time to
    acceptance (median, 90th percentile), share closed, referrals, unanswered offers."""
    try:
        first = parse_month(month)
    except ValueError as exc:
        fail(str(exc))
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out else ""
        fmt = suffix if suffix in FORMATS else "csv"
    if fmt == "xlsx" and not out:
        fail("--format xlsx needs --out FILE.xlsx")
    hotline = ensure_ready()
    with hotline.work() as session:
        try:
            days = followup.configured_days(hotline.config)
            fig = monthly(session, prefix, first, practice=practice, now=hotline.clock(), follow_up_days=days)
        except UnknownSite:
            known = ", ".join(prefixes(session))
            fail(f"unknown site {prefix!r}; the sites are: {known or '(none loaded)'}")
    try:
        _write(fig, fmt, out, locale)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    if out:
        click.echo(f"{fig.site} {fig.month_key}: {fig.total} cases -> {out}", err=True)


def _write(fig: Figures, fmt: str, out: str | None, locale: str) -> None:
    if fmt == "xlsx":
        assert out is not None
        with open(out, "wb") as f:
            render.to_xlsx(fig, f, locale)
    elif fmt == "html":
        page = render.to_html_document(fig, locale)
        if out:
            Path(out).write_text(page, encoding="utf-8")
        else:
            click.echo(page, nl=False)
    elif out:
        with open(out, "w", encoding="utf-8-sig", newline="") as f:  # the BOM lets Excel read UTF-8
            render.to_csv(fig, f, locale)
    else:
        buf = io.StringIO()
        render.to_csv(fig, buf, locale)
        click.echo(buf.getvalue(), nl=False)
