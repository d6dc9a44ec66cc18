"""`hotline db upgrade`: apply the migrations."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bot.cli.common import current_hotline


@click.group("db")
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Create or upgrade the database schema to the latest migration."""
    current_hotline().db.upgrade()
    click.echo("database is up to date")
