"""`hotline translate extract|update|compile`: the Babel catalogs in locales/."""

from __future__ import annotations

import click

from bot.domain import i18n


@click.group("translate")
def translate() -> None:
    """Babel catalogs in locales/."""


@translate.command("extract")
def translate_extract() -> None:
    """Write locales/messages.pot from the flow definitions."""
    click.echo(str(i18n.extract()))


@translate.command("update")
def translate_update() -> None:
    """Merge the template into every locale's messages.po."""
    for path in i18n.update():
        click.echo(str(path))


@translate.command("compile")
def translate_compile() -> None:
    """Compile every messages.po to messages.mo."""
    for path in i18n.compile_catalogs():
        click.echo(str(path))
