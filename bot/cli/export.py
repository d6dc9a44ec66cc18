"""`hotline export`: transcripts of the selected cases as CSV, JSON Lines or XLSX (see bot.render.export)."""

from __future__ import annotations

import dataclasses
import getpass
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import IO

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.cli.common import DateInRange, ensure_ready, fail
from bot.render.export import FORMATS, Counts, ExportRefused, authorize, export_counts, pseudonym_secret
from bot.runtime import Hotline
from flows import CATEGORIES
from storage.sites import prefixes
from storage.transcripts import STATUSES, Filters
from storage.users import by_username

_DAY = DateInRange(["%Y-%m-%d"])


def _shell_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in this environment (a container without passwd entry)
        return "unknown"


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Default: from --out's suffix, else csv.",
)
@click.option("--out", "out", required=True, help="File to write, or - for standard output.")
@click.option("--from", "start", type=_DAY, default=None, help="Cases created on or after (site time).")
@click.option("--to", "end", type=_DAY, default=None, help="Cases created on or before (site time).")
@click.option("--site", "sites", multiple=True, help="Site prefix, e.g. PRE (repeatable).")
@click.option("--area", "areas", multiple=True, help="Kelurahan/desa name (repeatable).")
@click.option("--category", "categories", multiple=True, help="e.g. kekerasan, bansos (repeatable).")
@click.option("--status", "statuses", multiple=True, help=f"One of {', '.join(STATUSES)} (repeatable).")
@click.option("--code", "codes", multiple=True, help="Case code, with or without prefix (repeatable).")
@click.option("--include-contacts", is_flag=True, help="Residents' names, numbers and unredacted texts.")
@click.option("--as", "username", default=None, help="Export as this console account (its sites, rights).")
@click.option("--practice", is_flag=True, help="Include practice cases (role-play); left out by default.")
@with_appcontext
def export(
    fmt: str | None,
    out: str,
    start: datetime | None,
    end: datetime | None,
    sites: tuple[str, ...],
    areas: tuple[str, ...],
    categories: tuple[str, ...],
    statuses: tuple[str, ...],
    codes: tuple[str, ...],
    include_contacts: bool,
    username: str | None,
    practice: bool,
) -> None:
    """Every message of the selected cases, with the cases, redacted unless --include-contacts.

    Without --as you export as the operator at this shell (everything is allowed: you have the
    database). With --as, a coordinator only gets their own sites, and residents' contacts only
    if their account is granted them. Every export is written to the audit log."""
    hotline = ensure_ready()
    fmt = _format(fmt, out)
    filters = _filters(start, end, sites, areas, categories, statuses, codes)
    filters = dataclasses.replace(filters, practice=practice)
    filters = _authorized(hotline, filters, username, include_contacts)
    actor = f"user:{username}" if username is not None else f"shell:{_shell_user()}"
    write = partial(
        export_counts,
        hotline.db,
        filters,
        fmt,
        actor=actor,
        include_contacts=include_contacts,
        secret=_secret(include_contacts),
    )
    counts, target = _write(out, write)
    click.echo(f"{counts.messages} messages, {counts.cases} cases -> {target}", err=True)


def _format(fmt: str | None, out: str) -> str:
    """The format asked for, else --out's suffix, else csv; refused before any work if it cannot
    be written where asked."""
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".")
        fmt = suffix if suffix in FORMATS else "csv"
    if out == "-" and fmt == "xlsx" and sys.stdout.isatty():
        fail("export refused: XLSX is binary: give --out FILE or redirect standard output")
    if out != "-" and not Path(out).parent.is_dir():
        raise click.BadParameter(f"no folder {Path(out).parent}", param_hint="--out")
    return fmt


def _filters(
    start: datetime | None,
    end: datetime | None,
    sites: tuple[str, ...],
    areas: tuple[str, ...],
    categories: tuple[str, ...],
    statuses: tuple[str, ...],
    codes: tuple[str, ...],
) -> Filters:
    """The options as Filters; a category or status that does not exist is a usage error, not an
    empty export."""
    known_categories = {f.name for f in CATEGORIES}
    for value in categories:
        if value.lower() not in known_categories:
            known = ", ".join(sorted(known_categories))
            raise click.BadParameter(f"{value!r}: one of {known}", param_hint="--category")
    for value in statuses:
        if value.lower() not in STATUSES:
            raise click.BadParameter(f"{value!r}: one of {', '.join(STATUSES)}", param_hint="--status")
    try:
        return Filters(
            start=_day(start),
            end=_day(end),
            sites=sites,
            areas=areas,
            categories=categories,
            statuses=statuses,
            codes=codes,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _authorized(
    hotline: Hotline, filters: Filters, username: str | None, include_contacts: bool
) -> Filters:
    """The filters narrowed to what the --as account may export; exits with the reason if it may
    not. An unknown site is refused rather than silently exporting nothing."""
    with hotline.work() as session:
        known = set(prefixes(session))
        unknown = [s for s in filters.sites if s not in known]
        if unknown:
            raise click.BadParameter(
                f"no site {', '.join(unknown)} (sites: {', '.join(sorted(known))})", param_hint="--site"
            )
        user = None
        if username is not None:
            user = by_username(session, username)
            if user is None:
                fail(f"export refused: no console account {username!r}")
        try:
            return authorize(user, filters, include_contacts)
        except ExportRefused as exc:
            fail(f"export refused: {exc}")


def _secret(include_contacts: bool) -> str:
    """The key for residents' pseudonyms, with a warning when it is the public fallback."""
    secret, configured = pseudonym_secret(current_app.config)
    if not configured and not include_contacts:
        click.echo(
            "warning: SECRET_KEY is not set, so residents' pseudonyms use a public key: anyone with "
            "the code can tell which contact is behind one. Set SECRET_KEY (and keep it) for "
            "pseudonyms that stay the same across exports and cannot be worked out.",
            err=True,
        )
    return secret


def _write(out: str, write: Callable[[IO[bytes]], Counts]) -> tuple[Counts, str]:
    """Run `write` into standard output or the file `out`; what it wrote and where."""
    if out == "-":
        counts = write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return counts, "standard output"
    # Written beside the target and renamed when complete: no half file under its name; the
    # temporary file is only readable by this user, and so is the export.
    path = Path(out)
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)  # noqa: SIM115
    try:
        with handle:
            counts = write(handle)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return counts, str(path)
