"""`hotline report` (monthly figures as CSV, XLSX or HTML) and `hotline purge` (retention)."""

from __future__ import annotations

import io
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bot import report as render
from bot.cli_common import ensure_ready
from storage import cases
from storage.figures import Figures, UnknownSite, monthly
from storage.models import Site

FORMATS = ("csv", "xlsx", "html")
MIN_RETENTION = timedelta(days=30)  # a typo such as "1d" must not wipe last week's cases
_UNITS = {"d": 1, "w": 7, "y": 365}


def _fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def parse_month(value: str) -> date:
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", value)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise ValueError(f"--month must be YYYY-MM between 2000 and 2100, e.g. 2026-10 (got {value!r})")
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_period(value: str) -> timedelta:
    """ "365d", "52w", "1y" (365 days); a bare number is days."""
    match = re.fullmatch(r"\s*(\d+)\s*([dwy]?)\s*", value.lower())
    if not match:
        raise ValueError(
            f"--older-than must be a number of days, weeks or years: 365d, 52w, 1y (got {value!r})"
        )
    return timedelta(days=int(match.group(1)) * _UNITS[match.group(2) or "d"])


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
@with_appcontext
def report(month: str, prefix: str, fmt: str | None, out: str | None, locale: str) -> None:
    """Monthly figures of a site: cases by category, area, urgency and status, time to
    acceptance (median, 90th percentile), share closed, referrals, unanswered offers."""
    try:
        first = parse_month(month)
    except ValueError as exc:
        _fail(str(exc))
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out else ""
        fmt = suffix if suffix in FORMATS else "csv"
    if fmt == "xlsx" and not out:
        _fail("--format xlsx needs --out FILE.xlsx")
    hotline = ensure_ready()
    with hotline.db.session() as session:
        try:
            fig = monthly(session, prefix, first)
        except UnknownSite:
            known = ", ".join(session.scalars(select(Site.prefix).order_by(Site.position, Site.id)))
            _fail(f"unknown site {prefix!r}; the sites are: {known or '(none loaded)'}")
    try:
        _write(fig, fmt, out, locale)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
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


@click.command("purge")
@click.option("--older-than", "older_than", required=True, help="e.g. 365d, 52w or 1y (at least 30d).")
@click.option("--dry-run", is_flag=True, help="Count what would be erased; change nothing.")
@with_appcontext
def purge(older_than: str, dry_run: bool) -> None:
    """Erase the personal data of cases closed or cancelled longer ago than the period (numbers,
    names, NIK, texts, notes), keeping the anonymous counts; recorded in the audit log.

    A resident's number goes only when none of their cases is open or recent and they have not
    written since; their old cases are anonymised either way."""
    try:
        period = parse_period(older_than)
    except ValueError as exc:
        _fail(str(exc))
    if period < MIN_RETENTION:
        _fail(f"--older-than must be at least {MIN_RETENTION.days}d")
    hotline = ensure_ready()
    with hotline.db.session() as session:
        counts = cases.purge(session, older_than=period, now=hotline.clock(), dry_run=dry_run)
    verb = "would erase" if dry_run else "erased"
    click.echo(
        f"{'dry run: ' if dry_run else ''}cases closed before {counts['cutoff'][:10]}: {verb} "
        f"{counts['cases']} cases, {counts['messages']} messages, {counts['notes']} notes, "
        f"{counts['contacts']} contacts' numbers "
        f"({counts['contacts_kept']} kept: an open or recent case, or wrote since)"
        + ("; nothing changed" if dry_run else "")
    )
