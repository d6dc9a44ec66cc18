"""`hotline translate extract|update|compile`: the Babel catalogs in locales/."""

from __future__ import annotations

import click

from bot.render import catalogs


@click.group("translate")
def translate() -> None:
    """Babel catalogs in locales/."""


@translate.command("extract")
def translate_extract() -> None:
    """Write locales/messages.pot from the flow definitions."""
    click.echo(str(catalogs.extract()))


@translate.command("update")
def translate_update() -> None:
    """Merge the template into every locale's messages.po."""
    for path in catalogs.update():
        click.echo(str(path))


@translate.command("compile")
def translate_compile() -> None:
    """Compile every messages.po to messages.mo."""
    for path in catalogs.compile_catalogs():
        click.echo(str(path))
