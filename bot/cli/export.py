"""`hotline export`: transcripts of the selected cases as CSV, JSON Lines or XLSX (see bot.render.export)."""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.cli.common import ensure_ready, fail
from bot.render.export import FORMATS, ExportRefused, authorize, export_counts, pseudonym_secret
from flows import CATEGORIES
from storage.models import Site, User
from storage.transcripts import STATUSES, Filters

_DAY = click.DateTime(["%Y-%m-%d"])


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
) -> None:
    """Every message of the selected cases, with the cases, redacted unless --include-contacts.

    Without --as you export as the operator at this shell (everything is allowed: you have the
    database). With --as, a coordinator only gets their own sites, and residents' contacts only
    if their account is granted them. Every export is written to the audit log."""
    ensure_ready()
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".")
        fmt = suffix if suffix in FORMATS else "csv"
    if out == "-" and fmt == "xlsx" and sys.stdout.isatty():
        fail("XLSX is binary: give --out FILE or redirect standard output")
    if out != "-" and not Path(out).parent.is_dir():
        raise click.BadParameter(f"no folder {Path(out).parent}", param_hint="--out")
    known_categories = {f.name for f in CATEGORIES}
    for value in categories:
        if value.lower() not in known_categories:
            known = ", ".join(sorted(known_categories))
            raise click.BadParameter(f"{value!r}: one of {known}", param_hint="--category")
    for value in statuses:
        if value.lower() not in STATUSES:
            raise click.BadParameter(f"{value!r}: one of {', '.join(STATUSES)}", param_hint="--status")
    try:
        filters = Filters(
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

    hotline = current_app.extensions["hotline"]
    with hotline.db.session() as session:
        prefixes = set(session.scalars(select(Site.prefix)))
        unknown = [s for s in filters.sites if s not in prefixes]
        if unknown:
            raise click.BadParameter(
                f"no site {', '.join(unknown)} (sites: {', '.join(sorted(prefixes))})", param_hint="--site"
            )
        user = None
        if username is not None:
            user = session.scalars(select(User).where(User.username == username.strip().lower())).first()
            if user is None:
                fail(f"no console account {username!r}")
        try:
            filters = authorize(user, filters, include_contacts)
        except ExportRefused as exc:
            fail(str(exc))
    actor = f"user:{username}" if username is not None else f"shell:{_shell_user()}"

    secret, configured = pseudonym_secret(current_app.config)
    if not configured and not include_contacts:
        click.echo(
            "warning: SECRET_KEY is not set, so residents' pseudonyms use a public key: anyone with "
            "the code can tell which contact is behind one. Set SECRET_KEY (and keep it) for "
            "pseudonyms that stay the same across exports and cannot be worked out.",
            err=True,
        )
    options = {"actor": actor, "include_contacts": include_contacts, "secret": secret}
    if out == "-":
        counts = export_counts(hotline.db, filters, fmt, sys.stdout.buffer, **options)
        sys.stdout.buffer.flush()
        target = "standard output"
    else:
        # Written beside the target and renamed when complete: no half file under its name; the
        # temporary file is only readable by this user, and so is the export.
        path = Path(out)
        handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False)  # noqa: SIM115
        try:
            with handle:
                counts = export_counts(hotline.db, filters, fmt, handle, **options)
            os.replace(handle.name, path)
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        target = str(path)
    click.echo(f"{counts.messages} messages, {counts.cases} cases -> {target}", err=True)
