"""`hotline mechanism`: the site's mechanism for the SK Lurah annex (see bot.render.mechanism)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.cli.common import ensure_ready, fail
from bot.domain import i18n
from bot.render import mechanism as render
from storage.roster import site_roster
from storage.sites import prefixes

FORMATS = ("html", "md")


@click.command("mechanism")
@click.option("--site", "prefix", required=True, help="Site prefix, e.g. PRE.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Default: from the --output file's extension (.md, .html), else html.",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default=None, help="Write here (default: stdout)."
)
@click.option("--locale", type=click.Choice(i18n.LOCALES), default=i18n.DEFAULT_LOCALE, show_default=True)
@with_appcontext
def mechanism(prefix: str, fmt: str | None, output: str | None, locale: str) -> None:
    """Write the site's mechanism (roles, duty roster, deadlines, referral institutions, case
    steps, residents' rights, flow diagrams) from the running configuration, for the SK Lurah
    annex. Members' phone numbers are never in it."""
    if fmt is None:
        suffix = Path(output).suffix.lower().lstrip(".") if output else ""
        fmt = {"md": "md", "markdown": "md", "htm": "html", "html": "html"}.get(suffix, "html")
    hotline = ensure_ready()
    with hotline.work() as session:
        roster = site_roster(session, prefix)
        if roster is None:
            known = ", ".join(prefixes(session))
            fail(f"unknown site {prefix!r}; the sites are: {known or '(none loaded)'}")
    data = render.Mechanism(roster, render.settings(current_app.config), datetime.now(UTC))
    doc = render.document(data, locale)
    text = render.to_markdown(doc) if fmt == "md" else render.to_html(doc)
    if not output:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    click.echo(f"{roster.prefix} {roster.name}: mechanism ({fmt}) -> {output}", err=True)
