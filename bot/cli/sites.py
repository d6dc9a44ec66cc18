"""`hotline sites load|list`: the sites file and what is loaded."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from bot.cli.common import current_hotline, ensure_ready
from sitefiles.sites import SitesFileError, read_sites
from storage.sites import all_sites, load_sites


@click.group("sites")
def sites() -> None:
    """Sites (hotline numbers) and their kelurahan/desa."""


@sites.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def sites_load(path: str) -> None:
    """Validate a sites file and load it (insert or update)."""
    try:
        specs = read_sites(path)
    except SitesFileError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    ensure_ready(load_default_sites=False)
    with current_hotline().work() as session:
        counts = load_sites(session, specs)
    click.echo(
        f"loaded {counts['sites']} sites, {counts['areas']} areas"
        + (f", {counts['deactivated']} areas deactivated" if counts["deactivated"] else "")
    )


@sites.command("list")
@with_appcontext
def sites_list() -> None:
    """Show the loaded sites, their numbers and areas."""
    ensure_ready()
    with current_hotline().work() as session:
        for site in all_sites(session):
            numbers = (
                ", ".join(site.numbers) or "(no number: gets unclaimed numbers)"
                if site.position == 0
                else ", ".join(site.numbers) or "(no number)"
            )
            click.echo(f"{site.prefix}  {site.name}  [{site.timezone}]  {numbers}")
            for area in site.areas:
                if area.active:
                    click.echo(f"    {area.code or '-':16} {area.name} (Kec. {area.kecamatan})")
